"""Ingest files into a knowledge base: load, chunk, embed, write to Chroma, record in SQL; idempotent by content hash.

A file whose content hash matches its record is skipped before it is even parsed (no embedding work); a changed
file replaces only its own chunks; with `sync=True` the knowledge base is made to mirror the sources of the run,
so files deleted from a re-ingested folder leave the index. Files are embedded and written in batches of about
FLUSH_CHUNKS chunks, to Chroma first and then committed to SQL, so an interrupted run keeps what it finished and
the next run picks up the rest (chunk ids are deterministic, and a file's old chunks are removed by source).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.rag.chunking import Chunk, build_splitter, chunk_document
from workbench.rag.errors import BadDocument
from workbench.rag.loaders import check_size, load_document, mime_type_of
from workbench.rag.records import IngestReport, KnowledgeBase, ProgressCallback, Source
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import KbDocumentRow

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from workbench.rag.vector_store import KnowledgeBaseIndex


# Chunks embedded and written together: one embedding call, one Chroma write and one SQL commit per batch of
# files instead of per file (each Chroma write costs ~25 ms whatever its size).
FLUSH_CHUNKS = 128


@dataclass(frozen=True, slots=True)
class _Item:
    """One file to ingest under its stored source name."""

    source: str
    path: Path | None = None
    data: bytes | None = None

    def read(self, max_bytes: int) -> bytes:
        if self.data is not None:
            check_size(self.source, len(self.data), max_bytes)
            return self.data
        assert self.path is not None
        check_size(self.source, self.path.stat().st_size, max_bytes)
        return self.path.read_bytes()


@dataclass(slots=True)
class _Plan:
    items: list[_Item]
    failed: list[tuple[str, str]]
    complete: bool  # every path named exists, so a sync may remove what is not among the items


def plan(sources: Sequence[Source]) -> _Plan:
    """Expand folders (recursively, hidden entries skipped) and name every file as it will be stored.

    A folder's files are named by their path inside it (`faq.md`, `guides/setup.md`), a single file by its
    name, an upload by the name it came with: readable in citations, the same on every machine, and the same
    whether a file is ingested with its folder or on its own.
    """
    result = _Plan([], [], complete=True)
    seen: set[str] = set()

    def add(item: _Item) -> None:
        if item.source in seen:
            result.failed.append((item.source, "another file in this batch has the same name"))
            return
        seen.add(item.source)
        result.items.append(item)

    for source in sources:
        if isinstance(source, tuple):
            name, data = source
            clean = PurePath(name.replace("\\", "/")).name
            if not clean:
                result.failed.append((name or "(unnamed upload)", "an upload needs a file name"))
                continue
            add(_Item(clean, data=bytes(data)))
            continue
        path = Path(os.fspath(source)).expanduser()
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                relative = file.relative_to(path)
                if file.is_file() and not any(part.startswith(".") for part in relative.parts):
                    add(_Item(relative.as_posix(), path=file))
        elif path.is_file():
            add(_Item(path.name, path=path))
        else:
            result.failed.append((str(source), "no such file or folder"))
            result.complete = False
    return result


@dataclass(frozen=True, slots=True)
class _Ready:
    """A file loaded and chunked, waiting to be embedded and written with others."""

    source: str
    digest: str
    size: int
    mime_type: str
    chunks: list[Chunk]
    replaces: bool  # an earlier good version is in the index


class Ingestor:
    """One ingest run into one knowledge base."""

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        embedding: BaseEmbedding,
        index: KnowledgeBaseIndex,
        uow_factory: Callable[[], UnitOfWork],
        max_bytes: int,
    ) -> None:
        self.kb = kb
        self.embedding = embedding
        self.index = index
        self.uow_factory = uow_factory
        self.max_bytes = max_bytes
        self.split = build_splitter(kb.chunk_size, kb.chunk_overlap).split_text

    def run(self, sources: Sequence[Source], *, sync: bool, progress: ProgressCallback | None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(kb=self.kb.name)
        work = plan(sources)
        report.failed.extend(work.failed)
        known = self._known_documents()
        total = len(work.items)
        pending: list[_Ready] = []
        for done, item in enumerate(work.items):
            if progress is not None:
                progress(done, total, item.source)
            ready = self._prepare(item, known.get(item.source), report)
            if ready is not None:
                pending.append(ready)
                if sum(len(entry.chunks) for entry in pending) >= FLUSH_CHUNKS:
                    self._write(pending, report)
                    pending = []
        self._write(pending, report)
        # A mistyped path must not empty the knowledge base: sync only when every path was found.
        if sync and work.complete:
            present = {item.source for item in work.items} | {source for source, _ in work.failed}
            for source in sorted(set(known) - present):
                self._remove(source)
                report.removed.append(source)
        if report.added or report.replaced or report.removed:
            self._touch_kb()
        if progress is not None:
            progress(total, total, "")
        report.seconds = time.perf_counter() - started
        return report

    def _prepare(self, item: _Item, known: tuple[str, str] | None, report: IngestReport) -> _Ready | None:
        """Read, hash, load and chunk one file; None when it is unchanged or bad (then it is in the report)."""
        try:
            data = item.read(self.max_bytes)
            digest = hashlib.sha256(data).hexdigest()
            if known == (digest, "ok"):
                report.unchanged.append(item.source)
                return None
            document = load_document(item.source, data, max_bytes=self.max_bytes)
        except BadDocument as exc:
            report.failed.append((item.source, exc.reason))
            if known is None or known[1] != "ok":  # a good earlier version stays searchable
                self._record_failure(item.source, exc.reason)
            return None
        except OSError as exc:
            report.failed.append((item.source, f"cannot read the file ({exc.strerror or exc})"))
            return None
        chunks = chunk_document(document, kb=self.kb.name, content_sha256=digest, split=self.split)
        replaces = known is not None and known[1] == "ok"
        return _Ready(item.source, digest, len(data), document.mime_type, chunks, replaces)

    def _write(self, batch: list[_Ready], report: IngestReport) -> None:
        """Embed the chunks of several files at once, write them to Chroma, then record the files in SQL."""
        if not batch:
            return
        chunks = [chunk for entry in batch for chunk in entry.chunks]
        vectors = self.embedding.get_text_embedding_batch([chunk.text for chunk in chunks])
        # Chroma first, then SQL: if SQL fails, the next run sees no record and writes the same ids again.
        self.index.replace_sources(
            [entry.source for entry in batch],
            [chunk.id for chunk in chunks],
            [chunk.text for chunk in chunks],
            vectors,
            [chunk.metadata for chunk in chunks],
        )
        with self.uow_factory() as uow:
            for entry in batch:
                self._upsert_row(uow, entry.source, entry.digest, entry.size, entry.mime_type, len(entry.chunks))
            uow.commit()
        for entry in batch:
            (report.replaced if entry.replaces else report.added).append(entry.source)
        report.chunks_embedded += len(chunks)

    def _known_documents(self) -> dict[str, tuple[str, str]]:
        """source -> (content sha256, status) of what this knowledge base holds now."""
        with self.uow_factory() as uow:
            return {row.source: (row.content_sha256, row.status) for row in uow.kb_documents.list_for_kb(self.kb.id)}

    def _upsert_row(
        self, uow: UnitOfWork, source: str, digest: str, size: int, mime: str, chunks: int, error: str | None = None
    ) -> None:
        row = uow.kb_documents.get(self.kb.id, source)
        if row is None:
            row = KbDocumentRow(id=new_id(), kb_id=self.kb.id, source=source)
            uow.kb_documents.add(row)
        row.content_sha256 = digest
        row.size_bytes = size
        row.mime_type = mime
        row.chunk_count = chunks
        row.status = "failed" if error else "ok"
        row.error = error
        row.ingested_at = utcnow()

    def _record_failure(self, source: str, reason: str) -> None:
        self.index.delete_sources([source])  # a failed file has no chunks, whatever an earlier run left
        with self.uow_factory() as uow:
            self._upsert_row(uow, source, "", 0, mime_type_of(source), 0, reason)
            uow.commit()

    def _remove(self, source: str) -> None:
        self.index.delete_sources([source])
        with self.uow_factory() as uow:
            row = uow.kb_documents.get(self.kb.id, source)
            if row is not None:
                uow.kb_documents.delete(row)
            uow.commit()

    def _touch_kb(self) -> None:
        with self.uow_factory() as uow:
            row = uow.knowledge_bases.get(self.kb.id)
            if row is not None:
                row.updated_at = utcnow()
            uow.commit()


def ingest(
    sources: Sequence[Source],
    kb: KnowledgeBase,
    *,
    embedding: BaseEmbedding,
    index: KnowledgeBaseIndex,
    uow_factory: Callable[[], UnitOfWork],
    max_bytes: int,
    sync: bool = False,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Ingest paths (folders walked) and `(name, bytes)` uploads into `kb`; bad files are reported, not raised.

    With `sync=True`, documents of `kb` that are not among this run's files are removed (a folder re-ingested
    after files were deleted from it); nothing is removed when one of the paths does not exist.
    """
    ingestor = Ingestor(kb, embedding=embedding, index=index, uow_factory=uow_factory, max_bytes=max_bytes)
    return ingestor.run(sources, sync=sync, progress=progress)
