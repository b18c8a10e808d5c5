"""Eval runs on the real broker: throughput with one and with two `workbench worker` processes, nothing lost or
duplicated, and the queue's per-task overhead.

Set-up: a fresh SQLite file and MongoDB-wire server, the machine's Redis (or `--broker URL`) under a queue name of
its own, and an OpenAI-compatible stub model server that answers every request after `--model-ms` (default 100 ms)
with as many requests at once as are sent: a model server with many parallel slots, so the figures are the
workbench's own (SQL, metrics, run log, queue). Each run answers `--items` questions (default 60) with the
model-free answer metrics.

1. Throughput: two workers (one task at a time each) start together; one stops consuming (Celery's
   cancel_consumer) for a run with one worker, then takes tasks again for a run with two; items/s from the run's
   start to its completion as the app sees it (polling SQL). `scaling` = 2 workers / 1 worker
   (target >= 1.6 on 2 cores). `lost` and `duplicates` count items without a result and results beyond one per
   item, over both runs (target 0).
2. Per-task overhead: with one worker consuming, one item's task at a time is sent and waited for (its result row);
   against `EvalRunService.work_item` called directly in this process for the same kind of item. p50 of the
   difference in ms (target < 5).

    .venv/bin/python benchmarks/workers.py [--items N] [--model-ms MS] [--broker URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import emit, mongo_server, say
from _stub_model import StubModelServer

from tests.workers import start_worker, stop_worker, wait_until
from workbench.bootstrap import Container, build_container
from workbench.config import get_settings
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import EvalDatasetService

METRICS = ("exact_match", "string_similarity", "rouge_l")


def items(n: int) -> list[dict[str, str]]:
    return [{"question": f"What is the capital of country {i}?", "reference_answer": "Paris is the capital."}
            for i in range(n)]  # fmt: skip


def timed_run(container: Container, label: str) -> tuple[float, str]:
    """Start a run for the workers that consume now; items/s until it completes, as the app sees it."""
    (run,) = container.eval_runs.create_run("bench", EvalConfig(model="stub", knowledge_base=None, metrics=METRICS,
                                                                name=label), actor="bench")  # fmt: skip
    started = time.perf_counter()
    container.eval_jobs.start(run.id)
    wait_until(lambda: container.eval_runs.run(run.id).status == "completed", timeout=600, poll_s=0.02,
               what=f"run {label}")  # fmt: skip
    return container.eval_runs.run(run.id).item_count / (time.perf_counter() - started), run.id


def consuming(container: Container, worker: str, on: bool) -> None:
    """Let a live worker take tasks from the queue, or not (Celery's add_consumer / cancel_consumer)."""
    control = container.queue.app.control
    queue = container.settings.queue.name
    if on:
        control.add_consumer(queue, destination=[worker], reply=True, timeout=5)
    else:
        control.cancel_consumer(queue, destination=[worker], reply=True, timeout=5)


def lost_and_duplicated(container: Container, run_ids: list[str], n: int) -> tuple[int, int]:
    lost = duplicates = 0
    with container.uow() as uow:
        for run_id in run_ids:
            stored = [result.item_id for result in uow.evaluation.results(run_id)]
            lost += n - len(set(stored))
            duplicates += len(stored) - len(set(stored))
    return lost, duplicates


def task_overhead_ms(container: Container, rounds: int) -> tuple[float, float, float]:
    """p50 of (queued round trip - direct call) per item, and both p50s; one worker consumes."""
    runs = container.eval_runs
    (direct_run,) = runs.create_run("bench", EvalConfig(model="stub", knowledge_base=None, metrics=METRICS,
                                                        name="direct"), actor="bench")  # fmt: skip
    (queued_run,) = runs.create_run("bench", EvalConfig(model="stub", knowledge_base=None, metrics=METRICS,
                                                        name="queued"), actor="bench")  # fmt: skip
    direct_dispatch, queued_dispatch = runs.dispatch(direct_run.id), runs.dispatch(queued_run.id)
    direct: list[float] = []
    queued: list[float] = []
    for (direct_item,), (queued_item,) in list(zip(direct_dispatch.units, queued_dispatch.units, strict=True))[:rounds]:
        started = time.perf_counter()
        runs.work_item(direct_run.id, direct_dispatch.id, direct_item)
        direct.append(time.perf_counter() - started)
        started = time.perf_counter()
        container.queue.send("workbench.eval.item", [[queued_run.id, queued_dispatch.id, queued_item]])
        while True:
            with container.uow() as uow:
                if uow.evaluation.has_result(queued_run.id, queued_item):
                    break
            time.sleep(0.0005)
        queued.append(time.perf_counter() - started)
    direct_ms, queued_ms = statistics.median(direct) * 1000, statistics.median(queued) * 1000
    return queued_ms - direct_ms, direct_ms, queued_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--model-ms", type=float, default=100.0)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=30, help="items for the per-task overhead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wb-bench-workers-") as tmp, mongo_server() as client, \
            StubModelServer(delay_s=args.model_ms / 1000) as model:  # fmt: skip
        root = Path(tmp)
        url = f"mongodb://{client.address[0]}:{client.address[1]}"
        os.environ.update({
            "WORKBENCH_DATA_DIR": str(root / "data"), "WORKBENCH_MONGODB_URL": url,
            "WORKBENCH_MONGODB_DATABASE": f"bench_{uuid.uuid4().hex[:8]}",
            "WORKBENCH_QUEUE__BROKER_URL": args.broker, "WORKBENCH_QUEUE__NAME": f"wb-bench-{uuid.uuid4().hex[:8]}",
            "WORKBENCH_LLM__MODELS": model.models_env(), "WORKBENCH_LLM__DEFAULT_MODEL": "stub",
            "WORKBENCH_LLM__WARM_UP_ON_OPEN": "false", "WORKBENCH_LLM__MAX_RETRIES": "0",
        })  # fmt: skip
        container = build_container(get_settings(), register_atexit=False)
        try:
            EvalDatasetService(container.uow).import_items("bench", items(args.items), source="bench", actor="bench")
            say(f"{args.items} items, model answers after {args.model_ms:.0f} ms, broker {container.queue.broker}")
            names = ["a@bench", "b@bench"]  # both start at once (start-up is most of a worker's first seconds)
            workers = [start_worker(root / f"{name}.log", "--concurrency", "1", "--name", name) for name in names]
            try:
                wait_until(lambda: len(container.queue.status().workers) >= 2, timeout=60, what="the workers")
                consuming(container, names[1], on=False)
                one, first = timed_run(container, "one")
                say(f"1 worker: {one:.1f} items/s")
                consuming(container, names[1], on=True)
                two, second = timed_run(container, "two")
                say(f"2 workers: {two:.1f} items/s")
                consuming(container, names[1], on=False)
                overhead, direct_ms, queued_ms = task_overhead_ms(container, min(args.rounds, args.items))
                say(f"per item: direct {direct_ms:.1f} ms, through the queue {queued_ms:.1f} ms")
            finally:
                for worker in workers:
                    stop_worker(worker)
            lost, duplicates = lost_and_duplicated(container, [first, second], args.items)
        finally:
            container.close()
    emit({
        "bench": "workers", "scaling": round(two / one, 3), "items_per_s_1": round(one, 2),
        "items_per_s_2": round(two, 2), "lost": lost, "duplicates": duplicates,
        "task_overhead_ms": round(overhead, 2), "direct_ms": round(direct_ms, 2), "queued_ms": round(queued_ms, 2),
        "items": args.items, "model_ms": args.model_ms,
    })  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
