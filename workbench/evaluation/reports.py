"""What the dashboard and the CLI gate read: runs with their stored summaries, paired comparisons of runs on one
dataset, the items that changed most, one item across runs, a metric's trend, and run x item x metric CSV.

Summaries are read from `eval_summaries` (refreshed while a run goes on and when it stops or ends); a comparison
reads only the scores of the runs compared, as plain tuples, and aligns them by item key (the same question in any
dataset version).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.domain.runs import EvalRunStatus, ResultStatus
from workbench.evaluation.metrics import METRICS, ScoreStatus
from workbench.evaluation.run_view import RunView, run_view
from workbench.evaluation.runs import EvalRunError
from workbench.evaluation.stats import MetricComparison, TestName, compare_metrics, significantly_worse
from workbench.storage.ports import UnitOfWork

COMPARE_SEED = 0


@dataclass(frozen=True, slots=True)
class MetricSummary:
    metric: str
    n_ok: int
    n_failed: int
    n_skipped: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    failures: dict[str, int]


@dataclass(frozen=True, slots=True)
class RunSummary:
    run: RunView
    metrics: dict[str, MetricSummary]


@dataclass(frozen=True, slots=True)
class ItemDelta:
    item_key: str
    question: str
    baseline: float
    candidate: float

    @property
    def delta(self) -> float:
        return self.candidate - self.baseline


@dataclass(frozen=True, slots=True)
class Comparison:
    baseline: RunView
    candidate: RunView
    metrics: list[MetricComparison]
    deltas: dict[str, list[ItemDelta]] = field(default_factory=dict)  # per metric, largest change first
    unpaired: int = 0  # items scored in only one of the two runs


@dataclass(frozen=True, slots=True)
class ItemRun:
    run: RunView
    status: str
    answer: str
    contexts: list[dict[str, Any]]
    error: str | None
    scores: dict[str, tuple[float | None, str, str | None, str | None]]  # metric -> value, status, cause, detail


@dataclass(frozen=True, slots=True)
class ItemDetail:
    item_key: str
    question: str
    reference_answer: str | None
    reference_contexts: tuple[str, ...]
    runs: list[ItemRun]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    run: RunView
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n_ok: int


@dataclass(frozen=True, slots=True)
class GateVerdict:
    metric: str
    max_drop: float
    comparison: MetricComparison
    worse: bool  # significantly worse by more than max_drop (stats.significantly_worse)
    missing: int = 0  # items the baseline scored that the candidate did not (its answer or its score failed)

    @property
    def failed(self) -> bool:
        """A candidate that is worse, or that leaves items unscored: pairing alone would drop those silently."""
        return self.worse or self.missing > 0


class EvalReports:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    def runs(
        self, *, dataset: str | None = None, tag: str | None = None, status: str | None = None, limit: int = 500
    ) -> list[RunSummary]:
        """Runs newest first with their stored metric summaries, filtered by dataset name, tag and status."""
        with self._uow() as uow:
            dataset_id = None
            if dataset:
                row = uow.evaluation.dataset_by_name(dataset)
                if row is None:
                    return []
                dataset_id = row.id
            # Status is filtered in SQL; a tag inside the JSON list is filtered here, before the limit is applied.
            found = uow.evaluation.runs(
                dataset_id=dataset_id, statuses=[status] if status else None, limit=limit if tag is None else 100_000
            )
            rows = [r for r in found if tag is None or tag in r.tags][:limit]
            names = uow.evaluation.dataset_names(sorted({r.version_id for r in rows}))
            summaries: dict[str, dict[str, MetricSummary]] = {r.id: {} for r in rows}
            for s in uow.evaluation.summaries([r.id for r in rows]):
                summaries[s.run_id][s.metric] = _summary(s)
            return [RunSummary(run_view(r, names), summaries[r.id]) for r in rows]

    def resolve_id(self, ref: str, min_prefix: int = 6) -> str:
        """A run id, or the one run id that starts with `ref` (at least `min_prefix` characters)."""
        ref = ref.strip().lower()
        with self._uow() as uow:
            if uow.evaluation.run(ref) is not None:
                return ref
            if len(ref) < min_prefix or not all(c in "0123456789abcdef" for c in ref):
                raise EvalRunError(f"There is no eval run {ref}.")
            matches = uow.evaluation.run_ids_starting(ref)
        if len(matches) > 1:
            raise EvalRunError(f"'{ref}' is the start of several run ids; give more of it.")
        if not matches:
            raise EvalRunError(f"There is no eval run {ref}.")
        return matches[0]

    def summary(self, run_id: str) -> RunSummary:
        with self._uow() as uow:
            row = uow.evaluation.run(run_id)
            if row is None:
                raise EvalRunError(f"There is no eval run {run_id}.")
            names = uow.evaluation.dataset_names([row.version_id])
            metrics = {s.metric: _summary(s) for s in uow.evaluation.summaries([run_id])}
            return RunSummary(run_view(row, names), metrics)

    def compare(
        self, baseline_id: str, candidate_id: str, *, metrics: Sequence[str] | None = None,
        test: TestName = "wilcoxon", top: int = 20,
    ) -> Comparison:  # fmt: skip
        """Pair the two runs' scores by item and compare each metric (Holm-corrected across the metrics)."""
        with self._uow() as uow:
            runs = {r.id: r for r in uow.evaluation.runs_by_id([baseline_id, candidate_id])}
            missing = [i for i in (baseline_id, candidate_id) if i not in runs]
            if missing:
                raise EvalRunError(f"There is no eval run {missing[0]}.")
            names = uow.evaluation.dataset_names(sorted({r.version_id for r in runs.values()}))
            base, cand = run_view(runs[baseline_id], names), run_view(runs[candidate_id], names)
            if base.dataset != cand.dataset:
                raise EvalRunError(
                    f"Runs on different datasets cannot be paired ({base.dataset} and {cand.dataset}); "
                    "compare runs of one dataset."
                )
            scores = uow.evaluation.scores([baseline_id, candidate_id], metrics)
            questions = {}
            if top:
                for version_id in {base.version_id, cand.version_id}:
                    questions.update({i.item_key: i.question for i in uow.evaluation.items(version_id)})
        ok: dict[tuple[str, str], dict[str, float]] = {}  # (run, metric) -> item key -> value
        for run_id, key, metric, value, status, _ in scores:
            if status == ScoreStatus.OK and value is not None:
                ok.setdefault((run_id, metric), {})[key] = value
        chosen = [m for m in (metrics or METRICS) if (baseline_id, m) in ok and (candidate_id, m) in ok]
        keys: dict[str, list[str]] = {}
        for metric in chosen:
            b, c = ok[(baseline_id, metric)], ok[(candidate_id, metric)]
            keys[metric] = sorted(b.keys() & c.keys())
        results = compare_metrics(
            {m: [ok[(baseline_id, m)][k] for k in keys[m]] for m in chosen},
            {m: [ok[(candidate_id, m)][k] for k in keys[m]] for m in chosen},
            test=test, seed=COMPARE_SEED, lower_is_better=[m for m in chosen if not METRICS[m].higher_is_better],
        )  # fmt: skip
        deltas = {
            m: sorted(
                (
                    ItemDelta(k, questions.get(k, ""), ok[(baseline_id, m)][k], ok[(candidate_id, m)][k])
                    for k in keys[m]
                ),
                key=lambda d: -abs(d.delta),
            )[:top]
            for m in chosen
        }
        all_keys = {k for values in ok.values() for k in values}
        paired = set().union(*keys.values()) if keys else set()
        return Comparison(base, cand, results, deltas, unpaired=len(all_keys - paired))

    def item(self, run_ids: Sequence[str], item_key: str) -> ItemDetail:
        """One question as each run answered and scored it: the drill-down behind a changed item."""
        with self._uow() as uow:
            rows = {r.id: r for r in uow.evaluation.runs_by_id(list(run_ids))}
            names = uow.evaluation.dataset_names(sorted({r.version_id for r in rows.values()}))
            question, reference, contexts = "", None, tuple[str, ...]()
            found = uow.evaluation.items_with_key(sorted({r.version_id for r in rows.values()}), item_key)
            if found:  # as the last run's dataset version words it
                last = rows[run_ids[-1]].version_id if run_ids and run_ids[-1] in rows else None
                shown = next((i for i in found if i.version_id == last), found[0])
                question, reference = shown.question, shown.reference_answer
                contexts = tuple(shown.reference_contexts)
            runs = []
            for run_id in run_ids:
                if run_id not in rows:
                    continue
                results = uow.evaluation.results(run_id, [item_key])
                scores = {s.metric: (s.value, s.status, s.cause, s.detail)
                          for s in uow.evaluation.score_rows(run_id, [item_key])}  # fmt: skip
                result = results[0] if results else None
                runs.append(ItemRun(
                    run=run_view(rows[run_id], names), status=result.status if result else "missing",
                    answer=result.answer if result else "", contexts=list(result.contexts) if result else [],
                    error=result.error if result else None, scores=scores,
                ))  # fmt: skip
        return ItemDetail(item_key, question, reference, contexts, runs)

    def trend(self, dataset: str, metric: str) -> list[TrendPoint]:
        """A metric's stored mean and interval across the dataset's runs, oldest first."""
        with self._uow() as uow:
            row = uow.evaluation.dataset_by_name(dataset)
            if row is None:
                return []
            runs = uow.evaluation.runs(dataset_id=row.id)
            names = uow.evaluation.dataset_names(sorted({r.version_id for r in runs}))
            by_run = {s.run_id: _summary(s) for s in uow.evaluation.summaries([r.id for r in runs], [metric])}
            points = [
                TrendPoint(run_view(r, names), m.mean, m.ci_low, m.ci_high, m.n_ok)
                for r in runs
                if (m := by_run.get(r.id)) is not None
            ]
        return sorted(points, key=lambda p: p.run.created_at)

    def export_csv(self, run_ids: Sequence[str]) -> str:
        """run x item x metric, one row per score (failures with their cause), with the run's model, prompt version
        and knowledge base and the item's answer, so a spreadsheet needs nothing else."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["run_id", "run_name", "repeat", "dataset", "dataset_version", "model", "prompt",
                         "prompt_version", "knowledge_base", "top_k", "item_key", "question", "answer", "metric",
                         "value", "status", "cause"])  # fmt: skip
        with self._uow() as uow:
            rows = {r.id: r for r in uow.evaluation.runs_by_id(list(run_ids))}
            names = uow.evaluation.dataset_names(sorted({r.version_id for r in rows.values()}))
            questions: dict[str, str] = {}
            for version_id in {r.version_id for r in rows.values()}:
                questions.update({i.item_key: i.question for i in uow.evaluation.items(version_id)})
            results = {run_id: uow.evaluation.results(run_id) for run_id in rows}
            answers = {(run_id, r.item_key): r.answer for run_id, found in results.items() for r in found}
            # Items whose answer failed have no scores: one row each, so the export shows every item of a run.
            failed = sorted((run_id, r.item_key, r.error or "") for run_id, found in results.items() for r in found
                            if r.status == ResultStatus.FAILED)  # fmt: skip
            scores = sorted(uow.evaluation.scores(list(rows)), key=lambda s: (s[0], s[1], s[2]))
            # Plain values: leaving the unit of work rolls back, which expires the ORM rows.
            about = {
                r.id: (r.name, r.repeat, *names.get(r.version_id, ("?", 0)), r.config.get("model"),
                       r.config.get("prompt"), r.config.get("prompt_version"), r.config.get("knowledge_base") or "",
                       r.config.get("top_k"))
                for r in rows.values()
            }  # fmt: skip
        for run_id, key, metric, value, status, cause in scores:
            writer.writerow([run_id, *about[run_id], key, questions.get(key, ""), answers.get((run_id, key), ""),
                             metric, "" if value is None else repr(value), status, cause or ""])  # fmt: skip
        for run_id, key, error in failed:
            writer.writerow([run_id, *about[run_id], key, questions.get(key, ""), "", "", "", ResultStatus.FAILED,
                             f"no answer: {error}"])  # fmt: skip
        return out.getvalue()

    def gate(
        self, baseline_id: str, candidate_id: str, rules: dict[str, float], *, alpha: float = 0.05,
        test: TestName = "wilcoxon",
    ) -> list[GateVerdict]:  # fmt: skip
        """For a CI gate: each metric of `rules` (metric -> allowed drop) fails when the candidate is significantly
        worse by more than the drop (see stats.significantly_worse), or when it left unscored items that the
        baseline scored. Both runs must be completed."""
        unknown = [m for m in rules if m not in METRICS]
        if unknown:
            raise EvalRunError(f"Unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}.")
        comparison = self.compare(baseline_id, candidate_id, metrics=list(rules), test=test, top=0)
        for role, run in (("baseline", comparison.baseline), ("candidate", comparison.candidate)):
            if run.status != EvalRunStatus.COMPLETED:
                raise EvalRunError(
                    f"The {role} run {run.id[:12]} is {run.status} ({run.done_count} of {run.item_count} items): "
                    f"finish it first (workbench eval resume {run.id[:12]})."
                )
        found = {c.metric: c for c in comparison.metrics}
        for metric in rules:
            if metric not in found:
                lacking = [r.id[:12] for r in (comparison.baseline, comparison.candidate)
                           if not self._has_scores(r.id, metric)]  # fmt: skip
                which = f"Run {lacking[0]} has no" if len(lacking) == 1 else "Neither run has"
                raise EvalRunError(f"{which} scores for {metric}.")
        missing = self._missing(baseline_id, candidate_id, list(rules))
        return [
            GateVerdict(m, d, found[m], significantly_worse(found[m], d, alpha), missing.get(m, 0))
            for m, d in rules.items()
        ]

    def _has_scores(self, run_id: str, metric: str) -> bool:
        with self._uow() as uow:
            return any(status == ScoreStatus.OK for *_, status, _ in uow.evaluation.scores([run_id], [metric]))

    def _missing(self, baseline_id: str, candidate_id: str, metrics: list[str]) -> dict[str, int]:
        """Per metric, the items the baseline scored OK that the candidate did not."""
        with self._uow() as uow:
            scores = uow.evaluation.scores([baseline_id, candidate_id], metrics)
        ok: dict[tuple[str, str], set[str]] = {}
        for run_id, key, metric, _, status, _ in scores:
            if status == ScoreStatus.OK:
                ok.setdefault((run_id, metric), set()).add(key)
        return {m: len(ok.get((baseline_id, m), set()) - ok.get((candidate_id, m), set())) for m in metrics}


def _summary(row: Any) -> MetricSummary:
    return MetricSummary(
        metric=row.metric, n_ok=row.n_ok, n_failed=row.n_failed, n_skipped=row.n_skipped, mean=row.mean,
        ci_low=row.ci_low, ci_high=row.ci_high, failures=dict(row.failures),
    )  # fmt: skip
