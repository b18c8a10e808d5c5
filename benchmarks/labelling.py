"""Labelling: the time from submitting a label to the next item shown, and agreement over a large queue's labels.

1. Submit -> next item (the service level, as the Annotate page does it): a queue of 400 items, 2 annotators per
   item and two annotators; one step is `AnnotationService.submit(current item)` then `next_item()`. The two
   annotators' steps and the baseline are interleaved round by round (rotating order) until the queue is done.
   Baseline, on the same database in the same run: the bare floor of those two user events, two minimal
   transactions that each read one row by primary key and commit (same engine and session factory).
   A temp SQLite file by default; `--postgres URL` also runs it in a fresh database created on that server and
   dropped afterwards. Target: a median step well under 100 ms.
2. Agreement over 10,000 items x 5 annotators x 4 fields (binary and 5 categories, nominal; Likert 1-5, ordinal;
   integers 0-100, interval), seeded labels with ~15% missing. `field_agreement` per field against the reference
   implementations on the same matrices: `krippendorff.alpha` at the field's level, statsmodels'
   `fleiss_kappa(aggregate_raters(...))` on the complete items, sklearn's `cohen_kappa_score` for the 10 annotator
   pairs. Rounds alternate which goes first; per-field medians. Also the largest difference of our values from theirs.

    .venv/bin/python benchmarks/labelling.py [--items N] [--rounds N] [--postgres URL] [--quick]
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np
import numpy.typing as npt
from _common import emit, median, percentile, postgres_database, rotated, say, sqlite_database
from argon2 import PasswordHasher
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from workbench.domain.ids import new_id
from workbench.domain.users import Role
from workbench.labelling.agreement import LEVEL_WEIGHTS, CohenWeights, FieldAgreement, Level, field_agreement
from workbench.labelling.annotation import AnnotationService
from workbench.labelling.queues import QueueService
from workbench.labelling.rubrics import DEFAULT_RUBRIC, LabelValues
from workbench.labelling.views import Actor, ItemDraft, ItemView
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.migrate import upgrade
from workbench.storage.sql.models import LabelRow, UserRow
from workbench.storage.sql.uow import SqlUnitOfWork

STEP_TARGET_MS = 100.0
ANNOTATORS_PER_ITEM = 2
WARMUP_ROUNDS = 3  # connection pool, statement caches, SQLite page cache
MISSING = 0.15
# Agreement fields: name, level of measurement.
FIELDS: tuple[tuple[str, Level], ...] = (
    ("binary", "nominal"),
    ("categorical", "nominal"),
    ("likert", "ordinal"),
    ("numeric", "interval"),
)
REFERENCES = ("alpha", "fleiss", "cohen")
FloatArray = npt.NDArray[np.float64]
Pair = tuple[int, int]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=400, help="items in the labelling queue (step timing)")
    parser.add_argument("--agreement-items", type=int, default=10_000, help="items of the agreement matrices")
    parser.add_argument("--annotators", type=int, default=5, help="annotators (columns) of the agreement matrices")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved agreement rounds (medians reported)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also time the steps on this PostgreSQL server, in a fresh "
        "database created and dropped by the run (e.g. postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument("--quick", action="store_true", help="100 queue items, 3 agreement rounds (~15 s)")
    args = parser.parse_args()
    if args.quick:
        args.items, args.rounds = 100, 3
    return args


# Submit -> next item ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    annotation: AnnotationService
    engine: Engine
    sessions: sessionmaker[Session]
    queue_id: str
    annotators: tuple[Actor, ...]


def user_row(username: str, role: Role, password_hash: str) -> UserRow:
    return UserRow(id=new_id(), username=username, display_name=username.title(), password_hash=password_hash,
                   role=role.value, is_active=True)  # fmt: skip


def draft(i: int) -> ItemDraft:
    """A chat answer as the labelling sources build it: question, answer, four retrieved passages, metadata."""
    chunks = [
        {"chunk_id": f"c{i}-{k}", "source": f"handbook-{k}.md", "score": round(0.9 - 0.1 * k, 2),
         "text": f"Passage {k} retrieved for question {i}. " * 12}
        for k in range(4)
    ]  # fmt: skip
    return ItemDraft("eval", f"bench-{i:06d}", f"Question {i}: how does the refund policy apply here?",
                     f"Answer {i}. " + "The policy says the refund is due within 30 days. " * 10, chunks=chunks,
                     metadata={"model": "qwen2.5-coder-0.5b-instruct", "knowledge_base": "handbook"})  # fmt: skip


def set_up_queue(url: str, items: int) -> Queue:
    upgrade(url)
    engine = build_engine(url)
    sessions = build_session_factory(engine)

    def make_uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    # Real Argon2id with the cheapest parameters (as the tests' fast_password_hashing): hashing is not measured.
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("bench-password-0000")
    analyst = user_row("bench-analyst", Role.ANALYST, password_hash)
    annotators = [user_row(f"bench-annotator-{n}", Role.ANNOTATOR, password_hash) for n in (1, 2)]
    with make_uow() as uow:
        for row in (analyst, *annotators):
            uow.users.add(row)
        uow.commit()
    reviewer = Actor(analyst.id, analyst.username, Role.ANALYST)
    queues = QueueService(make_uow)
    rubric = queues.save_rubric(reviewer, "bench-quality", DEFAULT_RUBRIC)
    queue = queues.create_queue(reviewer, "bench-answers", rubric.version_id, ANNOTATORS_PER_ITEM,
                                [row.id for row in annotators])  # fmt: skip
    drafts = [draft(i) for i in range(items)]
    for first in range(0, items, 5_000):
        queues.add_items(reviewer, queue.id, drafts[first : first + 5_000])
    actors = tuple(Actor(row.id, row.username, Role.ANNOTATOR) for row in annotators)
    return Queue(AnnotationService(make_uow), engine, sessions, queue.id, actors)


def random_label(rng: random.Random, item: ItemView) -> LabelValues:
    issue = rng.choice(("none", "none", "hallucination", "incomplete", "off-topic", None))
    values = {"correct": rng.random() < 0.7, "helpfulness": rng.randint(1, 5), "issue": issue}
    relevance = {str(chunk["chunk_id"]): rng.random() < 0.6 for chunk in item.chunks}
    return LabelValues(values, relevance)


def round_trip_pair(sessions: sessionmaker[Session], user_id: str) -> float:
    """The baseline (ms): two minimal transactions, the floor of two user events. Each reads one row by key, commits."""
    started = time.perf_counter()
    for _ in range(2):
        with sessions() as session:
            session.execute(select(UserRow.id).where(UserRow.id == user_id)).scalar_one()
            session.commit()
    return (time.perf_counter() - started) * 1_000


def measure_steps(queue: Queue, items: int) -> dict[str, list[float]]:
    """Milliseconds per step (submit, next item, both) and per baseline pair, rounds interleaved until done."""
    rng = random.Random(11)
    annotation, queue_id = queue.annotation, queue.queue_id
    actors = {actor.username: actor for actor in queue.annotators}
    current = {name: annotation.next_item(actor, queue_id) for name, actor in actors.items()}
    timings: dict[str, list[float]] = {"step": [], "submit": [], "next": [], "baseline": []}
    clock = time.perf_counter
    round_index = 0
    while any(current.values()):
        for name in rotated([*actors, "baseline"], round_index):
            if name == "baseline":
                elapsed = round_trip_pair(queue.sessions, queue.annotators[0].id)
                if round_index >= WARMUP_ROUNDS:
                    timings["baseline"].append(elapsed)
                continue
            item = current[name]
            if item is None:
                continue
            label = random_label(rng, item)
            t0 = clock()
            annotation.submit(actors[name], item.id, label)
            t1 = clock()
            current[name] = annotation.next_item(actors[name], queue_id)
            t2 = clock()
            if round_index >= WARMUP_ROUNDS:
                timings["submit"].append((t1 - t0) * 1_000)
                timings["next"].append((t2 - t1) * 1_000)
                timings["step"].append((t2 - t0) * 1_000)
        round_index += 1
        if round_index % 100 == 0:
            say(f"  {round_index} rounds, step p50 so far {median(timings['step']):.1f} ms")
    with queue.sessions() as session:
        labels = session.scalar(select(func.count()).select_from(LabelRow))
    if labels != items * ANNOTATORS_PER_ITEM:
        raise RuntimeError(f"{labels} labels stored, expected {items * ANNOTATORS_PER_ITEM}")
    return timings


def step_figures(backend: str, url: str, items: int) -> dict[str, Any]:
    started = time.perf_counter()
    queue = set_up_queue(url, items)
    say(
        f"{backend}: migrated, {items} items in a queue of {ANNOTATORS_PER_ITEM} annotators per item "
        f"({time.perf_counter() - started:.1f}s); every annotator labels every item"
    )
    try:
        timings = measure_steps(queue, items)
    finally:
        queue.engine.dispose()
    step_p50, step_p95 = percentile(timings["step"], 50), percentile(timings["step"], 95)
    base_p50 = median(timings["baseline"])
    figures = {
        "steps": len(timings["step"]),
        "submit_next_p50_ms": round(step_p50, 2),
        "submit_next_p95_ms": round(step_p95, 2),
        "submit_p50_ms": round(median(timings["submit"]), 2),
        "next_item_p50_ms": round(median(timings["next"]), 2),
        "baseline_p50_ms": round(base_p50, 3),
        "ratio": round(step_p50 / base_p50, 2),
        "target_met": step_p50 < STEP_TARGET_MS,
    }
    say(
        f"{backend}: submit -> next item p50 {step_p50:.1f} ms, p95 {step_p95:.1f} ms over {len(timings['step'])} "
        f"steps (submit {figures['submit_p50_ms']} ms + next_item {figures['next_item_p50_ms']} ms); "
        f"baseline pair p50 {base_p50:.2f} ms; ratio {figures['ratio']}; target p50 < {STEP_TARGET_MS:.0f} ms"
    )
    return figures


# Agreement ------------------------------------------------------------------------------------------------------


def label_matrices(n_items: int, n_annotators: int) -> dict[str, FloatArray]:
    """Seeded items x annotators labels, encoded as the rubric encodes them, with ~15% missing at random.

    Annotators mostly agree with a hidden true value, so the statistics are in a realistic range (0.4-0.8)."""
    rng = np.random.default_rng(20_241_126)
    shape = (n_items, n_annotators)
    truth = rng.random(n_items) < 0.7
    binary = np.where(rng.random(shape) < 0.12, ~truth[:, None], truth[:, None])
    truth_category = rng.choice(5, size=n_items, p=[0.55, 0.2, 0.12, 0.08, 0.05])
    categorical = np.where(rng.random(shape) < 0.75, truth_category[:, None], rng.integers(0, 5, shape))
    bias = rng.normal(0, 0.3, n_annotators)  # some annotators are harsher than others
    likert = np.clip(np.rint(rng.integers(1, 6, n_items)[:, None] + bias + rng.normal(0, 0.7, shape)), 1, 5)
    numeric = np.clip(np.rint(rng.uniform(0, 100, n_items)[:, None] + 5 * bias + rng.normal(0, 12, shape)), 0, 100)
    matrices = {}
    for name, values in zip((f for f, _ in FIELDS), (binary, categorical, likert, numeric), strict=True):
        matrix = values.astype(np.float64)
        matrix[rng.random(shape) < MISSING] = np.nan
        matrices[name] = matrix
    return matrices


def reference_alpha(matrix: FloatArray, level: Level) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(krippendorff.alpha(reliability_data=matrix.T, level_of_measurement=level))


def reference_fleiss(matrix: FloatArray) -> float:
    """statsmodels' Fleiss kappa on the complete items (every annotator labelled them)."""
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    table, _ = aggregate_raters(complete.astype(np.int64))
    return float(statsmodels_fleiss(table, method="fleiss"))


def reference_cohen(matrix: FloatArray, weights: CohenWeights) -> dict[Pair, float]:
    """sklearn's kappa for every annotator pair over the items both labelled, on the field's whole value domain."""
    present = ~np.isnan(matrix)
    domain = np.unique(matrix[present]).astype(np.int64)
    kappas = {}
    for i, j in combinations(range(matrix.shape[1]), 2):
        shared = present[:, i] & present[:, j]
        a, b = matrix[shared, i].astype(np.int64), matrix[shared, j].astype(np.int64)
        kappas[(i, j)] = float(cohen_kappa_score(a, b, labels=domain, weights=weights))
    return kappas


@dataclass
class FieldRun:
    ours_ms: list[float]
    reference_ms: dict[str, list[float]]
    ours: FieldAgreement | None = None
    alpha: float = float("nan")
    fleiss: float = float("nan")
    cohen: dict[Pair, float] | None = None


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1_000


def run_references(run: FieldRun, matrix: FloatArray, level: Level) -> None:
    run.alpha, alpha_ms = timed(lambda: reference_alpha(matrix, level))
    run.fleiss, fleiss_ms = timed(lambda: reference_fleiss(matrix))
    run.cohen, cohen_ms = timed(lambda: reference_cohen(matrix, LEVEL_WEIGHTS[level]))
    for name, elapsed in zip(REFERENCES, (alpha_ms, fleiss_ms, cohen_ms), strict=True):
        run.reference_ms[name].append(elapsed)


def run_ours(run: FieldRun, matrix: FloatArray, level: Level) -> None:
    run.ours, elapsed = timed(lambda: field_agreement(matrix, level))
    run.ours_ms.append(elapsed)


def differences(run: FieldRun, n_annotators: int) -> dict[str, float]:
    """The largest absolute difference of our alpha, Fleiss kappa and pairwise kappas from the references'."""
    ours = run.ours
    assert ours is not None and run.cohen is not None
    if ours.fleiss_raters != n_annotators:  # the modal label count is not "every annotator": other items
        say(f"  note: Fleiss used the items with {ours.fleiss_raters} labels, the reference the complete ones")
    if set(ours.pairwise_cohen) != set(run.cohen):
        raise RuntimeError(f"annotator pairs differ: {sorted(ours.pairwise_cohen)} vs {sorted(run.cohen)}")
    return {
        "alpha": abs(ours.alpha - run.alpha),
        "fleiss": abs(ours.fleiss - run.fleiss),
        "cohen": max(abs(kappa - run.cohen[pair]) for pair, kappa in ours.pairwise_cohen.items()),
    }


def agreement_figures(args: argparse.Namespace) -> dict[str, Any]:
    matrices = label_matrices(args.agreement_items, args.annotators)
    pairs = args.annotators * (args.annotators - 1) // 2
    say(
        f"agreement: {args.agreement_items:,} items x {args.annotators} annotators x {len(FIELDS)} fields, "
        f"~{MISSING:.0%} missing; field_agreement vs krippendorff.alpha + statsmodels Fleiss (complete items) + "
        f"sklearn Cohen ({pairs} pairs), {args.rounds} rounds"
    )
    runs = {name: FieldRun([], {ref: [] for ref in REFERENCES}) for name, _ in FIELDS}
    # A first call costs more (the krippendorff package takes seconds on its first interval field): not counted.
    warmup = FieldRun([], {ref: [] for ref in REFERENCES})
    for name, level in FIELDS:
        run_ours(warmup, matrices[name], level)
        run_references(warmup, matrices[name], level)
    warmup_reference = sum(sum(times) for times in warmup.reference_ms.values())
    say(f"  warm-up pass, not counted: ours {sum(warmup.ours_ms):.0f} ms, references {warmup_reference:.0f} ms")
    for round_index in range(args.rounds):
        line = []
        for position, (name, level) in enumerate(FIELDS):
            run, matrix = runs[name], matrices[name]
            steps = (run_ours, run_references) if (round_index + position) % 2 == 0 else (run_references, run_ours)
            for step in steps:
                step(run, matrix, level)
            reference = sum(times[-1] for times in run.reference_ms.values())
            line.append(f"{name} {run.ours_ms[-1]:.1f}/{reference:.0f} ms")
        say(f"  round {round_index + 1}/{args.rounds} (ours/reference): " + ", ".join(line))
    figures: dict[str, Any] = {}
    ours_total = reference_total = 0.0
    worst = dict.fromkeys(REFERENCES, 0.0)
    for name, level in FIELDS:
        run = runs[name]
        ours_ms = median(run.ours_ms)
        parts = {ref: median(times) for ref, times in run.reference_ms.items()}
        reference_ms = sum(parts.values())
        ours_total, reference_total = ours_total + ours_ms, reference_total + reference_ms
        diffs = differences(run, args.annotators)
        worst = {ref: max(worst[ref], diffs[ref]) for ref in REFERENCES}
        assert run.ours is not None
        say(
            f"  {name} ({level}): ours {ours_ms:.1f} ms, reference {reference_ms:.1f} ms (alpha {parts['alpha']:.1f}, "
            f"fleiss {parts['fleiss']:.1f}, cohen {parts['cohen']:.1f}), x{reference_ms / ours_ms:.0f}; "
            f"alpha {run.ours.alpha:.4f}, fleiss {run.ours.fleiss:.4f}; max |diff| "
            f"{max(diffs.values()):.1e}"
        )
        figures[f"ours_ms_{name}"] = round(ours_ms, 2)
        figures[f"reference_ms_{name}"] = round(reference_ms, 2)
        figures[f"alpha_{name}"] = round(run.ours.alpha, 4)
    ratio = reference_total / ours_total
    say(
        f"agreement total: ours {ours_total:.1f} ms, reference {reference_total:.1f} ms, reference/ours {ratio:.1f}; "
        f"max |diff| alpha {worst['alpha']:.1e}, fleiss {worst['fleiss']:.1e}, cohen {worst['cohen']:.1e}"
    )
    return {
        "agreement_items": args.agreement_items,
        "agreement_annotators": args.annotators,
        "agreement_rounds": args.rounds,
        "ours_total_ms": round(ours_total, 2),
        "reference_total_ms": round(reference_total, 2),
        "agreement_ratio": round(ratio, 1),
        **figures,
        "max_abs_diff_alpha": float(f"{worst['alpha']:.3g}"),
        "max_abs_diff_fleiss": float(f"{worst['fleiss']:.3g}"),
        "max_abs_diff_cohen": float(f"{worst['cohen']:.3g}"),
    }


def main() -> None:
    args = parse_args()
    # Turn a plain `kill` into an ordinary exit, so the temp files and the PostgreSQL database are removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    with sqlite_database() as url:
        sqlite = step_figures("sqlite", url, args.items)
    postgres: dict[str, Any] = {}
    if args.postgres:
        with postgres_database(args.postgres) as url:
            postgres = step_figures("postgres", url, args.items)
    agreement = agreement_figures(args)
    say(f"done in {time.perf_counter() - started:.0f}s")
    emit(
        {
            "bench": "labelling",
            "items": args.items,
            "annotators_per_item": ANNOTATORS_PER_ITEM,
            **sqlite,
            "target_ms": STEP_TARGET_MS,
            **{f"pg_{key}": value for key, value in postgres.items()},
            **agreement,
        }
    )


if __name__ == "__main__":
    main()
