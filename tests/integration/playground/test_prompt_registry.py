"""The prompt registry on SQLite and PostgreSQL: files become versions, edits never overwrite, labels move,
and the chat answers with the labelled version."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.playground_fakes import EchoRuntime, Recorder
from workbench.domain.users import Role
from workbench.prompting.registry import PRODUCTION, PromptNotFound, PromptRegistry, RegistryError
from workbench.services import users as user_service
from workbench.services.chat import ChatRequest, ChatService
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = pytest.mark.integration

GREETING = """---
name: greeting
description: Says hello.
variables: [who]
parameters:
  temperature: 0.3
system: |
  You are version {n}.
---
Say hello to {{{{ who }}}}.
"""


def write(directory: Path, n: int) -> None:
    path = directory / "greeting.md"
    path.write_text(GREETING.format(n=n), encoding="utf-8")
    stamp = 1_700_000_000_000_000_000 + n * 1_000_000_000  # distinct mtimes even within one clock tick
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "prompts"
    directory.mkdir()
    write(directory, 1)
    return directory


@pytest.fixture
def registry(make_uow: Callable[[], SqlUnitOfWork], prompts_dir: Path) -> PromptRegistry:
    return PromptRegistry(make_uow, prompts_dir)


def test_a_file_becomes_version_one_labelled_production(registry: PromptRegistry) -> None:
    report = registry.sync_files()
    assert [(v.name, v.version, v.source) for v in report.created] == [("greeting", 1, "file")]
    assert registry.sync_files().created == []  # nothing changed on disk
    version = registry.get("greeting", PRODUCTION)
    assert version.version == 1
    assert version.labels == ("file", PRODUCTION)  # `file`: the version prompts/greeting.md has now
    assert version.author == "prompts/greeting.md"
    [summary] = registry.summaries()
    assert (summary.name, summary.latest_version, summary.version_count) == ("greeting", 1, 1)
    assert summary.labels == {"file": 1, PRODUCTION: 1}


def test_editing_creates_versions_and_never_overwrites(registry: PromptRegistry, prompts_dir: Path) -> None:
    original = registry.get("greeting").content
    edited = original.replace("Say hello", "Greet warmly")
    saved = registry.save("greeting", edited, author="ana", message="warmer")
    assert (saved.created, saved.version.version, saved.version.source) == (True, 2, "ui")
    assert registry.get("greeting", 1).content == original  # v1 untouched
    again = registry.save("greeting", edited + "\n\n", author="bob")  # the same content (trailing blanks aside)
    assert (again.created, again.version.version) == (False, 2)
    assert [v.version for v in registry.versions("greeting")] == [2, 1]
    assert registry.get("greeting", PRODUCTION).version == 1  # an edit does not move production

    diff = registry.diff("greeting", 1, 2)
    assert "-Say hello to {{ who }}." in diff
    assert "+Greet warmly to {{ who }}." in diff


def test_labels_move_and_files_stop_moving_production_once_a_person_moved_it(
    registry: PromptRegistry, prompts_dir: Path
) -> None:
    registry.sync_files()
    write(prompts_dir, 2)
    assert [v.version for v in registry.sync_files().created] == [2]
    assert registry.get("greeting", PRODUCTION).version == 2  # production follows the file …

    registry.set_label("greeting", PRODUCTION, 1, actor="ana")  # … until someone moves it
    registry.set_label("greeting", "staging", 2, actor="ana")
    write(prompts_dir, 3)
    registry.sync_files()
    assert registry.get("greeting", PRODUCTION).version == 1
    assert registry.get("greeting", "staging").version == 2
    assert registry.get("greeting", "latest").version == 3
    registry.set_label("greeting", "staging", 3, actor="bob")
    assert registry.get("greeting", "staging").version == 3
    assert registry.summaries()[0].labels == {"file": 3, PRODUCTION: 1, "staging": 3}
    registry.remove_label("greeting", "staging")
    with pytest.raises(PromptNotFound, match="no label 'staging'"):
        registry.get("greeting", "staging")


def test_mistakes_are_named(registry: PromptRegistry) -> None:
    registry.sync_files()
    with pytest.raises(RegistryError, match="cannot be moved"):
        registry.set_label("greeting", "latest", 1, actor="ana")
    with pytest.raises(RegistryError, match="not a label name"):
        registry.set_label("greeting", "Prod uction", 1, actor="ana")
    with pytest.raises(RegistryError, match="moves when the file changes"):
        registry.set_label("greeting", "file", 1, actor="ana")
    with pytest.raises(RegistryError, match="not a label name"):  # refused before anything is saved
        registry.save("greeting", registry.get("greeting").content + "\nMore.", author="ana", label="Bad Label")
    assert [v.version for v in registry.versions("greeting")] == [1]
    with pytest.raises(PromptNotFound, match="no version 9"):
        registry.set_label("greeting", "staging", 9, actor="ana")
    with pytest.raises(RegistryError, match="front matter says name: greeting"):
        registry.save("other", registry.get("greeting").content, author="ana")
    with pytest.raises(RegistryError, match="line"):
        registry.save("greeting", "Hello {{ who ", author="ana")
    with pytest.raises(PromptNotFound, match="no prompt named 'nope'"):
        registry.versions("nope")


def test_a_broken_file_is_reported_and_skipped(registry: PromptRegistry, prompts_dir: Path) -> None:
    (prompts_dir / "broken.md").write_text("Hello {% if %}", encoding="utf-8")
    report = registry.sync_files()
    assert "broken.md" in report.problems
    assert [s.name for s in registry.summaries()] == ["greeting"]


def test_chat_answers_with_the_labelled_version(make_uow: Callable[[], SqlUnitOfWork], prompts_dir: Path) -> None:
    (prompts_dir / "greeting.md").rename(prompts_dir / "plain-chat.md")
    content = (prompts_dir / "plain-chat.md").read_text().replace("name: greeting", "name: plain-chat")
    (prompts_dir / "plain-chat.md").write_text(content.replace("who", "question"))
    registry = PromptRegistry(make_uow, prompts_dir)
    registry.sync_files()
    registry.save("plain-chat", content.replace("who", "question").replace("version 1", "version 2"), author="ana")
    runtime, recorder = EchoRuntime(), Recorder()
    user = user_service.create_user(make_uow(), "asker", "asker-password-1", Role.ANALYST)
    chat = ChatService(make_uow, retriever=None, runtime=runtime, runlog=recorder, prompts=registry)  # type: ignore[arg-type]

    answers: list[str] = []

    def ask() -> str:
        turn = chat.ask(ChatRequest(user_id=user.id, question="hi", model_id="echo", knowledge_base=None))
        "".join(turn)
        assert turn.answer is not None
        answers.append(turn.answer.id)
        return str(runtime.calls[-1][1][0].content)

    assert ask().strip() == "You are version 1."  # production is still v1
    registry.set_label("plain-chat", PRODUCTION, 2, actor="ana")
    assert ask().strip() == "You are version 2."
    assert [(r.prompt_name, r.prompt_version) for r in recorder.records] == [("plain-chat", 1), ("plain-chat", 2)]
    with make_uow() as uow:
        stored = [uow.messages.get(message_id) for message_id in answers]
        assert [m.prompt_version for m in stored if m is not None] == [1, 2]


def test_production_follows_a_file_put_back_to_earlier_content(registry: PromptRegistry, prompts_dir: Path) -> None:
    registry.sync_files()
    write(prompts_dir, 2)
    registry.sync_files()
    write(prompts_dir, 1)  # reverted: v1's content again, no new version
    assert registry.sync_files().created == []
    assert registry.get("greeting", PRODUCTION).version == 1
    assert registry.get("greeting", "file").version == 1
    write(prompts_dir, 3)  # and it keeps following from there
    registry.sync_files()
    assert registry.get("greeting", PRODUCTION).version == 3
