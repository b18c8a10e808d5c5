"""Template injection and resource exhaustion through every way a prompt is rendered: the template itself (what
the chat, eval runs, the playground and the question generator call), a stored version rendered over the HTTP API,
and `workbench prompts render`. Each payload is refused with a reason or renders nothing of Python's insides."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from tests.integration.api.conftest import ApiWorld
from tests.security.conftest import FIGURES
from tests.security.template_payloads import ALL, LEAKS, PAYLOADS
from workbench.cli import app
from workbench.prompting import PromptTemplate, TemplateError
from workbench.prompting.registry import PromptRegistry

pytestmark = pytest.mark.timeout(120)


def as_file(body: str) -> str:
    """A prompt file holding the payload as its body (the front matter declares the one variable)."""
    return f"---\nname: probe\nvariables: [question]\n---\n{body}\n"


def outcome(body: str) -> tuple[bool, str]:
    """(refused, what came back: the reason or the rendered prompt)."""
    try:
        _, rendered = PromptTemplate.parse(as_file(body), fallback_name="probe").render(question="What is it?")
    except TemplateError as exc:
        return True, str(exc)
    return False, rendered


def test_the_corpus_is_large_and_covers_every_kind_of_abuse() -> None:
    assert len(ALL) >= 50 and len(set(ALL)) == len(ALL)
    assert all(len(group) >= 5 for group in PAYLOADS.values())


def test_every_payload_is_refused_or_renders_nothing_of_pythons_insides() -> None:
    refused, slowest = 0, 0.0
    for payload in ALL:
        started = time.perf_counter()
        was_refused, said = outcome(payload)
        slowest = max(slowest, time.perf_counter() - started)
        if was_refused:
            refused += 1
            assert said.startswith("Prompt 'probe'") or "probe" in said, (payload, said)  # names the prompt
        else:
            assert not any(leak in said for leak in LEAKS), (payload, said[:300])
            assert len(said) <= 200_000, payload
    FIGURES["templates"] = (refused, len(ALL), slowest)
    assert refused >= len(ALL) * 0.8, f"only {refused} of {len(ALL)} refused"


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # what is checked is the render, not the engine
def test_through_the_api_every_payload_is_a_422_or_a_clean_render(api_world: ApiWorld) -> None:
    registry: PromptRegistry = api_world.container.prompts
    saved_refusals = 0
    for number, payload in enumerate(ALL):
        name = f"probe-{number}"
        try:
            registry.save(name, as_file(payload).replace("name: probe", f"name: {name}"), author="mallory")
        except (TemplateError, ValueError):
            saved_refusals += 1  # refused already when saved: it never reaches a render
            continue
        answer = api_world.client.post(f"/api/v1/prompts/{name}/render", json={"variables": {"question": "q"}},
                                       headers=api_world.as_("analyst"))  # fmt: skip
        assert answer.status_code in (200, 422), (payload, answer.text)
        if answer.status_code == 200:
            assert not any(leak in answer.text for leak in LEAKS), (payload, answer.text[:300])
        else:
            assert answer.json()["error"]["message"], payload
    assert saved_refusals < len(ALL)  # most are stored as written and refused when rendered


@pytest.mark.integration
def test_the_cli_refuses_with_exit_1_and_the_reason(isolated_environment: object, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    for payload in PAYLOADS["recursion"][:3] + PAYLOADS["dunder walks"][:3]:
        path = folder / "probe.md"
        path.write_text(as_file(payload), encoding="utf-8")
        result = CliRunner().invoke(app, ["prompts", "save", "probe", str(path), "-m", "probe"])
        if result.exit_code != 0:
            continue
        rendered = CliRunner().invoke(app, ["prompts", "render", "probe", "--var", "question=q"])
        assert rendered.exit_code == 1, (payload, rendered.output)
        assert "Prompt 'probe'" in rendered.output, rendered.output
