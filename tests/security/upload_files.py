"""The upload corpus of the security suite: files a user may upload by mistake or on purpose, built in memory.

Each bad file comes with the words its refusal must say, so that a reason is checked for what it tells the user,
not only for being there. Documents go into a knowledge base (workbench.rag.loaders); tables into the playground
and eval datasets (workbench.tabular).
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from tests.rag_files import docx_bytes

MB = 1_048_576
LIMIT_MB = 2  # rag.max_file_mb of the document tests: the oversized files are over it, the zip bombs' files under
TABLE_LIMIT = 10_000_000  # playground.max_upload_mb and evaluation.max_upload_mb (10 MB), as the views count it
BOMB_MB = 300  # what the zip bomb's document.xml inflates to
BOMB_MEMBER = "word/document.xml"
CLAIMED = 4096  # the size the lying zip bomb declares for its 300 MB member

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + random.Random(1).randbytes(2048)
NOISE = random.Random(17).randbytes(4096)


@dataclass(frozen=True, slots=True)
class Upload:
    """One file of the corpus: `says` are the words its refusal must contain (case-insensitive), none when it goes in;
    `line` is the line a table's error must name."""

    id: str
    name: str
    build: Callable[[], bytes]
    says: tuple[str, ...] = ()
    line: int | None = None

    @property
    def data(self) -> bytes:
        return self.build()

    def missing_words(self, reason: str) -> list[str]:
        return [word for word in self.says if word.lower() not in reason.lower()]


def _const(data: bytes) -> Callable[[], bytes]:
    return lambda: data


@functools.cache
def zip_bomb() -> bytes:
    """A real .docx whose document.xml carries 300 MB of spaces (legal XML whitespace): about 1.4 MB on disk.

    Written a megabyte at a time, so building it never holds the 300 MB either.
    """
    plain = docx_bytes(["A perfectly ordinary quarterly report."], title="Quarterly report")
    out = io.BytesIO()
    spaces = b" " * MB
    with (
        zipfile.ZipFile(io.BytesIO(plain)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename != BOMB_MEMBER:
                bomb.writestr(info.filename, data)
                continue
            head, mark, tail = data.partition(b"?>")
            with bomb.open(BOMB_MEMBER, "w") as member:
                member.write(head + mark)
                for _ in range(BOMB_MB):
                    member.write(spaces)
                member.write(tail)
    return out.getvalue()


@functools.cache
def lying_zip_bomb() -> bytes:
    """The zip bomb with its document.xml declaring 4 kB, in the central directory and the local header alike: a
    guard trusting declared sizes alone lets it through, and python-docx inflated all 300 MB before the CRC failed."""
    data = bytearray(zip_bomb())
    with zipfile.ZipFile(io.BytesIO(zip_bomb())) as archive:
        local, position = archive.getinfo(BOMB_MEMBER).header_offset, archive.start_dir
    struct.pack_into("<I", data, local + 22, CLAIMED)
    while data[position : position + 4] == b"PK\x01\x02":  # the central directory, entry by entry
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46 : position + 46 + name_length] == BOMB_MEMBER.encode():
            struct.pack_into("<I", data, position + 24, CLAIMED)
        position += 46 + name_length + extra_length + comment_length
    return bytes(data)


def _over_limit(lead: bytes, size: int) -> bytes:
    return (lead + b"Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * (size // 50))[:size]


# Refused from a knowledge base, each with its own reason.
BAD_DOCUMENTS = [
    Upload("zero-byte-txt", "empty-notes.txt", _const(b""), ("empty", "0 bytes")),
    Upload("zero-byte-docx", "empty-report.docx", _const(b""), ("empty", "0 bytes")),
    Upload("png-as-pdf", "scan.pdf", _const(PNG), ("not a PDF", "renamed .pdf")),
    Upload("noise-as-docx", "contract.docx", _const(NOISE), ("Word document", "zip archive", "renamed .docx")),
    Upload("png-as-md", "diagram.md", _const(PNG), ("binary", "renamed .md")),
    Upload("noise-as-txt", "notes.txt", _const(NOISE), ("binary", "renamed .txt")),
    Upload("png-as-html", "page.html", _const(PNG), ("binary", "renamed .html")),
    Upload("zip-bomb-docx", "quarterly.docx", zip_bomb, ("unpacks to 300", "20.0 MB", "zip bomb")),
    Upload("lying-zip-bomb-docx", "annual.docx", lying_zip_bomb, ("not a readable Word document", "CRC")),
    Upload("over-size-limit", "handbook.txt", lambda: _over_limit(b"", int(2.5 * MB)), ("2.5 MB", "2.0 MB limit")),
    Upload("huge-jsonl-line", "dump.jsonl", lambda: _over_limit(b'{"text": "', 3 * MB), ("over the 2.0 MB limit",)),
    Upload("latin-1", "menu.txt", _const("Café crème brûlée".encode("latin-1")), ("not UTF-8", "0xe9", "as UTF-8")),
    Upload(
        "utf-16-no-bom",
        "readme.md",
        _const("# Readme\nSupport opens at nine.".encode("utf-16-le")),
        ("UTF-16", "save it as UTF-8"),
    ),
    Upload("invalid-utf8", "log.txt", _const(b"ok line\n\xc3\x28 broken\n"), ("not UTF-8", "0xc3", "offset 8")),
    Upload(
        "csv-unbalanced-quote",
        "parts.csv",
        _const(b'part,name\nNW-1,"Finger set\nNW-2,Wheel\n'),
        ("quote", "line 2", "never closed"),
    ),
    Upload(
        "jsonl-invalid-line",
        "faq.jsonl",
        _const(b'{"q": "Hours?"}\n{"q": oops}\n{"q": "Price?"}\n'),
        ("line 2", "not valid JSON"),
    ),
    Upload("markdown-in-name", "**urgent** [open](#top).txt", _const(NOISE), ("binary",)),
]
# A row of a document CSV or JSONL is text to search, so these are read as written, by design.
LENIENT_DOCUMENTS = [
    Upload("csv-ragged-rows", "ragged.csv", _const(b"part,name\nNW-1,Finger set,spare\nNW-2\n")),
    Upload("csv-no-header", "no-header.csv", _const(b"NW-1,Finger set\nNW-2,Wheel\n")),
    Upload("jsonl-non-object-lines", "lines.jsonl", _const(b'{"q": "Hours?"}\n[1, 2]\n"plain words"\n')),
]
GOOD_DOCUMENTS = [
    Upload(
        "good-markdown",
        "warranty.md",
        _const(b"# Zephyr warranty\n\nThe Zephyr Z9 vacuum robot has a warranty of 36 months from delivery.\n"),
    ),
    Upload(
        "good-docx",
        "onboarding.docx",
        lambda: docx_bytes(["New hires in the Oslo office are met by their buddy, Ingrid Solberg."], title="Oslo"),
    ),
]
QUESTIONS = [
    ("How long is the warranty on the Zephyr Z9?", "warranty.md"),
    ("Who meets new hires in the Oslo office?", "onboarding.docx"),
]

# Refused as a table (playground datasets, eval dataset import), the line named where one line is at fault.
BAD_TABLES = [
    Upload("zero-byte", "empty.csv", _const(b""), ("empty", "header row")),
    Upload("png-as-csv", "rows.csv", _const(PNG), ("not UTF-8", "binary"), line=1),
    Upload("noise-as-jsonl", "rows.jsonl", _const(NOISE), ("not UTF-8", "binary"), line=1),
    Upload(
        "latin-1",
        "questions.csv",
        _const("question,answer\nQuelle durée ?,24 mois\n".encode("latin-1")),
        ("0xE9", "line 2", "Save it as UTF-8"),
        line=2,
    ),
    Upload(
        "utf-16-no-bom",
        "questions.csv",
        _const("question\nHow long?\n".encode("utf-16-le")),
        ("UTF-16", "UTF-8"),
        line=1,
    ),
    Upload(
        "invalid-utf8",
        "rows.jsonl",
        _const(b'{"question": "a"}\n{"question": "b\xff"}\n'),
        ("0xFF", "line 2", "UTF-8"),
        line=2,
    ),
    Upload(
        "csv-unbalanced-quote",
        "q.csv",
        _const(b'question,answer\n"How long is the warranty?,24 months\nHow fast?,1.5 m/s\n'),
        ("Line 2", "quotes"),
        line=2,
    ),
    Upload(
        "csv-ragged-row",
        "q.csv",
        _const(b"question,answer\nHow long?,24 months\nHow fast?,1.5,m/s\n"),
        ("3 fields", "header has 2", "line 3"),
        line=3,
    ),
    Upload(
        "jsonl-invalid-line",
        "q.jsonl",
        _const(b'{"question": "a"}\n{"question": b}\n'),
        ("Line 2", "not valid JSON"),
        line=2,
    ),
    Upload(
        "jsonl-non-object-line",
        "q.jsonl",
        _const(b'{"question": "a"}\n{"question": "b"}\n["c"]\n'),
        ("Line 3", "a list, not a JSON object"),
        line=3,
    ),
    Upload(
        "jsonl-huge-line",
        "q.jsonl",
        lambda: _over_limit(b'{"question": "', TABLE_LIMIT + 1),
        ("limit is 10 MB", "smaller files"),
    ),
]
# No header row: nothing tells it from a header of odd names, so the refusal comes at the column mapping.
NO_HEADER_CSV = b"How long is the warranty?,24 months\nHow fast is the M1?,1.5 m/s\n"
