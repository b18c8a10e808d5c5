"""LLM-judged RAG metrics: ragas 0.4.3's collections metrics with an OpenAI-compatible judge, every failure named.

The judge is any OpenAI-compatible endpoint (the local llama.cpp server, OpenAI, vLLM, ...). ragas's `llm_factory`
with provider "openai" patches the client with instructor's JSON mode: the request asks for
`response_format={"type": "json_object"}`, which llama.cpp's server enforces with a JSON grammar, and the schema
travels in the prompt. Tool-calling mode would depend on the server's chat template supporting tools.

Values are ragas's own (this module only calls the metrics); what it adds is that no score is silently NaN:
each metric ends OK, SKIPPED (an input is missing) or FAILED with a cause and a short reason. Importing this
module imports ragas (several seconds): import it where judged metrics are actually run.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Awaitable, Coroutine, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorError, InstructorRetryException
from pydantic import ValidationError
from ragas.embeddings.base import BaseRagasEmbedding
from ragas.llms.base import llm_factory
from ragas.metrics.collections import AnswerRelevancy, ContextPrecisionWithReference, ContextRecall, Faithfulness

from workbench.evaluation.metrics import (
    JUDGE_METRICS,
    METRICS,
    EvalSample,
    FailureCause,
    MetricScore,
    missing_input,
    short_error,
)

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from ragas.llms.base import InstructorBaseRagasLLM
    from ragas.metrics.result import MetricResult


class LocalRagasEmbeddings(BaseRagasEmbedding):
    """A LlamaIndex embedding model (e.g. the project's ONNX MiniLM, `RagEngine.embedding`) as ragas embeddings.

    AnswerRelevancy compares the question with questions generated from the answer, so every text is embedded
    as a query: both sides of the comparison go through the same function.
    """

    def __init__(self, embedding: BaseEmbedding) -> None:
        super().__init__()
        self.embedding = embedding

    def embed_text(self, text: str, **kwargs: Any) -> list[float]:
        return list(self.embedding.get_query_embedding(text))

    async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
        return list(await self.embedding.aget_query_embedding(text))

    def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        return [self.embed_text(text) for text in texts]

    async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        return [await self.aembed_text(text) for text in texts]


T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine in a new event loop, closed afterwards, without touching the thread's current loop.

    Not asyncio.run: it replaces the thread's current loop and then unsets it, and a loop some library had made
    current with get_event_loop() is then dropped unclosed (a ResourceWarning at some later garbage collection).
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


class JudgeScorer:
    """Scores the judge metrics of one sample at a time with a judge model at `base_url` (an OpenAI-style …/v1).

    `embeddings`: ragas embeddings, or a LlamaIndex embedding model (wrapped in LocalRagasEmbeddings); without
    one, answer_relevancy is SKIPPED. `timeout_s` bounds each HTTP request and each metric as a whole.
    `parse_retries`: how often instructor re-asks after output that does not parse (3, as when ragas is called
    directly). Metrics run one after another: a local server answers one request at a time, and queueing behind
    each other would count against every metric's timeout.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str,
        timeout_s: float,
        embeddings: Any | None = None,
        *,
        parse_retries: int = 3,
    ) -> None:
        os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")  # read by ragas on its first analytics event
        self.base_url = base_url
        self.model = model
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.parse_retries = parse_retries
        self.embeddings = _ragas_embeddings(embeddings)

    def score(self, sample: EvalSample, metrics: Iterable[str] = JUDGE_METRICS) -> list[MetricScore]:
        """`ascore` in an event loop of its own (call it from a worker thread, not from async code)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return run_in_own_loop(self.ascore(sample, metrics))
        raise RuntimeError("JudgeScorer.score() was called inside a running event loop: await ascore() instead")

    async def ascore(self, sample: EvalSample, metrics: Iterable[str] = JUDGE_METRICS) -> list[MetricScore]:
        """One score per requested judge metric, in order; never raises for a judge's or server's failure."""
        names = tuple(metrics)
        unknown = [name for name in names if name not in JUDGE_METRICS]
        if unknown:
            raise ValueError(f"not judge metrics: {', '.join(unknown)}")
        # A client per call: its connection pool belongs to the event loop it was opened in.
        async with openai.AsyncOpenAI(
            base_url=self.base_url, api_key=self._api_key, timeout=self.timeout_s, max_retries=0
        ) as client:
            # Extra llm_factory arguments go into each request; instructor takes max_retries for itself.
            llm = llm_factory(self.model, provider="openai", client=client, max_retries=self.parse_retries)
            return [await self._score_one(llm, sample, name) for name in names]

    async def _score_one(self, llm: InstructorBaseRagasLLM, sample: EvalSample, metric: str) -> MetricScore:
        skipped = missing_input(sample, metric)
        if skipped is not None:
            return skipped
        if METRICS[metric].needs_embeddings and self.embeddings is None:
            return MetricScore.skipped(metric, "no embedding model configured")
        try:
            result = await asyncio.wait_for(self._call(llm, sample, metric), timeout=self.timeout_s)
        # Whatever the judge, the server or ragas did, it becomes this metric's recorded failure, never the run's.
        except Exception as exc:  # noqa: BLE001
            return _failure(metric, exc, self.timeout_s)
        return _checked(metric, result.value)

    def _call(self, llm: InstructorBaseRagasLLM, sample: EvalSample, metric: str) -> Awaitable[MetricResult]:
        contexts = list(sample.retrieved_contexts)
        reference = sample.reference_answer or ""
        if metric == "faithfulness":
            return Faithfulness(llm=llm).ascore(
                user_input=sample.question, response=sample.answer, retrieved_contexts=contexts
            )
        if metric == "answer_relevancy":
            assert self.embeddings is not None  # _score_one skips the metric without embeddings
            return AnswerRelevancy(llm=llm, embeddings=self.embeddings).ascore(
                user_input=sample.question, response=sample.answer
            )
        if metric == "llm_context_precision":
            return ContextPrecisionWithReference(llm=llm).ascore(
                user_input=sample.question, reference=reference, retrieved_contexts=contexts
            )
        return ContextRecall(llm=llm).ascore(
            user_input=sample.question, retrieved_contexts=contexts, reference=reference
        )


def _ragas_embeddings(embeddings: Any | None) -> BaseRagasEmbedding | None:
    if embeddings is None or isinstance(embeddings, BaseRagasEmbedding):
        return embeddings
    if hasattr(embeddings, "get_query_embedding") and hasattr(embeddings, "aget_query_embedding"):
        return LocalRagasEmbeddings(embeddings)
    raise TypeError(f"embeddings must be ragas or LlamaIndex embeddings, not {type(embeddings).__name__}")


def _checked(metric: str, value: Any) -> MetricScore:
    """OK for a number in the metric's range; ragas's NaN (nothing to score) and odd verdicts are UNPARSEABLE."""
    if not isinstance(value, int | float):
        return MetricScore.failed(metric, FailureCause.UNPARSEABLE, f"ragas returned {type(value).__name__}")
    if math.isnan(value):
        return MetricScore.failed(
            metric, FailureCause.UNPARSEABLE, "the judge's output left nothing to score (ragas returned NaN)"
        )
    low, high = METRICS[metric].value_range
    if not low - 1e-9 <= value <= high + 1e-9:
        return MetricScore.failed(
            metric, FailureCause.UNPARSEABLE, f"score {value:.4g} is outside [{low:g}, {high:g}]: verdicts not 0/1"
        )
    return MetricScore.ok(metric, float(value))


def _failure(metric: str, exc: Exception, timeout_s: float) -> MetricScore:
    """The recorded failure for an exception, judged by the most specific error in its chain.

    instructor wraps every error of a structured call, the server's included, in InstructorRetryException.
    """
    chain = list(_chain(exc))
    tries = next((e.n_attempts for e in chain if isinstance(e, InstructorRetryException)), 0)
    attempts = f" (after {tries} attempt{'s' if tries != 1 else ''})" if tries else ""
    for link in chain:
        if isinstance(link, openai.APITimeoutError | TimeoutError):
            return MetricScore.failed(metric, FailureCause.TIMEOUT, f"judge timed out after {timeout_s:g} s")
        if isinstance(link, openai.APIStatusError):
            detail = f"HTTP {link.status_code} from the judge: {_one_line(link.message)}"
            return MetricScore.failed(metric, FailureCause.PROVIDER_ERROR, _cut(detail))
        if isinstance(link, openai.APIConnectionError):
            return MetricScore.failed(
                metric, FailureCause.PROVIDER_ERROR, _cut(f"judge unreachable: {short_error(link)}")
            )
        if isinstance(link, IncompleteOutputException):
            return MetricScore.failed(metric, FailureCause.UNPARSEABLE, "the judge's output was cut off at max_tokens")
        if isinstance(link, ValidationError):
            first = link.errors(include_url=False)[0]["msg"] if link.error_count() else "invalid"
            detail = f"judge output does not fit {link.title}: {_one_line(first)}{attempts}"
            return MetricScore.failed(metric, FailureCause.UNPARSEABLE, _cut(detail))
        if isinstance(link, json.JSONDecodeError):
            return MetricScore.failed(
                metric, FailureCause.UNPARSEABLE, f"judge output is not JSON: {link.msg}{attempts}"
            )
    if any(isinstance(link, InstructorError) for link in chain):
        return MetricScore.failed(metric, FailureCause.UNPARSEABLE, short_error(exc))
    return MetricScore.failed(metric, FailureCause.ERROR, short_error(exc))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then its causes (or contexts), outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
