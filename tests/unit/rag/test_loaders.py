"""Loaders on files generated in memory: the text they keep, the metadata they attach, the files they refuse."""

from __future__ import annotations

import json

import pytest

from tests.rag_files import docx_bytes, pdf_bytes
from workbench.rag.errors import BadDocument
from workbench.rag.loaders import MIME_TYPES, load_document

MB = 1024 * 1024
LIMIT = 20 * MB


def load(name: str, data: bytes, max_bytes: int = LIMIT):  # type: ignore[no-untyped-def]
    return load_document(name, data, max_bytes=max_bytes)


def refused(name: str, data: bytes, max_bytes: int = LIMIT) -> str:
    with pytest.raises(BadDocument) as caught:
        load(name, data, max_bytes)
    assert caught.value.source == name
    return caught.value.reason


def test_text_and_markdown() -> None:
    text = load("notes.txt", "\ufeffFirst line.  \r\n\r\n\r\n\r\nSecond line.".encode())
    assert text.title == "notes"
    assert text.mime_type == "text/plain"
    assert [part.text for part in text.parts] == ["First line.\n\nSecond line."]

    markdown = load("guide.md", b"Intro\n\n# The Real Title #\n\nBody text.\n")
    assert markdown.title == "The Real Title"
    assert "Body text." in markdown.parts[0].text


def test_html_keeps_text_and_drops_scripts_and_styles() -> None:
    html = b"""<!DOCTYPE html><html><head><title>Spec sheet</title><style>p { color: red }</style><!-- a comment -->
    <script>var secret = "do not index";</script></head>
    <body><h1>M1</h1><p>Top   speed is
    fast.</p><table><tr><th>Speed</th><td>1.5 m/s</td></tr></table><noscript>enable js</noscript></body></html>"""
    document = load("page.html", html)
    text = document.parts[0].text
    assert document.title == "Spec sheet"
    assert "Top speed is fast." in text
    assert "Speed | 1.5 m/s" in text
    assert text.startswith("M1\n\nTop speed is fast.\n\nSpeed | 1.5 m/s")
    for dropped in ("do not index", "color: red", "enable js", "Spec sheet", "comment", "DOCTYPE", "html"):
        assert dropped not in text


def test_pdf_has_a_part_per_page_with_its_number() -> None:
    data = pdf_bytes([["Page one says hello."], ["Page two (with parentheses) says bye."]], title="Two Pages")
    document = load("report.pdf", data)
    assert document.title == "Two Pages"
    assert [part.metadata for part in document.parts] == [{"page": 1}, {"page": 2}]
    assert "Page one says hello." in document.parts[0].text
    assert "(with parentheses)" in document.parts[1].text


def test_blank_pdf_pages_are_skipped_and_a_pdf_without_text_is_refused() -> None:
    document = load("mixed.pdf", pdf_bytes([[], ["Only the second page has text."]]))
    assert [part.metadata for part in document.parts] == [{"page": 2}]
    assert "no text found" in refused("scan.pdf", pdf_bytes([[], []]))


@pytest.mark.parametrize(
    "data",
    [
        b"this is not a pdf at all",
        pdf_bytes([["fine"]])[:200],  # truncated mid-file
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
    ],
    ids=["garbage", "truncated", "dangling-reference"],
)
def test_corrupt_pdf_is_a_bad_document(data: bytes) -> None:
    reason = refused("broken.pdf", data)
    assert "PDF" in reason


def test_docx_paragraphs_and_tables() -> None:
    data = docx_bytes(
        ["First paragraph.", "Second paragraph."], title="Checklist", table=[["Name", "Role"], ["Ann", "Lead"]]
    )
    document = load("checklist.docx", data)
    text = document.parts[0].text
    assert document.title == "Checklist"
    assert "First paragraph.\nSecond paragraph." in text
    assert "Ann | Lead" in text
    assert "not a readable Word document" in refused("broken.docx", b"PK\x03\x04 not really a zip")


def test_csv_gives_a_part_per_row_from_its_fields() -> None:
    data = b"part,name,price\nNW-1,Finger set,89.00\nNW-2,,45.00\n"
    document = load("parts.csv", data)
    assert [part.metadata for part in document.parts] == [{"row": 1}, {"row": 2}]
    assert document.parts[0].text == "part: NW-1\nname: Finger set\nprice: 89.00"
    assert document.parts[1].text == "part: NW-2\nprice: 45.00"  # empty cells are left out

    semicolons = load("eu.csv", "name;price\nÖl;3,50\n".encode())
    assert semicolons.parts[0].text == "name: Öl\nprice: 3,50"


def test_jsonl_gives_a_part_per_row() -> None:
    lines = [json.dumps({"q": "Warranty?", "a": "24 months", "tags": ["r2"]}), "", json.dumps("just a string")]
    document = load("faq.jsonl", "\n".join(lines).encode())
    assert [part.metadata for part in document.parts] == [{"row": 1}, {"row": 2}]
    assert document.parts[0].text == 'q: Warranty?\na: 24 months\ntags: ["r2"]'
    assert document.parts[1].text == "just a string"
    assert "line 2 is not valid JSON" in refused("bad.jsonl", b'{"a": 1}\n{"a": \n')


def test_unknown_type_empty_text_and_size_limit() -> None:
    assert "unsupported file type '.exe'" in refused("setup.exe", b"MZ")
    assert "without an extension" in refused("Makefile", b"all:")
    assert "no text found" in refused("empty.md", b"   \n\n ")
    assert "no text found" in refused("blank.csv", b"a,b\n")
    reason = refused("big.txt", b"x" * (2 * MB + 1), max_bytes=2 * MB)
    assert "2.0 MB is over the 2.0 MB limit (rag.max_file_mb)" in reason


def test_text_that_is_not_utf8_or_is_binary() -> None:
    assert "not UTF-8 text (byte 0xe9 at offset 3)" in refused("latin1.txt", "caf\xe9".encode("latin-1"))
    assert "binary content" in refused("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00")


def test_every_supported_suffix_has_a_loader() -> None:
    samples = {".pdf": pdf_bytes([["x y z"]]), ".docx": docx_bytes(["x y z"]), ".csv": b"a\nx\n", ".jsonl": b'"x"'}
    for suffix in MIME_TYPES:
        document = load(f"file{suffix.upper()}", samples.get(suffix, b"x y z"))  # suffixes match in any case
        assert document.parts, suffix
