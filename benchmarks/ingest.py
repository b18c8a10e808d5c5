"""Ingestion throughput: `RagEngine.ingest` against a bare LlamaIndex + Chroma pipeline, same corpus, same run.

Variants, each ingesting the same generated Markdown corpus into fresh stores, alternating round by round:
  workbench  RagEngine.ingest(kb, [folder]): hashing, loaders, SentenceSplitter, embedding, Chroma, SQL records
  bare       read files -> llama_index Documents -> SentenceSplitter -> VectorStoreIndex(ChromaVectorStore)
Both use one embedding object (all-MiniLM-L6-v2 int8 ONNX) and the same splitter settings. Embedding dominates
both, so the ratio shows what the workbench adds around it (target: workbench/bare >= 0.9 chunks per second).
Peak memory: Python-side peak (tracemalloc, numpy buffers included; onnxruntime's own arena is not Python
memory and is the same for both) in one extra untimed run of each variant; maxrss of the whole process.

    .venv/bin/python benchmarks/ingest.py [--files N] [--rounds N] [--chunk-size N]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import emit, median, rotated, say

from workbench.bootstrap import configure_offline_environment

configure_offline_environment()

RATIO_TARGET = 0.9
CORPUS_VERSION = "ingest-corpus-v1"
VARIANTS = ("workbench", "bare")
# fmt: off
WORDS = (
    "robot", "arm", "gripper", "payload", "reach", "controller", "firmware", "update", "warranty", "support",
    "engineer", "cell", "safety", "speed", "battery", "charging", "station", "mobile", "base", "lidar",
    "camera", "sensor", "torque", "joint", "axis", "calibration", "program", "tablet", "studio", "simulator",
    "fleet", "mission", "customer", "portal", "ticket", "response", "hour", "weekday", "release", "version",
    "feature", "fix", "operator", "maintenance", "inspection", "schedule", "spare", "part", "price", "lead",
    "time", "delivery", "shipping", "return", "refund",
)
# fmt: on


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=16, help="Markdown files in the generated corpus")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per variant (medians reported)")
    parser.add_argument("--chunk-size", type=int, default=128)
    parser.add_argument("--chunk-overlap", type=int, default=16)
    return parser.parse_args()


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 18))
    return " ".join(words).capitalize() + rng.choice(".....?!")


def corpus(files: int) -> Path:
    """Generated once per version and size, then reused from the temp dir."""
    folder = Path(tempfile.gettempdir()) / f"wb-bench-{CORPUS_VERSION}-{files}"
    if folder.is_dir() and len(list(folder.glob("*.md"))) == files:
        return folder
    rng = random.Random(42)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(files):
        paragraphs = [" ".join(sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(rng.randint(3, 6))]
        (folder / f"doc-{number:03d}.md").write_text(f"# Document {number}\n\n" + "\n\n".join(paragraphs) + "\n")
    return folder


class Workbench:
    """A fresh SQLite file (migrated before timing) and Chroma directory per run."""

    def __init__(self, embedding: Any, chunk_size: int, chunk_overlap: int) -> None:
        self.embedding, self.chunk_size, self.chunk_overlap = embedding, chunk_size, chunk_overlap

    def prepare(self, root: Path) -> Callable[[Path], int]:
        from workbench.config.rag import RagSettings
        from workbench.rag.engine import RagEngine
        from workbench.storage.sql import migrate
        from workbench.storage.sql.engine import build_engine, build_session_factory
        from workbench.storage.sql.uow import SqlUnitOfWork

        url = f"sqlite:///{root / 'workbench.db'}"
        migrate.upgrade(url)
        factory = build_session_factory(build_engine(url))
        engine = RagEngine(RagSettings(), root, lambda: SqlUnitOfWork(factory), embedding=self.embedding)
        engine.create_knowledge_base("bench", self.chunk_size, self.chunk_overlap)

        def run(folder: Path) -> int:
            report = engine.ingest("bench", [folder])
            assert not report.failed, report.failed
            return report.chunks_embedded

        return run


class Bare:
    """The LlamaIndex tutorial pipeline on the same splitter settings, embedding object and Chroma version."""

    def __init__(self, embedding: Any, chunk_size: int, chunk_overlap: int) -> None:
        self.embedding, self.chunk_size, self.chunk_overlap = embedding, chunk_size, chunk_overlap

    def prepare(self, root: Path) -> Callable[[Path], int]:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from workbench.rag.chunking import build_splitter

        client = chromadb.PersistentClient(
            path=str(root / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
        )
        collection = client.create_collection(
            "bench-bare", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        splitter = build_splitter(self.chunk_size, self.chunk_overlap)

        def run(folder: Path) -> int:
            documents = [
                # The file name is kept but not embedded, so both pipelines embed the same chunk texts.
                Document(
                    text=path.read_text(encoding="utf-8"),
                    metadata={"source": path.name},
                    excluded_embed_metadata_keys=["source"],
                    excluded_llm_metadata_keys=["source"],
                )
                for path in sorted(folder.glob("*.md"))
            ]
            nodes = splitter.get_nodes_from_documents(documents)
            storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
            VectorStoreIndex(nodes, storage_context=storage, embed_model=self.embedding)
            return len(nodes)

        return run


def timed(variant: Workbench | Bare, folder: Path) -> tuple[int, float]:
    root = Path(tempfile.mkdtemp(prefix="wb-bench-ingest-"))
    try:
        run = variant.prepare(root)
        started = time.perf_counter()
        chunks = run(folder)
        return chunks, time.perf_counter() - started
    finally:
        shutil.rmtree(root, ignore_errors=True)


def peak_memory(variant: Workbench | Bare, folder: Path) -> float:
    root = Path(tempfile.mkdtemp(prefix="wb-bench-ingest-mem-"))
    try:
        run = variant.prepare(root)
        tracemalloc.start()
        run(folder)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak / 1_048_576
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    folder = corpus(args.files)
    say(f"corpus: {args.files} Markdown files in {folder}; chunk size {args.chunk_size}/{args.chunk_overlap}")
    from workbench.rag.embeddings import OnnxMiniLMEmbedding

    embedding = OnnxMiniLMEmbedding()
    embedding.get_text_embedding_batch(["warm-up"] * 4)
    variants: dict[str, Workbench | Bare] = {
        "workbench": Workbench(embedding, args.chunk_size, args.chunk_overlap),
        "bare": Bare(embedding, args.chunk_size, args.chunk_overlap),
    }
    for variant in variants.values():  # first use imports the splitter, tokenizers and Chroma bindings
        timed(variant, corpus(2))
    say(f"model loaded, both pipelines warmed up on 2 files; setup {time.perf_counter() - started:.1f}s")
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    chunks: dict[str, int] = {}
    for round_index in range(args.rounds):
        for name in rotated(VARIANTS, round_index):
            count, seconds = timed(variants[name], folder)
            chunks[name] = count
            rates[name].append(count / seconds)
            say(f"round {round_index + 1}/{args.rounds} {name:<9} {count} chunks in {seconds:.2f}s = "
                f"{count / seconds:.1f} chunks/s")  # fmt: skip
    memory = {name: peak_memory(variants[name], folder) for name in VARIANTS}
    say("peak Python memory: " + ", ".join(f"{name} {mb:.1f} MB" for name, mb in memory.items()))
    ratio = median(rates["workbench"]) / median(rates["bare"])
    say(f"ratio workbench/bare {ratio:.3f} (target >= {RATIO_TARGET}); total {time.perf_counter() - started:.0f}s")
    emit(
        {
            "benchmark": "ingest",
            "files": args.files,
            "chunk_size": args.chunk_size,
            "chunk_overlap": args.chunk_overlap,
            "rounds": args.rounds,
            "chunks": chunks,
            "chunks_per_s_median": {name: round(median(values), 2) for name, values in rates.items()},
            "chunks_per_s_rounds": {name: [round(v, 2) for v in values] for name, values in rates.items()},
            "ratio": round(ratio, 3),
            "ratio_target": RATIO_TARGET,
            "ratio_ok": ratio >= RATIO_TARGET,
            "peak_python_mb": {name: round(mb, 1) for name, mb in memory.items()},
            "process_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "seconds": round(time.perf_counter() - started, 1),
        }
    )


if __name__ == "__main__":
    main()
