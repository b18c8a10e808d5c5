"""`workbench eval` against the SQLite file in the isolated data folder: dataset imports, runs seeded with the
scripted pipeline for the reports and the CI gate, and (marked slow) a run of the smallest packaged local model."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.evaluation_fakes import seed_good_and_bad_runs
from tests.workers import running_worker, wait_until
from workbench.cli import app
from workbench.evaluation.config import EvalConfig
from workbench.storage.sql import migrate
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = pytest.mark.integration

MODEL = "smollm2-135m-instruct"
METRIC_COUNT = 7  # the model-free metrics a configuration without a judge computes
QUESTIONS_CSV = """query,expected,context,topic
What is fact 1?,Fact 1 is 7 units.,"[""Document 1: fact 1 is 7 units.""]",odd
,An answer without a question.,,odd
what is  FACT 1?,A repeat in other case and spacing.,,odd
What is fact 2?,Fact 2 is 14 units.,[not json,even
What is fact 3?,Fact 3 is 21 units.,,odd
"""

# The CLI in a child process with Ctrl-C delivered as KeyboardInterrupt: a shell without job control (CI) starts
# background commands with SIGINT ignored, and the child would inherit that.
CLI_WITH_CTRL_C = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from workbench.cli import app; sys.argv[0] = 'workbench'; app()"
)

Run = Callable[..., Result]
UowFactory = Callable[[], SqlUnitOfWork]


@pytest.fixture
def run() -> Run:
    """Invoke the CLI in-process; `code` is the exit code expected (1: a refusal, 2: a bad argument)."""
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


@pytest.fixture
def run_log(mongo_url: str, mongo_database_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands that work a run log to the shared MongoDB-wire server, a fresh database per test."""
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", mongo_url)
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", mongo_database_name)


@pytest.fixture
def data_uow(isolated_environment: Path) -> Iterator[UowFactory]:
    """Units of work on the SQLite file the CLI uses, migrated as the CLI would."""
    isolated_environment.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{isolated_environment / 'workbench.db'}"
    migrate.upgrade(url)
    engine = build_engine(url)
    factory = build_session_factory(engine)
    yield lambda: SqlUnitOfWork(factory)
    engine.dispose()


@pytest.fixture
def seeded(data_uow: UowFactory) -> dict[str, str]:
    """Two completed runs over the 12 facts: model "good" answers with the reference, "bad" mostly does not."""
    return seed_good_and_bad_runs(data_uow)


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def lines_of(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.strip()]


# datasets --------------------------------------------------------------------------------------------------------


def test_import_reports_rejected_rows_by_line_then_list_and_show(run: Run, tmp_path: Path) -> None:
    assert "no eval datasets yet" in run("eval", "datasets", "list").stdout
    questions = write(tmp_path / "questions.csv", QUESTIONS_CSV)

    imported = run("eval", "datasets", "import", questions, "--name", "qa").stdout.splitlines()
    assert imported[:2] == ["imported 2 items as qa v1", "rejected 3 rows:"]
    assert imported[2] == "  line 3: the question is empty"
    assert imported[3] == "  line 4: the same question as line 2  (what is FACT 1?)"
    assert imported[4].startswith("  line 5: reference_contexts looks like a JSON list but is not valid JSON")

    again = run("eval", "datasets", "import", questions, "--name", "qa").stdout
    assert again.startswith("unchanged: qa v1 already has this content (2 items)")

    # --map overrides one field; the others keep their matching columns.
    renamed = write(tmp_path / "renamed.jsonl", "\n".join(
        json.dumps({"text": f"What is fact {i}?", "expected": f"Fact {i}.", "topic": "x"}) for i in range(4)
    ) + "\n")  # fmt: skip
    mapped = run("eval", "datasets", "import", renamed, "--name", "qa", "--map", "question=text", "--map", "tags=")
    assert mapped.stdout == "imported 4 items as qa v2\n"

    listed = lines_of(run("eval", "datasets", "list").stdout)
    assert listed[0] == ["name", "latest", "items", "source", "by", "created"]
    assert listed[1][:4] == ["qa", "v2", "4", "import"]

    latest = run("eval", "datasets", "show", "qa").stdout
    assert latest.startswith("qa v2  4 items  import (file renamed.jsonl")
    assert "mapping question=text,reference_answer=expected" in latest
    assert [row[0] for row in lines_of(latest.split("\n\n")[1])] == ["version", "v2", "v1"]
    first = run("eval", "datasets", "show", "qa", "--version", "1").stdout
    items = lines_of(first.split("items of v1:\n")[1])
    assert items[0] == ["#", "question", "reference", "answer", "contexts", "tags"]
    assert items[1] == ["1", "What", "is", "fact", "1?", "Fact", "1", "is", "7", "units.", "1", "odd"]
    assert items[2][:4] == ["2", "What", "is", "fact"] and len(items) == 3


def test_import_refusals_and_their_exit_codes(run: Run, tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.csv", "question,answer\n ,x\n,y\n")
    nothing = run("eval", "datasets", "import", empty, "--name", "qa", code=1).stderr
    assert nothing.startswith("No row could be imported (line 2: the question is empty; line 3: the question is empty")

    unnamed = write(tmp_path / "unnamed.csv", "text,answer\nHello?,Hi.\n")
    assert run("eval", "datasets", "import", unnamed, "--name", "qa", code=1).stderr.strip() == (
        "No column for the question: pass --map question=COLUMN (unnamed.csv has: text, answer)."
    )
    assert "is not FIELD=COLUMN" in run("eval", "datasets", "import", unnamed, "--name", "qa", "--map", "text",
                                        code=2).stderr  # fmt: skip
    assert "unknown field 'query'" in run("eval", "datasets", "import", unnamed, "--name", "qa", "--map",
                                          "query=text", code=2).stderr  # fmt: skip
    no_column = run("eval", "datasets", "import", unnamed, "--name", "qa", "--map", "question=nope", code=2).stderr
    assert "unnamed.csv has no column 'nope' (it has: text, answer)" in no_column
    assert "cannot read" in run("eval", "datasets", "import", str(tmp_path / "missing.csv"), "--name", "qa",
                                code=1).stderr  # fmt: skip
    assert "not a CSV or JSONL file" in run("eval", "datasets", "import", write(tmp_path / "q.txt", "hi"), "--name",
                                            "qa", code=1).stderr  # fmt: skip
    run("eval", "datasets", "import", unnamed, "--name", "qa", "--map", "question=text")
    assert "There is no eval dataset 'ghost'" in run("eval", "datasets", "show", "ghost", code=1).stderr
    assert "Dataset 'qa' has no version 7" in run("eval", "datasets", "show", "qa", "-v", "7", code=1).stderr


# compare and the gate --------------------------------------------------------------------------------------------


def test_compare_prints_each_metric_with_delta_interval_and_tests(run: Run, seeded: dict[str, str]) -> None:
    good, bad = seeded["good"], seeded["bad"]
    out = run("eval", "compare", good, bad).stdout
    assert out.splitlines()[:2] == [f"baseline:  {good}  good model  (facts v1)",
                                    f"candidate: {bad}  bad model  (facts v1)"]  # fmt: skip
    table = {row[0]: row for row in lines_of(out)[2:]}
    assert table["metric"] == ["metric", "n", "baseline", "candidate", "Δ", "[95%", "CI]", "W/T/L", "p", "Holm", "p"]
    exact = table["exact_match"]
    # "bad" misses 8 of the 12 facts (those not divisible by 3): exact match drops from 1 to 4/12.
    assert exact[:5] == ["exact_match", "12", "1.000", "0.333", "-0.667"]
    assert exact[7] == "0/4/8"
    assert len([name for name in table if name in {"string_similarity", "bleu", "rouge_l", "chrf"}]) == 4
    assert "Holm-corrected across the 7 metrics" in out

    only = run("eval", "compare", good[:8], bad[:8], "--metric", "chrf", "--test", "sign").stdout
    assert [row[0] for row in lines_of(only)[3:4]] == ["chrf"]
    assert "sign test" in only


def test_gate_fails_on_a_significant_drop_and_passes_otherwise(run: Run, seeded: dict[str, str]) -> None:
    good, bad = seeded["good"], seeded["bad"]

    failed = run("eval", "compare", good, bad, "--fail-if-worse", "string_similarity:0.05", code=1)
    verdict = next(line for line in failed.stdout.splitlines() if "string_similarity:0.05" in line)
    assert verdict.startswith("  FAIL string_similarity:0.05  Δ -")
    assert "worse by more than 0.05, Holm p 0.0078 < 0.05, CI excludes 0" in verdict
    expected = "gate failed: the candidate is significantly worse or incomplete on string_similarity"
    assert failed.stderr.strip() == expected

    same = run("eval", "compare", good, good, "--fail-if-worse", "string_similarity:0")
    assert "  pass string_similarity:0  Δ +0.000 [+0.000, +0.000]: not worse by more than 0" in same.stdout
    better = run("eval", "compare", bad, good, "--fail-if-worse", "string_similarity:0.05", "--fail-if-worse",
                 "exact_match:0")  # fmt: skip
    assert "gate (alpha 0.05; Holm across the 2 gated metrics):" in better.stdout
    tolerant = run("eval", "compare", good, bad, "--fail-if-worse", "exact_match:0.9")
    assert "pass exact_match:0.9" in tolerant.stdout and "not worse by more than 0.9" in tolerant.stdout
    strict = run("eval", "compare", good, bad, "--fail-if-worse", "exact_match:0", "--alpha", "0.001")
    assert "worse by more than 0 but not significantly (Holm p 0.0078)" in strict.stdout


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("string_similarity", "it is not METRIC:DELTA (for example faithfulness:0.02)"),
        ("string_similarity:", "it is not METRIC:DELTA"),
        ("similarity:0.1", "unknown metric 'similarity'; known: context_precision, "),
        ("string_similarity:lots", "'lots' is not a number"),
        ("string_similarity:-0.1", "DELTA is the largest drop allowed, a number >= 0"),
        ("string_similarity:nan", "DELTA is the largest drop allowed"),
    ],
)
def test_malformed_gate_rules_exit_2_naming_the_problem(
    run: Run, seeded: dict[str, str], rule: str, message: str
) -> None:
    refused = run("eval", "compare", seeded["good"], seeded["bad"], "--fail-if-worse", rule, code=2)
    assert refused.stderr.startswith(f"--fail-if-worse '{rule}': {message}")
    assert refused.stdout == ""


def test_compare_argument_refusals(run: Run, seeded: dict[str, str]) -> None:
    good, bad = seeded["good"], seeded["bad"]
    twice = run("eval", "compare", good, bad, "--fail-if-worse", "chrf:0.1", "--fail-if-worse", "chrf:0.2", code=2)
    assert "chrf has a rule already" in twice.stderr
    assert "Unknown metric(s) nope" in run("eval", "compare", good, bad, "--metric", "nope", code=2).stderr
    alpha = run("eval", "compare", good, bad, "--alpha", "1", code=2).stderr
    assert alpha.strip() == "--alpha must lie strictly between 0 and 1; got 1."
    run("eval", "compare", good, bad, "--test", "t-test", code=2)
    assert run("eval", "compare", good[:5], bad, code=1).stderr.strip() == f"There is no eval run {good[:5]}."
    assert "There is no eval run 0000000000" in run("eval", "compare", "0000000000", bad, code=1).stderr
    judged = run("eval", "compare", good, bad, "--fail-if-worse", "faithfulness:0.1", code=1)
    assert "Neither run has scores for faithfulness" in judged.stderr


def test_compare_json_is_parseable_and_says_whether_the_gate_passed(run: Run, seeded: dict[str, str]) -> None:
    good, bad = seeded["good"], seeded["bad"]
    result = run("eval", "compare", good, bad, "--json", "--fail-if-worse", "string_similarity:0.05", code=1)
    report = json.loads(result.stdout)
    assert (report["baseline"]["id"], report["candidate"]["id"], report["passed"]) == (good, bad, False)
    assert report["test"] == "wilcoxon" and report["unpaired_items"] == 0
    metrics = {m["metric"]: m for m in report["metrics"]}
    assert len(metrics) == METRIC_COUNT
    assert metrics["exact_match"]["delta"] == pytest.approx(-8 / 12)
    assert (metrics["exact_match"]["wins"], metrics["exact_match"]["ties"], metrics["exact_match"]["losses"]) == (
        0, 4, 8,
    )  # fmt: skip
    (gate,) = report["gate"]
    assert (gate["metric"], gate["max_drop"], gate["failed"]) == ("string_similarity", 0.05, True)
    assert gate["delta_ci_high"] < 0 and gate["p_holm"] < 0.05

    same = json.loads(run("eval", "compare", good, good, "--json").stdout)
    assert same["passed"] is True and same["gate"] == []
    assert {m["p_value"] for m in same["metrics"]} == {1.0}  # no differences: p is 1 by convention, not NaN
    assert same["metrics"][0]["delta_ci_low"] == 0.0


# runs, show, export, resume --------------------------------------------------------------------------------------


def test_runs_show_and_export(run: Run, seeded: dict[str, str], tmp_path: Path) -> None:
    good, bad = seeded["good"], seeded["bad"]
    listed = lines_of(run("eval", "runs").stdout)
    assert listed[0] == ["id", "name", "dataset", "status", "items", "failed", "tags", "created"]
    assert [row[:8] for row in listed[1:]] == [
        [bad, "bad", "model", "facts", "v1", "completed", "12/12", "0"],
        [good, "good", "model", "facts", "v1", "completed", "12/12", "0"],
    ]  # newest first
    assert [row[0] for row in lines_of(run("eval", "runs", "--tag", "good").stdout)[1:]] == [good]
    assert len(lines_of(run("eval", "runs", "--dataset", "facts", "--status", "completed").stdout)) == 3
    assert run("eval", "runs", "--status", "failed").stdout == "no eval runs found\n"
    assert run("eval", "runs", "--dataset", "ghost").stdout == "no eval runs found\n"
    run("eval", "runs", "--status", "done", code=2)

    shown = run("eval", "show", good[:10]).stdout
    assert shown.startswith(f"run {good}  good model\ndataset facts v1  status completed  items 12/12 (0 failed)")
    assert "  model: good\n" in shown and "  knowledge_base: kb\n" in shown and "  top_k: 4\n" in shown
    summary = {row[0]: row for row in lines_of(shown.split("\n\n")[-1])}
    assert summary["metric"] == ["metric", "mean", "95%", "CI", "ok", "failed", "skipped", "failures"]
    assert summary["exact_match"] == ["exact_match", "1.000", "[1.000,", "1.000]", "12", "0", "0"]
    assert "There is no eval run nope" in run("eval", "show", "nope", code=1).stderr

    out = tmp_path / "scores.csv"
    assert run("eval", "export", good, bad[:8], "-o", str(out)).stdout == f"wrote {out}\n"
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["run_id", "run_name", "repeat"]
    assert len(rows) == 1 + 2 * 12 * METRIC_COUNT
    assert {row[0] for row in rows[1:]} == {good, bad}
    printed = run("eval", "export", good).stdout
    assert len(list(csv.reader(io.StringIO(printed)))) == 1 + 12 * METRIC_COUNT
    assert "There is no eval run nope" in run("eval", "export", good, "nope", code=1).stderr


@pytest.mark.usefixtures("run_log")
def test_resume_of_a_complete_run_has_nothing_to_do(run: Run, seeded: dict[str, str], tmp_path: Path) -> None:
    good = seeded["good"]
    resumed = run("eval", "resume", good[:12])
    assert f"run {good} is complete: nothing left to run" in resumed.stdout
    assert f"run id: {good}\ncompleted: 12 items, 0 failed\n" in resumed.stdout
    report = json.loads(run("eval", "resume", good, "--json").stdout)
    assert report["complete"] is True and report["runs"][0]["summary"]["exact_match"]["mean"] == 1.0
    assert "There is no eval run nope" in run("eval", "resume", "nope", code=1).stderr

    # What only the configured models and prompts can tell is refused before a run is created.
    unknown = write(tmp_path / "unknown.yaml", "model: gpt-9\nknowledge_base: null\n")
    assert "gpt-9" in run("eval", "run", "--dataset", "facts", "--config", unknown, code=2).stderr
    prompt = write(tmp_path / "prompt.yaml", f"model: {MODEL}\nknowledge_base: null\nprompt_ref: nine\n")
    assert "prompt rag-answer@nine" in run("eval", "run", "--dataset", "facts", "--config", prompt, code=2).stderr
    fine = write(tmp_path / "fine.yaml", f"model: {MODEL}\nknowledge_base: null\n")
    assert "There is no eval dataset 'ghost'" in run("eval", "run", "--dataset", "ghost", "--config", fine,
                                                     code=1).stderr  # fmt: skip
    assert len(lines_of(run("eval", "runs").stdout)) == 3  # no run was created by the refusals


# run ------------------------------------------------------------------------------------------------------------


def test_run_refuses_a_bad_configuration_file_naming_the_field(run: Run, tmp_path: Path) -> None:
    def refused(text: str) -> str:
        config = write(tmp_path / "config.yaml", text)
        return str(run("eval", "run", "--dataset", "facts", "--config", config, code=2).stderr)

    assert "top_k: Input should be greater than or equal to 1" in refused(f"model: {MODEL}\ntop_k: 0\n")
    assert "colour: Extra inputs are not permitted" in refused(f"model: {MODEL}\ncolour: red\n")
    assert "metrics: Value error, unknown metric(s) speed" in refused(f"model: {MODEL}\nmetrics: [speed]\n")
    assert "model: Field required" in refused("knowledge_base: null\n")
    assert "must be a mapping of settings" in refused("- a list\n")
    assert "is not valid YAML" in refused("model: [unclosed\n")
    missing = run("eval", "run", "--dataset", "facts", "--config", str(tmp_path / "none.yaml"), code=2).stderr
    assert missing.startswith(f"Cannot read {tmp_path / 'none.yaml'}")
    config = write(tmp_path / "config.yaml", f"model: {MODEL}\n")
    run("eval", "run", "--dataset", "facts", "--config", config, "--repeats", "11", code=2)


def test_shipped_sample_configurations_are_valid() -> None:
    folder = Path(__file__).resolve().parents[2] / "datasets" / "eval" / "configs"
    configs = {path.stem: EvalConfig.from_file(path) for path in sorted(folder.glob("*.yaml"))}
    assert set(configs) == {"baseline", "top1", "judged"}
    for config in configs.values():
        config.check()
    baseline, top1, judged = configs["baseline"], configs["top1"], configs["judged"]
    assert (baseline.model, baseline.knowledge_base, baseline.prompt, baseline.prompt_ref) == (
        "qwen2.5-0.5b-instruct", "sample", "rag-answer", "production",
    )  # fmt: skip
    assert (baseline.top_k, baseline.temperature, baseline.max_tokens, baseline.tags) == (4, 0.0, 200, ("baseline",))
    assert top1.model_dump(exclude={"name", "tags", "top_k"}) == baseline.model_dump(exclude={"name", "tags", "top_k"})
    assert top1.top_k == 1
    assert judged.judge_model == "qwen2.5-0.5b-instruct"
    assert set(judged.chosen_metrics()) == set(baseline.chosen_metrics()) | {"faithfulness", "answer_relevancy"}


@pytest.mark.slow
@pytest.mark.usefixtures("run_log")
def test_run_a_configuration_with_the_real_local_model(run: Run, tmp_path: Path) -> None:
    questions = write(tmp_path / "tiny.csv", "question,reference_answer\nWhat is 2+2?,4\nName a colour.,Blue.\n"
                                             "Say hello.,Hello.\n")  # fmt: skip
    assert run("eval", "datasets", "import", questions, "--name", "tiny").stdout == "imported 3 items as tiny v1\n"
    config = write(tmp_path / "smoke.yaml", f"model: {MODEL}\nknowledge_base: null\nmax_tokens: 12\n"
                                            "tags: [smoke]\n")  # fmt: skip

    result = run("eval", "run", "--dataset", "tiny", "--config", config, "--name", "smoke run", "--tag", "ci")
    assert result.stdout.startswith("1 run(s) of 'smoke run' over tiny v1: 3 items each\n")
    summary = {row[0]: row for row in lines_of(result.stdout)}
    assert summary["metric"] == ["metric", "mean", "95%", "CI", "ok", "failed", "skipped", "failures"]
    assert summary["string_similarity"][4:7] == ["3", "0", "0"]
    assert "\nsmoke run  tiny v1  completed  3/3 items, 0 failed\n" in result.stdout
    # No retrieval: the metrics of retrieved passages are left out, not scored zero.
    assert "context_recall" not in summary and "context_precision" not in summary
    run_id = next(line.split()[-1] for line in result.stdout.splitlines() if line.startswith("run id:"))
    assert "completed: 3 items, 0 failed" in result.stdout
    assert "items 3/3, failed 0" in result.stderr  # the progress line without a terminal

    again = json.loads(run("eval", "run", "--dataset", "tiny", "--config", config, "--json").stdout)
    (second,) = again["runs"]
    assert again["complete"] is True
    assert (second["status"], second["done"], second["repeat"], second["tags"]) == ("completed", 3, 2, ["smoke"])
    assert second["summary"]["string_similarity"]["n_ok"] == 3

    listed = lines_of(run("eval", "runs", "--tag", "ci").stdout)
    assert [row[0] for row in listed[1:]] == [run_id]
    shown = run("eval", "show", run_id).stdout
    assert f"  model: {MODEL}\n" in shown and "  prompt: rag-answer\n" in shown


@pytest.mark.slow
@pytest.mark.usefixtures("run_log")
def test_ctrl_c_stops_after_the_items_in_progress_and_resume_finishes(run: Run, tmp_path: Path) -> None:
    rows = "".join(f"Count to {i}.,{' '.join(map(str, range(1, i + 1)))}\n" for i in range(1, 7))
    run("eval", "datasets", "import", write(tmp_path / "count.csv", "question,reference_answer\n" + rows), "--name",
        "count")  # fmt: skip
    config = write(tmp_path / "count.yaml", f"model: {MODEL}\nknowledge_base: null\nmax_tokens: 12\n")
    process = subprocess.Popen(
        [sys.executable, "-c", CLI_WITH_CTRL_C, "eval", "run", "--dataset", "count", "--config", config],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    progress = [process.stderr.readline()]
    while progress[-1] and not progress[-1].startswith("items 1/6"):  # a line per item without a terminal
        progress.append(process.stderr.readline())
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)

    assert process.returncode == 130, "".join(progress) + err
    assert "stopping: the items in progress finish first (Ctrl-C again to leave now)" in err
    run_id = next(line.split()[-1] for line in out.splitlines() if line.startswith("run id:"))
    stopped = next(line for line in out.splitlines() if " count v1 " in line)
    done = int(stopped.split("  ")[-1].split("/")[0])
    assert stopped.split("  ")[2] == "stopped" and 1 <= done < 6  # in progress: at most the concurrency (2)
    assert f"run {run_id} stopped after {done} of 6 items; resume with `workbench eval resume {run_id}`" in err

    resumed = run("eval", "resume", run_id[:8])
    assert "completed: 6 items, 0 failed" in resumed.stdout
    assert f"items {done + 1}/6" in resumed.stderr and "items 1/6" not in resumed.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("run_log")
def test_a_queued_run_is_worked_by_a_worker_on_the_embedded_queue_and_followed_here(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_LLM__WARM_UP_ON_OPEN", "false")
    questions = write(tmp_path / "tiny.csv", "question,reference_answer\nWhat is 2+2?,4\nName a colour.,Blue.\n"
                                             "Say hello.,Hello.\n")  # fmt: skip
    run("eval", "datasets", "import", questions, "--name", "tiny")
    config = write(tmp_path / "smoke.yaml", f"model: {MODEL}\nknowledge_base: null\nmax_tokens: 8\n")
    status = json.loads(run("queue", "status", "--json").stdout)
    assert (status["reachable"], status["depth"], status["workers"]) == (True, 0, [])
    assert status["broker"].startswith("embedded (files in ")
    run("queue", "status", "--worker", "nobody@here", code=1)

    with running_worker(tmp_path / "worker.log", "--name", "cli@test"):  # the files queue under data_dir/queue
        wait_until(lambda: "cli@test" in json.loads(run("queue", "status", "--json").stdout)["workers"],
                   what="the worker to answer")  # fmt: skip
        result = run("eval", "run", "--dataset", "tiny", "--config", config, "--queue", "--json")
    (done,) = json.loads(result.stdout)["runs"]
    assert (done["status"], done["done"], done["failed"]) == ("completed", 3, 0)
    assert "succeeded in" in (tmp_path / "worker.log").read_text()  # worked there, not in this process
