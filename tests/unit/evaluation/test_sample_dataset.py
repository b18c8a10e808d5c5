"""The shipped evaluation dataset (datasets/eval/northwind-qa.jsonl) against the sample corpus it is about.

Retrieval metrics compare reference contexts with retrieved chunks by string similarity, so every context must be
a verbatim passage of the text that ingestion sees: the check loads each source with the project's own loaders.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from workbench.config.settings import PROJECT_ROOT
from workbench.rag.loaders import load_document

DATASET = PROJECT_ROOT / "datasets" / "eval" / "northwind-qa.jsonl"
CORPUS = PROJECT_ROOT / "datasets" / "sample-corpus"
DOCUMENTS = CORPUS / "documents"
KEYS = {"id", "question", "reference_answer", "reference_contexts", "tags", "source"}
KINDS = {"single-doc", "multi-doc", "unanswerable"}
NOT_IN_CORPUS = "The documents do not say."


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def rows() -> list[dict[str, Any]]:
    lines = DATASET.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def sources(row: dict[str, Any]) -> list[str]:
    return [name.strip() for name in row["source"].split(";") if name.strip()]


@cache
def parts_of(name: str) -> list[str]:
    """The whitespace-collapsed text of each part (page, row, whole file) that ingestion makes of a document."""
    path = DOCUMENTS / name
    loaded = load_document(name, path.read_bytes(), max_bytes=20 * 1024 * 1024)
    return [collapse(part.text) for part in loaded.parts]


def test_every_line_is_a_json_object_with_the_expected_keys() -> None:
    for number, line in enumerate(DATASET.read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        assert isinstance(row, dict), f"line {number}"
        assert set(row) == KEYS, f"line {number}"
        assert isinstance(row["question"], str) and row["question"].strip()
        assert isinstance(row["reference_answer"], str) and row["reference_answer"].strip()
        assert isinstance(row["reference_contexts"], list)
        assert all(isinstance(context, str) for context in row["reference_contexts"])
        assert isinstance(row["tags"], list) and all(isinstance(tag, str) for tag in row["tags"])
        assert isinstance(row["source"], str)


def test_ids_and_questions_are_unique() -> None:
    data = rows()
    assert [row["id"] for row in data] == [f"nw-{n:02d}" for n in range(1, 25)]
    assert len({row["question"] for row in data}) == 24


def test_each_row_has_one_kind_and_matching_sources() -> None:
    data = rows()
    for row in data:
        kinds = KINDS & set(row["tags"])
        assert len(kinds) == 1, row["id"]
        assert len(row["tags"]) >= 2, f"{row['id']}: a topic tag besides the kind"
        kind = kinds.pop()
        if kind == "unanswerable":
            assert row["reference_answer"] == NOT_IN_CORPUS, row["id"]
            assert row["reference_contexts"] == [], row["id"]
        else:
            assert len(sources(row)) == (2 if kind == "multi-doc" else 1), row["id"]
            assert 1 <= len(row["reference_contexts"]) <= 2, row["id"]
    counts = {kind: sum(kind in row["tags"] for row in data) for kind in KINDS}
    assert counts["multi-doc"] == 2
    assert counts["unanswerable"] == 2


def test_every_document_of_the_corpus_is_asked_about() -> None:
    used = {name for row in rows() for name in sources(row)}
    assert used == {path.name for path in DOCUMENTS.iterdir() if path.is_file()}


def test_the_readme_questions_are_included_verbatim() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Questions with one exact answer", 1)[1]
    expected = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")][1:]
    assert expected, "no questions found in the README table"
    questions = {row["question"] for row in rows()}
    assert [question for question in expected if question not in questions] == []


@pytest.mark.parametrize("row", rows(), ids=lambda row: row["id"])
def test_reference_contexts_are_verbatim_passages_of_their_sources(row: dict[str, Any]) -> None:
    names = sources(row)
    for name in names:
        assert (DOCUMENTS / name).is_file(), f"{row['id']}: no document {name}"
    for context in row["reference_contexts"]:
        wanted = collapse(context)
        assert wanted, f"{row['id']}: empty context"
        found = [name for name in names if any(wanted in part for part in parts_of(name))]
        assert found, f"{row['id']}: not a verbatim passage of {names}: {context!r}"
    if len(names) == 2:  # a two-document question cites both documents
        for name in names:
            assert any(collapse(c) in part for c in row["reference_contexts"] for part in parts_of(name)), row["id"]
