"""Per-item RAG metrics: the sample and score records, the metric registry, and the model-free scorer.

ModelFreeScorer returns exactly what ragas 0.4.3 returns for the same inputs (tests/unit/evaluation/test_metrics.py
compares every metric with ragas itself): the same formulas on the same libraries (rapidfuzz, sacrebleu,
rouge-score's tokenizer and stemmer), without ragas's per-call set-up, callbacks and event loop, and with stems
cached and ROUGE-L's longest common subsequence computed by rapidfuzz. Importing this module is cheap: the
scoring libraries are imported when a scorer is built. LLM-judged metrics live in `workbench.evaluation.judge`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class EvalSample:
    """One evaluated item: the question, the pipeline's answer and evidence, and the dataset's references."""

    question: str
    answer: str
    retrieved_contexts: tuple[str, ...]
    reference_answer: str | None = None
    reference_contexts: tuple[str, ...] = ()


class ScoreStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class FailureCause(StrEnum):
    TIMEOUT = "timeout"
    UNPARSEABLE = "unparseable"
    PROVIDER_ERROR = "provider_error"
    MISSING_INPUT = "missing_input"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class MetricScore:
    """One metric on one sample. `value` is set only when OK, and is then a number (never NaN)."""

    metric: str
    value: float | None
    status: ScoreStatus
    cause: FailureCause | None = None
    detail: str | None = None  # a short reason, e.g. "no reference contexts"

    def __post_init__(self) -> None:
        if self.status is ScoreStatus.OK:
            if self.value is None or math.isnan(self.value) or self.cause is not None:
                raise ValueError(f"an OK score needs a number and no cause, got {self.value!r}, {self.cause!r}")
        elif self.value is not None or self.cause is None:
            raise ValueError(f"a {self.status} score has a cause and no value")

    @classmethod
    def ok(cls, metric: str, value: float) -> MetricScore:
        return cls(metric, value, ScoreStatus.OK)

    @classmethod
    def failed(cls, metric: str, cause: FailureCause, detail: str) -> MetricScore:
        return cls(metric, None, ScoreStatus.FAILED, cause, detail)

    @classmethod
    def skipped(cls, metric: str, detail: str) -> MetricScore:
        return cls(metric, None, ScoreStatus.SKIPPED, FailureCause.MISSING_INPUT, detail)


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """What the UI and the run configuration need to know about a metric."""

    name: str
    label: str
    description: str
    needs: tuple[str, ...]  # EvalSample fields that must be non-empty for the metric to be computed
    ragas_class: str  # the ragas 0.4.3 class whose values this metric reproduces or wraps
    needs_judge: bool = False
    higher_is_better: bool = True
    needs_embeddings: bool = False
    value_range: tuple[float, float] = (0.0, 1.0)


_LEGACY = "ragas.metrics."
_COLLECTIONS = "ragas.metrics.collections."
_JUDGED = ("question", "answer", "retrieved_contexts")
_JUDGED_WITH_REFERENCE = ("question", "reference_answer", "retrieved_contexts")

METRICS: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo(
            "context_precision",
            "Context precision",
            "Rank-weighted share of retrieved passages matching a reference passage (Levenshtein similarity ≥ 0.5).",
            needs=("reference_contexts",),
            ragas_class=_LEGACY + "_context_precision.NonLLMContextPrecisionWithReference",
        ),
        MetricInfo(
            "context_recall",
            "Context recall",
            "Share of reference passages matched by a retrieved passage (Levenshtein similarity above 0.5).",
            needs=("reference_contexts",),
            ragas_class=_LEGACY + "_context_recall.NonLLMContextRecall",
        ),
        MetricInfo(
            "string_similarity",
            "String similarity",
            "One minus the normalised Levenshtein distance between the answer and the reference answer.",
            needs=("reference_answer",),
            ragas_class=_COLLECTIONS + "NonLLMStringSimilarity",
        ),
        MetricInfo(
            "bleu",
            "BLEU",
            "BLEU of the answer's first sentence against the reference answer's sentences (ragas splits both on '. ').",
            needs=("reference_answer",),
            ragas_class=_COLLECTIONS + "BleuScore",
        ),
        MetricInfo(
            "rouge_l",
            "ROUGE-L",
            "F-measure of the longest common subsequence of stemmed words of the answer and the reference answer.",
            needs=("reference_answer",),
            ragas_class=_COLLECTIONS + "RougeScore",
        ),
        MetricInfo(
            "chrf",
            "chrF",
            "Character n-gram F-score (beta 2) of the answer against the reference answer.",
            needs=("reference_answer",),
            ragas_class=_COLLECTIONS + "CHRFScore",
        ),
        MetricInfo(
            "exact_match",
            "Exact match",
            "1 if the answer equals the reference answer character for character, else 0.",
            needs=("reference_answer",),
            ragas_class=_COLLECTIONS + "ExactMatch",
        ),
        MetricInfo(
            "faithfulness",
            "Faithfulness",
            "Share of the answer's statements that the judge finds supported by the retrieved passages.",
            needs_judge=True,
            needs=_JUDGED,
            ragas_class=_COLLECTIONS + "Faithfulness",
        ),
        MetricInfo(
            "answer_relevancy",
            "Answer relevancy",
            "Mean cosine similarity of the question to questions the judge infers from the answer (0 if noncommittal).",
            needs_judge=True,
            needs=("question", "answer"),
            ragas_class=_COLLECTIONS + "AnswerRelevancy",
            needs_embeddings=True,
            value_range=(-1.0, 1.0),
        ),
        MetricInfo(
            "llm_context_precision",
            "Context precision (judge)",
            "Rank-weighted share of retrieved passages the judge finds useful for reaching the reference answer.",
            needs_judge=True,
            needs=_JUDGED_WITH_REFERENCE,
            ragas_class=_COLLECTIONS + "ContextPrecisionWithReference",
        ),
        MetricInfo(
            "llm_context_recall",
            "Context recall (judge)",
            "Share of the reference answer's statements the judge can attribute to the retrieved passages.",
            needs_judge=True,
            needs=_JUDGED_WITH_REFERENCE,
            ragas_class=_COLLECTIONS + "ContextRecall",
        ),
    )
}
MODEL_FREE_METRICS: tuple[str, ...] = tuple(name for name, info in METRICS.items() if not info.needs_judge)
JUDGE_METRICS: tuple[str, ...] = tuple(name for name, info in METRICS.items() if info.needs_judge)

_MISSING = {
    "question": "no question",
    "answer": "empty answer",
    "retrieved_contexts": "no retrieved contexts",
    "reference_answer": "no reference answer",
    "reference_contexts": "no reference contexts",
}


def missing_input(sample: EvalSample, metric: str) -> MetricScore | None:
    """A SKIPPED score naming the inputs `metric` needs and `sample` lacks; None if nothing is missing.

    A blank string counts as missing: a reference answer of spaces is no reference.
    """
    missing = [_MISSING[field] for field in METRICS[metric].needs if _blank(getattr(sample, field))]
    return MetricScore.skipped(metric, "; ".join(missing)) if missing else None


def _blank(value: str | tuple[str, ...] | None) -> bool:
    return value is None or (not value.strip() if isinstance(value, str) else not value)


def short_error(exc: BaseException, limit: int = 160) -> str:
    """`Type: message` on one line, cut to `limit` characters."""
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Thresholds of ragas's NonLLMContextPrecisionWithReference (>=) and NonLLMContextRecall (>).
_PRECISION_THRESHOLD = 0.5
_RECALL_THRESHOLD = 0.5


class ModelFreeScorer:
    """The model-free metrics. Thread-safe: sacrebleu's metric objects keep no state that a call reads back, and
    the stem cache is an lru_cache."""

    def __init__(self) -> None:
        from rapidfuzz.distance import LCSseq, Levenshtein
        from rouge_score import scoring, tokenize  # type: ignore[import-untyped]  # no stubs
        from sacrebleu.metrics.bleu import BLEU
        from sacrebleu.metrics.chrf import CHRF

        self._distance: Callable[[str, str], float] = Levenshtein.normalized_distance
        # The arguments sacrebleu's corpus_bleu/corpus_chrf use by default, as ragas calls them; built once here,
        # where ragas builds one per call.
        self._bleu = BLEU()
        self._chrf = CHRF()
        # ROUGE-L as rouge-score's RougeScorer(["rougeL"], use_stemmer=True) computes it, from its tokenizer and
        # F-measure; the longest common subsequence comes from rapidfuzz (C++): rouge-score's pure-Python table
        # takes ~15 ms for two 170-word answers, rapidfuzz ~0.03 ms, and the length is the same integer.
        self._rouge_tokenizer = _StemCachingTokenizer(tokenize.tokenize)
        self._lcs_length: Callable[[list[int], list[int]], int] = LCSseq.similarity
        self._fmeasure: Callable[[float, float], float] = scoring.fmeasure
        self._text: dict[str, Callable[[str, str], float]] = {
            "string_similarity": self._string_similarity,
            "bleu": self._bleu_score,
            "rouge_l": self._rouge_l,
            "chrf": self._chrf_score,
            "exact_match": lambda reference, answer: float(reference == answer),
        }

    def score(self, sample: EvalSample, metrics: Iterable[str] = MODEL_FREE_METRICS) -> list[MetricScore]:
        """One score per requested metric, in order; a metric lacking an input is SKIPPED, never guessed."""
        names = tuple(metrics)
        unknown = [name for name in names if name not in MODEL_FREE_METRICS]
        if unknown:
            raise ValueError(f"not model-free metrics: {', '.join(unknown)}")
        similarity: list[list[float]] | None = None  # retrieved x reference, shared by the two context metrics
        scores: list[MetricScore] = []
        for name in names:
            skipped = missing_input(sample, name)
            if skipped is not None:
                scores.append(skipped)
                continue
            try:
                if name in ("context_precision", "context_recall"):
                    if similarity is None:
                        similarity = self._similarity(sample.retrieved_contexts, sample.reference_contexts)
                    value = _average_precision(similarity) if name == "context_precision" else _recall(similarity)
                else:
                    assert sample.reference_answer is not None  # missing_input checked it
                    value = self._text[name](sample.reference_answer, sample.answer)
                score = MetricScore.ok(name, value)  # refuses a NaN: that becomes a failure below, never a value
            # One odd sample must not end a run of thousands: the failure is recorded on this score, with its type.
            except Exception as exc:  # noqa: BLE001
                score = MetricScore.failed(name, FailureCause.ERROR, short_error(exc))
            scores.append(score)
        return scores

    def score_many(
        self, samples: Iterable[EvalSample], metrics: Iterable[str] = MODEL_FREE_METRICS
    ) -> list[list[MetricScore]]:
        """`score` for each sample, in order."""
        names = tuple(metrics)
        return [self.score(sample, names) for sample in samples]

    # The metrics, as ragas 0.4.3 computes them ------------------------------------------------------------------

    def _similarity(self, retrieved: Sequence[str], references: Sequence[str]) -> list[list[float]]:
        # Both ragas context metrics compare SingleTurnSample(reference=retrieved, response=reference_context).
        return [[1 - self._distance(rc, ref) for ref in references] for rc in retrieved]

    def _string_similarity(self, reference: str, answer: str) -> float:
        return 1 - self._distance(reference, answer)

    def _bleu_score(self, reference: str, answer: str) -> float:
        # ragas passes each reference sentence as a separate one-segment reference stream, so sacrebleu scores
        # only the answer's first sentence, against every reference sentence as an alternative reference.
        references = [[sentence] for sentence in reference.split(". ")]
        return float(self._bleu.corpus_score(answer.split(". "), references).score / 100)

    def _rouge_l(self, reference: str, answer: str) -> float:
        target = self._rouge_tokenizer.tokenize(reference)
        prediction = self._rouge_tokenizer.tokenize(answer)
        if not target or not prediction:
            return 0.0  # rouge-score's Score(0, 0, 0)
        ids: dict[str, int] = {}  # tokens as small ints: rapidfuzz would hash other objects (collisions possible)
        lcs = self._lcs_length(
            [ids.setdefault(t, len(ids)) for t in target], [ids.setdefault(t, len(ids)) for t in prediction]
        )
        return float(self._fmeasure(lcs / len(prediction), lcs / len(target)))

    def _chrf_score(self, reference: str, answer: str) -> float:
        if not reference.strip() or not answer.strip():
            return 0.0  # ragas's own rule for empty text
        return float(self._chrf.corpus_score([answer], [[reference]]).score / 100)


def _average_precision(similarity: list[list[float]]) -> float:
    """ragas's average precision of the retrieved passages' verdicts; 0.0 when nothing was retrieved."""
    verdicts = [1 if max(row) >= _PRECISION_THRESHOLD else 0 for row in similarity]
    denominator = sum(verdicts) + 1e-10
    numerator = sum([(sum(verdicts[: i + 1]) / (i + 1)) * verdicts[i] for i in range(len(verdicts))])
    return float(numerator / denominator)


def _recall(similarity: list[list[float]]) -> float:
    """Share of reference passages some retrieved passage matches.

    With nothing retrieved ragas raises (max of an empty list); no reference passage was recalled, so 0.0.
    """
    if not similarity:
        return 0.0
    best = [max(column) for column in zip(*similarity, strict=True)]
    verdicts = [1 if value > _RECALL_THRESHOLD else 0 for value in best]
    return sum(verdicts) / len(verdicts)


class _StemCachingTokenizer:
    """rouge-score's default tokenizer with Porter stemming, remembering each word's stem (the slow part).

    Stemming is a pure function of the word, so caching it changes no result.
    """

    def __init__(self, tokenize: Callable[[str, Any], list[str]]) -> None:
        from nltk.stem import porter  # type: ignore[import-untyped]  # rouge-score's own stemmer

        self._tokenize = tokenize
        self.stem = functools.lru_cache(maxsize=65_536)(porter.PorterStemmer().stem)

    def tokenize(self, text: str) -> list[str]:
        return self._tokenize(text, self)
