"""Document files for the RAG tests, made from scratch: a minimal PDF writer and Word documents via python-docx.

Also regenerates the two binary files of the sample corpus:

    .venv/bin/python -m tests.rag_files datasets/sample-corpus/documents
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from pathlib import Path


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pdf_bytes(pages: Sequence[Sequence[str]], title: str | None = None) -> bytes:
    """A valid PDF with one page per entry, each line of text drawn in Helvetica (ASCII/Latin-1 text)."""
    objects: list[str] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append("<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{' '.join(f'{i} 0 R' for i in page_ids)}] /Count {len(pages)} >>")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for page_id, lines in zip(page_ids, pages, strict=True):
        body = "BT /F1 11 Tf 15 TL 60 760 Td " + " ".join(f"{_pdf_string(line)} Tj T*" for line in lines) + " ET"
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>"
        )
        objects.append(f"<< /Length {len(body.encode('latin-1'))} >>\nstream\n{body}\nendstream")
    info = None
    if title is not None:
        objects.append(f"<< /Title {_pdf_string(title)} /Producer (genai-workbench tests) >>")
        info = len(objects)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "") + " >>"
    out.write(f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def docx_bytes(paragraphs: Sequence[str], title: str | None = None, table: Sequence[Sequence[str]] = ()) -> bytes:
    """A Word document: a heading when `title` is given, then paragraphs, then an optional table."""
    import docx

    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
        document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


SAFETY_GUIDE = [
    [
        "Northwind Robotics - Safety Guide for R2 and M1 Cells",
        "",
        "1. Before the first start",
        "Every cell needs a written risk assessment that covers the robot, the tool, the workpiece and",
        "the people around it. Collaborative operation of the R2 arm is only allowed when the",
        "assessment confirms that contact forces stay below the limits of ISO/TS 15066.",
        "",
        "2. Emergency stops",
        "Each NC-5 control box has one emergency stop button on the tablet holder. Cells with more",
        "than one entry point need an additional stop button at every entry.",
    ],
    [
        "3. Entering a work cell",
        "Before an operator enters a fenced cell, the robot must be switched to reduced speed mode",
        "and the operator must carry the enabling device. Maintenance inside the reach of the arm",
        "is only allowed with the control box locked out and tagged.",
        "",
        "4. Batteries",
        "BP-48 battery packs are charged only on the CS-1 charging station. A swollen or damaged",
        "pack is placed in the fire-safe container and reported to support within 24 hours.",
    ],
]

ONBOARDING = [
    "Welcome to Northwind Robotics. This checklist covers the first two weeks after your robots arrive.",
    "Day 1: unpack the robots and keep the packaging for 30 days. Check the delivery against the packing list.",
    "Day 2: your onboarding engineer, Marta Kowalczyk, runs a two-hour video call that sets up your "
    "customer portal account and the Northwind Studio tablet.",
    "Week 1: complete the free online course Robot Basics (about 3 hours) before the first program is written.",
    "Week 2: an on-site commissioning visit checks the risk assessment and signs off the first cell.",
]
ONBOARDING_TABLE = [
    ["Contact", "Role", "E-mail"],
    ["Marta Kowalczyk", "Onboarding engineer", "marta.kowalczyk@northwind-robotics.example"],
    ["Jonas Weber", "Account manager", "jonas.weber@northwind-robotics.example"],
]


def write_sample_binaries(folder: Path) -> None:
    (folder / "safety-guide.pdf").write_bytes(pdf_bytes(SAFETY_GUIDE, title="Safety Guide for R2 and M1 Cells"))
    (folder / "onboarding-checklist.docx").write_bytes(
        docx_bytes(ONBOARDING, title="Customer Onboarding Checklist", table=ONBOARDING_TABLE)
    )


if __name__ == "__main__":
    write_sample_binaries(Path(sys.argv[1]))
