"""Turn a file's bytes into text parts: txt, md, html, pdf (a part per page), docx, csv and jsonl (a part per row).

Every failure is a `BadDocument` with a reason a user can act on; nothing here touches the index.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from workbench.rag.archives import check_archive
from workbench.rag.errors import BadDocument

MIME_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".csv": "text/csv",
    ".jsonl": "application/jsonl",
}
SUPPORTED_SUFFIXES = tuple(MIME_TYPES)
_ARCHIVES = frozenset({".docx"})  # zips, bounded in what they unpack to before their parser opens them
_SNIFF_BYTES = 8192  # how much of a file is looked at to tell text from binary


@dataclass(frozen=True, slots=True)
class Part:
    """A stretch of text chunked on its own; `metadata` (page, row) is copied onto its chunks."""

    text: str
    metadata: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    source: str
    title: str
    mime_type: str
    parts: list[Part]


def mime_type_of(name: str) -> str:
    return MIME_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def check_size(source: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise BadDocument(source, f"{_human(size)} is over the {_human(max_bytes)} limit (rag.max_file_mb)")


def _human(size: int) -> str:
    return f"{size / 1024:.1f} kB" if size < 1_048_576 else f"{size / 1_048_576:.1f} MB"


def load_document(source: str, data: bytes, *, max_bytes: int) -> LoadedDocument:
    """Parse `data`, named `source`; raise BadDocument for unknown types, corrupt, empty or oversized files."""
    check_size(source, len(data), max_bytes)
    suffix = PurePosixPath(source).suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        kind = f"'{suffix}'" if suffix else "without an extension"
        raise BadDocument(source, f"unsupported file type {kind} (supported: {supported})")
    if not data:  # said plainly: each parser has its own way of failing on nothing ("File is not a zip file")
        raise BadDocument(source, "the file is empty (0 bytes): pick the right file, or save it again before uploading")
    if suffix in _ARCHIVES:
        check_archive(source, data, max_bytes)
    title, parts = loader(source, data)
    parts = [Part(_tidy(part.text), part.metadata) for part in parts]
    parts = [part for part in parts if part.text]
    if not parts:
        hint = " (a scanned PDF without a text layer?)" if suffix == ".pdf" else ""
        raise BadDocument(source, f"no text found{hint}")
    return LoadedDocument(source, title or _stem(source), MIME_TYPES[suffix], parts)


# Text formats ----------------------------------------------------------------------------


def _decode(source: str, data: bytes) -> str:
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise BadDocument(source, _nul_reason(source, data[:_SNIFF_BYTES]))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadDocument(
            source, f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); save it as UTF-8"
        ) from exc


def _nul_reason(source: str, sample: bytes) -> str:
    """Why a file with NUL bytes is refused: text saved as UTF-16 (Notepad's "Unicode") is told from binary data."""
    if _looks_utf16(sample):
        return "UTF-16 text, not UTF-8; save it as UTF-8 (Notepad: Save as > Encoding UTF-8) and upload it again"
    suffix = PurePosixPath(source).suffix.lower()
    return f"binary content, not text; is it another kind of file renamed {suffix}?"


def _looks_utf16(sample: bytes) -> bool:
    """A UTF-16 byte order mark, or Latin text in UTF-16: a NUL in nearly every other byte and almost none between."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    half = len(sample) // 2
    fewer, more = sorted((sample[0::2].count(0), sample[1::2].count(0)))
    return half >= 2 and more >= 0.8 * half and fewer <= 0.05 * half


def _load_text(source: str, data: bytes) -> tuple[str, list[Part]]:
    return "", [Part(_decode(source, data))]


def _load_markdown(source: str, data: bytes) -> tuple[str, list[Part]]:
    text = _decode(source, data)
    heading = re.search(r"^#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    return (heading.group(1) if heading else ""), [Part(text)]


# Elements that start a new line of text; everything else (b, a, span, ...) flows inline.
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"li", "ul", "ol", "dl", "dt", "dd", "table", "tr", "pre", "blockquote", "figure", "br", "hr"}
)


def _load_html(source: str, data: bytes) -> tuple[str, list[Part]]:
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString

    sample = data[:_SNIFF_BYTES]
    if b"\x00" in sample and not _looks_utf16(sample):  # BeautifulSoup reads UTF-16 pages, and an image as text
        raise BadDocument(source, _nul_reason(source, sample))
    soup = BeautifulSoup(data, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["head", "script", "style", "noscript", "template", "svg"]):
        if not tag.decomposed:  # a script inside <head> went with it
            tag.decompose()
    if not title and (heading := soup.find("h1")):
        title = heading.get_text(" ", strip=True)
    # Whitespace inside HTML text is not significant: collapse it, then break lines only at block elements.
    for text in soup.find_all(string=True):
        if type(text) is NavigableString and text.find_parent("pre") is None:  # not a comment or doctype
            text.replace_with(NavigableString(re.sub(r"\s+", " ", str(text))))
    for row in soup.find_all("tr"):  # a table row reads as one line: "Top speed | 1.5 m/s"
        row.replace_with(" | ".join(cell.get_text(" ", strip=True) for cell in row.find_all(["td", "th"])) + "\n")
    for block in soup.find_all(list(_BLOCKS)):
        block.insert_before("\n")
        block.insert_after("\n")
    return title, [Part("\n".join(line.strip() for line in soup.get_text("").splitlines()))]


# Binary formats ----------------------------------------------------------------------------


def _load_pdf(source: str, data: bytes) -> tuple[str, list[Part]]:
    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:  # where readers look for the header; pypdf's own error says "Stream has ended"
        raise BadDocument(source, "not a PDF: it has no %PDF- header; is it another kind of file renamed .pdf?")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadDocument(source, "encrypted PDF; remove the password and try again")
        parts = [Part(page.extract_text() or "", {"page": number}) for number, page in enumerate(reader.pages, 1)]
        title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
    except BadDocument:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files; all mean "corrupt"
        raise BadDocument(source, f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    return title, parts


def _load_docx(source: str, data: bytes) -> tuple[str, list[Part]]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # zipfile, lxml and KeyError all mean a damaged file here
        raise BadDocument(source, f"not a readable Word document ({type(exc).__name__}: {exc})") from exc
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        lines.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
    return document.core_properties.title or "", [Part("\n".join(lines))]


# Row formats: one part per row, text from the row's fields ------------------------------------


def _row_text(fields: dict[str, Any]) -> str:
    lines = []
    for key, value in fields.items():
        if value is None or value == "":
            continue
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
        lines.append(f"{key}: {shown}" if key else shown)
    return "\n".join(lines)


def _load_csv(source: str, data: bytes) -> tuple[str, list[Part]]:
    text = _decode(source, data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    # strict: without it a quote left open swallows the rest of the file into one cell of one row, silently.
    reader = csv.DictReader(io.StringIO(text), dialect=dialect, strict=True)
    rows: list[dict[str | Any, str | Any]] = []
    start = 1  # the line the next row starts on: where a quote that is never closed was opened
    try:
        if reader.fieldnames is not None:  # reading the names reads the header row
            start = reader.line_num + 1
        for row in reader:
            rows.append(row)
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            reason = f"the quote opened on line {start} is never closed; close it, or double a quote inside a cell"
        else:
            reason = f"line {start} is not valid CSV ({exc}); check the quotes on that line"
        raise BadDocument(source, reason) from exc
    parts = []
    for number, row in enumerate(rows, 1):
        extra = row.pop(None, None)  # cells beyond the header
        fields: dict[str, Any] = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        if extra:
            fields["more"] = ", ".join(extra)
        parts.append(Part(_row_text(fields), {"row": number}))
    return "", parts


def _load_jsonl(source: str, data: bytes) -> tuple[str, list[Part]]:
    parts: list[Part] = []
    for number, line in enumerate(_decode(source, data).splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadDocument(source, f"line {number} is not valid JSON ({exc.msg})") from exc
        text = _row_text(value) if isinstance(value, dict) else str(value)
        parts.append(Part(text, {"row": len(parts) + 1}))
    return "", parts


_LOADERS: dict[str, Callable[[str, bytes], tuple[str, list[Part]]]] = {
    ".txt": _load_text,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".csv": _load_csv,
    ".jsonl": _load_jsonl,
}


def _tidy(text: str) -> str:
    """Strip trailing spaces and collapse runs of blank lines (HTML and PDF extraction leave many)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _stem(source: str) -> str:
    return PurePosixPath(source).stem
