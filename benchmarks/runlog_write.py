"""Run-log write path: the repository and the background writer against bare pymongo insert_many.

Variants, each into its own fresh database carrying the same indexes (MongoRunLogStore.ensure_indexes), on
one server, with the same documents and batch size, interleaved slice by slice (1,000 docs) so that noise from
other processes falls on every variant alike:
  bare        collection.insert_many(batch, ordered=False)            (the floor: no rollups, no writer)
  repository  MongoRunLogStore.write(batch)                           (insert + hourly rollup upserts)
  writer      RunLogWriter.log(record) for each record, then flush()  (end to end, as the app logs)
Then the latency a chat request pays per record: RunLogWriter.log() alone, and RunLog(...) + log().

The embedded server inserts only ~800 docs/s into a collection with the run log's seven indexes, so the
default writes 10,000 docs per variant (about a minute); --full writes the 20,000 of the target.

    .venv/bin/python benchmarks/runlog_write.py [--quick | --full | --docs N]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import emit, live_times, make_record, median, mongo_server, percentile, record_fields, rotated, say
from pymongo import MongoClient
from pymongo.database import Database

from workbench.domain.runlog import RunLog
from workbench.storage.runlog.spool import Spool
from workbench.storage.runlog.store import MongoRunLogStore
from workbench.storage.runlog.writer import RunLogWriter

RATIO_TARGET = 1.3
LOG_P50_TARGET_US = 1_000.0
VARIANTS = ("bare", "repository", "writer")
Docs = list[dict[str, Any]]
Runner = Callable[[Database[dict[str, Any]], Sequence[Docs], Sequence[RunLog]], None]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000, help="run logs written per variant")
    parser.add_argument("--slice", type=int, default=1_000, help="docs per interleaved slice (medians reported)")
    parser.add_argument("--batch-size", type=int, default=500, help="as RunLogSettings.batch_size")
    parser.add_argument("--latency-records", type=int, default=4_000, help="records timed one by one")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="3,000 docs, 2,000 timed records (~20 s)")
    size.add_argument("--full", action="store_true", help="20,000 docs, 10,000 timed records (~2 min)")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.latency_records = 3_000, 2_000
    elif args.full:
        args.docs, args.latency_records = 20_000, 10_000
    return args


def fresh_database(client: MongoClient[dict[str, Any]], name: str) -> Database[dict[str, Any]]:
    database = client[name]  # the server is this run's own, so every name starts empty
    MongoRunLogStore(database).ensure_indexes()
    return database


def write_bare(database: Database[dict[str, Any]], batches: Sequence[Docs], records: Sequence[RunLog]) -> None:
    logs = database["run_logs"]
    for batch in batches:
        logs.insert_many(batch, ordered=False)  # unordered, as the repository inserts


def write_repository(database: Database[dict[str, Any]], batches: Sequence[Docs], records: Sequence[RunLog]) -> None:
    store = MongoRunLogStore(database)
    for batch in batches:
        store.write(batch)


class WriterVariant:
    """One RunLogWriter kept running across slices, as in the app; each slice is logged and then flushed."""

    def __init__(self, database: Database[dict[str, Any]], batch_size: int) -> None:
        self._spool_dir = tempfile.TemporaryDirectory(prefix="wb-bench-spool-")
        store = MongoRunLogStore(database)
        self.writer = RunLogWriter(store, Spool(Path(self._spool_dir.name)), batch_size=batch_size).start()

    def __call__(self, database: Database[dict[str, Any]], batches: Sequence[Docs], records: Sequence[RunLog]) -> None:
        for record in records:
            self.writer.log(record)
        if not self.writer.flush(timeout=300):
            raise RuntimeError("the writer did not flush within 300 s")

    def close(self, expected: int) -> None:
        self.writer.close()
        self._spool_dir.cleanup()
        stats = self.writer.stats
        if stats.spooled or stats.written != expected:
            raise RuntimeError(f"the writer did not deliver everything: {stats}")


def check_written(database: Database[dict[str, Any]], variant: str, expected: int) -> None:
    stored = database["run_logs"].estimated_document_count()  # count_documents scans: seconds here
    rolled = sum(doc.get("count", 0) for doc in database["run_log_rollups"].find({}, {"count": 1}))
    want_rolled = 0 if variant == "bare" else expected
    if stored != expected or rolled != want_rolled:
        raise RuntimeError(f"{variant}: {stored} logs and {rolled} rolled up, expected {expected}/{want_rolled}")


def measure_throughput(client: MongoClient[dict[str, Any]], args: argparse.Namespace) -> dict[str, list[float]]:
    """Seconds per slice and variant. Slices are interleaved so that noise from other processes on the machine
    falls on every variant alike; each variant writes into its own fresh database, which grows alike."""
    rng = random.Random(20_240_601)
    now = datetime.now(UTC)
    records = [make_record(rng, t) for t in live_times(rng, args.docs, now, timedelta(minutes=20))]
    docs = [record.to_document() for record in records]
    databases = {name: fresh_database(client, f"bench_write_{name}") for name in VARIANTS}
    writer = WriterVariant(databases["writer"], args.batch_size)
    runners: dict[str, Runner] = {"bare": write_bare, "repository": write_repository, "writer": writer}
    slices = range(0, len(docs), args.slice)
    say(
        f"throughput: {args.docs:,} run logs per variant in batches of {args.batch_size}, "
        f"interleaved in {len(slices)} slices of {args.slice:,}"
    )
    timings: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for number, first in enumerate(slices):
        part = docs[first : first + args.slice]
        batches = [part[i : i + args.batch_size] for i in range(0, len(part), args.batch_size)]
        line = []
        for variant in rotated(VARIANTS, number):
            started = time.perf_counter()
            runners[variant](databases[variant], batches, records[first : first + args.slice])
            elapsed = time.perf_counter() - started
            timings[variant].append(elapsed)
            line.append(f"{variant} {elapsed:.2f}s")
        ratio = timings["repository"][-1] / timings["bare"][-1]
        say(f"  slice {number + 1}/{len(slices)}: " + ", ".join(line) + f"; repository/bare {ratio:.2f}")
    writer.close(len(docs))
    checked = time.perf_counter()
    for name, database in databases.items():
        check_written(database, name, len(docs))
    say(f"  every variant stored {len(docs):,} logs (checked in {time.perf_counter() - checked:.1f}s)")
    return timings


def measure_log_latency(client: MongoClient[dict[str, Any]], count: int) -> dict[str, list[float]]:
    """Per-record cost on the request path while the writer thread delivers concurrently.

    Records arrive as chat turns do: a few at a time (retrieval, embedding, generation) with a pause between
    turns, so the writer thread is busy in the background as it would be under load.
    """
    rng = random.Random(7)
    kwargs = [record_fields(rng) for _ in range(count)]
    database = fresh_database(client, "bench_write_latency")
    call_ns: list[float] = []
    record_ns: list[float] = []
    with tempfile.TemporaryDirectory(prefix="wb-bench-spool-") as spool_dir:
        writer = RunLogWriter(MongoRunLogStore(database), Spool(Path(spool_dir))).start()
        clock = time.perf_counter_ns
        for i, fields in enumerate(kwargs):
            t0 = clock()
            record = RunLog(**fields)
            t1 = clock()
            writer.log(record)
            t2 = clock()
            call_ns.append(t2 - t1)
            record_ns.append(t2 - t0)
            if i % 4 == 3:
                time.sleep(0.002)  # the rest of the chat turn
        writer.flush(timeout=120)
        writer.close()
    return {"log_call_us": [ns / 1_000 for ns in call_ns], "record_and_log_us": [ns / 1_000 for ns in record_ns]}


def main() -> None:
    args = parse_args()
    with mongo_server() as client:
        timings = measure_throughput(client, args)
        say(f"latency: {args.latency_records:,} records logged one by one, 4 per simulated chat turn")
        latency = measure_log_latency(client, args.latency_records)
    repo_s, bare_s, writer_s = (sum(timings[name]) for name in ("repository", "bare", "writer"))
    # Paired per-slice ratios, then their median: robust to a noisy neighbour slowing one slice.
    ratio = median([r / b for r, b in zip(timings["repository"], timings["bare"], strict=True)])
    writer_ratio = median([w / b for w, b in zip(timings["writer"], timings["bare"], strict=True)])
    log_p50, log_p99 = percentile(latency["log_call_us"], 50), percentile(latency["log_call_us"], 99)
    rec_p50, rec_p99 = percentile(latency["record_and_log_us"], 50), percentile(latency["record_and_log_us"], 99)
    say(f"total bare {bare_s:.1f}s, repository {repo_s:.1f}s, writer end to end {writer_s:.1f}s")
    say(f"median per-slice repository/bare = {ratio:.2f} (target <= {RATIO_TARGET}); writer/bare = {writer_ratio:.2f}")
    say(f"log() p50 {log_p50:.1f} us, p99 {log_p99:.1f} us")
    say(f"RunLog(...) + log() p50 {rec_p50:.1f} us, p99 {rec_p99:.1f} us")
    emit(
        {
            "bench": "runlog_write",
            "docs": args.docs,
            "batch_size": args.batch_size,
            "slices": len(timings["bare"]),
            "ratio": round(ratio, 3),
            "ratio_of_totals": round(repo_s / bare_s, 3),
            "repo_s": round(repo_s, 3),
            "bare_s": round(bare_s, 3),
            "writer_s": round(writer_s, 3),
            "writer_end_to_end_ratio": round(writer_ratio, 3),
            "bare_docs_per_s": round(args.docs / bare_s),
            "repo_docs_per_s": round(args.docs / repo_s),
            "log_call_p50_us": round(log_p50, 1),
            "log_call_p99_us": round(log_p99, 1),
            "record_and_log_p50_us": round(rec_p50, 1),
            "record_and_log_p99_us": round(rec_p99, 1),
            "ratio_target": RATIO_TARGET,
            "ratio_target_met": ratio <= RATIO_TARGET,
            "log_latency_target_us": LOG_P50_TARGET_US,
            "log_latency_target_met": log_p50 < LOG_P50_TARGET_US and rec_p50 < LOG_P50_TARGET_US,
        }
    )


if __name__ == "__main__":
    main()
