"""Evaluation: model-free metrics against calling ragas directly, and the dashboard's queries over 100 runs.

1. Model-free metrics: 1,000 reproducible samples (`tests.evaluation_reference.generated_samples`: varied answers,
   one to five retrieved passages). `ModelFreeScorer().score_many(samples)` for all 7 model-free metrics against
   `score_with_ragas(samples, MODEL_FREE_METRICS)`, the public ragas 0.4.3 classes called the way a user would (the
   reference the unit tests check our values against). Both build their metric objects inside the timed call (a
   fresh scorer each round, so its stem cache starts empty); one small warm-up call of each first keeps the imports
   (ragas: 4-20 s) out of the figures. Rounds alternate which goes first; medians, reported as items/s. The last
   round's values must be equal (|diff| <= 1e-12, a metric skipped only where both skip it), so both did the same
   work. Target: ours/ragas >= 0.8.
2. Dashboard queries over 100 runs x 1,000 items x 7 metrics (~700,000 scores) of one dataset, in a fresh SQLite
   file (`--postgres URL`: also in a fresh database on that server, created and dropped). Seeding, timed: the
   dataset import and `EvalRunService.create_run` (10 configurations x 10 repeats) through the services, results
   and scores by Core bulk inserts in one transaction (seeded values with item difficulty and configuration
   effects, ~0.5% failed answers without scores, ~0.2% failed scores with their cause, the context metrics skipped
   on items without reference passages), then `refresh_summaries` for every run (its median per run reported).
   Then, interleaved round by round (rotating order): `EvalReports.runs(dataset=...)`, `summary(run)`,
   `compare(a, b)` (7 metrics, paired bootstrap + Wilcoxon + Holm, top-20 changed items) and `trend(dataset,
   metric)`, against the bare floor of a compare: `SELECT value FROM eval_scores WHERE run_id IN (a, b)` in a session
   of the same factory. Also a compare's parts alone: the repository's score fetch, the items it reads for the
   questions, `compare_metrics` on the aligned values. Objects alive before the rounds are frozen out of the garbage
   collector (with ragas loaded a full collection takes 0.2-0.4 s and would land in a random query). Target: every
   query's median < 500 ms.

    .venv/bin/python benchmarks/eval.py [--items N] [--rounds N] [--runs N] [--repeats N] [--postgres URL] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from _common import emit, median, postgres_database, rotated, say, sqlite_database
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from tests.evaluation_fakes import ScriptedPipeline
from tests.evaluation_reference import generated_samples, score_with_ragas
from workbench.domain.runlog import RunLog
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import EvalDatasetService
from workbench.evaluation.metrics import MODEL_FREE_METRICS, EvalSample, MetricScore, ModelFreeScorer, ScoreStatus
from workbench.evaluation.reports import COMPARE_SEED, EvalReports
from workbench.evaluation.runs import EvalRunService
from workbench.evaluation.stats import compare_metrics
from workbench.storage.ports import EvaluationRepository
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.migrate import upgrade
from workbench.storage.sql.models import EvalItemRow, EvalResultRow, EvalRunRow, EvalScoreRow
from workbench.storage.sql.uow import SqlUnitOfWork

METRICS_TARGET_RATIO = 0.8
QUERY_TARGET_MS = 500.0
MAX_ABS_DIFF = 1e-12
SAMPLES_SEED = 20_241_126
DATA_SEED = 7
WARMUP_SAMPLES = 20
DATASET = "bench-qa"
CONFIGS = 10  # runs are CONFIGS configurations x (runs / CONFIGS) repeats
TREND_METRIC = "rouge_l"
QUERIES = ("runs_table", "summary", "compare", "trend", "bare_fetch")
# Where a compare's time goes, each timed alone: the repository's score fetch (6 columns), the ORM items it reads
# for the questions of the changed items, and compare_metrics on the aligned values (bootstrap, Wilcoxon, Holm).
PARTS = ("scores_fetch", "items_fetch", "stats")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000, help="samples scored per round (metrics)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved metrics rounds (medians reported)")
    parser.add_argument("--runs", type=int, default=100, help="eval runs in the dashboard database")
    parser.add_argument("--run-items", type=int, default=1_000, help="items of the dataset (each run scores all)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved query rounds (medians reported)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also time the queries on this PostgreSQL server, in a fresh "
        "database created and dropped by the run (e.g. postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument("--quick", action="store_true", help="200 samples, 20 runs x 200 items, 5 query rounds")
    args = parser.parse_args()
    if args.quick:
        args.items, args.runs, args.run_items, args.repeats = 200, 20, 200, 5
    if args.runs % CONFIGS:
        parser.error(f"--runs must be a multiple of {CONFIGS} (configurations x repeats)")
    return args


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1_000


# 1. Model-free metrics -----------------------------------------------------------------------------------------


def ours(samples: Sequence[EvalSample]) -> list[list[MetricScore]]:
    return ModelFreeScorer().score_many(samples)


def ragas(samples: Sequence[EvalSample]) -> list[dict[str, float | None]]:
    return score_with_ragas(samples, MODEL_FREE_METRICS)


def largest_difference(
    our_scores: list[list[MetricScore]], ragas_values: list[dict[str, float | None]]
) -> tuple[float, int, int]:
    """The largest |ours - ragas| over the values both computed, and how many were compared and skipped.

    Raises when one side computed a value the other skipped, or a metric failed."""
    worst, compared, skipped = 0.0, 0, 0
    for index, (scores, reference) in enumerate(zip(our_scores, ragas_values, strict=True)):
        if [s.metric for s in scores] != list(reference):
            raise RuntimeError(f"sample {index}: metrics differ: {[s.metric for s in scores]} vs {list(reference)}")
        for score in scores:
            expected = reference[score.metric]
            if expected is None and score.status is ScoreStatus.SKIPPED:
                skipped += 1
                continue
            if expected is None or score.status is not ScoreStatus.OK or score.value is None:
                raise RuntimeError(f"sample {index} {score.metric}: ours {score}, ragas {expected!r}")
            worst = max(worst, abs(score.value - expected))
            compared += 1
    return worst, compared, skipped


def metrics_figures(args: argparse.Namespace) -> dict[str, Any]:
    samples = generated_samples(args.items, SAMPLES_SEED)
    say(
        f"metrics: {args.items:,} samples x {len(MODEL_FREE_METRICS)} model-free metrics, "
        f"ModelFreeScorer().score_many vs score_with_ragas (ragas called directly), {args.rounds} rounds"
    )
    # First calls import the scoring libraries (ragas: langchain, datasets, ...): warm-up, not counted.
    _, ours_warm = timed(lambda: ours(samples[:WARMUP_SAMPLES]))
    _, ragas_warm = timed(lambda: ragas(samples[:WARMUP_SAMPLES]))
    say(f"  warm-up on {WARMUP_SAMPLES} samples, not counted: ours {ours_warm:.0f} ms, ragas {ragas_warm:,.0f} ms")
    variants: dict[str, Callable[[Sequence[EvalSample]], Any]] = {"ours": ours, "ragas": ragas}
    times: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, Any] = {}
    for round_index in range(args.rounds):
        for name in rotated(list(variants), round_index):
            results[name], elapsed = timed(lambda name=name: variants[name](samples))  # type: ignore[misc]
            times[name].append(elapsed)
        last = {name: f"{values[-1]:,.0f} ms" for name, values in times.items()}
        say(f"  round {round_index + 1}/{args.rounds}: ours {last['ours']}, ragas {last['ragas']}")
    worst, compared, skipped = largest_difference(results["ours"], results["ragas"])
    if worst > MAX_ABS_DIFF:
        raise RuntimeError(f"ModelFreeScorer differs from ragas by {worst:.3g} (> {MAX_ABS_DIFF:g})")
    ours_ips = args.items / (median(times["ours"]) / 1_000)
    ragas_ips = args.items / (median(times["ragas"]) / 1_000)
    ratio = ours_ips / ragas_ips
    say(
        f"metrics: ours {ours_ips:,.0f} items/s ({median(times['ours']):,.0f} ms), ragas {ragas_ips:,.0f} items/s "
        f"({median(times['ragas']):,.0f} ms); ours/ragas {ratio:.2f} (target >= {METRICS_TARGET_RATIO}); "
        f"{compared:,} values equal to {worst:.1e}, {skipped} skipped by both"
    )
    return {
        "items": args.items,
        "metrics": len(MODEL_FREE_METRICS),
        "metrics_rounds": args.rounds,
        "metrics_items_per_s": round(ours_ips, 1),
        "ragas_items_per_s": round(ragas_ips, 1),
        "metrics_ratio": round(ratio, 2),
        "metrics_target_met": ratio >= METRICS_TARGET_RATIO,
        "metrics_max_abs_diff": float(f"{worst:.3g}"),
        "metrics_values_compared": compared,
    }


# 2. Dashboard queries ------------------------------------------------------------------------------------------


class NoRunLog:
    def log(self, record: RunLog) -> None:
        pass


@dataclass(frozen=True)
class Dashboard:
    engine: Engine
    sessions: sessionmaker[Session]
    reports: EvalReports
    run_ids: list[str]  # oldest first
    pair: tuple[str, str]  # the compared runs: two configurations' first repeats
    scores: int
    timings: dict[str, float]  # seconds of each seeding step
    refresh_ms: float  # median refresh_summaries per run


def dataset_items(n: int) -> list[dict[str, Any]]:
    """The items of the dataset, from the same generator as the metrics part; every 40th has no reference passage."""
    return [
        {"question": s.question, "reference_answer": s.reference_answer,
         "reference_contexts": [] if i % 40 == 39 else list(s.reference_contexts), "tags": [f"topic-{i % 8}"]}
        for i, s in enumerate(generated_samples(n, DATA_SEED))
    ]  # fmt: skip


def create_runs(runs: EvalRunService, count: int) -> list[str]:
    """CONFIGS configurations (model x top_k x temperature) with count / CONFIGS repeats each, through the service."""
    ids = []
    for c in range(CONFIGS):
        config = EvalConfig(
            model=f"model-{c % 5}", knowledge_base="handbook", top_k=(4, 8)[c // 5], temperature=0.2 * (c % 2),
            tags=("bench", f"config-{c}"),
        )  # fmt: skip
        ids += [view.id for view in runs.create_run(DATASET, config, actor="bench", repeats=count // CONFIGS)]
    return ids


def run_started(index: int) -> datetime:
    """Runs four a day over the weeks before the benchmark's date, in creation order."""
    return datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=6 * index)


def score_rows(
    rng: np.random.Generator, run_ids: list[str], items: list[tuple[str, str, bool]]
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]], int]]:
    """Per run: its result rows, its score rows, and its failed answers. Seeded values with item difficulty, per
    configuration and per repeat effects; ~0.5% failed answers (no scores), ~0.2% failed scores."""
    n_items, n_metrics = len(items), len(MODEL_FREE_METRICS)
    difficulty = rng.normal(0, 1, n_items)
    base = rng.uniform(0.3, 0.8, n_metrics)
    config_effect = rng.normal(0, 0.04, (CONFIGS, n_metrics))
    repeats = len(run_ids) // CONFIGS
    exact = MODEL_FREE_METRICS.index("exact_match")
    context = {MODEL_FREE_METRICS.index(m) for m in ("context_precision", "context_recall")}
    ids = (f"{n:032x}" for n in itertools.count(1))  # unique like new_id(), cheaper than 800,000 uuid4 calls
    for r, run_id in enumerate(run_ids):
        effect = config_effect[r // repeats] + rng.normal(0, 0.01, n_metrics)
        values = np.clip(base + effect + 0.15 * difficulty[:, None] + rng.normal(0, 0.1, (n_items, n_metrics)), 0, 1)
        values[:, exact] = (rng.random(n_items) < values[:, exact] * 0.3).astype(float)
        failed_answer = rng.random(n_items) < 0.005
        failed_score = rng.random((n_items, n_metrics)) < 0.002
        timeout = rng.random((n_items, n_metrics)) < 0.5
        latency = rng.lognormal(7, 0.5, n_items)
        results, scores = [], []
        at = run_started(r)
        for i, (item_id, key, has_contexts) in enumerate(items):
            results.append({
                "id": next(ids), "run_id": run_id, "item_id": item_id, "item_key": key,
                "status": "failed" if failed_answer[i] else "ok",
                "answer": "" if failed_answer[i] else f"Answer {i} of run {r}: the refund is due within 30 days.",
                "contexts": [] if failed_answer[i] else [{"text": f"Passage {i}.", "source": "doc", "score": 0.5}],
                "error": "local (echo): the server went away" if failed_answer[i] else None,
                "latency_ms": float(latency[i]), "output_tokens": 12, "created_at": at,
            })  # fmt: skip
            if failed_answer[i]:
                continue
            row = values[i].tolist()
            for m, metric in enumerate(MODEL_FREE_METRICS):
                score = {"id": next(ids), "run_id": run_id, "item_id": item_id, "item_key": key, "metric": metric,
                         "value": None, "status": "ok", "cause": None, "detail": None}  # fmt: skip
                if m in context and not has_contexts:
                    score.update(status="skipped", cause="missing_input", detail="no reference contexts")
                elif failed_score[i, m]:
                    timed_out = bool(timeout[i, m])
                    score.update(status="failed", cause="timeout" if timed_out else "error",
                                 detail="timed out after 60s" if timed_out else "ValueError: bad input")  # fmt: skip
                else:
                    score["value"] = row[m]
                scores.append(score)
        yield results, scores, int(failed_answer.sum())


def seed(url: str, n_runs: int, n_items: int) -> Dashboard:
    timings: dict[str, float] = {}
    clock = time.perf_counter
    started = clock()
    upgrade(url)
    engine = build_engine(url)
    sessions = build_session_factory(engine)

    def make_uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    timings["migrate"] = clock() - started
    step = clock()
    report = EvalDatasetService(make_uow).import_items(DATASET, dataset_items(n_items), source="generator",
                                                       actor="bench")  # fmt: skip
    if report.imported != n_items:
        raise RuntimeError(f"{report.imported} items imported, expected {n_items} ({report.rejected[:3]})")
    timings["import"] = clock() - step
    step = clock()
    service = EvalRunService(make_uow, ScriptedPipeline(), NoRunLog())
    run_ids = create_runs(service, n_runs)
    timings["create_runs"] = clock() - step
    step = clock()
    rng = np.random.default_rng(DATA_SEED)
    n_scores = 0
    # Results and scores with Core bulk inserts in one transaction, on a connection of its own engine: foreign-key
    # checks off and a large page cache for the load only (the queries' engine keeps the app's settings).
    loader = build_engine(url)
    with loader.connect() as conn:
        if loader.dialect.name == "sqlite":
            for pragma in ("foreign_keys=OFF", "synchronous=OFF", "cache_size=-262144"):
                conn.exec_driver_sql(f"PRAGMA {pragma}")
        items = [
            (item_id, key, bool(contexts))
            for item_id, key, contexts in conn.execute(
                select(EvalItemRow.id, EvalItemRow.item_key, EvalItemRow.reference_contexts)
                .where(EvalItemRow.version_id == report.version.id)
                .order_by(EvalItemRow.position)
            )
        ]
        for r, (results, scores, failed) in enumerate(score_rows(rng, run_ids, items)):
            conn.execute(insert(EvalResultRow.__table__), results)
            conn.execute(insert(EvalScoreRow.__table__), scores)
            at = run_started(r)
            conn.execute(
                update(EvalRunRow).where(EvalRunRow.id == run_ids[r]).values(
                    status="completed", done_count=len(results), failed_count=failed, created_at=at, started_at=at,
                    finished_at=at + timedelta(minutes=20),
                )
            )  # fmt: skip
            n_scores += len(scores)
        conn.commit()
    loader.dispose()
    timings["bulk_insert"] = clock() - step
    step = clock()
    summary_ms = []
    for run_id in run_ids:
        _, elapsed = timed(lambda run_id=run_id: service.refresh_summaries(run_id))
        summary_ms.append(elapsed)
    timings["summaries"] = clock() - step
    # What autovacuum does soon after a bulk load on PostgreSQL (the app never runs ANALYZE on SQLite).
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    timings["seed"] = clock() - started
    pair = (run_ids[0], run_ids[n_runs // CONFIGS])
    return Dashboard(engine, sessions, EvalReports(make_uow), run_ids, pair, n_scores, timings, median(summary_ms))


def bare_fetch(dashboard: Dashboard) -> list[Any]:
    """The floor of a compare: the values of the two runs' scores, one plain query in a session of the factory."""
    with dashboard.sessions() as session:
        return list(session.execute(select(EvalScoreRow.value).where(EvalScoreRow.run_id.in_(dashboard.pair))).all())


def repository_read(dashboard: Dashboard, read: Callable[[EvaluationRepository], Any]) -> Any:
    with SqlUnitOfWork(dashboard.sessions) as uow:
        return read(uow.evaluation)


def aligned_values(scores: list[Any], a: str, b: str) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The two runs' OK values per metric on the items both scored, in item-key order (as EvalReports.compare)."""
    ok: dict[tuple[str, str], dict[str, float]] = {}
    for run_id, key, metric, value, status, _ in scores:
        if status == "ok" and value is not None:
            ok.setdefault((run_id, metric), {})[key] = value
    keys = {m: sorted(ok[(a, m)].keys() & ok[(b, m)].keys()) for m in MODEL_FREE_METRICS}
    return (
        {m: [ok[(a, m)][k] for k in keys[m]] for m in MODEL_FREE_METRICS},
        {m: [ok[(b, m)][k] for k in keys[m]] for m in MODEL_FREE_METRICS},
    )


def query_calls(dashboard: Dashboard) -> dict[str, Callable[[], Any]]:
    reports, (a, b) = dashboard.reports, dashboard.pair
    version_id = reports.summary(a).run.version_id
    baseline, candidate = aligned_values(repository_read(dashboard, lambda repo: repo.scores([a, b])), a, b)
    return {
        "runs_table": lambda: reports.runs(dataset=DATASET),
        "summary": lambda: reports.summary(b),
        "compare": lambda: reports.compare(a, b),
        "trend": lambda: reports.trend(DATASET, TREND_METRIC),
        "bare_fetch": lambda: bare_fetch(dashboard),
        "scores_fetch": lambda: repository_read(dashboard, lambda repo: repo.scores([a, b])),
        "items_fetch": lambda: repository_read(dashboard, lambda repo: repo.items(version_id)),
        "stats": lambda: compare_metrics(baseline, candidate, seed=COMPARE_SEED),
    }


def check(name: str, result: Any, dashboard: Dashboard, n_items: int) -> None:
    """The queries must return the whole data set (nothing cut short by a bug is timed)."""
    n_runs = len(dashboard.run_ids)
    ok = {
        "runs_table": lambda: len(result) == n_runs and all(len(s.metrics) == len(MODEL_FREE_METRICS) for s in result),
        "summary": lambda: len(result.metrics) == len(MODEL_FREE_METRICS),
        "compare": lambda: (
            len(result.metrics) == len(MODEL_FREE_METRICS)
            and all(c.n > 0.9 * n_items for c in result.metrics)
            and all(len(d) == min(20, n_items) for d in result.deltas.values())
        ),
        "trend": lambda: len(result) == n_runs,
        "bare_fetch": lambda: len(result) > 1.9 * n_items * len(MODEL_FREE_METRICS),
        "scores_fetch": lambda: len(result) > 1.9 * n_items * len(MODEL_FREE_METRICS),
        "items_fetch": lambda: len(result) == n_items,
        "stats": lambda: len(result) == len(MODEL_FREE_METRICS),
    }[name]()
    if not ok:
        raise RuntimeError(f"{name} returned an incomplete result: {str(result)[:300]}")


def query_figures(backend: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    dashboard = seed(url, args.runs, args.run_items)
    t = dashboard.timings
    say(
        f"{backend}: seeded {args.runs} runs x {args.run_items:,} items, {dashboard.scores:,} scores in "
        f"{t['seed']:.1f}s (migrate {t['migrate']:.1f}s, import {t['import']:.1f}s, create_run x{CONFIGS} "
        f"{t['create_runs']:.1f}s, bulk inserts {t['bulk_insert']:.1f}s, refresh_summaries x{args.runs} "
        f"{t['summaries']:.1f}s, median {dashboard.refresh_ms:.0f} ms per run)"
    )
    # With ragas, nltk and sklearn loaded a full garbage collection walks ~350,000 objects (0.2-0.4 s here) and lands
    # in whichever query triggers it; freezing what exists now keeps those outliers out of the query figures.
    gc.collect()
    gc.freeze()
    try:
        calls = query_calls(dashboard)
        times: dict[str, list[float]] = {name: [] for name in QUERIES + PARTS}
        warm, fetched = [], 0
        for name in QUERIES + PARTS:  # connection pool, statement caches, page cache: not counted
            result, elapsed = timed(calls[name])
            check(name, result, dashboard, args.run_items)
            warm.append(f"{name} {elapsed:.0f}")
            fetched = len(result) if name == "bare_fetch" else fetched
        say(f"  warm-up, not counted (ms): {', '.join(warm)}")
        for round_index in range(args.repeats):
            for name in rotated(QUERIES + PARTS, round_index):
                _, elapsed = timed(calls[name])
                times[name].append(elapsed)
            last = ", ".join(f"{name} {times[name][-1]:.0f}" for name in QUERIES)
            say(f"  round {round_index + 1}/{args.repeats} (ms): {last}")
    finally:
        gc.unfreeze()
        dashboard.engine.dispose()
    medians = {name: median(values) for name, values in times.items()}
    say(f"{backend}: median of {args.repeats} rounds (target < {QUERY_TARGET_MS:.0f} ms each)")
    say(f"  {'query':<12} {'median ms':>10} {'min ms':>8} {'max ms':>8}  target")
    for name in QUERIES:
        verdict = "-" if name == "bare_fetch" else "met" if medians[name] < QUERY_TARGET_MS else "MISSED"
        say(f"  {name:<12} {medians[name]:>10.1f} {min(times[name]):>8.1f} {max(times[name]):>8.1f}  {verdict}")
    ratio = medians["compare"] / medians["bare_fetch"]
    say(f"  compare / bare fetch of the same {fetched:,} score values: {ratio:.1f}")
    say(
        f"  compare's parts alone (median ms): repository score fetch (6 columns) {medians['scores_fetch']:.1f}, "
        f"ORM items (questions) {medians['items_fetch']:.1f}, compare_metrics {medians['stats']:.1f}"
    )
    return {
        "runs": args.runs,
        "run_items": args.run_items,
        "scores": dashboard.scores,
        "seed_s": round(t["seed"], 1),
        "bulk_insert_s": round(t["bulk_insert"], 1),
        "refresh_summaries_ms": round(dashboard.refresh_ms, 1),
        "query_repeats": args.repeats,
        **{f"{name}_ms": round(medians[name], 1) for name in QUERIES},
        "compare_ratio": round(ratio, 1),
        **{f"compare_{name}_ms": round(medians[name], 1) for name in PARTS},
        "queries_target_met": all(medians[n] < QUERY_TARGET_MS for n in QUERIES if n != "bare_fetch"),
    }


def main() -> None:
    args = parse_args()
    # Turn a plain `kill` into an ordinary exit, so the temp files and the PostgreSQL database are removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    metrics = metrics_figures(args)
    with sqlite_database() as url:
        sqlite = query_figures("sqlite", url, args)
    postgres: dict[str, Any] = {}
    if args.postgres:
        with postgres_database(args.postgres) as url:
            postgres = query_figures("postgres", url, args)
    say(f"done in {time.perf_counter() - started:.0f}s")
    emit(
        {
            "bench": "eval",
            **metrics,
            "metrics_target_ratio": METRICS_TARGET_RATIO,
            **sqlite,
            "query_target_ms": QUERY_TARGET_MS,
            **{f"pg_{key}": value for key, value in postgres.items()},
        }
    )


if __name__ == "__main__":
    main()
