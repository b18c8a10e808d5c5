"""Playground datasets from in-memory bytes and tmp_path folders: what they parse to and the files they refuse."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from workbench.config.settings import PROJECT_ROOT
from workbench.playground.datasets import (
    DatasetError,
    MappingError,
    Table,
    check_mapping,
    datasets_dir,
    list_datasets,
    load_dataset,
    load_table,
    require_mapping,
    row_values,
    suggest_mapping,
)

SHIPPED = "playground/support-questions.csv"


def refused(data: bytes, filename: str = "data.csv", **limits: int) -> DatasetError:
    with pytest.raises(DatasetError) as caught:
        load_table(data, filename, **limits)
    return caught.value


def table(columns: tuple[str, ...] = ("question", "topic")) -> Table:
    return Table("t.csv", columns, ({column: column.upper() for column in columns},), sha256="0" * 64)


# CSV


@pytest.mark.parametrize(
    "data",
    [
        b"question,topic\nWhat is R2?,r2-arm\n",
        b"\xef\xbb\xbfquestion,topic\nWhat is R2?,r2-arm\n",  # Excel's CSV UTF-8 starts with a BOM
        b"question;topic\r\nWhat is R2?;r2-arm\r\n",
        b"question\ttopic\nWhat is R2?\tr2-arm\n",
        b"\n question , topic\n\nWhat is R2?,r2-arm\n,\n",  # blank and filler rows skipped, header names trimmed
    ],
    ids=["comma", "bom", "semicolon-crlf", "tab", "blank-lines"],
)
def test_csv_dialects_give_the_same_table(data: bytes) -> None:
    result = load_table(data, "questions.csv")
    assert result.columns == ("question", "topic")
    assert result.rows == ({"question": "What is R2?", "topic": "r2-arm"},)
    assert result.name == "questions.csv"
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.row_count == 1
    assert result.short_sha == result.sha256[:12]


def test_csv_delimiter_comes_from_the_header_not_from_prose_in_the_rows() -> None:
    data = b'id;question\n1;"Hello, world, again, and again"\n2;Plain\n'
    assert load_table(data, "x.csv").rows[0] == {"id": "1", "question": "Hello, world, again, and again"}


def test_csv_quoted_fields_keep_delimiters_and_line_breaks() -> None:
    data = b'id,question\n1,"Two lines,\nwith a comma"\n2,"Say ""hi"""\n'
    rows = load_table(data, "x.csv").rows
    assert [row["question"] for row in rows] == ["Two lines,\nwith a comma", 'Say "hi"']


def test_csv_single_column() -> None:
    assert load_table(b"question\nA?\nB?\n", "x.csv").rows == ({"question": "A?"}, {"question": "B?"})


def test_csv_row_with_wrong_field_count_names_the_line() -> None:
    # line 4 is the row after a quoted field spanning lines 2-3
    error = refused(b'a,b,c\n1,"x\ny",3\n1,2,3,4,5\n')
    assert str(error).startswith("A CSV row has 5 fields but the header has 3 (line 4).")
    assert error.line == 4


def test_csv_bad_quoting_names_the_line() -> None:
    error = refused(b'a,b\n1,2\n3,"4"x\n')
    assert error.line == 3
    assert "Line 3 is not valid CSV" in str(error)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"id,,topic", "no name for column 2."),
        (b",id,", "no name for columns 1, 3."),
        (b"id,question,id", "repeats the column name 'id'."),
        (b"a,b,a,b", "repeats the column names 'a', 'b'."),
    ],
)
def test_csv_header_must_name_every_column_once(header: bytes, message: str) -> None:
    error = refused(header + b"\n1,2,3\n")
    assert message in str(error)
    assert error.line == 1


def test_csv_header_without_rows() -> None:
    assert "no data rows" in str(refused(b"id,question\n\n"))


# Encoding


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_latin1_names_the_byte_offset_and_line(bom: bytes) -> None:
    data = bom + "id,question\n1,ok\n2,café\n".encode("latin-1")
    error = refused(data)
    assert "not UTF-8" in str(error)
    assert f"byte 0xE9 at offset {len(bom) + 22} (line 3)" in str(error)  # 0-based: 12 + 5 + len("2,caf")
    assert error.line == 3


@pytest.mark.parametrize(
    "data", ["id,question\n1,x\n".encode("utf-16"), b"PK\x03\x04\x14\x00\x06\x00"], ids=["utf-16", "xlsx"]
)
def test_utf16_and_binary_files_are_refused(data: bytes) -> None:
    assert "not UTF-8" in str(refused(data))


# JSONL and JSON


def test_jsonl_values_become_text_and_columns_are_the_union_in_first_seen_order() -> None:
    lines = [
        {"question": "A?", "n": 3, "score": 0.5, "ok": True},
        {},
        {"tags": ["a", "é"], "meta": {"k": None}, "ok": False, "question": None, "n": 10**20},
    ]
    data = ("\n".join(json.dumps(line) for line in lines[:1]) + "\n\n  \n" + json.dumps(lines[2]) + "\n").encode()
    result = load_table(data, "rows.jsonl")
    assert result.columns == ("question", "n", "score", "ok", "tags", "meta")
    assert result.rows == (
        {"question": "A?", "n": "3", "score": "0.5", "ok": "true", "tags": "", "meta": ""},
        {
            "question": "",
            "n": "100000000000000000000",
            "score": "",
            "ok": "false",
            "tags": '["a","é"]',
            "meta": '{"k":null}',
        },
    )


def test_jsonl_keeps_unicode_line_separators_inside_strings() -> None:
    data = '{"q": "a\u2028b"}\n{"q": "c"}\n'.encode()
    assert [row["q"] for row in load_table(data, "x.jsonl").rows] == ["a\u2028b", "c"]


def test_jsonl_invalid_line() -> None:
    data = b'{"q": "a"}\n\n{"q": "b"}\n{"q": "c"}\n{"q": "d"}\n{"q": "e"}\n{"question": "x" "topic": "y"}\n'
    error = refused(data, "x.jsonl")
    assert str(error) == "Line 7 is not valid JSON (Expecting ',' delimiter at column 18). Fix that line or remove it."
    assert error.line == 7


@pytest.mark.parametrize(("line", "kind"), [(b"[1, 2]", "a list"), (b'"text"', "a string"), (b"42", "a number")])
def test_jsonl_line_that_is_not_an_object(line: bytes, kind: str) -> None:
    error = refused(b'{"q": "a"}\n' + line + b"\n", "x.jsonl")
    assert str(error).startswith(f"Line 2 is {kind}, not a JSON object.")
    assert error.line == 2


def test_jsonl_rows_without_fields() -> None:
    assert "no fields" in str(refused(b"{}\n{}\n", "x.jsonl"))


def test_json_list_of_objects() -> None:
    data = b'[{"question": "A?", "n": 1},\n {"question": "B?", "extra": [1]}]'
    result = load_table(data, "rows.JSON")
    assert result.columns == ("question", "n", "extra")
    assert result.rows[1] == {"question": "B?", "n": "", "extra": "[1]"}


@pytest.mark.parametrize(
    ("data", "message", "line"),
    [
        (b'{"question": "A?"}', "must hold a list of objects", None),
        (b'[{"q": 1}, "text"]', "Item 2 of the list is a string, not a JSON object.", None),
        (b'[{"q": 1},\n {"q" 2}]', "Line 2 is not valid JSON (Expecting ':' delimiter at column 7).", 2),
        (b"[]", "no data rows", None),
    ],
)
def test_json_refusals(data: bytes, message: str, line: int | None) -> None:
    error = refused(data, "x.json")
    assert message in str(error)
    assert error.line == line


# Whole-file checks


@pytest.mark.parametrize("filename", ["data.xlsx", "data.txt", "data", "csv"])
def test_unknown_extension(filename: str) -> None:
    assert "Upload a .csv or .jsonl file" in str(refused(b"a,b\n1,2\n", filename))


@pytest.mark.parametrize("data", [b"", b"  \n\r\n", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("filename", ["x.csv", "x.jsonl", "x.json"])
def test_empty_file(data: bytes, filename: str) -> None:
    assert str(refused(data, filename)).startswith("The file is empty.")


@pytest.mark.parametrize(
    ("size", "limit", "message"),
    [
        (14_200_000, 10_000_000, "The file is 14.2 MB; the limit is 10 MB. Split it"),
        (1_500, 1_000, "The file is 1.5 kB; the limit is 1 kB."),
        (120, 100, "The file is 120 bytes; the limit is 100 bytes."),
    ],
)
def test_size_limit(size: int, limit: int, message: str) -> None:
    data = b"question\n" + b"x" * (size - len(b"question\n"))
    assert str(refused(data, max_bytes=limit)).startswith(message)


def test_size_limit_is_inclusive() -> None:
    data = b"q\n1\n"
    assert load_table(data, "x.csv", max_bytes=len(data)).row_count == 1


@pytest.mark.parametrize("filename", ["x.csv", "x.jsonl"])
def test_row_limit(filename: str) -> None:
    lines = ["q"] + [str(n) for n in range(6_200)] if filename.endswith(".csv") else ['{"q": 1}'] * 6_200
    data = "\n".join(lines).encode()
    error = refused(data, filename, max_rows=5_000)
    assert str(error).startswith("The file has 6,200 rows; the limit is 5,000.")
    assert load_table(data, filename, max_rows=6_200).row_count == 6_200


# Shipped datasets


def test_datasets_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert datasets_dir() == PROJECT_ROOT / "datasets"
    monkeypatch.setenv("WORKBENCH_DATASETS_DIR", str(tmp_path))
    assert datasets_dir() == tmp_path


def test_list_datasets_finds_the_shipped_file_and_skips_the_corpus() -> None:
    names = [info.name for info in list_datasets()]
    assert SHIPPED in names
    assert not [name for name in names if "sample-corpus" in name or "readme" in name.lower()]


def test_list_datasets_walks_subfolders(tmp_path: Path) -> None:
    for relative in [
        "a.csv",
        "b/c.jsonl",
        "b/d.json",
        "b/README.json",
        "notes.md",
        "sample-corpus/documents/parts.csv",
        "x/sample-corpus/parts.csv",
        ".hidden/e.csv",
    ]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("q\n1\n")
    infos = list_datasets(tmp_path)
    assert [(info.name, info.size, info.format) for info in infos] == [
        ("a.csv", 4, "csv"),
        ("b/c.jsonl", 4, "jsonl"),
        ("b/d.json", 4, "json"),
    ]
    assert list_datasets(tmp_path / "missing") == []


def test_load_dataset_uses_the_relative_name(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "q.jsonl").write_text('{"question": "A?"}\n')
    result = load_dataset("sub/q.jsonl", tmp_path)
    assert (result.name, result.rows) == ("sub/q.jsonl", ({"question": "A?"},))


@pytest.mark.parametrize(
    "name", ["../secret.csv", "sub/../../secret.csv", "/etc/passwd.csv", "..\\secret.csv", "C:/x.csv", "", "  "]
)
def test_load_dataset_refuses_paths_outside_the_folder(tmp_path: Path, name: str) -> None:
    (tmp_path / "secret.csv").write_text("q\n1\n")
    root = tmp_path / "datasets"
    (root / "sub").mkdir(parents=True)
    with pytest.raises(DatasetError, match="not a dataset name"):
        load_dataset(name, root)


def test_load_dataset_refuses_symlinks_out_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text("q\n1\n")
    root = tmp_path / "datasets"
    root.mkdir()
    (root / "link.csv").symlink_to(tmp_path / "secret.csv")
    with pytest.raises(DatasetError, match="outside the datasets folder"):
        load_dataset("link.csv", root)


@pytest.mark.parametrize("name", ["missing.csv", "sample-corpus/parts.csv", "notes.md"])
def test_load_dataset_refuses_what_is_not_listed(tmp_path: Path, name: str) -> None:
    (tmp_path / "sample-corpus").mkdir()
    (tmp_path / "sample-corpus" / "parts.csv").write_text("q\n1\n")
    (tmp_path / "notes.md").write_text("q\n1\n")
    with pytest.raises(DatasetError, match="No dataset named"):
        load_dataset(name, tmp_path)


def test_load_dataset_checks_the_size_before_reading(tmp_path: Path) -> None:
    (tmp_path / "big.csv").write_bytes(b"q\n" + b"x" * 2_000)
    with pytest.raises(DatasetError, match=r"The file is 2 kB; the limit is 1 kB\."):
        load_dataset("big.csv", tmp_path, max_bytes=1_000)


def test_shipped_support_questions() -> None:
    result = load_dataset(SHIPPED)
    assert result.columns == ("id", "question", "topic")
    assert result.row_count == 30
    assert len({row["id"] for row in result.rows}) == 30
    assert all(row["question"].strip() for row in result.rows)
    topics = {row["topic"] for row in result.rows}
    assert "out-of-scope" in topics
    assert len(topics) >= 5


# Mapping


@pytest.mark.parametrize(
    ("columns", "variables", "expected"),
    [
        (["id", "question"], ["question"], {"question": "question"}),
        (["Question", "Ground-Truth"], ["question", "ground_truth"],
         {"question": "Question", "ground_truth": "Ground-Truth"}),
        (["query", "passages", "expected"], ["question", "context", "answer"],
         {"question": "query", "context": "passages", "answer": "expected"}),
        (["Q", "reference"], ["question", "answer"], {"question": "Q", "answer": "reference"}),
        (["ground truth"], ["answer"], {"answer": "ground truth"}),
        (["id", "topic"], ["question"], {"question": None}),
        ([], ["question"], {"question": None}),
    ],
)  # fmt: skip
def test_suggest_mapping(columns: list[str], variables: list[str], expected: dict[str, str | None]) -> None:
    assert suggest_mapping(columns, variables) == expected


def test_suggest_mapping_prefers_exact_names_over_synonyms() -> None:
    # "query" is a synonym of "question", but the template has its own "query" variable that matches exactly
    assert suggest_mapping(["query", "question"], ["question", "query"]) == {"question": "question", "query": "query"}
    assert suggest_mapping(["query"], ["question", "query"]) == {"question": None, "query": "query"}
    assert suggest_mapping(["query", "prompt"], ["question", "input"]) == {"question": "query", "input": "prompt"}


def test_check_mapping_reports_per_variable() -> None:
    errors = check_mapping(
        table(), ["question", "context", "answer", "topic"], {"question": "question", "context": None, "answer": "ans"}
    )
    assert errors == {
        "context": "Choose a column for 'context'.",
        "answer": "'t.csv' has no column 'ans'. Choose one of: question, topic.",
        "topic": "Choose a column for 'topic'.",
    }
    assert check_mapping(table(), ["question"], {"question": "question", "unused": "nope"}) == {}


def test_require_mapping_narrows_or_raises() -> None:
    mapping: dict[str, str | None] = {"question": "question", "extra": None}
    assert require_mapping(table(), ["question"], mapping) == {"question": "question"}
    with pytest.raises(MappingError) as caught:
        require_mapping(table(), ["question", "extra"], mapping)
    assert caught.value.errors == {"extra": "Choose a column for 'extra'."}
    assert isinstance(caught.value, ValueError)


def test_row_values() -> None:
    row = {"id": "q01", "question": "How long is the warranty?", "topic": "warranty"}
    assert row_values(row, {"question": "question", "q2": "question", "kind": "topic"}) == {
        "question": "How long is the warranty?",
        "q2": "How long is the warranty?",
        "kind": "warranty",
    }
    with pytest.raises(MappingError) as caught:
        row_values(row, {"question": "missing", "context": None})
    assert caught.value.errors == {
        "question": "The row has no column 'missing'.",
        "context": "Choose a column for 'context'.",
    }
