"""The model-free metrics computed by ragas 0.4.3 itself, the way a user would write it.

This is the reference the workbench's ModelFreeScorer is checked against (tests/unit/evaluation/test_metrics.py)
and timed against (benchmarks). It uses the public ragas classes: the collections metrics' `ascore` and the legacy
context metrics' `single_turn_ascore`, each metric built once, all samples scored in one asyncio loop.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from workbench.evaluation.judge import run_in_own_loop
from workbench.evaluation.metrics import MODEL_FREE_METRICS, EvalSample

os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")  # ragas's analytics would try the network

Reference = Callable[[EvalSample], Coroutine[Any, Any, float]]


def _has_reference_answer(sample: EvalSample) -> bool:
    return sample.reference_answer is not None and bool(sample.reference_answer.strip())


def _ragas_metrics() -> dict[str, Reference]:
    """One ragas call per workbench metric name."""
    from ragas.dataset_schema import SingleTurnSample
    from ragas.metrics._context_precision import NonLLMContextPrecisionWithReference
    from ragas.metrics._context_recall import NonLLMContextRecall
    from ragas.metrics.collections import BleuScore, CHRFScore, ExactMatch, NonLLMStringSimilarity, RougeScore

    precision, recall = NonLLMContextPrecisionWithReference(), NonLLMContextRecall()
    text_metrics = {
        "string_similarity": NonLLMStringSimilarity(),
        "bleu": BleuScore(),
        "rouge_l": RougeScore(rouge_type="rougeL", mode="fmeasure"),
        "chrf": CHRFScore(),
        "exact_match": ExactMatch(),
    }

    def contexts(sample: EvalSample) -> SingleTurnSample:
        return SingleTurnSample(
            user_input=sample.question,
            retrieved_contexts=list(sample.retrieved_contexts),
            reference_contexts=list(sample.reference_contexts),
        )

    async def context_precision(sample: EvalSample) -> float:
        return float(await precision.single_turn_ascore(contexts(sample)))

    async def context_recall(sample: EvalSample) -> float:
        return float(await recall.single_turn_ascore(contexts(sample)))

    def text(name: str) -> Reference:
        metric = text_metrics[name]

        async def score(sample: EvalSample) -> float:
            assert sample.reference_answer is not None
            result = await metric.ascore(reference=sample.reference_answer, response=sample.answer)
            return float(result.value)

        return score

    return {
        "context_precision": context_precision,
        "context_recall": context_recall,
        **{name: text(name) for name in text_metrics},
    }


def score_with_ragas(
    samples: Sequence[EvalSample], metrics: Sequence[str] = MODEL_FREE_METRICS
) -> list[dict[str, float | None]]:
    """Per sample, each metric's ragas value; None where the workbench skips it (no reference answer/contexts).

    ragas's own exceptions propagate (e.g. NonLLMContextRecall with no retrieved contexts raises ValueError).
    """
    references = _ragas_metrics()

    def applicable(sample: EvalSample, name: str) -> bool:
        if name in ("context_precision", "context_recall"):
            return bool(sample.reference_contexts)
        return _has_reference_answer(sample)

    async def run() -> list[dict[str, float | None]]:
        results: list[dict[str, float | None]] = []
        for sample in samples:
            row: dict[str, float | None] = {}
            for name in metrics:
                row[name] = await references[name](sample) if applicable(sample, name) else None
            results.append(row)
        return results

    return run_in_own_loop(run())


_TEXT = (
    "the refund policy covers orders within thirty days of delivery and customers must keep the receipt "
    "running runners ran quickly through Zürich while naïve café owners served crème brûlée "
    "shipping costs 3.5 dollars per kilogram and express delivery takes two business days "
    "東京 is the capital of Japan; São Paulo is larger than Lisbon (population, 2020 census) "
    "employees may carry over five days of annual leave into the next calendar year"
)
_WORDS = tuple(_TEXT.split())
_PARAPHRASE = {
    "refund": "reimbursement",
    "orders": "purchases",
    "customers": "clients",
    "costs": "is",
    "ran": "sprinted",
}


def _sentence(rng: random.Random) -> str:
    words = rng.sample(_WORDS, rng.randint(3, 14))
    words[0] = words[0].capitalize()
    return " ".join(words)


def _mutate(rng: random.Random, text: str) -> str:
    kind = rng.choice(("same", "case", "drop", "swap", "paraphrase", "typos", "unrelated", "reorder", "punct", "empty"))
    words = text.split()
    if kind == "case":
        return text.upper() if rng.random() < 0.5 else text.lower()
    if kind == "drop" and len(words) > 2:
        del words[rng.randrange(len(words))]
    elif kind == "swap" and len(words) > 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == "paraphrase":
        words = [_PARAPHRASE.get(w, w) for w in words]
    elif kind == "typos":
        chars = list(text)
        for _ in range(max(1, len(chars) // rng.randint(3, 12))):
            chars[rng.randrange(len(chars))] = rng.choice("aeiouxyz ")
        return "".join(chars)
    elif kind == "unrelated":
        return ". ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))
    elif kind == "reorder":
        sentences = text.split(". ")
        rng.shuffle(sentences)
        return ". ".join(sentences)
    elif kind == "punct":
        return text.replace(" ", ", ", 2) + rng.choice(("!", "?", ".", " ."))
    elif kind == "empty":
        return rng.choice(("", " "))
    return " ".join(words)


def generated_samples(n: int, seed: int = 0) -> list[EvalSample]:
    """`n` reproducible samples with varied answers (identical, re-cased, edited, paraphrased, unrelated, empty)
    and one to five retrieved passages: exact, lightly or heavily edited copies of the reference passages, or
    unrelated ones, in shuffled order."""
    rng = random.Random(seed)
    samples = []
    for i in range(n):
        reference = ". ".join(_sentence(rng) for _ in range(rng.randint(1, 4)))
        passages = [" ".join(_sentence(rng) for _ in range(rng.randint(2, 12))) for _ in range(rng.randint(1, 3))]
        retrieved = []
        for _ in range(rng.randint(1, 5)):
            source = rng.choice(passages)
            roll = rng.random()
            retrieved.append(source if roll < 0.3 else _mutate(rng, source) if roll < 0.8 else _sentence(rng))
        samples.append(
            EvalSample(
                question=f"Question {i}: {_sentence(rng)}?",
                answer=_mutate(rng, reference),
                retrieved_contexts=tuple(retrieved),
                reference_answer=reference,
                reference_contexts=tuple(passages),
            )
        )
    return samples
