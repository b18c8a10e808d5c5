"""The Prompts page over the real registry (SQL) and a prompts/ folder the test owns."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from workbench.domain.users import Role
from workbench.prompting.registry import PRODUCTION, PromptRegistry

pytestmark = pytest.mark.e2e

GREETING = """---
name: greeting
description: Says hello to someone.
variables: [who]
parameters:
  temperature: 0.3
system: |
  You are friendly.
---
Say hello to {{ who }}.
"""
SUMMARY = """---
name: summary
description: Summarises a text.
variables: [text]
---
Summarise: {{ text }}
"""
SAVE = "FormSubmitter:prompts-edit-Save as new version"


@pytest.fixture
def prompts(app_env: AppEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "prompts"
    directory.mkdir()
    (directory / "greeting.md").write_text(GREETING, encoding="utf-8")
    (directory / "summary.md").write_text(SUMMARY, encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(directory))
    return directory


def registry_of(app_env: AppEnvironment, directory: Path) -> PromptRegistry:
    return PromptRegistry(app_env.uow, directory)


def texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [element.value for element in elements]


def test_the_list_shows_the_file_prompts_with_production_on_v1(prompts: Path) -> None:
    at = open_page(signed_in(), "prompts")
    table = next(frame.value for frame in at.dataframe if "description" in frame.value.columns)
    assert list(table["name"]) == ["greeting", "summary"]
    assert list(table["labels"]) == ["production → v1, file → v1", "production → v1, file → v1"]
    assert list(table["latest"]) == ["v1", "v1"]
    assert list(table["description"]) == ["Says hello to someone.", "Summarises a text."]
    assert at.selectbox(key="prompts_name").value == "greeting"
    assert at.selectbox(key="prompts_version").value == 1
    assert any("Say hello to {{ who }}." in code for code in texts(at.code))


def test_an_empty_folder_says_what_to_do_and_a_prompt_can_be_created_here(
    app_env: AppEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-prompts"
    empty.mkdir()
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(empty))
    at = open_page(signed_in(), "prompts")
    assert "No prompts yet" in at.info[0].value
    assert (at.text_area(key="prompts_new_content").value or "").startswith(
        "---\ndescription:"
    )  # a skeleton to fill in
    at.text_input(key="prompts_new_name").input("support-answer")
    at.button(key="FormSubmitter:prompts-new-Create prompt").click().run()
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    assert at.selectbox(key="prompts_name").value == "support-answer"
    version = registry_of(app_env, empty).get("support-answer", PRODUCTION)
    assert (version.version, version.source, version.author) == (1, "ui", "admin")
    assert "{{ question }}" in version.content


def test_a_file_that_cannot_be_recorded_is_named_in_a_warning(prompts: Path) -> None:
    (prompts / "broken.md").write_text("---\nname: broken\n---\nHello {{ who \n", encoding="utf-8")
    at = open_page(signed_in(), "prompts")
    warnings = texts(at.warning)
    assert len(warnings) == 1
    assert "broken" in warnings[0]
    assert "line 4" in warnings[0]
    assert at.selectbox(key="prompts_name").options == ["greeting", "summary"]


def test_saving_an_edit_creates_v2_and_leaves_v1_as_it_was(app_env: AppEnvironment, prompts: Path) -> None:
    at = open_page(signed_in(), "prompts")
    assert at.text_area(key="prompts_editor").value == GREETING
    at.text_area(key="prompts_editor").input(GREETING.replace("Say hello to", "Greet"))
    at.text_input(key="prompts_edit_message").input("shorter")
    at.button(key=SAVE).click().run()
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    assert at.selectbox(key="prompts_version").value == 2
    assert "v2" in at.toast[0].value
    registry = registry_of(app_env, prompts)
    assert [v.version for v in registry.versions("greeting")] == [2, 1]
    assert registry.get("greeting", 1).content == GREETING
    latest = registry.get("greeting", 2)
    assert "Greet {{ who }}." in latest.content
    assert (latest.source, latest.author, latest.message) == ("ui", "admin", "shorter")
    assert registry.get("greeting", PRODUCTION).version == 1  # saving moves no label unless asked

    at.button(key=SAVE).click().run()  # the same text again
    assert any("Unchanged — v2 already has this content" in info for info in texts(at.info))
    assert len(registry.versions("greeting")) == 2

    at.button(key="prompts_open_1").click().run()  # the history opens an older version
    assert at.selectbox(key="prompts_version").value == 1
    assert at.text_area(key="prompts_editor").value == GREETING


def test_saving_with_a_label_points_it_at_the_new_version(app_env: AppEnvironment, prompts: Path) -> None:
    at = open_page(signed_in(), "prompts")
    at.text_area(key="prompts_editor").input(GREETING.replace("friendly", "very friendly"))
    at.text_input(key="prompts_edit_label").input("staging")
    at.button(key=SAVE).click().run()
    assert not at.error, texts(at.error)
    assert registry_of(app_env, prompts).get("greeting", "staging").version == 2


def test_a_syntax_error_is_shown_under_the_editor_with_its_line(app_env: AppEnvironment, prompts: Path) -> None:
    at = open_page(signed_in(), "prompts")
    at.text_area(key="prompts_editor").input(GREETING.replace("{{ who }}", "{{ who }"))
    at.button(key=SAVE).click().run()
    assert not at.exception, at.exception
    errors = texts(at.error)
    assert len(errors) == 1
    assert "line 10" in errors[0]
    assert any(code.startswith("10 | Say hello to {{ who }") for code in texts(at.code))
    assert len(registry_of(app_env, prompts).versions("greeting")) == 1


def test_moving_a_label_says_where_it_was_and_removing_one(app_env: AppEnvironment, prompts: Path) -> None:
    registry = registry_of(app_env, prompts)
    registry.save("greeting", GREETING.replace("friendly", "warm"), author="someone")
    at = open_page(signed_in(), "prompts")
    assert at.selectbox(key="prompts_version").value == 2
    assert at.selectbox(key="prompts_label_name").value == PRODUCTION
    assert at.selectbox(key="prompts_label_target").value == 2
    assert any("points at **v1** now" in caption for caption in texts(at.caption))
    at.button(key="prompts_label_move").click().run()
    assert not at.exception, at.exception
    assert at.toast[0].value == "production: v1 → v2"
    assert registry.get("greeting", PRODUCTION).version == 2

    at.selectbox(key="prompts_label_name").select("staging").run()
    at.selectbox(key="prompts_label_target").select(1).run()
    at.button(key="prompts_label_move").click().run()
    assert registry.get("greeting", "staging").version == 1
    assert at.selectbox(key="prompts_label_remove_name").options == ["staging (v1)"]
    at.button(key="prompts_label_remove").click().run()
    assert [v.labels for v in registry.versions("greeting")] == [(PRODUCTION,), ("file",)]


def test_the_diff_shows_the_changed_line(app_env: AppEnvironment, prompts: Path) -> None:
    registry_of(app_env, prompts).save("greeting", GREETING.replace("Say hello to", "Wave at"), author="someone")
    at = open_page(signed_in(), "prompts")
    assert (at.selectbox(key="prompts_diff_old").value, at.selectbox(key="prompts_diff_new").value) == (1, 2)
    diff = next(code for code in at.code if code.language == "diff").value
    assert "-Say hello to {{ who }}." in diff.splitlines()
    assert "+Wave at {{ who }}." in diff.splitlines()
    at.selectbox(key="prompts_diff_old").select(2).run()
    assert any("the same version" in info for info in texts(at.info))


def test_the_preview_names_a_missing_variable_under_its_field(prompts: Path) -> None:
    at = open_page(signed_in(), "prompts")
    render = "FormSubmitter:prompts-preview-Render"
    at.button(key=render).click().run()
    assert not at.exception, at.exception
    assert texts(at.error) == ["`who`: required"]
    at.text_area(key="prompts_var_who").input("Ada")
    at.button(key=render).click().run()
    assert not at.error, texts(at.error)
    rendered = texts(at.code)
    assert "You are friendly." in rendered
    assert "Say hello to Ada." in rendered


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANNOTATOR])
def test_viewers_and_annotators_cannot_open_the_page(app_env: AppEnvironment, prompts: Path, role: Role) -> None:
    app_env.add_user("someone", role)
    at: AppTest = signed_in("someone")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page(at, "prompts")
