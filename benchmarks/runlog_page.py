"""The Run log page's queries on 100,000 run logs, against the cheapest raw query the server can answer.

Loads a realistic mix (several providers and models; llm, retrieval, embedding and eval calls; ~5% errors and
timeouts; six users; 14 days with busy working hours, quiet nights and bursts) through MongoRunLogStore.write,
so rollups exist as in the app. The loaded data directory is cached under artifacts/bench-cache, keyed by a
data-version string, so later runs skip loading. Then, for each filter the page offers, times the first page
(browse_run_logs), the next page through its keyset cursor, and overview(); plus filter_options(). Every item
is repeated (interleaved, shuffled) and its median is compared with the bare baseline: a pymongo find of the
50 newest documents within a one-hour created_at window.

    .venv/bin/python benchmarks/runlog_page.py [--quick] [--repeats N] [--reload]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from _common import CACHE_ROOT, bursty_times, emit, make_record, median, mongo_server, say, utc
from pymongo import DESCENDING, MongoClient, monitoring

from workbench.domain.runlog_query import PageCursor, RunLogFilter
from workbench.services.runlog import browse_run_logs, filter_options, overview
from workbench.storage.runlog.store import MongoRunLogStore

# Bump when the generator or the stored layout (documents, rollups, meta, indexes) changes: the cache is rebuilt.
# v2: the store keeps a run_log_meta document.
DATA_VERSION = "v2"
DATABASE = "workbench_bench"
SEED = 7
DAYS = 14
# Data ends at a fixed moment (a Friday afternoon) so cached data and "last 24 hours" never drift apart.
END = utc(2025, 6, 13, 15)
TARGET_MS = 300.0
LOAD_BATCH = 500

FILTERS: dict[str, RunLogFilter] = {
    "no_filter": RunLogFilter(),
    "last_24h": RunLogFilter(start=END - timedelta(hours=24), end=END),
    "one_model": RunLogFilter(models=("gpt-4o-mini",)),
    "errors": RunLogFilter(statuses=("error",)),
    "one_user": RunLogFilter(user_ids=("dana",)),
    "model_errors_7d": RunLogFilter(
        models=("qwen2.5-coder-0.5b-instruct",), statuses=("error",), start=END - timedelta(days=7), end=END
    ),
    "kind_user_model_errors": RunLogFilter(
        kinds=("llm",), models=("gpt-4o-mini",), user_ids=("dana",), statuses=("error", "timeout")
    ),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000, help="run logs to load")
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions of every query")
    parser.add_argument("--quick", action="store_true", help="20,000 docs, 3 repetitions")
    parser.add_argument("--reload", action="store_true", help="ignore the cached data and load again")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.repeats = 20_000, 3
    return args


# Data ----------------------------------------------------------------------------------


def data_dir(docs: int) -> Path:
    return CACHE_ROOT / f"runlog_page-{DATA_VERSION}-{docs}-seed{SEED}"


def cached_manifest(directory: Path, docs: int) -> dict[str, Any] | None:
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return manifest if manifest.get("version") == DATA_VERSION and manifest.get("docs") == docs else None


def load(client: MongoClient[dict[str, Any]], docs: int) -> dict[str, float]:
    """Write the logs through the repository, oldest first as the writer would, then build the indexes.

    Indexes are built after the load: the end state is the same, and the embedded server builds them about
    twice as fast as it maintains them insert by insert.
    """
    store = MongoRunLogStore(client[DATABASE])
    rng = random.Random(SEED)
    times = bursty_times(rng, docs, END, DAYS)
    started = time.perf_counter()
    for first in range(0, docs, LOAD_BATCH):
        store.write([make_record(rng, moment).to_document() for moment in times[first : first + LOAD_BATCH]])
        done = first + LOAD_BATCH
        if done % 10_000 == 0 or done >= docs:
            rate = done / (time.perf_counter() - started)
            say(f"  loaded {min(done, docs):,}/{docs:,} ({rate:,.0f}/s)")
    written = time.perf_counter()
    store.ensure_indexes()
    indexed = time.perf_counter()
    say(f"  indexes built in {indexed - written:.1f}s")
    rolled = sum(doc.get("count", 0) for doc in store.rollups.find({}, {"count": 1}))
    if rolled != docs:
        raise RuntimeError(f"rollups count {rolled} logs, expected {docs}")
    return {"write_s": written - started, "index_s": indexed - written, "load_s": indexed - started}


# Measurement ------------------------------------------------------------------------------


@dataclass
class CommandTally:
    """Counts the MongoDB commands one query sends and the documents they return (diagnostic pass only)."""

    active: bool = False
    commands: list[tuple[str, int, float]] = field(default_factory=list)


class TallyListener(monitoring.CommandListener):
    def __init__(self, tally: CommandTally) -> None:
        self.tally = tally

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if self.tally.active:
            cursor = event.reply.get("cursor", {})
            returned = len(cursor.get("firstBatch", cursor.get("nextBatch", [])))
            self.tally.commands.append((event.command_name, returned, event.duration_micros / 1_000))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def build_items(store: MongoRunLogStore) -> dict[str, Callable[[], object]]:
    """Every measured call, by name; next pages start from the cursor of their first page."""
    items: dict[str, Callable[[], object]] = {}
    newest_hour = {"created_at": {"$gte": END - timedelta(hours=1), "$lt": END}}
    items["baseline"] = lambda: list(
        store.logs.find(newest_hour).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(50)
    )
    items["filter_options"] = lambda: filter_options(store)
    for name, flt in FILTERS.items():
        first = browse_run_logs(store, flt)
        check_order(first.items, None)
        items[f"{name}.page1"] = lambda flt=flt: browse_run_logs(store, flt)
        if first.next_cursor is not None:
            second = browse_run_logs(store, flt, cursor=first.next_cursor)
            check_order(second.items, first.next_cursor)
            items[f"{name}.page2"] = lambda flt=flt, cursor=first.next_cursor: browse_run_logs(store, flt, cursor)
        items[f"{name}.overview"] = lambda flt=flt: overview(store, flt)
        say(f"  {name}: first page {len(first.items)} logs, next page {'yes' if first.next_cursor else 'none'}")
    return items


def check_order(items: list[Any], cursor: PageCursor | None) -> None:
    """Pages come newest first (created_at, then id, descending), strictly after the cursor."""
    keys = [(item.created_at, item.id) for item in items]
    if keys != sorted(keys, reverse=True) or len(set(keys)) != len(keys):
        raise RuntimeError("a page is not in (created_at, id) descending order")
    if cursor is not None and keys and keys[0] >= (cursor.created_at, cursor.log_id):
        raise RuntimeError("the next page does not start after its cursor")


def time_items(items: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in items}
    order = list(items)
    rng = random.Random(1)
    for repeat in range(repeats):
        rng.shuffle(order)  # no query always runs right after the same neighbour
        started = time.perf_counter()
        for name in order:
            t0 = time.perf_counter()
            items[name]()
            timings[name].append((time.perf_counter() - t0) * 1_000)
        say(f"  repetition {repeat + 1}/{repeats} took {time.perf_counter() - started:.1f}s")
    return timings


def diagnose(items: dict[str, Callable[[], object]], tally: CommandTally) -> dict[str, dict[str, float]]:
    """One more run of each item, counting commands and documents returned."""
    found: dict[str, dict[str, float]] = {}
    for name, call in items.items():
        tally.commands.clear()
        tally.active = True
        call()
        tally.active = False
        found[name] = {
            "commands": len(tally.commands),
            "docs_returned": sum(returned for _, returned, _ in tally.commands),
            "server_ms": round(sum(ms for _, _, ms in tally.commands), 1),
        }
    return found


def main() -> None:
    args = parse_args()
    directory = data_dir(args.docs)
    manifest = None if args.reload else cached_manifest(directory, args.docs)
    if manifest is None and directory.exists():
        shutil.rmtree(directory)
    tally = CommandTally()
    monitoring.register(TallyListener(tally))
    with mongo_server(directory) as client:
        if manifest is None:
            say(f"loading {args.docs:,} run logs over {DAYS} days into {directory}")
            loaded = load(client, args.docs)
            manifest = {"version": DATA_VERSION, "docs": args.docs, "seed": SEED, "end": END.isoformat(), **loaded}
            (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
            say(f"loaded in {loaded['load_s']:.1f}s (cached for the next run)")
            loaded_now = True
        else:
            say(f"using cached data ({args.docs:,} logs, loaded once in {manifest['load_s']:.1f}s): {directory}")
            loaded_now = False
        store = MongoRunLogStore(client[DATABASE])
        rollups = store.rollups.estimated_document_count()
        say(f"{rollups:,} hourly rollup documents; preparing queries")
        items = build_items(store)
        say(f"timing {len(items)} queries x {args.repeats} repetitions")
        timings = time_items(items, args.repeats)
        diagnostics = diagnose(items, tally)
    baseline = median(timings["baseline"])
    results: dict[str, dict[str, float]] = {}
    say(f"{'query':<38}{'median ms':>10}{'x baseline':>12}{'commands':>10}{'docs back':>11}")
    for name, values in timings.items():
        ms = median(values)
        results[name] = {"ms": round(ms, 1), "ratio": round(ms / baseline, 1), **diagnostics[name]}
        flag = "" if ms < TARGET_MS or name == "baseline" else "  <-- over target"
        calls, docs_back = diagnostics[name]["commands"], diagnostics[name]["docs_returned"]
        say(f"{name:<38}{ms:>10.1f}{ms / baseline:>12.1f}{calls:>10.0f}{docs_back:>11.0f}{flag}")
    measured = {name: r for name, r in results.items() if name != "baseline"}
    missed = sorted(name for name, r in measured.items() if r["ms"] >= TARGET_MS)
    slowest = max(measured, key=lambda name: measured[name]["ms"])
    say(f"baseline {baseline:.1f} ms; slowest {slowest} {measured[slowest]['ms']:.0f} ms")
    say(f"over the {TARGET_MS:.0f} ms target: {', '.join(missed) or 'none'}")
    emit(
        {
            "bench": "runlog_page",
            "docs": args.docs,
            "rollup_docs": rollups,
            "data_version": DATA_VERSION,
            "loaded_now": loaded_now,
            "load_s": round(manifest["load_s"], 1),
            "repeats": args.repeats,
            "baseline_ms": round(baseline, 2),
            "target_ms": TARGET_MS,
            "queries": {name: {"ms": r["ms"], "ratio": r["ratio"]} for name, r in measured.items()},
            "slowest": slowest,
            "slowest_ms": measured[slowest]["ms"],
            "missed_target": missed,
            "target_met": not missed,
        }
    )


if __name__ == "__main__":
    main()
