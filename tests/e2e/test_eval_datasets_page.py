"""The Eval datasets page in AppTest over the real stores: imports with their rejected-rows report, versions,
golden datasets from the labelling queues, and the Run tab's checks (no model call is made here)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.views.eval_datasets import state
from app.views.eval_datasets.browse import to_jsonl
from app.views.eval_datasets.file_import import NEW
from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from tests.workers import running_worker
from workbench.bootstrap import Container, build_container
from workbench.domain.users import Role
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import SAMPLE_DATASET
from workbench.evaluation.generator import draft_rubric
from workbench.labelling.rubrics import LabelValues
from workbench.labelling.views import Actor, ItemDraft
from workbench.services import users as user_service

pytestmark = pytest.mark.e2e

# Line 3 has no question and line 4 repeats line 2 (up to case and spacing): both are reported, the rest imported.
SUPPORT_CSV = (
    b"question,answer,contexts,tags\n"
    b'How long is the warranty?,24 months,"[""The warranty lasts 24 months.""]",warranty\n'
    b",an answer without a question,,\n"
    b"how long is  the WARRANTY?,two years,,\n"
    b"How fast is the M1 base?,1.5 m/s,,speed;m1\n"
)
FACTS = [
    {"id": "f1", "question": "What colour is the sky?", "reference_answer": "Blue.", "tags": ["easy"]},
    {"id": "f2", "question": "How many legs has a spider?", "reference_answer": "Eight.", "tags": ["easy", "animals"]},
]
# A model that is available without weights (a key is set) and never called: every run here fails before a call.
HOSTED = '[{"id": "gpt-x", "provider": "openai", "model": "gpt-4o-mini"}]'


def jsonl(rows: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


@contextmanager
def services() -> Iterator[Container]:
    """The stores the page writes to, read from outside the app."""
    container = build_container(register_atexit=False)
    try:
        yield container
    finally:
        container.close()


def page(tab: str = "Datasets") -> AppTest:
    at = open_page(signed_in(), "eval_datasets")
    if tab != "Datasets":
        at.session_state[state.TAB_KEY] = tab
        at.run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    mime = "text/csv" if name.endswith(".csv") else "application/jsonl"
    at.file_uploader(key="evd_upload").set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table with this column (read-only tables carry no key AppTest can see)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def texts(elements) -> str:  # type: ignore[no-untyped-def]
    """The elements' text as a reader sees it: without the Markdown escapes of names typed by people."""
    return "\n".join(str(element.value) for element in elements).replace("\\", "")


def test_a_csv_import_reports_each_rejected_row_with_its_line(app_env: AppEnvironment) -> None:
    at = upload(page("Import"), "support.csv", SUPPORT_CSV)
    # The columns are proposed from their names; the file's name names the new dataset.
    assert [at.selectbox(key=f"evd_map_{f}").value for f in ("question", "reference_answer")] == ["question", "answer"]
    assert [at.selectbox(key=f"evd_map_{f}").value for f in ("reference_contexts", "tags")] == ["contexts", "tags"]
    assert at.selectbox(key="evd_import_target").value == NEW
    assert at.text_input(key="evd_import_name").value == "support"
    assert "a new dataset **support**, v1" in texts(at.caption)
    at.text_input(key="evd_import_note").input("first draft")

    click(at, "evd_import")

    assert "Imported 2 item(s) as **support v1**." in texts(at.success)
    assert "2 row(s) were left out" in texts(at.warning)
    rejected = table(at, "reason")
    assert rejected["where"].tolist() == ["line 3", "line 4"]
    assert rejected["reason"].tolist() == ["the question is empty", "the same question as line 2"]
    assert rejected["question"].tolist() == ["", "how long is  the WARRANTY?"]
    assert at.get("download_button")  # the rejected rows as CSV
    with services() as container:
        version = container.eval_datasets.version("support")
        items = container.eval_datasets.items(version.id)
    assert (version.version, version.item_count, version.note, version.created_by) == (1, 2, "first draft", "admin")
    assert [i.question for i in items] == ["How long is the warranty?", "How fast is the M1 base?"]
    assert items[0].reference_contexts == ("The warranty lasts 24 months.",)
    assert [i.tags for i in items] == [("warranty",), ("speed", "m1")]


def test_a_jsonl_file_imported_again_adds_a_version_only_when_it_changed(app_env: AppEnvironment) -> None:
    at = upload(page("Import"), "facts.jsonl", jsonl(FACTS))
    click(at, "evd_import")
    assert "Imported 2 item(s) as **facts v1**." in texts(at.success)
    assert not at.warning

    # The next file of the same name goes into the existing dataset as its next version.
    changed = [*FACTS, {"id": "f3", "question": "Is water wet?", "reference_answer": "Yes."}]
    upload(at, "facts.jsonl", jsonl(changed))
    assert at.selectbox(key="evd_import_target").value == "facts"
    assert "become **facts v2**" in texts(at.caption)
    click(at, "evd_import")
    assert "Imported 3 item(s) as **facts v2**." in texts(at.success)

    # The same content again: nothing is stored.
    upload(at, "again.jsonl", jsonl(changed))
    at.selectbox(key="evd_import_target").select("facts").run()
    click(at, "evd_import")
    assert "Nothing changed: the content equals **facts v2**" in texts(at.info)
    with services() as container:
        assert [v.version for v in container.eval_datasets.versions("facts")] == [2, 1]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("latin.csv", "question\nWie schön?\n".encode("latin-1"), "The file is not UTF-8 text"),
        ("header-only.csv", b"question,answer\n", "The file has no data rows."),
        ("broken.jsonl", b'{"question": "ok?"}\n{"question": \n', "Line 2 is not valid JSON"),
        ("big.csv", b"question\n" + b"Why?\n" * 400, "the limit is 1 kB"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(
    app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes, message: str
) -> None:
    monkeypatch.setenv("WORKBENCH_EVALUATION__MAX_UPLOAD_MB", "0.001")
    at = upload(page("Import"), name, data)
    assert message in texts(at.error)
    assert all(button.key != "evd_import" for button in at.button)


def test_an_unmapped_question_column_blocks_the_import(app_env: AppEnvironment) -> None:
    at = upload(page("Import"), "odd.csv", b"prompt_text,expected\nWhy?,Because.\n")
    assert at.selectbox(key="evd_map_question").value == "— none —"
    assert "Choose the column that holds the questions" in texts(at.error)
    assert at.button(key="evd_import").disabled
    at.selectbox(key="evd_map_question").select("prompt_text").run()
    assert not at.button(key="evd_import").disabled


def test_the_datasets_tab_starts_with_the_sample_and_filters_items_by_tag(app_env: AppEnvironment) -> None:
    at = page()
    assert f"the sample **{SAMPLE_DATASET}**" in texts(at.info)
    click(at, "evd_sample")
    assert f"Imported the sample {SAMPLE_DATASET} v1" in texts(at.success)
    assert table(at, "latest version")["name"].tolist() == [SAMPLE_DATASET]
    assert at.selectbox(key=state.PICK_KEY).value == SAMPLE_DATASET
    items = table(at, "reference answer")
    total = len(items)
    with services() as container:
        assert total == container.eval_datasets.version(SAMPLE_DATASET).item_count
    assert items["contexts"].sum() >= total - 2  # a few questions have no answer in the documents, on purpose

    at.multiselect(key="evd_tags").select("warranty").run()
    tagged = table(at, "reference answer")
    assert 0 < len(tagged) < total
    assert all("warranty" in tags.split(", ") for tags in tagged["tags"])
    assert f"{len(tagged)} of {total} item(s) with those tags" in texts(at.caption)

    # The downloadable file imports back as the same content.
    with services() as container:
        version = container.eval_datasets.version(SAMPLE_DATASET)
        data = to_jsonl(container.eval_datasets.items(version.id)).encode()
    at.session_state[state.TAB_KEY] = "Import"
    upload(at.run(), f"{SAMPLE_DATASET}.jsonl", data)
    assert at.selectbox(key="evd_import_target").value == SAMPLE_DATASET
    click(at, "evd_import")
    assert f"the content equals **{SAMPLE_DATASET} v1**" in texts(at.info)


def test_a_golden_dataset_imports_without_the_questions_reviewers_dropped(app_env: AppEnvironment) -> None:
    admin = next(u for u in user_service.list_users(app_env.uow()) if u.username == "admin")
    actor = Actor(admin.id, admin.username, admin.role)
    questions = ["How long is the warranty?", "What is a robot?"]
    with services() as container:
        queues = container.label_queues
        rubric = queues.save_rubric(actor, "eval-question-review", draft_rubric())
        queue = queues.create_queue(actor, "questions-sample", rubric.version_id, 1, [admin.id])
        queues.add_items(actor, queue.id, [
            ItemDraft(source_kind="draft", source_id=f"sample:c{n}", question=q, answer=f"Answer {n}.",
                      chunks=[{"chunk_id": f"c{n}", "source": "doc.md", "text": f"Passage {n}", "score": 1.0}])
            for n, q in enumerate(questions)
        ])  # fmt: skip
        while (item := container.annotation.next_item(actor, queue.id)) is not None:
            keep = item.question == questions[0]
            values = {"keep": keep, "reference_answer": "24 months." if keep else ""}
            container.annotation.submit(actor, item.id, LabelValues(values, {item.chunks[0]["chunk_id"]: keep}))
            container.review.adjudicate(actor, item.id)
        container.review.export_golden(actor, queue.id, "warranty-gold")

    at = page("From labelling")
    assert "No knowledge base yet: ingest documents" in texts(at.info)  # nothing to draft questions from
    assert at.selectbox(key="evd_golden").value == "warranty-gold"
    assert at.text_input(key="evd_golden_target").value == "warranty-gold"
    click(at, "evd_golden_import")

    assert "Imported 1 item(s) as **warranty-gold v1**." in texts(at.success)
    rejected = table(at, "reason")
    assert rejected[["where", "reason"]].values.tolist() == [["item 2", "the reviewer chose not to keep it"]]
    with services() as container:
        version = container.eval_datasets.version("warranty-gold")
        [item] = container.eval_datasets.items(version.id)
    assert version.source_detail["golden"] == "warranty-gold" and version.source_detail["golden_version"] == 1
    assert (item.question, item.reference_answer, item.reference_contexts) == (
        questions[0],
        "24 months.",
        ("Passage 0",),
    )

    # The button on the report opens the dataset on the Datasets tab.
    click(at, "evd_golden_open")
    assert at.session_state[state.TAB_KEY] == "Datasets"
    assert at.selectbox(key=state.PICK_KEY).value == "warranty-gold"


def seed_facts() -> None:
    with services() as container:
        container.eval_datasets.import_items("facts", FACTS, source="test", actor="admin")


def test_the_run_tab_without_an_available_model_says_how_to_get_one(
    app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_LLM__MODELS", HOSTED)
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", "gpt-x")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    seed_facts()
    at = page("Run")
    [message] = [e.value for e in at.error]
    assert "No model is available to run an evaluation" in message and "make install" in message
    assert "**gpt-x**: set OPENAI_API_KEY" in message
    assert all(button.key != "evd_run_start" for button in at.button)


def test_the_run_tab_without_a_dataset_says_where_to_get_one(app_env: AppEnvironment) -> None:
    at = page("Run")
    assert "No eval dataset to run yet" in texts(at.info)
    assert "No run of yours is in progress" in texts(at.caption)


def test_the_run_tab_shows_why_a_run_cannot_start(app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LLM__MODELS", HOSTED)
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", "gpt-x")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    seed_facts()
    at = page("Run")
    assert (at.selectbox(key="evd_run_dataset").value, at.selectbox(key="evd_run_version").value) == ("facts", 1)
    assert at.selectbox(key="evd_run_model").value == "gpt-x"
    assert at.selectbox(key="evd_run_judge").value == ""  # no judge by default
    assert at.selectbox(key="evd_run_prompt").value == "rag-answer"
    assert at.selectbox(key="evd_run_ref").value == "production"

    at.multiselect(key="evd_run_metrics").set_value([]).run()
    click(at, "evd_run_start")
    assert "Choose at least one metric to compute." in texts(at.error)

    # A judged metric without a judge: the service refuses it, and the page says why.
    # Without a knowledge base, the metrics of retrieved passages are not offered.
    assert "context_recall" not in at.multiselect(key="evd_run_metrics").options
    at.multiselect(key="evd_run_metrics").set_value(["answer_relevancy", "exact_match"]).run()
    click(at, "evd_run_start")
    assert "answer_relevancy need a judge model" in texts(at.error)
    with services() as container:
        assert container.eval_reports.runs() == []


def test_an_unfinished_run_is_listed_with_its_progress_and_resume(
    app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_LLM__MODELS", HOSTED)
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", "gpt-x")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    seed_facts()
    with services() as container:
        config = EvalConfig(name="baseline", model="gpt-x", knowledge_base=None)
        (run,) = container.eval_runs.create_run("facts", config, actor="admin")  # created, never started
    at = page("Run")
    assert "**baseline** · facts v1" in texts(at.markdown)
    assert at.progress[0].value == 0
    assert "0 of 2 items · 0 failed" in at.get("progress")[0].proto.text
    assert at.button(key=f"evd_resume_{run.id}")
    assert all(button.key != f"evd_stop_{run.id}" for button in at.button)


def test_annotators_cannot_open_the_page(app_env: AppEnvironment) -> None:
    app_env.add_user("ann", Role.ANNOTATOR)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page(signed_in("ann"), "eval_datasets")


def test_a_started_run_shows_its_progress_until_it_ends(
    app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A model server nobody listens on: every answer fails at once, so the run ends quickly with each item failed.
    monkeypatch.setenv(
        "WORKBENCH_LLM__MODELS", '[{"id": "down", "provider": "openai_compatible", "model": "m", "base_url": '
        '"http://127.0.0.1:9/v1"}]',
    )  # fmt: skip
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", "down")
    monkeypatch.setenv("WORKBENCH_LLM__MAX_RETRIES", "0")
    seed_facts()
    at = page("Run")
    at.selectbox(key="evd_run_kb").select("").run()
    at.text_input(key="evd_run_name").input("smoke")
    at.text_input(key="evd_run_tags").input("ci, smoke")
    click(at, "evd_run_start")
    assert "Started the run of smoke over facts v1." in texts(at.success)
    with services() as container, running_worker(tmp_path / "worker.log"):  # the run's items are queue tasks
        [summary] = container.eval_reports.runs()
        run_id = summary.run.id
        assert (summary.run.tags, summary.run.config["model"]) == (("ci", "smoke"), "down")
        deadline = time.monotonic() + 60
        while container.eval_runs.run(run_id).status != "completed" and time.monotonic() < deadline:
            time.sleep(0.5)
            at.run()  # as the panel's refresh timer would
            assert not at.exception, at.exception
        run = container.eval_runs.run(run_id)
    assert (run.status, run.done_count, run.failed_count) == ("completed", 2, 2)
    at.run()
    assert "2 of 2 items · 2 failed" in at.get("progress")[0].proto.text
    assert at.button(key=f"evd_retry_{run_id}")
    assert at.get("page_link")  # to the scores on the Evaluation page
