"""Retrieval latency at 10k and 100k chunks: `RagEngine.retrieve` against a bare Chroma `collection.query`.

Per size, one knowledge base built through the workbench (SQL record, Chroma collection stamped with the model)
and filled directly with synthetic chunk texts and precomputed random unit vectors: embedding 100k chunks with
the real model would take hours here, and retrieval cost does not depend on where stored vectors came from.
Only the queries are embedded, by the real model. Filling Chroma is slow (~1,000 vectors/s here), so the filled
stores are cached in the temp dir under a version key: the first run builds them (minutes at 100k), later runs
reuse them and finish in well under a minute.

Variants, alternating query by query (same query text, same embedding object, top_k 4, same fields returned):
  workbench  RagEngine.retrieve(kb, query, 4): KB lookup in SQL, model check, embed, query, RetrievedChunk list
  bare       embedding.get_query_embedding(query) + collection.query(...)
Overhead: the median over queries of (workbench - bare), the two timed back to back on the same query, relative
to bare's p50; target at most 20%. The plain ratio of the two p50s is reported too (noisier on a busy machine).

    .venv/bin/python benchmarks/retrieval.py [--sizes 10000 100000] [--queries N]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import emit, median, percentile, rotated, say

from workbench.bootstrap import configure_offline_environment

configure_offline_environment()

OVERHEAD_TARGET = 0.20
CACHE_VERSION = "retrieval-v1"
INSERT_BATCH = 5_000
TOP_K = 4
VARIANTS = ("workbench", "bare")
# fmt: off
WORDS = (
    "robot", "arm", "gripper", "payload", "reach", "controller", "firmware", "warranty", "support", "engineer",
    "cell", "safety", "speed", "battery", "charging", "mobile", "base", "lidar", "camera", "torque", "joint",
    "calibration", "program", "tablet", "simulator", "fleet", "customer", "portal", "release", "version",
    "operator", "maintenance", "inspection", "spare", "part", "price", "delivery", "return", "refund", "hours",
    "weekday",
)
# fmt: on


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="chunks per knowledge base")
    parser.add_argument("--queries", type=int, default=300, help="timed queries per size and variant")
    return parser.parse_args()


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, k=words)).capitalize() + "."


def build_engine(root: Path, embedding: Any) -> Any:
    from workbench.config.rag import RagSettings
    from workbench.rag.engine import RagEngine
    from workbench.storage.sql import migrate
    from workbench.storage.sql.engine import build_engine as sql_engine
    from workbench.storage.sql.engine import build_session_factory
    from workbench.storage.sql.uow import SqlUnitOfWork

    url = f"sqlite:///{root / 'workbench.db'}"
    migrate.upgrade(url)
    factory = build_session_factory(sql_engine(url))
    return RagEngine(RagSettings(), root, lambda: SqlUnitOfWork(factory), embedding=embedding)


def filled_store(size: int, embedding: Any) -> tuple[Any, str, bool]:
    """(engine, knowledge base name, whether it came from the cache) holding `size` synthetic chunks."""
    root = Path(tempfile.gettempdir()) / f"wb-bench-{CACHE_VERSION}" / f"n{size}"
    marker = root / "complete"
    root.mkdir(parents=True, exist_ok=True)
    engine = build_engine(root, embedding)
    kb = f"bench-{size}"
    if marker.exists():
        return engine, kb, True
    if any(item.name == kb for item in engine.list_knowledge_bases()):
        engine.delete_knowledge_base(kb)  # an interrupted build: start over
    record = engine.create_knowledge_base(kb)
    index = engine._index(record, create=True)
    rng = random.Random(size)
    vectors_rng = np.random.default_rng(size)
    started = time.perf_counter()
    for start in range(0, size, INSERT_BATCH):
        count = min(INSERT_BATCH, size - start)
        vectors = vectors_rng.standard_normal((count, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        numbers = range(start, start + count)
        index.collection.add(
            ids=[f"chunk-{n:07d}" for n in numbers],
            embeddings=vectors,
            documents=[text(rng, rng.randint(30, 60)) for _ in numbers],
            metadatas=[
                {"source": f"doc-{n // 20:05d}.md", "title": f"Document {n // 20}", "chunk_index": n % 20}
                for n in numbers
            ],
        )
        done = start + count
        rate = done / (time.perf_counter() - started)
        say(f"  building {size:,} chunks: {done:,} inserted ({rate:,.0f}/s, ~{(size - done) / rate:.0f}s left)")
    marker.write_text(str(size))
    return engine, kb, False


def measure(engine: Any, kb: str, queries: list[str]) -> dict[str, dict[str, list[float]]]:
    embedding = engine.embedding
    collection = engine._index(engine.get_knowledge_base(kb), create=False).collection
    include = ["documents", "metadatas", "distances"]

    def bare(query: str) -> tuple[float, float]:
        started = time.perf_counter()
        vector = embedding.get_query_embedding(query)
        embedded = time.perf_counter()
        collection.query(query_embeddings=[vector], n_results=TOP_K, include=include)
        finished = time.perf_counter()
        return finished - started, finished - embedded

    def workbench(query: str) -> tuple[float, float]:
        started = time.perf_counter()
        retrieval = engine.retrieve(kb, query, TOP_K)
        total = time.perf_counter() - started
        assert len(retrieval.chunks) == TOP_K
        return total, retrieval.search_ms / 1000

    runners = {"workbench": workbench, "bare": bare}
    for query in queries[:10]:  # warm-up: loads the HNSW index and the SQL connection
        for runner in runners.values():
            runner(query)
    timings: dict[str, dict[str, list[float]]] = {name: {"total": [], "search": []} for name in VARIANTS}
    for number, query in enumerate(queries):
        for name in rotated(VARIANTS, number):
            total, search = runners[name](query)
            timings[name]["total"].append(total * 1000)
            timings[name]["search"].append(search * 1000)
    return timings


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(median(values), 3), "p95": round(percentile(values, 95), 3)}


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    from workbench.rag.embeddings import OnnxMiniLMEmbedding

    embedding = OnnxMiniLMEmbedding()
    rng = random.Random(7)
    queries = [text(rng, rng.randint(6, 14)).rstrip(".") + "?" for _ in range(args.queries)]
    say("stored chunks are synthetic texts with random unit vectors inserted into Chroma directly; queries are "
        "embedded by the real model")  # fmt: skip
    results: dict[str, Any] = {}
    for size in args.sizes:
        engine, kb, cached = filled_store(size, embedding)
        say(f"{size:,} chunks ({'cached' if cached else 'built now'}); timing {args.queries} queries per variant")
        timings = measure(engine, kb, queries)
        row = {name: {part: summary(values) for part, values in parts.items()} for name, parts in timings.items()}
        # Per query, the two variants ran back to back: the median of those paired differences is the typical
        # cost the workbench adds, and is far less shaken by a busy machine than a difference of two medians.
        paired = [
            mine - bare for mine, bare in zip(timings["workbench"]["total"], timings["bare"]["total"], strict=True)
        ]
        overhead = median(paired) / row["bare"]["total"]["p50"]
        row["added_ms_paired_median"] = round(median(paired), 3)
        row["overhead"] = round(overhead, 3)
        row["overhead_p50_ratio"] = round(row["workbench"]["total"]["p50"] / row["bare"]["total"]["p50"] - 1, 3)
        row["overhead_p95_ratio"] = round(row["workbench"]["total"]["p95"] / row["bare"]["total"]["p95"] - 1, 3)
        row["overhead_ok"] = overhead <= OVERHEAD_TARGET
        row["cached"] = cached
        results[str(size)] = row
        mine, bare = row["workbench"], row["bare"]
        say(f"{size:,}: workbench p50 {mine['total']['p50']:.2f} ms / p95 {mine['total']['p95']:.2f} ms; "
            f"bare p50 {bare['total']['p50']:.2f} ms / p95 {bare['total']['p95']:.2f} ms; added per query "
            f"{row['added_ms_paired_median']:.2f} ms = {overhead:+.1%} (target <= {OVERHEAD_TARGET:.0%}); "
            f"search alone p50 {mine['search']['p50']:.2f} vs {bare['search']['p50']:.2f} ms")  # fmt: skip
    emit(
        {
            "benchmark": "retrieval",
            "note": "stored vectors are random unit vectors inserted directly; only queries are embedded",
            "top_k": TOP_K,
            "queries": args.queries,
            "latency_ms": results,
            "overhead_target": OVERHEAD_TARGET,
            "overhead_ok": all(row["overhead_ok"] for row in results.values()),
            "seconds": round(time.perf_counter() - started, 1),
        }
    )


if __name__ == "__main__":
    main()
