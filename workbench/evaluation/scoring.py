"""One eval item: answered by the pinned pipeline, scored, and stored with its scores in one transaction.

The unique key (run, item) makes a second store (another runner scored it meanwhile) a no-op: theirs stands, and
only the runner whose result was stored writes the run-log record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from workbench.domain.ids import new_id
from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.domain.runs import ResultStatus
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import EvalItem
from workbench.evaluation.metrics import METRICS, EvalSample, MetricScore, ModelFreeScorer, ScoreStatus
from workbench.evaluation.pipeline import PipelineAnswer
from workbench.storage.conflicts import is_unique_violation
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import EvalResultRow, EvalRunRow, EvalScoreRow

log = logging.getLogger(__name__)


class Pipeline(Protocol):
    def resolve(self, config: EvalConfig) -> dict[str, Any]: ...
    def answer(self, question: str, config: dict[str, Any]) -> PipelineAnswer: ...


class Judge(Protocol):
    def score(self, sample: EvalSample, metrics: Sequence[str]) -> list[MetricScore]: ...


class RunLogSink(Protocol):
    def log(self, record: RunLog) -> None: ...


class ItemScorer:
    """Answers and scores items of any run; thread-safe (each item uses its own unit of work)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], pipeline: Pipeline, runlog: RunLogSink) -> None:
        self._uow = uow_factory
        self._pipeline = pipeline
        self._runlog = runlog
        self._scorer = ModelFreeScorer()

    def work(self, run: EvalRunRow, item: EvalItem, judge: Judge | None) -> None:
        """Answer the item with the run's configuration, score the answer with its metrics, store both."""
        config = run.config
        produced = self._pipeline.answer(item.question, config)
        scores: list[MetricScore] = []
        if produced.error is None:
            sample = EvalSample(
                question=item.question, answer=produced.answer,
                retrieved_contexts=tuple(c["text"] for c in produced.contexts), reference_answer=item.reference_answer,
                reference_contexts=item.reference_contexts,
            )  # fmt: skip
            free = [m for m in config["metrics"] if not METRICS[m].needs_judge]
            judged = [m for m in config["metrics"] if METRICS[m].needs_judge]
            scores = self._scorer.score(sample, free)
            if judged and judge is not None:
                scores += judge.score(sample, judged)
        self._store(run, item, produced, scores)

    def _store(self, run: EvalRunRow, item: EvalItem, produced: PipelineAnswer, scores: list[MetricScore]) -> None:
        result_id = new_id()
        status = ResultStatus.FAILED if produced.error else ResultStatus.OK
        try:
            with self._uow() as uow:
                uow.evaluation.add(EvalResultRow(
                    id=result_id, run_id=run.id, item_id=item.id, item_key=item.item_key, status=status,
                    answer=produced.answer, contexts=produced.contexts, error=produced.error,
                    latency_ms=produced.latency_ms, output_tokens=produced.output_tokens,
                ))  # fmt: skip
                uow.evaluation.flush()  # the unique (run, item) key is checked before any score is added
                uow.evaluation.add_all([
                    EvalScoreRow(
                        run_id=run.id, item_id=item.id, item_key=item.item_key, metric=s.metric, value=s.value,
                        status=s.status.value, cause=s.cause.value if s.cause else None, detail=s.detail,
                    ) for s in scores
                ])  # fmt: skip
                uow.evaluation.set_counts(run.id, grow_only=True)
                uow.commit()
        except Exception as exc:
            if is_unique_violation(exc):  # scored by another runner meanwhile: theirs stands
                log.info("eval run %s: item %s was already scored", run.id, item.id)
                return
            raise
        self._log(run, item, produced, result_id, scores)

    def _log(
        self, run: EvalRunRow, item: EvalItem, produced: PipelineAnswer, result_id: str, scores: list[MetricScore]
    ) -> None:
        config = run.config
        failed = [f"{s.metric}: {s.cause}" for s in scores if s.status == ScoreStatus.FAILED]
        self._runlog.log(RunLog(
            id=result_id, kind=RunKind.EVAL, provider="eval", model=config["model"],
            status=RunStatus.ERROR if produced.error else RunStatus.OK, latency_ms=produced.latency_ms,
            output_tokens=produced.output_tokens, run_id=run.id, prompt_name=config["prompt"],
            prompt_version=config["prompt_version"], error=produced.error,
            metadata={"item_key": item.item_key, "dataset_version": run.version_id,
                      "scores": {s.metric: s.value for s in scores}, "judge_failures": failed[:10]},
        ))  # fmt: skip
