"""JudgeScorer against a real OpenAI-style HTTP server on loopback that plays the judge from a script, and once
against the project's real local model.

The scripted judge reads the input ragas puts in its prompt and answers as a careful judge would (a statement is
supported when the context contains it verbatim), or misbehaves on request: garbage text, JSON of the wrong
shape, HTTP 500, answering too slowly.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.rag_fakes import HashEmbedding
from workbench.evaluation.judge import JudgeScorer, LocalRagasEmbeddings, run_in_own_loop
from workbench.evaluation.metrics import JUDGE_METRICS, EvalSample, FailureCause, MetricScore, ScoreStatus

pytestmark = pytest.mark.integration

SAMPLE = EvalSample(
    question="How much unused leave can employees carry over, and until when?",
    answer="Employees carry over five days. Leave expires in March. The office has a gym",
    retrieved_contexts=(
        "The cafeteria opens at 7:30",
        "Employees carry over five days of unused leave",
        "Carried-over leave expires in March",
    ),
    reference_answer="Employees carry over five days. Carried-over leave expires in March. Managers approve exceptions",
)
# What a verbatim-matching judge makes of SAMPLE: 2 of 3 statements supported, 2 of 3 reference statements
# attributed, relevant contexts at ranks 2 and 3 (average precision (1/2 + 2/3) / 2).
EXPECTED = {"faithfulness": 2 / 3, "llm_context_recall": 2 / 3, "llm_context_precision": (1 / 2 + 2 / 3) / 2}
MARKER = "Now perform the same with the following input\ninput: "


def _sentences(text: str) -> list[str]:
    return [s.strip().rstrip(".") for s in text.split(". ") if s.strip()]


def _found(statement: str, context: str) -> int:
    return int(statement.rstrip(".").lower() in context.lower())


def judge_reply(prompt: str) -> dict[str, Any]:
    """A valid answer to the ragas prompt, computed from the input ragas embedded in it."""
    data = json.loads(prompt[prompt.index(MARKER) + len(MARKER) : prompt.rindex("\nOutput: ")])
    if "Break down each sentence" in prompt:
        return {"statements": _sentences(data["answer"])}
    if "judge the faithfulness" in prompt:
        verdicts = [
            {"statement": s, "reason": "verbatim?", "verdict": _found(s, data["context"])} for s in data["statements"]
        ]
        return {"statements": verdicts}
    if "can be attributed to the given context" in prompt:
        sentences = _sentences(data["answer"])
        return {
            "classifications": [
                {"statement": s, "reason": "-", "attributed": _found(s, data["context"])} for s in sentences
            ]
        }
    if "verify if the context was useful" in prompt:
        return {"reason": "-", "verdict": max(_found(s, data["context"]) for s in _sentences(data["answer"]))}
    if "Generate a question for the given answer" in prompt:
        return {"question": f"What about {data['response']}?", "noncommittal": 0}
    raise AssertionError(f"unscripted prompt: {prompt[:200]}")


class ScriptedJudge:
    """A real HTTP server on loopback speaking OpenAI's chat-completions protocol; `behaviour` picks the reply."""

    def __init__(self) -> None:
        self.behaviour = "valid"  # valid | garbage | wrong_shape | no_statements | odd_verdicts | http500
        self.delay_s = 0.0
        self.prompts: list[str] = []
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                prompt = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
                judge.prompts.append(prompt)
                time.sleep(judge.delay_s)
                status, payload = judge.reply(prompt, body["model"])
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout tests): nobody to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a handler still sleeping for a timeout test must not hold teardown
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def reply(self, prompt: str, model: str) -> tuple[int, dict[str, Any]]:
        if self.behaviour == "http500":
            return 500, {"error": {"message": "the model crashed", "type": "server_error"}}
        content: str
        if self.behaviour == "garbage":
            content = "Sure! The statements look fine to me."
        elif self.behaviour == "wrong_shape":
            content = json.dumps({"answer": "yes"})
        elif self.behaviour == "no_statements" and "Break down each sentence" in prompt:
            content = json.dumps({"statements": []})
        elif self.behaviour == "odd_verdicts" and "verify if the context was useful" in prompt:
            content = json.dumps({"reason": "-", "verdict": 2})
        else:
            content = json.dumps(judge_reply(prompt))
        message = {"role": "assistant", "content": content}
        return 200, {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }


@pytest.fixture
def judge_server() -> Iterator[ScriptedJudge]:
    server = ScriptedJudge()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def scorer(server: ScriptedJudge, timeout_s: float = 10.0, embeddings: Any = None) -> JudgeScorer:
    return JudgeScorer(server.base_url, "judge", "test-key", timeout_s, embeddings)


def ragas_directly(server: ScriptedJudge, metric: str, embeddings: Any = None) -> float:
    """The same sample scored by calling ragas itself, the way its documentation shows."""
    from openai import AsyncOpenAI
    from ragas.llms.base import llm_factory
    from ragas.metrics.collections import AnswerRelevancy, ContextPrecisionWithReference, ContextRecall, Faithfulness

    async def run() -> float:
        async with AsyncOpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as client:
            llm = llm_factory("judge", provider="openai", client=client)
            contexts, reference = list(SAMPLE.retrieved_contexts), SAMPLE.reference_answer or ""
            calls = {
                "faithfulness": lambda: Faithfulness(llm=llm).ascore(SAMPLE.question, SAMPLE.answer, contexts),
                "answer_relevancy": lambda: AnswerRelevancy(llm=llm, embeddings=embeddings).ascore(
                    SAMPLE.question, SAMPLE.answer
                ),
                "llm_context_precision": lambda: ContextPrecisionWithReference(llm=llm).ascore(
                    SAMPLE.question, reference, contexts
                ),
                "llm_context_recall": lambda: ContextRecall(llm=llm).ascore(SAMPLE.question, contexts, reference),
            }
            return float((await calls[metric]()).value)

    return run_in_own_loop(run())


# (a) valid answers: the wrapper returns ragas's own values --------------------------------------------------------


def test_every_judge_metric_equals_calling_ragas_with_the_same_judge(judge_server: ScriptedJudge) -> None:
    embeddings = LocalRagasEmbeddings(HashEmbedding())
    scores = scorer(judge_server, embeddings=embeddings).score(SAMPLE)
    assert [s.metric for s in scores] == list(JUDGE_METRICS)
    for score in scores:
        assert score.status is ScoreStatus.OK, score
        assert score.value == ragas_directly(judge_server, score.metric, embeddings), score.metric
        if score.metric in EXPECTED:
            assert score.value == pytest.approx(EXPECTED[score.metric], abs=1e-9)


def test_a_llama_index_embedding_is_wrapped_for_answer_relevancy(judge_server: ScriptedJudge) -> None:
    judge = scorer(judge_server, embeddings=HashEmbedding())
    assert isinstance(judge.embeddings, LocalRagasEmbeddings)
    [score] = judge.score(SAMPLE, ["answer_relevancy"])
    assert score.status is ScoreStatus.OK and score.value is not None and -1.0 <= score.value <= 1.0


def test_the_projects_minilm_serves_answer_relevancy(judge_server: ScriptedJudge) -> None:
    from workbench.rag.embeddings import OnnxMiniLMEmbedding

    minilm = OnnxMiniLMEmbedding(threads=1)
    embeddings = LocalRagasEmbeddings(minilm)
    assert embeddings.embed_text("leave policy") == pytest.approx(minilm.get_query_embedding("leave policy"))
    [score] = scorer(judge_server, embeddings=embeddings).score(SAMPLE, ["answer_relevancy"])
    assert score.status is ScoreStatus.OK
    assert score.value == ragas_directly(judge_server, "answer_relevancy", embeddings)


# (b)-(d) failures: each metric ends FAILED with a cause, never NaN, never an exception ---------------------------

FIRST_TWO = ("faithfulness", "llm_context_recall")


@pytest.mark.parametrize("metric", FIRST_TWO)
def test_garbage_text_is_unparseable_after_instructors_retries(judge_server: ScriptedJudge, metric: str) -> None:
    judge_server.behaviour = "garbage"
    [score] = scorer(judge_server).score(SAMPLE, [metric])
    assert score.status is ScoreStatus.FAILED and score.cause is FailureCause.UNPARSEABLE and score.value is None
    assert score.detail is not None and "Invalid JSON" in score.detail and "after 4 attempts" in score.detail
    assert len(judge_server.prompts) == 4  # instructor's default: 3 re-asks


def test_parse_retries_are_configurable(judge_server: ScriptedJudge) -> None:
    judge_server.behaviour = "garbage"
    judge = JudgeScorer(judge_server.base_url, "judge", "k", 10.0, parse_retries=0)
    [score] = judge.score(SAMPLE, ["llm_context_recall"])
    assert score.detail is not None and score.detail.endswith("(after 1 attempt)")
    assert len(judge_server.prompts) == 1


@pytest.mark.parametrize("metric", FIRST_TWO)
def test_json_of_the_wrong_shape_is_unparseable(judge_server: ScriptedJudge, metric: str) -> None:
    judge_server.behaviour = "wrong_shape"
    [score] = scorer(judge_server).score(SAMPLE, [metric])
    assert score.cause is FailureCause.UNPARSEABLE
    model = "StatementGeneratorOutput" if metric == "faithfulness" else "ContextRecallOutput"
    assert score.detail is not None and score.detail.startswith(f"judge output does not fit {model}: Field required")


def test_ragas_nan_is_recorded_as_unparseable(judge_server: ScriptedJudge) -> None:
    judge_server.behaviour = "no_statements"
    [score] = scorer(judge_server).score(SAMPLE, ["faithfulness"])
    assert math.isnan(ragas_directly(judge_server, "faithfulness"))
    assert score == MetricScore.failed(
        "faithfulness", FailureCause.UNPARSEABLE, "the judge's output left nothing to score (ragas returned NaN)"
    )


def test_verdicts_other_than_0_or_1_are_unparseable_not_a_score_above_1(judge_server: ScriptedJudge) -> None:
    judge_server.behaviour = "odd_verdicts"
    assert ragas_directly(judge_server, "llm_context_precision") == pytest.approx(2.0)
    [score] = scorer(judge_server).score(SAMPLE, ["llm_context_precision"])
    assert score.cause is FailureCause.UNPARSEABLE and score.detail is not None and "outside [0, 1]" in score.detail


@pytest.mark.parametrize("metric", FIRST_TWO)
def test_http_500_is_a_provider_error_with_the_status(judge_server: ScriptedJudge, metric: str) -> None:
    judge_server.behaviour = "http500"
    [score] = scorer(judge_server).score(SAMPLE, [metric])
    assert score.status is ScoreStatus.FAILED and score.cause is FailureCause.PROVIDER_ERROR
    assert score.detail is not None and score.detail.startswith("HTTP 500 from the judge") and "crashed" in score.detail
    assert len(judge_server.prompts) == 1  # a server error is not retried


@pytest.mark.parametrize("metric", FIRST_TWO)
def test_a_judge_slower_than_the_timeout_times_out(judge_server: ScriptedJudge, metric: str) -> None:
    judge_server.delay_s = 3.0
    started = time.perf_counter()
    [score] = scorer(judge_server, timeout_s=0.5).score(SAMPLE, [metric])
    assert time.perf_counter() - started < 2.5
    assert score == MetricScore.failed(metric, FailureCause.TIMEOUT, "judge timed out after 0.5 s")


def test_the_timeout_bounds_a_whole_metric_not_only_each_request(judge_server: ScriptedJudge) -> None:
    judge_server.delay_s = 0.4  # every request is in time; faithfulness needs two of them
    faithfulness, recall = scorer(judge_server, timeout_s=0.6).score(SAMPLE, FIRST_TWO)
    assert faithfulness.cause is FailureCause.TIMEOUT
    assert recall == MetricScore.ok("llm_context_recall", EXPECTED["llm_context_recall"])


def test_an_unreachable_judge_is_a_provider_error() -> None:
    server = ScriptedJudge()  # bound but never serving, then closed: nothing listens on the port
    url = server.base_url
    server.httpd.server_close()
    [score] = JudgeScorer(url, "judge", "k", 5.0).score(SAMPLE, ["faithfulness"])
    assert score.cause is FailureCause.PROVIDER_ERROR
    assert score.detail is not None and score.detail.startswith("judge unreachable: APIConnectionError")


# Missing inputs, threads and loops ---------------------------------------------------------------------------------


def test_missing_inputs_are_skipped_without_asking_the_judge(judge_server: ScriptedJudge) -> None:
    bare = EvalSample(question="q?", answer="an answer", retrieved_contexts=())
    scores = {s.metric: s for s in scorer(judge_server).score(bare)}
    assert scores["faithfulness"] == MetricScore.skipped("faithfulness", "no retrieved contexts")
    assert scores["llm_context_recall"] == MetricScore.skipped(
        "llm_context_recall", "no reference answer; no retrieved contexts"
    )
    assert scores["llm_context_precision"].cause is FailureCause.MISSING_INPUT
    assert scores["answer_relevancy"] == MetricScore.skipped("answer_relevancy", "no embedding model configured")
    assert judge_server.prompts == []


def test_score_works_from_a_worker_thread_and_refuses_a_running_loop(judge_server: ScriptedJudge) -> None:
    judge = scorer(judge_server)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: judge.score(SAMPLE, ["llm_context_recall"]), range(2)))
    assert all(r == [MetricScore.ok("llm_context_recall", EXPECTED["llm_context_recall"])] for r in results)

    async def inside_a_loop() -> list[MetricScore]:
        with pytest.raises(RuntimeError, match="await ascore"):
            judge.score(SAMPLE)
        return await judge.ascore(SAMPLE, ["faithfulness"])

    assert run_in_own_loop(inside_a_loop())[0].value == pytest.approx(EXPECTED["faithfulness"])


def test_unknown_metrics_and_odd_embeddings_are_refused(judge_server: ScriptedJudge) -> None:
    with pytest.raises(ValueError, match="bleu"):
        scorer(judge_server).score(SAMPLE, ["bleu"])
    with pytest.raises(TypeError, match="embeddings"):
        scorer(judge_server, embeddings=object())


# The project's real local model as judge ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_real_local_model_as_judge_never_gives_nan_or_raises(tmp_path: Path) -> None:
    from workbench.llm import LLMRuntime, LLMSettings

    runtime = LLMRuntime.for_data_dir(LLMSettings(local_parallel=1), tmp_path)
    try:
        spec = runtime.catalog.get("qwen2.5-0.5b-instruct")
        reason = runtime.catalog.unavailable_reason(spec)
        if reason is not None:
            (pytest.fail if IN_CI else pytest.skip)(f"qwen2.5-0.5b-instruct: {reason}")
        server = runtime.local_server(spec)
        judge = JudgeScorer(server.base_url, spec.id, server.api_key, timeout_s=120.0)
        samples = [
            SAMPLE,
            EvalSample(
                question="What is the refund window?",
                answer="Refunds are available within 30 days of delivery. Shipping costs are never refunded.",
                retrieved_contexts=(
                    "Customers can request a refund within 30 days of delivery if they keep the receipt.",
                ),
            ),
        ]
        started = time.perf_counter()
        scores = [judge.score(sample, ["faithfulness"])[0] for sample in samples]
        elapsed = time.perf_counter() - started
    finally:
        runtime.close()
    print(f"\nreal local judge: {[(s.status.value, s.value, s.cause, s.detail) for s in scores]} in {elapsed:.1f} s")
    for score in scores:
        if score.status is ScoreStatus.OK:
            assert score.value is not None and 0.0 <= score.value <= 1.0
        else:
            assert score.status is ScoreStatus.FAILED
            assert score.cause in (FailureCause.UNPARSEABLE, FailureCause.TIMEOUT), score
