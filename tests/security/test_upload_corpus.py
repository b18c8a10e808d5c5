"""Issue 17: the upload corpus through every entry point that takes a user's files.

Each bad file is refused with its own reason, one a user can act on (checked for its words), and the rest of the
batch still goes in: documents into a knowledge base (the RagEngine the Documents page and `workbench ingest` call,
with the real embedder and real Chroma), tables into the playground and eval datasets (workbench.tabular).
"""

from __future__ import annotations

import mimetypes
import re
import time
import tracemalloc
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from tests.fakes import FakeUnitOfWork
from tests.integration.rag.conftest import MakeEngine
from tests.security.conftest import tally_upload
from tests.security.upload_files import (
    BAD_DOCUMENTS,
    BAD_TABLES,
    GOOD_DOCUMENTS,
    LENIENT_DOCUMENTS,
    LIMIT_MB,
    MB,
    NO_HEADER_CSV,
    QUESTIONS,
    TABLE_LIMIT,
    Upload,
)
from workbench.cli import app
from workbench.config.settings import EvaluationSettings, PlaygroundSettings
from workbench.evaluation.datasets import EvalDatasetError, EvalDatasetService, ImportReport, suggest_mapping
from workbench.playground import datasets as playground
from workbench.rag.errors import BadDocument
from workbench.rag.loaders import load_document
from workbench.storage.sql.engine import build_session_factory
from workbench.storage.sql.uow import SqlUnitOfWork
from workbench.tabular import DatasetError, load_table

KB = "uploads"
BATCH = BAD_DOCUMENTS + LENIENT_DOCUMENTS + GOOD_DOCUMENTS
GOES_IN = sorted(upload.name for upload in LENIENT_DOCUMENTS + GOOD_DOCUMENTS)


def check_refusals(entry: str, reasons: Mapping[str, str], cases: list[Upload] = BAD_DOCUMENTS) -> dict[str, str]:
    """Tally each bad file for the summary; the cases not refused, or refused without the words they must say."""
    problems = {}
    for case in cases:
        reason = reasons.get(case.name)
        missing = ["(not refused)"] if reason is None else case.missing_words(reason)
        tally_upload(entry, case.id, refused=not missing)
        if missing:
            problems[case.id] = f"{reason!r} lacks {missing}"
    return problems


# Documents into a knowledge base ----------------------------------------------------------------------------------


@pytest.mark.integration
def test_one_batch_refuses_each_bad_document_with_its_reason_and_indexes_the_rest(make_engine: MakeEngine) -> None:
    rag = make_engine(max_file_mb=LIMIT_MB)
    rag.create_knowledge_base(KB)

    report = rag.ingest(KB, [(upload.name, upload.data) for upload in BATCH])

    assert check_refusals("documents", dict(report.failed)) == {}
    assert len(report.failed) == len(BAD_DOCUMENTS)  # one reason per file
    assert sorted(report.added) == GOES_IN
    for question, source in QUESTIONS:
        assert rag.retrieve(KB, question, top_k=1).chunks[0].source == source, question
    # The page lists each refused file with its reason and no passages, beside the documents that went in.
    documents = {document.source: document for document in rag.documents(KB)}
    for source, reason in report.failed:
        refused = documents[source]
        assert (refused.status, refused.error, refused.chunk_count) == ("failed", reason, 0), source
    assert {source for source, document in documents.items() if document.status == "ok"} == set(GOES_IN)


@pytest.mark.parametrize("case", [c for c in BAD_DOCUMENTS if "zip-bomb" in c.id], ids=lambda case: case.id)
def test_a_zip_bomb_is_refused_quickly_without_being_inflated_into_memory(case: Upload) -> None:
    data = case.data  # built (a megabyte at a time) before anything is measured
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(BadDocument) as refused:
            load_document(case.name, data, max_bytes=LIMIT_MB * MB)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert case.missing_words(refused.value.reason) == [], refused.value.reason
    assert peak < 8 * MB, f"{peak / MB:.0f} MB held to refuse a {len(data) / MB:.1f} MB file"  # not its 300 MB
    assert seconds < 1.0


@pytest.mark.integration
def test_workbench_ingest_prints_each_refused_file_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_RAG__MAX_FILE_MB", str(LIMIT_MB))
    folder = tmp_path / "inbox"
    folder.mkdir()
    for upload in BATCH:
        (folder / upload.name).write_bytes(upload.data)

    result = CliRunner().invoke(app, ["ingest", str(folder), "--kb", KB], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    printed = dict(re.findall(r"^failed (.+?): (.+)$", result.output, flags=re.MULTILINE))
    assert check_refusals("cli", printed) == {}
    assert re.search(rf"added\s+│\s+{len(GOES_IN)}\b", result.output), result.output


@pytest.mark.e2e
def test_the_documents_page_shows_each_refused_upload_with_its_reason(
    app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_RAG__MAX_FILE_MB", str(LIMIT_MB))
    at = open_page(signed_in(), "documents")
    at.text_input(key="kb_name").input(KB)
    at.button(key="FormSubmitter:new-kb-Create").click().run()
    files = [(u.name, u.data, mimetypes.guess_type(u.name)[0] or "application/octet-stream") for u in BATCH]
    at.file_uploader(key="docs_upload").set_value(files).run()

    at.button(key="docs_ingest").click().run(timeout=180)

    assert not at.exception, at.exception
    assert f"{len(GOES_IN)} added" in at.success[0].value
    shown = {}
    for message in at.error:
        skipped = re.fullmatch(r"\*\*(.+?)\*\* was skipped: (.*)", message.value, flags=re.DOTALL)
        assert skipped is not None, message.value
        shown[unescaped(skipped[1])] = unescaped(skipped[2])
    assert check_refusals("app", shown) == {}
    # A file's name is shown as written: its Markdown neither bolds nor links.
    assert any(r"\*\*urgent\*\* \[open\]\(\#top\)" in message.value for message in at.error)


def unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


# Tables: playground datasets and eval dataset import --------------------------------------------------------------


def playground_upload(upload: Upload) -> None:
    """What the playground's upload does with a file (app/views/playground/inputs.py)."""
    settings = PlaygroundSettings()
    playground.load_table(
        upload.data, upload.name, max_bytes=int(settings.max_upload_mb * 1_000_000), max_rows=settings.max_rows
    )


def eval_import(service: EvalDatasetService, name: str, data: bytes) -> ImportReport:
    """What the eval datasets' Import tab does with a file (app/views/eval_datasets/file_import.py)."""
    table = load_table(data, name, max_bytes=int(EvaluationSettings().max_upload_mb * 1_000_000))
    return service.import_table(table, "uploaded", suggest_mapping(table.columns), actor="ana")


@pytest.mark.parametrize("case", BAD_TABLES, ids=lambda case: case.id)
def test_a_malformed_table_is_refused_whole_naming_its_line(case: Upload) -> None:
    """Neither the playground nor the eval import reads part of a file it cannot parse: the file is refused."""
    assert int(PlaygroundSettings().max_upload_mb * 1_000_000) == TABLE_LIMIT
    entries: dict[str, Callable[[], object]] = {
        "playground": lambda: playground_upload(case),
        "eval import": lambda: eval_import(EvalDatasetService(FakeUnitOfWork), case.name, case.data),
    }
    for entry, upload in entries.items():
        with pytest.raises(DatasetError) as refused:
            upload()
        missing = case.missing_words(str(refused.value))
        tally_upload(entry, case.id, refused=not missing and refused.value.line == case.line)
        assert missing == [], (entry, str(refused.value))
        assert refused.value.line == case.line, (entry, str(refused.value))


@pytest.mark.integration
def test_an_eval_import_takes_the_good_rows_and_reports_each_bad_one_by_line(sqlite_engine: Engine) -> None:
    service = EvalDatasetService(lambda: SqlUnitOfWork(build_session_factory(sqlite_engine)))
    rows = [
        b'{"question": "How long is the warranty?", "answer": "24 months"}',
        b'{"question": "' + b"why?" * 5_000 + b'"}',  # a huge line: 20,000 characters of question
        b'{"question": "", "answer": "no question"}',
        b'{"question": "Which contexts?", "contexts": "[not json"}',
        b'{"question": "How fast is the M1?", "answer": "1.5 m/s"}',
        b'{"question": "how long is the WARRANTY?", "answer": "again"}',
    ]

    report = eval_import(service, "mixed.jsonl", b"\n".join(rows) + b"\n")

    assert report.imported == 2
    questions = [item.question for item in service.items(report.version.id)]
    assert questions == ["How long is the warranty?", "How fast is the M1?"]
    assert [(r.line, r.reason) for r in report.rejected] == [
        (2, "the question has 20,000 characters; the limit is 8,000"),
        (3, "the question is empty"),
        (4, "reference_contexts looks like a JSON list but is not valid JSON (Expecting value)"),
        (6, "the same question as line 1"),
    ]


def test_a_csv_without_a_header_row_is_refused_at_the_column_mapping() -> None:
    """Its first row reads as column names (nothing tells the two apart), so no column can be the question."""
    table = load_table(NO_HEADER_CSV, "no-header.csv")
    assert table.columns == ("How long is the warranty?", "24 months")
    with pytest.raises(EvalDatasetError, match="Map a column to 'question'") as refused:
        eval_import(EvalDatasetService(FakeUnitOfWork), "no-header.csv", NO_HEADER_CSV)
    tally_upload("eval import", "csv-no-header", refused=refused.value is not None)
    variables = ["question"]
    errors = playground.check_mapping(table, variables, playground.suggest_mapping(table.columns, variables))
    tally_upload("playground", "csv-no-header", refused=bool(errors))
    assert errors == {"question": "Choose a column for 'question'."}
