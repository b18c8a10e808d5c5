"""Eval datasets over real SQL: imports with a column mapping, rejected rows by line, versions, unchanged
re-imports, golden datasets, and the shipped sample."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from workbench.evaluation.datasets import SAMPLE_DATASET, EvalDatasetError, EvalDatasetService, item_key
from workbench.storage.sql.uow import SqlUnitOfWork
from workbench.tabular import load_table

pytestmark = pytest.mark.integration

CSV = b"""id,query,expected,contexts,topic
1,How long is the warranty?,24 months,"[""The R2 arm has a 24-month warranty.""]",warranty

2,,"no question
here",,broken
3,What is the payload?,5 kg,The R2 lifts 5 kg.,"r2; specs"
4,How long is the warranty?,duplicate,,warranty
5,Bad contexts?,x,"[not json",oops
"""


def test_csv_import_maps_columns_and_reports_rejected_rows_by_line(make_uow: Callable[[], SqlUnitOfWork]) -> None:
    service = EvalDatasetService(make_uow)
    table = load_table(CSV, "qa.csv")
    mapping = {"question": "query", "reference_answer": "expected", "reference_contexts": "contexts", "tags": "topic"}

    report = service.import_table(table, "qa", mapping, actor="ana", note="first")

    assert (report.imported, report.unchanged, report.version.version) == (2, False, 1)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (4, "the question is empty"),  # after a blank line; its answer spans two lines
        (7, "the same question as line 2"),
        (8, "reference_contexts looks like a JSON list but is not valid JSON (Expecting value)"),
    ]
    items = service.items(report.version.id)
    assert [i.question for i in items] == ["How long is the warranty?", "What is the payload?"]
    assert items[0].reference_contexts == ("The R2 arm has a 24-month warranty.",)
    assert items[1].reference_contexts == ("The R2 lifts 5 kg.",)
    assert items[1].tags == ("r2", "specs")
    assert items[0].extra == {"id": "1"}
    assert report.version.source_detail["file"] == "qa.csv"


def test_jsonl_lines_count_blank_lines_and_json_lists_count_items(make_uow: Callable[[], SqlUnitOfWork]) -> None:
    service = EvalDatasetService(make_uow)
    jsonl = b'{"question": "A?"}\n\n{"question": ""}\n'
    report = service.import_table(load_table(jsonl, "a.jsonl"), "a", {"question": "question"}, actor="ana")
    assert [r.where for r in report.rejected] == ["line 3"]
    listed = b'[{"question": "A?"}, {"question": "A?"}]'
    report = service.import_table(load_table(listed, "b.json"), "b", {"question": "question"}, actor="ana")
    assert [(r.where, r.reason) for r in report.rejected] == [("item 2", "the same question as item 1")]


def test_reimport_is_unchanged_and_a_change_is_a_new_version(make_uow: Callable[[], SqlUnitOfWork]) -> None:
    service = EvalDatasetService(make_uow)
    rows = [{"question": "Q1?", "reference_answer": "A1", "reference_contexts": [], "tags": []}]
    first = service.import_items("ds", rows, source="test", actor="ana")
    again = service.import_items("ds", rows, source="test", actor="ana")
    changed = service.import_items("ds", [*rows, {"question": "Q2?"}], source="test", actor="bo")

    assert again.unchanged and again.version.id == first.version.id
    assert changed.version.version == 2 and changed.version.item_count == 2
    assert [v.version for v in service.versions("ds")] == [2, 1]
    assert service.version("ds").version == 2 and service.version("ds", 1).item_count == 1
    assert [d.name for d in service.datasets()] == ["ds"]
    # The same question in both versions pairs by key; case and spacing do not matter.
    assert item_key("Q1?") == item_key("  q1? ") == service.items(changed.version.id)[0].item_key


def test_nothing_importable_and_unknown_datasets_are_clear_errors(make_uow: Callable[[], SqlUnitOfWork]) -> None:
    service = EvalDatasetService(make_uow)
    with pytest.raises(EvalDatasetError, match=r"No row could be imported.*the question is empty"):
        service.import_items("ds", [{"question": "  "}], source="test", actor="ana")
    with pytest.raises(EvalDatasetError, match="There is no eval dataset 'nope'"):
        service.version("nope")
    with pytest.raises(EvalDatasetError, match="Map a column to 'question'"):
        service.import_table(load_table(CSV, "qa.csv"), "qa", {"question": None}, actor="ana")


def test_golden_import_leaves_out_items_not_kept(make_uow: Callable[[], SqlUnitOfWork]) -> None:
    golden = SimpleNamespace(name="reviewed", version=3, rows=[
        {"question": "Kept?", "reference_answer": "yes", "reference_contexts": ["passage"], "labels": {"keep": True}},
        {"question": "Dropped?", "reference_answer": "no", "reference_contexts": [], "labels": {"keep": False}},
        {"question": "No keep field?", "reference_answer": "a", "reference_contexts": [], "labels": {}},
    ])  # fmt: skip
    report = EvalDatasetService(make_uow).import_golden(golden, actor="ana")

    assert report.version.name == "reviewed" and report.version.source == "golden"
    assert report.version.source_detail["golden_version"] == 3
    assert [i.question for i in EvalDatasetService(make_uow).items(report.version.id)] == ["Kept?", "No keep field?"]
    assert [(r.where, r.reason) for r in report.rejected] == [("item 2", "the reviewer chose not to keep it")]


def test_the_shipped_sample_is_imported_once(make_uow: Callable[[], SqlUnitOfWork], tmp_path: Path) -> None:
    service = EvalDatasetService(make_uow)
    first = service.ensure_sample()
    second = service.ensure_sample()
    assert first is not None and second is not None
    assert first.name == SAMPLE_DATASET and first.item_count == 24 and second.id == first.id
    items = service.items(first.id)
    assert sum(1 for i in items if "unanswerable" in i.tags) == 2
