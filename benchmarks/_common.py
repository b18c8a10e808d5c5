"""Shared pieces of the benchmarks: a throwaway MongoDB-wire server, realistic run logs, robust statistics.

The machine the benchmarks run on is shared and noisy, so every figure is a median over interleaved
repetitions and is compared with a bare baseline measured in the same run.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from pymongo import MongoClient
from sqlalchemy.engine import make_url

from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.storage.runlog.embedded import EmbeddedMongoServer
from workbench.storage.sql.engine import normalise_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CACHE_ROOT = PROJECT_ROOT / "artifacts" / "bench-cache"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def emit(result: dict[str, Any]) -> None:
    """The machine-readable summary: always the last line of a benchmark's output."""
    print(json.dumps(result, sort_keys=False), flush=True)


@contextlib.contextmanager
def mongo_server(data_dir: Path | None = None) -> Iterator[MongoClient[dict[str, Any]]]:
    """A secantusd-py server of our own (in a temp dir unless `data_dir` is given), stopped on exit."""
    # The server runs in its own session, so a plain `kill` of the benchmark would leave it behind: turn
    # SIGTERM into an ordinary exit that unwinds this context.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wb-bench-")))
        server = EmbeddedMongoServer(data_dir=data_dir)
        started = time.perf_counter()
        url = server.ensure_running()
        stack.callback(server.stop)
        if not server.owned:
            say(f"note: reusing a server another process left running on {data_dir}")
        say(f"MongoDB-wire server on {url} (data in {data_dir}, up in {time.perf_counter() - started:.1f}s)")
        client: MongoClient[dict[str, Any]] = MongoClient(url, tz_aware=True, tzinfo=UTC, appname="wb-bench")
        stack.callback(client.close)
        yield client


# Statistics --------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def rotated(items: Sequence[str], round_index: int) -> list[str]:
    """Variant order for one round: rotate, and reverse every other round, so no variant always goes first."""
    shift = round_index % len(items)
    order = list(items[shift:]) + list(items[:shift])
    return order[::-1] if round_index % 2 else order


# Realistic run logs --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    kind: RunKind
    provider: str
    model: str
    weight: int
    latency_median_ms: float


SOURCES = (
    Source(RunKind.LLM, "llamacpp", "qwen2.5-coder-0.5b-instruct", 30, 2_500.0),
    Source(RunKind.LLM, "openai", "gpt-4o-mini", 12, 1_400.0),
    Source(RunKind.LLM, "anthropic", "claude-3-5-haiku", 6, 1_800.0),
    Source(RunKind.LLM, "ollama", "llama3.1:8b", 4, 4_000.0),
    Source(RunKind.RETRIEVAL, "chroma", "all-minilm-l6-v2", 22, 35.0),
    Source(RunKind.EMBEDDING, "onnx", "all-minilm-l6-v2", 16, 12.0),
    Source(RunKind.EMBEDDING, "openai", "text-embedding-3-small", 3, 180.0),
    Source(RunKind.EVAL, "ragas", "qwen2.5-coder-1.5b-instruct", 7, 6_000.0),
)
USERS = ("alice", "bob", "chen", "dana", "eve", "farid")
_WEIGHTS = [source.weight for source in SOURCES]


def record_fields(rng: random.Random) -> dict[str, Any]:
    """Keyword arguments of one RunLog (no id, no created_at): a weighted model, ~4% errors, ~1% timeouts."""
    source = rng.choices(SOURCES, weights=_WEIGHTS)[0]
    roll = rng.random()
    status = RunStatus.ERROR if roll < 0.04 else RunStatus.TIMEOUT if roll < 0.05 else RunStatus.OK
    fields: dict[str, Any] = {
        "kind": source.kind,
        "provider": source.provider,
        "model": source.model,
        "status": status,
        "latency_ms": round(source.latency_median_ms * rng.lognormvariate(0, 0.6), 3),
        "user_id": rng.choice(USERS),
        "conversation_id": f"conv-{rng.randrange(2_000):05d}",
    }
    if source.kind is RunKind.LLM:
        fields["ttft_ms"] = round(fields["latency_ms"] * rng.uniform(0.05, 0.3), 3)
        fields["input_tokens"] = rng.randint(200, 3_000)
        fields["output_tokens"] = rng.randint(20, 600)
        fields["prompt_name"] = rng.choice(("rag-answer", "rag-answer-strict", "summarise"))
        fields["prompt_version"] = rng.randint(1, 4)
        fields["parameters"] = {"temperature": rng.choice((0.0, 0.2, 0.7)), "max_tokens": 512}
    elif source.kind is RunKind.RETRIEVAL:
        fields["metadata"] = {"top_k": 4, "collection": "docs"}
    elif source.kind is RunKind.EMBEDDING:
        fields["input_tokens"] = rng.randint(8, 400)
    else:
        fields["run_id"] = f"eval-{rng.randrange(40):03d}"
        fields["metadata"] = {"metric": rng.choice(("faithfulness", "answer_relevancy", "context_recall"))}
    if status is RunStatus.ERROR:
        fields["error"] = rng.choice(("RateLimitError: 429", "APIConnectionError", "ValueError: bad response"))
    elif status is RunStatus.TIMEOUT:
        fields["error"] = "timed out after 60s"
    return fields


def make_record(rng: random.Random, created_at: datetime) -> RunLog:
    return RunLog(**record_fields(rng), id=f"{rng.getrandbits(128):032x}", created_at=created_at)


def live_times(rng: random.Random, n: int, end: datetime, span: timedelta) -> list[datetime]:
    """n ascending millisecond timestamps in the `span` before `end`, as a live writer sees them."""
    seconds = span.total_seconds()
    offsets = sorted(rng.uniform(0, seconds) for _ in range(n))
    return [_ms(end - timedelta(seconds=seconds - offset)) for offset in offsets]


def bursty_times(rng: random.Random, n: int, end: datetime, days: int) -> list[datetime]:
    """n ascending timestamps over `days` days before `end`: busy working hours, quiet nights, bursts."""
    start = end - timedelta(days=days)
    hours = [start + timedelta(hours=h) for h in range(days * 24)]
    weights = []
    for hour in hours:
        weight = 1.0 if 8 <= hour.hour < 18 else 0.3 if 18 <= hour.hour < 23 else 0.05
        if hour.weekday() >= 5:
            weight *= 0.3
        if rng.random() < 0.06:
            weight *= rng.uniform(4, 10)  # a demo, a load test, an eval sweep
        weights.append(weight)
    picked = rng.choices(hours, weights=weights, k=n)
    return sorted(_ms(hour + timedelta(seconds=rng.uniform(0, 3_600))) for hour in picked)


def _ms(moment: datetime) -> datetime:
    # MongoDB keeps milliseconds; truncating up front keeps records equal after a round trip.
    return moment.replace(microsecond=moment.microsecond // 1_000 * 1_000)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# Throwaway SQL databases for benchmarks ----------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'workbench.db'}"


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server `server_url` points at (via any database of it), dropped on exit."""
    server = make_url(normalise_url(server_url))
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)  # psycopg's own URL form
    name = f"wb_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
