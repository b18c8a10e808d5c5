"""`workbench eval run|compare --url`: the CLI against a workbench's API on a real port, with the exit codes of the
local commands; the run is worked by a real queue worker of that workbench (the embedded queue, a real model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.integration.api.conftest import ApiWorld
from tests.workers import running_worker, wait_until
from workbench.cli import app
from workbench.evaluation.datasets import EvalDatasetService

pytestmark = pytest.mark.integration


def cli(*args: str, code: int = 0, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False, env=env)
    assert result.exit_code == code, result.output
    return result


def test_the_gate_from_another_machine_exits_as_the_local_one(
    api_world: ApiWorld, served: str, seeded_runs: dict[str, str]
) -> None:
    good, bad = seeded_runs["good"], seeded_runs["bad"]
    remote = ("--url", served, "--api-key", api_world.keys["analyst"])
    failed = cli("eval", "compare", good, bad, *remote, "--fail-if-worse", "string_similarity:0.05", code=1)
    assert "FAIL string_similarity:0.05" in failed.stdout
    assert "gate failed: the candidate is significantly worse or incomplete on string_similarity" in failed.stderr
    passed = cli("eval", "compare", good, good, *remote, "--fail-if-worse", "string_similarity:0", "--json")
    assert json.loads(passed.stdout)["passed"] is True
    table = cli("eval", "compare", good[:8], bad, *remote).stdout
    assert "exact_match" in table and "Δ [95% CI]" in table

    cli("eval", "compare", good, bad, *remote, "--fail-if-worse", "string_similarity", code=2)  # refused here
    refused = cli("eval", "compare", good, "f" * 12, *remote, code=1)
    assert "There is no eval run ffffffffffff" in refused.stderr
    keyless = cli("eval", "compare", good, bad, "--url", served, code=2, env={"WORKBENCH_API_KEY": ""})
    assert "needs an API key" in keyless.stderr
    wrong = cli("eval", "compare", good, bad, "--url", served, "--api-key", "wbk_nope", code=1)
    assert "HTTP" not in wrong.stderr and "key" in wrong.stderr.lower()
    viewer = cli("eval", "compare", good, bad, "--url", served, "--api-key", api_world.keys["viewer"], code=1)
    assert "viewer" in viewer.stderr or "role" in viewer.stderr


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the worker's database: one engine is enough here
def test_a_run_started_from_another_machine_is_worked_by_the_servers_worker(
    api_world: ApiWorld, served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [{"question": "What is 2+2?", "reference_answer": "4"}, {"question": "Say hello.", "reference_answer":
             "Hello."}]  # fmt: skip
    EvalDatasetService(api_world.container.uow).import_items("tiny", items, source="test", actor="ana")
    config = tmp_path / "smoke.yaml"
    config.write_text("model: smollm2-135m-instruct\nknowledge_base: null\nmax_tokens: 8\nmetrics: [exact_match]\n")
    monkeypatch.setenv("WORKBENCH_API_KEY", api_world.keys["analyst"])
    with running_worker(tmp_path / "worker.log", "--name", "remote@test"):
        wait_until(lambda: api_world.container.queue.status().workers, what="the worker to answer")
        result = cli("eval", "run", "--dataset", "tiny", "--config", str(config), "--url", served, "--json")
    (done,) = json.loads(result.stdout)["runs"]
    assert (done["status"], done["done"], done["failed"]) == ("completed", 2, 0)
    assert done["summary"]["exact_match"]["n_ok"] == 2
    assert "succeeded in" in (tmp_path / "worker.log").read_text()
