"""`workbench prompts` and `workbench playground` against the SQLite file in the isolated data folder, a prompts
folder in tmp_path, the real MongoDB-wire server and (marked slow) the smallest packaged local model."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from workbench.cli import app

pytestmark = pytest.mark.integration

MODEL = "smollm2-135m-instruct"
GREET = """---
name: greet
description: A short answer.
variables: [question]
parameters:
  max_tokens: 8
system: Answer in five words or fewer.
---
Q: {{ question }}
"""
GREET_V2 = GREET.replace("Q: {{ question }}", "Question: {{ question }}")

Run = Callable[..., Result]


@pytest.fixture
def prompts_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "greet.md").write_text(GREET)
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(folder))
    return folder


@pytest.fixture
def run(prompts_dir: Path) -> Run:
    """Invoke the CLI in-process; `code` is the exit code expected (1: a refusal)."""
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


@pytest.fixture
def run_log(mongo_url: str, mongo_database_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The playground commands that run models log to the shared MongoDB-wire server, a fresh database per test."""
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", mongo_url)
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", mongo_database_name)


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_list_show_save_label_diff_round_trip(run: Run, prompts_dir: Path, tmp_path: Path) -> None:
    (prompts_dir / "broken.md").write_text("---\nname: other\n---\nHello")
    listed = run("prompts", "list")
    assert listed.stdout.splitlines()[1].split()[:4] == ["greet", "v1", "file=v1", "production=v1"]
    assert "prompts/broken.md not recorded: The front matter says name: other" in listed.stderr

    shown = run("prompts", "show", "greet")
    assert shown.stdout == GREET
    assert shown.stderr.startswith("greet v1  [file, production]  by prompts/greet.md")

    v2 = write(tmp_path / "greet-v2.md", GREET_V2)
    assert run("prompts", "save", "greet", v2, "-m", "longer word").stdout == "recorded v2\n"
    assert run("prompts", "save", "greet", v2).stdout == "unchanged: v2 already has this content\n"
    assert run("prompts", "label", "greet", "staging", "2").stdout == "greet: staging -> v2\n"

    assert run("prompts", "list").stdout.splitlines()[1].split()[:6] == [
        "greet", "v2", "file=v1", "production=v1", "staging=v2", "2",
    ]  # fmt: skip
    assert run("prompts", "show", "greet").stdout == GREET  # production stays where it was
    assert run("prompts", "show", "greet", "-v", "staging").stdout == GREET_V2
    assert "longer word" in run("prompts", "show", "greet", "--version", "latest").stderr
    history = run("prompts", "show", "greet", "--versions").stdout.splitlines()
    assert [line.split()[:3] for line in history[1:]] == [["v2", "staging", "cli"], ["v1", "file,production", "file"]]

    diff = run("prompts", "diff", "greet", "production", "staging").stdout.splitlines()
    assert diff[:2] == ["--- greet v1", "+++ greet v2"]
    assert "-Q: {{ question }}" in diff and "+Question: {{ question }}" in diff
    assert "\x1b[" not in "".join(diff)  # no colour when stdout is not a terminal
    assert "have the same content" in run("prompts", "diff", "greet", "1", "production").stdout

    run("prompts", "label", "greet", "production", "staging")  # promote: production -> v2
    assert run("prompts", "show", "greet").stdout == GREET_V2


def test_render_fills_values_from_options_and_files(run: Run, tmp_path: Path) -> None:
    rendered = run("prompts", "render", "greet", "--var", "question=Is it on?").stdout
    assert rendered == "--- system\nAnswer in five words or fewer.\n--- user\nQ: Is it on?\n"

    question = write(tmp_path / "q.txt", "Read from a file")
    assert run("prompts", "render", "greet", "--var", f"question=@{question}").stdout.endswith("Q: Read from a file\n")
    values = write(tmp_path / "values.yaml", "question: From YAML\n")
    assert run("prompts", "render", "greet", "--vars-file", values).stdout.endswith("Q: From YAML\n")
    values = write(tmp_path / "values.json", '{"question": "From JSON"}')
    override = run("prompts", "render", "greet", "--vars-file", values, "--var", "question=From the option").stdout
    assert override.endswith("Q: From the option\n")


def test_render_refuses_missing_and_extra_values_by_name(run: Run, tmp_path: Path) -> None:
    missing = run("prompts", "render", "greet", code=1)
    assert missing.stderr.strip() == "Prompt 'greet' needs a value for: question."
    extra = run("prompts", "render", "greet", "--var", "question=x", "--var", "tone=dry", code=1)
    assert extra.stderr.strip() == "Prompt 'greet' does not use: tone."
    both = run("prompts", "render", "greet", "--var", "tone=dry", code=1)
    assert both.stderr.strip() == "Prompt 'greet' needs a value for: question; it does not use: tone."
    assert "not key=value" in run("prompts", "render", "greet", "--var", "question", code=1).stderr
    assert "cannot read" in run("prompts", "render", "greet", "--var", "question=@nowhere.txt", code=1).stderr
    listed = write(tmp_path / "list.yaml", "- a\n- b\n")
    assert "must hold an object" in run("prompts", "render", "greet", "--vars-file", listed, code=1).stderr


def test_prompt_refusals_are_one_line_without_traceback(run: Run, prompts_dir: Path, tmp_path: Path) -> None:
    assert run("prompts", "show", "ghost", code=1).stderr == "There is no prompt named 'ghost'.\n"
    assert "has no version 9" in run("prompts", "show", "greet", "-v", "9", code=1).stderr
    assert "has no label 'beta'" in run("prompts", "diff", "greet", "1", "beta", code=1).stderr
    assert "is not a label name" in run("prompts", "label", "greet", "Prod", "1", code=1).stderr
    other = write(tmp_path / "other.md", GREET.replace("name: greet", "name: other"))
    assert "front matter says name: other" in run("prompts", "save", "greet", other, code=1).stderr
    (prompts_dir / "broken.md").write_text("---\nvariables: [question\n---\n{{ question }}\n")
    refused = run("prompts", "render", "broken", "--var", "question=x", code=1).stderr.splitlines()
    assert len(refused) == 1  # the registry's warning is not repeated above the refusal
    assert refused[0].startswith("There is no prompt named 'broken'. Its file prompts/broken.md is not recorded: ")
    assert "invalid YAML" in refused[0] and "line 2, column 12" in refused[0]


@pytest.mark.usefixtures("run_log")
def test_playground_refuses_bad_input_naming_the_problem(run: Run, tmp_path: Path) -> None:
    questions = write(tmp_path / "questions.csv", "id,text\n1,Hello?\n")
    ok_variant = f"prompt=greet,model={MODEL}"

    def refused(*args: str) -> str:
        return str(run("playground", "run", *args, code=1).stderr.strip())

    assert refused("--dataset", questions, "--variant", "prompt=greet,colour=red").startswith("Unknown field 'colour'")
    assert "model 'gpt-9' is not configured" in refused("--dataset", questions, "--variant", "prompt=greet,model=gpt-9")
    assert refused("--dataset", questions, "--variant", ok_variant) == (
        "No column for variable 'question': pass --map question=COLUMN (questions.csv has: id, text)."
    )
    assert "has no column 'nope'" in refused("--dataset", questions, "--variant", ok_variant, "--map", "question=nope")
    assert "no variant's prompt uses 'tone'" in refused(
        "--dataset", questions, "--variant", ok_variant, "--map", "tone=text"
    )
    assert "neither a file nor a dataset" in refused("--dataset", "missing.csv", "--variant", ok_variant)
    assert "max tokens must be between" in refused("--dataset", questions, "--variant", f"{ok_variant},max_tokens=0")
    assert "no playground runs yet" in run("playground", "list").stdout
    assert "There is no playground run nope" in run("playground", "export", "nope", code=1).stderr


@pytest.mark.slow
@pytest.mark.usefixtures("run_log")
def test_playground_run_over_a_csv_then_list_resume_and_export(run: Run, tmp_path: Path) -> None:
    run("prompts", "save", "greet", write(tmp_path / "greet-v2.md", GREET_V2), "--label", "staging")
    questions = write(tmp_path / "questions.csv", "id,question\n1,Hi there\n2,What is 2+2?\n3,Name a colour.\n")
    out = tmp_path / "results.csv"

    result = run(
        "playground", "run", "--dataset", questions, "--title", "smoke",
        "--variant", f"prompt=greet,model={MODEL},max_tokens=8,temperature=0",
        "--variant", f"prompt=greet@staging,model={MODEL},max_tokens=8", "--out", str(out),
    )  # fmt: skip
    run_id = next(line.split()[-1] for line in result.stdout.splitlines() if line.startswith("run id:"))
    assert "done: 6 cells ok, 0 failed" in result.stdout
    summary = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith(("v1 ", "v2 "))}
    assert "greet v1 · smollm2-135m-instruct" in summary["v1"] and "temperature=0" in summary["v1"]
    assert "greet v2 · smollm2-135m-instruct" in summary["v2"] and " ms" in summary["v2"]

    lines = list(csv.reader(io.StringIO(out.read_text())))
    assert lines[0][0] == "# variants" and len(lines[0]) == 3
    header, data = lines[1], lines[2:]
    assert header[:2] == ["row", "question"] and {"v1 status", "v1 output", "v2 status", "v2 output"} <= set(header)
    assert [row[:2] for row in data] == [["1", "Hi there"], ["2", "What is 2+2?"], ["3", "Name a colour."]]
    statuses = {row[header.index(f"v{n} status")] for row in data for n in (1, 2)}
    assert statuses == {"ok"}

    listed = run("playground", "list").stdout.splitlines()
    assert listed[1].split()[:5] == [run_id, "smoke", "done", "6/6", "(100%)"]
    resumed = run("playground", "resume", run_id)
    assert f"run {run_id} is complete: nothing left to run" in resumed.stdout
    assert "done: 6 cells ok" in resumed.stdout
    assert run("playground", "export", run_id).stdout.replace("\r\n", "\n") == out.read_text().replace("\r\n", "\n")
