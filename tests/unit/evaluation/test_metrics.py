"""The model-free scorer against ragas 0.4.3 itself, on fixed samples; the records and the missing-input rules."""

from __future__ import annotations

import importlib

import pytest

from tests.evaluation_reference import generated_samples, score_with_ragas
from workbench.evaluation.metrics import (
    JUDGE_METRICS,
    METRICS,
    MODEL_FREE_METRICS,
    EvalSample,
    FailureCause,
    MetricScore,
    ModelFreeScorer,
    ScoreStatus,
    missing_input,
)

TEXT_METRICS = ("string_similarity", "bleu", "rouge_l", "chrf", "exact_match")
CONTEXT_METRICS = ("context_precision", "context_recall")

LONG = (
    "Northwind's travel policy reimburses economy fares for flights under six hours. Business class needs a "
    "director's approval in writing before booking. Hotels are reimbursed up to the city rate published by "
    "finance each January; receipts must be itemised. Meals are covered by a per-diem, not by receipts. "
) * 8
OTHER = "The cafeteria opens at 7:30 and closes at 15:00; on Fridays it serves fish. Parking is free after 18:00."


def sample(
    answer: str,
    reference: str | None,
    retrieved: tuple[str, ...] = ("a retrieved passage",),
    references: tuple[str, ...] = ("a retrieved passage",),
    question: str = "What does the policy say?",
) -> EvalSample:
    return EvalSample(question, answer, retrieved, reference, references)


# Hand-picked cases, each for a reason; generated ones add volume.
EDGE_CASES = [
    sample("Paris is the capital of France.", "Paris is the capital of France."),  # identical
    sample("The cat sat on the mat today. The dog ran", "The cat sat on the mat today. The dog ran"),  # BLEU > 1
    sample("paris is the capital of france.", "Paris is the capital of France."),  # case only
    sample("PARIS IS THE CAPITAL OF FRANCE", "Paris is the capital of France."),
    sample("Hello, world!", "Hello world"),  # punctuation
    sample("Hello world...", "Hello world?!"),
    sample("It costs 3.5 dollars. Really. Yes", "It costs 3.5 dollars. Really"),  # ". " splits, "3.5" does not
    sample("First sentence differs. The dog ran in the park", "The cat sat on the mat. The dog ran in the park"),
    sample("The dog ran in the park. The cat sat on the mat", "The cat sat on the mat. The dog ran in the park"),
    sample("The Eiffel Tower is in Paris.It opened in 1889.", "The Eiffel Tower is in Paris. It opened in 1889."),
    sample("Employees get 25 days of leave.", "Staff are entitled to twenty-five vacation days."),  # paraphrase
    sample("Refunds are possible within a month.", "You can get your money back for thirty days."),
    sample("Zürich liegt in der Schweiz. Ça va très bien", "Zürich liegt in der Schweiz. Ça va bien"),  # unicode
    sample("東京は日本の首都です。", "日本の首都は東京です。"),
    sample("Café 🙂 naïve coöperate", "Cafe :) naive cooperate"),
    sample("runners were running and ran", "the runner runs while running"),  # stemming
    sample("", "Paris is the capital of France."),  # empty answer: chrF's own 0.0
    sample("   ", "Paris is the capital of France."),
    sample("!!! ???", "Paris."),  # no word tokens for ROUGE
    sample("a", "b"),
    sample("x", "x"),
    sample("line one\nline two\tand a tab", "line one line two and a tab"),
    sample("Tokenised period . Here .", "Tokenised period. Here."),
    sample(LONG[:900], LONG[:1000]),  # long texts
    sample(" ".join(reversed(LONG.split())), LONG),  # long, same words, another order: a real LCS
    # Context metrics: several passages, order, thresholds.
    sample("a", "a", retrieved=(LONG, OTHER), references=(LONG,)),  # relevant first
    sample("a", "a", retrieved=(OTHER, OTHER + " again", LONG), references=(LONG,)),  # relevant last
    sample("a", "a", retrieved=(LONG.upper(), LONG.replace("e", "3")), references=(LONG, OTHER)),
    sample("a", "a", retrieved=(OTHER, LONG[:400], LONG[400:900]), references=(LONG[:420], LONG[380:900], OTHER)),
    sample("a", "a", retrieved=("abcd",), references=("abxy",)),  # similarity exactly 0.5: precision >=, recall >
    sample("a", "a", retrieved=("abcd", "abcd"), references=("abxy", "zzzz")),
    sample("a", "a", retrieved=("", "x"), references=("", "y")),
    sample("a", "a", retrieved=("same", "same", "same"), references=("same",)),
]
SAMPLES = EDGE_CASES + generated_samples(40, seed=7)


@pytest.fixture(scope="module")
def ragas_values() -> list[dict[str, float | None]]:
    return score_with_ragas(SAMPLES)


def test_the_fixed_set_is_varied() -> None:
    assert len(SAMPLES) >= 40
    assert sum(1 for s in SAMPLES if len(s.retrieved_contexts) > 1) >= 10
    assert sum(1 for s in SAMPLES if ". " in (s.reference_answer or "")) >= 10


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_each_model_free_metric_equals_ragas(index: int, ragas_values: list[dict[str, float | None]]) -> None:
    scores = ModelFreeScorer().score(SAMPLES[index])
    assert [s.metric for s in scores] == list(MODEL_FREE_METRICS)
    for score in scores:
        expected = ragas_values[index][score.metric]
        assert expected is not None and score.status is ScoreStatus.OK, score
        assert score.value == pytest.approx(expected, abs=1e-12, rel=0), score.metric


def test_ragas_quirks_are_kept() -> None:
    scorer = ModelFreeScorer()
    bleu = scorer.score(EDGE_CASES[1], ["bleu"])[0].value
    assert bleu == 1.0000000000000004  # sacrebleu's 100.00000000000004 / 100, kept as ragas returns it
    # sacrebleu scores only the answer's first sentence, against any one of the reference's sentences:
    reference = "The cat sat on the mat today. The dog ran in the park all day"
    for answer in ("The dog ran in the park all day. The cat sat on the mat today", reference + ". Utter nonsense"):
        assert scorer.score(sample(answer, reference), ["bleu"])[0].value == pytest.approx(1.0)
    unrelated_first = scorer.score(sample("Nonsense here. " + reference, reference), ["bleu"])[0]
    assert unrelated_first.value == 0.0
    values = {s.metric: s.value for s in scorer.score(sample("abcd", "x", ("abcd",), ("abxy",)))}
    assert values["context_precision"] == pytest.approx(1.0) and values["context_recall"] == 0.0


def test_score_many_scores_each_sample_in_order() -> None:
    scorer = ModelFreeScorer()
    assert scorer.score_many(SAMPLES[:5], ("bleu", "chrf")) == [scorer.score(s, ("bleu", "chrf")) for s in SAMPLES[:5]]


def test_requested_metrics_come_back_in_the_order_asked() -> None:
    scores = ModelFreeScorer().score(EDGE_CASES[0], ["exact_match", "context_recall", "bleu"])
    assert [s.metric for s in scores] == ["exact_match", "context_recall", "bleu"]
    assert scores[0] == MetricScore("exact_match", 1.0, ScoreStatus.OK)


@pytest.mark.parametrize("reference", [None, "", "   \n"])
def test_text_metrics_without_a_reference_answer_are_skipped(reference: str | None) -> None:
    scores = {s.metric: s for s in ModelFreeScorer().score(sample("an answer", reference))}
    for name in TEXT_METRICS:
        assert scores[name] == MetricScore.skipped(name, "no reference answer")
        assert scores[name].cause is FailureCause.MISSING_INPUT and scores[name].value is None
    for name in CONTEXT_METRICS:  # reference contexts are there: still scored
        assert scores[name].status is ScoreStatus.OK


def test_context_metrics_without_reference_contexts_are_skipped() -> None:
    scores = {s.metric: s for s in ModelFreeScorer().score(sample("x", "x", references=()))}
    for name in CONTEXT_METRICS:
        assert scores[name] == MetricScore(
            name, None, ScoreStatus.SKIPPED, FailureCause.MISSING_INPUT, "no reference contexts"
        )
    assert scores["exact_match"].value == 1.0


def test_nothing_retrieved_gives_ragas_precision_and_zero_recall() -> None:
    empty = sample("x", "x", retrieved=(), references=("a reference passage",))
    scores = {s.metric: s for s in ModelFreeScorer().score(empty)}
    assert scores["context_precision"].value == score_with_ragas([empty], ["context_precision"])[0]["context_precision"]
    assert scores["context_precision"].value == 0.0
    # ragas cannot score recall here (max() of an empty list); nothing retrieved recalls no reference passage.
    with pytest.raises(ValueError, match="empty"):
        score_with_ragas([empty], ["context_recall"])
    assert scores["context_recall"] == MetricScore.ok("context_recall", 0.0)


def test_a_metric_that_raises_is_recorded_and_the_others_still_scored() -> None:
    broken = EvalSample("q", None, (), "reference", ())  # type: ignore[arg-type]  # a caller bypassing types
    scores = {s.metric: s for s in ModelFreeScorer().score(broken, ["bleu", "exact_match"])}
    assert scores["bleu"].status is ScoreStatus.FAILED and scores["bleu"].cause is FailureCause.ERROR
    assert scores["bleu"].detail is not None and scores["bleu"].detail.startswith("AttributeError: ")
    assert scores["exact_match"] == MetricScore.ok("exact_match", 0.0)


def test_unknown_and_judge_metrics_are_refused() -> None:
    with pytest.raises(ValueError, match="nonsense"):
        ModelFreeScorer().score(EDGE_CASES[0], ["bleu", "nonsense"])
    with pytest.raises(ValueError, match="faithfulness"):
        ModelFreeScorer().score(EDGE_CASES[0], ["faithfulness"])


def test_missing_input_names_what_a_judge_metric_lacks() -> None:
    s = sample("an answer", None, retrieved=())
    assert missing_input(s, "faithfulness") == MetricScore.skipped("faithfulness", "no retrieved contexts")
    assert missing_input(s, "llm_context_recall") == MetricScore.skipped(
        "llm_context_recall", "no reference answer; no retrieved contexts"
    )
    assert missing_input(s, "answer_relevancy") is None
    assert missing_input(sample("", "r"), "answer_relevancy") == MetricScore.skipped("answer_relevancy", "empty answer")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"value": float("nan"), "status": ScoreStatus.OK}, "number"),
        ({"value": None, "status": ScoreStatus.OK}, "number"),
        ({"value": 0.5, "status": ScoreStatus.OK, "cause": FailureCause.ERROR}, "cause"),
        ({"value": 0.5, "status": ScoreStatus.FAILED, "cause": FailureCause.ERROR}, "no value"),
        ({"value": None, "status": ScoreStatus.SKIPPED}, "cause"),
    ],
)
def test_a_score_record_cannot_contradict_itself(kwargs: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        MetricScore(metric="bleu", **kwargs)  # type: ignore[arg-type]


def test_the_registry_is_complete_and_names_real_ragas_classes() -> None:
    assert set(MODEL_FREE_METRICS) | set(JUDGE_METRICS) == set(METRICS)
    assert not set(MODEL_FREE_METRICS) & set(JUDGE_METRICS)
    for name, info in METRICS.items():
        assert info.name == name and info.label and info.description.endswith(".")
        assert info.higher_is_better and set(info.needs) <= set(EvalSample.__slots__)
        module, _, cls = info.ragas_class.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), cls), type), info.ragas_class
    assert [n for n, i in METRICS.items() if i.needs_embeddings] == ["answer_relevancy"]
