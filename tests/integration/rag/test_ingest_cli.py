"""`workbench ingest` and `workbench kb list` against the embedded SQLite file and Chroma in the data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app

pytestmark = pytest.mark.integration


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_ingest_then_list(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hours.txt").write_text("The front desk is open from eight to six on weekdays.")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")

    assert invoke("kb", "list") == (0, "no knowledge bases yet: run `workbench ingest PATH --kb NAME`\n")

    code, output = invoke("ingest", str(docs), "--kb", "office", "--chunk-size", "128", "--chunk-overlap", "16")
    assert code == 0, output
    assert "added" in output and "failed" in output
    assert "broken.pdf: not a readable PDF" in output

    code, output = invoke("kb", "list")
    assert code == 0
    assert output.split()[:3] == ["office", "1", "docs"]
    assert "chunk 128/16" in output and "all-MiniLM-L6-v2-onnx-int8" in output

    code, output = invoke("ingest", str(docs / "hours.txt"), "--kb", "office")
    assert code == 0  # unchanged counts as ingested
    assert "unchanged (skipped) │ 1" in output


def test_exit_code_1_only_when_nothing_could_be_ingested(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xyz"
    bad.write_text("?")
    code, output = invoke("ingest", str(bad), str(tmp_path / "missing.md"), "--kb", "nothing")
    assert code == 1
    assert "unsupported file type '.xyz'" in output
    assert "missing.md: no such file or folder" in output
    assert "nothing was ingested" in output

    good = tmp_path / "good.md"
    good.write_text("# Fine")
    assert invoke("ingest", str(good), "--kb", "nothing", "--chunk-size", "64")[0] == 1  # KB made with 256
    assert invoke("ingest", str(good), "--kb", "bad/name")[0] == 1
