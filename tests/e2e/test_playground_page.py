"""The Playground page in AppTest over real stores and the smallest packaged model (SmolLM2 135M)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.views.playground.inputs import UPLOADED
from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from tests.workers import running_worker
from workbench.bootstrap import Container, build_container
from workbench.domain.users import Role
from workbench.playground.service import RunView
from workbench.playground.variants import Variant
from workbench.services import users as user_service

pytestmark = pytest.mark.e2e
FAST_MODEL = "smollm2-135m-instruct"
QUESTIONS_CSV = b"id,question\n1,What is 2 + 2?\n2,Name a colour.\n3,Say hello.\n"


@contextmanager
def services() -> Iterator[Container]:
    """The stores the page wrote to, read from outside the app (the same SQLite file and run-log database)."""
    container = build_container(register_atexit=False)
    try:
        yield container
    finally:
        container.close()


def admin_id(app_env: AppEnvironment) -> str:
    return next(user.id for user in user_service.list_users(app_env.uow()) if user.username == "admin")


def only_run(container: Container, user_id: str) -> RunView:
    runs = container.playground.runs(user_id)
    assert len(runs) == 1, runs
    return runs[0]


def errors(at: AppTest) -> list[str]:
    return [element.value for element in at.error]


def test_opens_with_two_variants_over_the_shipped_prompts(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "playground")
    assert [t.value for t in at.title] == ["Playground"]
    assert at.radio(key="pg_variant_count").value == 2
    for position in (0, 1):
        assert at.selectbox(key=f"pg_v{position}_prompt").options == ["eval-question", "plain-chat", "rag-answer"]
        assert at.selectbox(key=f"pg_v{position}_prompt").value == "plain-chat"
        assert at.selectbox(key=f"pg_v{position}_version").value == 1
        assert at.selectbox(key=f"pg_v{position}_model").value == FAST_MODEL
        # Defaults come from the template's front matter.
        assert at.number_input(key=f"pg_v{position}_temperature").value == 0.7
        assert at.number_input(key=f"pg_v{position}_max_tokens").value == 400
        assert at.text_area(key=f"pg_v{position}_system").value == "You are a helpful, concise assistant."
    assert at.text_area(key="pg_try_question").value == ""
    assert not errors(at)

    # A variant of another template adds its variables to the form; three variants, three columns.
    at.selectbox(key="pg_v1_prompt").select("rag-answer").run()
    assert at.number_input(key="pg_v1_temperature").value == 0.1
    assert "context" in str(at.text_area(key="pg_v1_template").value)
    assert at.text_area(key="pg_try_context").value == ""
    at.radio(key="pg_variant_count").set_value(3).run()
    assert at.selectbox(key="pg_v2_prompt").value == "plain-chat"
    # Fewer variants and back: the hidden variant's choices are kept.
    at.radio(key="pg_variant_count").set_value(1).run()
    at.radio(key="pg_variant_count").set_value(2).run()
    assert at.selectbox(key="pg_v1_prompt").value == "rag-answer"


def test_run_with_a_blank_field_says_which_one(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "playground")
    at.button(key="pg_try_run").click().run()
    assert "Fill in 'question': plain-chat needs it." in errors(at)
    with services() as container:
        assert container.playground.runs(admin_id(app_env)) == []


def test_unmapped_variable_shows_its_error_and_blocks_the_start(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "playground")
    at.selectbox(key="pg_v1_prompt").select("rag-answer").run()
    assert at.selectbox(key="pg_ds_name").value == "playground/support-questions.csv"
    assert at.selectbox(key="pg_ds_map_question").value == "question"  # proposed from the column names
    assert at.selectbox(key="pg_ds_map_context").value == "— choose a column —"
    assert "Choose a column for 'context'." in errors(at)
    assert at.button(key="pg_ds_start").disabled
    at.selectbox(key="pg_ds_map_context").select("topic").run()
    assert "Choose a column for 'context'." not in errors(at)
    assert not at.button(key="pg_ds_start").disabled


def test_an_unreadable_upload_says_what_to_do(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "playground")
    at.radio(key="pg_ds_source").set_value(UPLOADED).run()
    at.file_uploader(key="pg_ds_upload").set_value(("rows.csv", b"a,b\n1,2,3\n", "text/csv")).run()
    assert any("A CSV row has 3 fields but the header has 2 (line 2)" in message for message in errors(at))
    assert not at.exception


def test_an_edited_system_prompt_is_saved_as_a_new_version_and_labelled(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "playground")
    at.text_area(key="pg_v0_system").input("Answer in one short sentence.\nNever use lists.").run()
    assert "own system prompt" in " ".join(c.value for c in at.caption)
    at.text_input(key="pg_v0_save_message").input("Shorter answers").run()
    at.selectbox(key="pg_v0_save_label").select("staging").run()
    at.button(key="pg_v0_save").click().run()
    assert not at.exception, at.exception
    assert any("Saved as plain-chat v2 (staging)" in s.value for s in at.success)
    assert at.selectbox(key="pg_v0_version").value == 2  # the editor now shows the saved version, unedited
    assert at.text_area(key="pg_v0_system").value == "Answer in one short sentence.\nNever use lists."
    with services() as container:
        saved = container.prompts.get("plain-chat", "staging")
        assert saved.version == 2
        assert saved.template.system == "Answer in one short sentence.\nNever use lists."
        assert saved.template.variables == ("question",)
        assert saved.message == "Shorter answers"
        assert container.prompts.get("plain-chat", "production").version == 1

    at.selectbox(key="pg_v0_label").select("production").run()
    at.button(key="pg_v0_set_label").click().run()
    assert any("'production' now points at plain-chat v2" in s.value for s in at.success)
    with services() as container:
        assert container.prompts.get("plain-chat", "production").version == 2


def test_an_edited_template_is_a_draft_and_a_broken_one_cannot_run(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "playground")
    text = str(at.text_area(key="pg_v1_template").value)
    at.text_area(key="pg_v1_template").input(text.replace("{{ question }}", "Q: {{ question }}\nA:")).run()
    assert any("draft (edited template)" in c.value for c in at.caption)
    assert not at.button(key="pg_try_run").disabled
    at.text_area(key="pg_v1_template").input(text.replace("{{ question }}", "{{ question ")).run()
    assert any("does not parse" in message for message in errors(at))
    assert at.button(key="pg_try_run").disabled


def test_history_lists_runs_and_offers_to_resume_an_unfinished_one(app_env: AppEnvironment) -> None:
    with services() as container:
        prompt = container.prompts.get("plain-chat", "production")
        run_id = container.playground.create_run(
            user_id=admin_id(app_env), variants=[Variant("plain-chat", prompt.content, FAST_MODEL, prompt.version)],
            rows=[{"question": "one"}, {"question": "two"}], kind="dataset", dataset_name="two.csv",
        )  # fmt: skip
    at = open_page(signed_in(), "playground")
    history = next(df.value for df in at.dataframe if "kind" in df.value.columns)
    assert list(history["title"]) == ["two.csv · 2 rows"]
    assert list(history["progress"]) == ["0/2"]
    at.selectbox(key="pg_hist_run").select(run_id).run()
    assert at.button(key="pg_hist_resume")  # not started yet: it can be resumed
    grid = next(df.value for df in at.dataframe if "v1" in df.value.columns)
    assert list(grid["question"]) == ["one", "two"]
    assert list(grid["v1"]) == ["…", "…"]


def test_without_an_available_model_the_page_says_how_to_get_one(
    app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_LLM__MODELS", '[{"id": "gpt-x", "provider": "openai", "model": "gpt-4o-mini"}]')
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", "gpt-x")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = open_page(signed_in(), "playground")
    [message] = errors(at)
    assert "No model is available" in message and "make install" in message
    assert "**gpt-x**: set OPENAI_API_KEY" in message
    assert all(button.key != "pg_try_run" for button in at.button)
    assert any("No runs yet" in info.value for info in at.info)  # History still works


def test_annotators_cannot_open_the_playground(app_env: AppEnvironment) -> None:
    app_env.add_user("ann", Role.ANNOTATOR)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page(signed_in("ann"), "playground")


@pytest.mark.slow
def test_a_try_streams_two_variants_and_stores_the_run(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "playground")
    at.number_input(key="pg_v0_max_tokens").set_value(8)
    at.number_input(key="pg_v1_max_tokens").set_value(8)
    at.number_input(key="pg_v1_temperature").set_value(0.0)
    at.text_area(key="pg_try_question").input("What is the capital of France?")
    at.button(key="pg_try_run").click().run(timeout=240)
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    figures = [c.value for c in at.caption if "latency" in c.value and "first token" in c.value]
    assert len(figures) == 2, figures
    assert all("cost –" in figure for figure in figures)  # the local model has no price
    with services() as container:
        run = only_run(container, admin_id(app_env))
        assert (run.kind, run.status, run.counts) == ("interactive", "done", {"ok": 2})
        cells = container.playground.cells(run.id)
        variants = container.playground.variants(run.id)
    assert [variant.max_tokens for variant in variants] == [8, 8]
    assert [variant.temperature for variant in variants] == [0.7, 0.0]
    assert all(cell.output.strip() and cell.latency_ms for cell in cells)
    # The answers are shown from SQL on the next run too.
    at.run()
    assert len([c for c in at.caption if "latency" in c.value and "first token" in c.value]) == 2


@pytest.mark.slow
def test_a_dataset_run_over_an_upload_completes_and_fills_the_grid(app_env: AppEnvironment, tmp_path: Path) -> None:
    at = open_page(signed_in(), "playground")
    for position in (0, 1):
        at.number_input(key=f"pg_v{position}_max_tokens").set_value(8)
    at.number_input(key="pg_v1_temperature").set_value(0.0)
    at.radio(key="pg_ds_source").set_value(UPLOADED).run()
    at.file_uploader(key="pg_ds_upload").set_value(("questions.csv", QUESTIONS_CSV, "text/csv")).run()
    assert at.selectbox(key="pg_ds_map_question").value == "question"
    at.button(key="pg_ds_start").click().run()
    assert not at.exception, at.exception
    with services() as container, running_worker(tmp_path / "worker.log"):  # the run's cells are queue tasks
        run_id = only_run(container, admin_id(app_env)).id
        deadline = time.monotonic() + 240
        while container.playground.run(run_id).status != "done" and time.monotonic() < deadline:
            time.sleep(1)
            at.run()  # the page keeps working while a worker works the run
            assert not at.exception, at.exception
        run = container.playground.run(run_id)
        assert (run.kind, run.status, run.counts) == ("dataset", "done", {"ok": 6})
        exported = container.playground.export_csv(run_id)
    at.run()
    grid = next(df.value for df in at.dataframe if "v2" in df.value.columns)
    assert list(grid["question"]) == ["What is 2 + 2?", "Name a colour.", "Say hello."]
    assert all(text and text != "…" and not text.startswith("⚠") for text in [*grid["v1"], *grid["v2"]])
    assert grid["v1 s"].notna().all() and grid["v2 s"].notna().all()
    summary = next(df.value for df in at.dataframe if "median latency" in df.value.columns)
    assert list(summary["ok"]) == [3, 3]
    assert at.progress[0].value == 100  # percent
    assert exported.count("\n") == 2 + 3  # the variants line, the header and three rows


def wait_for(container: Container, run_id: str, at: AppTest, done: Callable[[RunView], bool]) -> RunView:
    """Rerun the page (as its refresh timer would) until the run satisfies `done`."""
    deadline = time.monotonic() + 240
    while not done(run := container.playground.run(run_id)) and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        assert not at.exception, at.exception
    return run


@pytest.mark.slow
def test_a_stopped_dataset_run_resumes_without_repeating_cells(app_env: AppEnvironment, tmp_path: Path) -> None:
    at = open_page(signed_in(), "playground")
    for position in (0, 1):
        at.number_input(key=f"pg_v{position}_max_tokens").set_value(4)
    at.run()
    assert at.selectbox(key="pg_ds_name").value == "playground/support-questions.csv"  # 30 rows
    at.button(key="pg_ds_start").click().run()
    with services() as container, running_worker(tmp_path / "worker.log"):
        run_id = only_run(container, admin_id(app_env)).id
        wait_for(container, run_id, at, lambda run: run.done_cells >= 4)
        at.button(key="pg_ds_stop").click().run()
        stopped = wait_for(container, run_id, at, lambda run: run.status != "running")
        assert stopped.status == "stopped" and 4 <= stopped.done_cells < 60, stopped
        at.run()
        assert "stopped" in " ".join(m.value for m in at.markdown)
        finished_before = {(cell.row_index, cell.position): cell.id for cell in container.playground.cells(run_id)}

        at.button(key="pg_ds_resume").click().run()
        run = wait_for(container, run_id, at, lambda run: run.status == "done")
        assert run.counts == {"ok": 60}
        cells = container.playground.cells(run_id)
    assert len(cells) == 60
    # The cells finished before the stop were kept as they were, not worked on again.
    assert {(c.row_index, c.position): c.id for c in cells if (c.row_index, c.position) in finished_before} == (
        finished_before
    )
