"""Background run-log writer: requests enqueue (microseconds); one thread batches, writes, spools and replays.

Delivery guarantee: every record handed to `log()` ends up in MongoDB exactly once, in order, provided the
process exits through `close()` (the app registers it at exit). While MongoDB is unreachable, batches go to
the on-disk spool; once it answers again the spool is replayed before any newer batch, so order holds.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bson.errors import InvalidDocument
from pymongo.errors import PyMongoError

from workbench.domain.runlog import RunLog
from workbench.storage.runlog.spool import Segment, Spool

log = logging.getLogger(__name__)

SPANS = "spans"  # the spool's action for trace spans (beside "write" and "rollup")


class RunLogSink(Protocol):
    def insert_batch(self, docs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]: ...
    def apply_rollups(self, docs: Sequence[Mapping[str, Any]]) -> None: ...
    def insert_spans(self, docs: Sequence[Mapping[str, Any]]) -> None: ...


@dataclass(slots=True)
class WriterStats:
    enqueued: int = 0
    written: int = 0
    spooled: int = 0
    replayed: int = 0
    rejected: int = 0
    spans_written: int = 0
    last_error: str | None = None

    @property
    def waiting_in_spool(self) -> int:
        return max(0, self.spooled - self.replayed)


class _Spans:
    """Trace spans (workbench.domain.traces) to store beside the logs, through the same spool when MongoDB is away."""

    __slots__ = ("docs",)

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs


class _Marker:
    def __init__(self, stop: bool = False) -> None:
        self.stop = stop
        self.done = threading.Event()


class RunLogWriter:
    def __init__(
        self,
        sink: RunLogSink,
        spool: Spool,
        *,
        batch_size: int = 500,
        flush_interval_s: float = 0.25,
        retry_interval_s: float = 2.0,
        rejected_path: Path | None = None,
    ) -> None:
        self._sink = sink
        self._spool = spool
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._retry_interval_s = retry_interval_s
        self._rejected_path = rejected_path or spool.directory / "rejected.jsonl"
        self._queue: queue.SimpleQueue[dict[str, Any] | _Spans | _Marker] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="runlog-writer", daemon=True)
        self._closed = False
        self._spool_pending = True  # look for segments left by an earlier process at start
        self._next_retry = 0.0
        self.stats = WriterStats()

    # Called on the request path -------------------------------------------------

    def start(self) -> RunLogWriter:
        self._thread.start()
        return self

    def log(self, record: RunLog) -> None:
        """Queue one record; never blocks on I/O and never raises because storage is away."""
        self.log_document(record.to_document())

    def log_document(self, doc: dict[str, Any]) -> None:
        if self._closed:
            raise RuntimeError("run-log writer is closed")
        self.stats.enqueued += 1
        self._queue.put(doc)

    def log_spans(self, docs: Sequence[dict[str, Any]]) -> None:
        """Queue the spans of one trace (stored in `spans`, keyed, so a replay stores nothing twice)."""
        if self._closed:
            raise RuntimeError("run-log writer is closed")
        if docs:
            self._queue.put(_Spans(list(docs)))

    # Control ------------------------------------------------------------------

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is in MongoDB or in the spool."""
        marker = _Marker()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def wait_delivered(self, timeout: float = 60.0) -> bool:
        """Wait until everything queued so far is in MongoDB (spool replayed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.flush(timeout=max(0.1, deadline - time.monotonic())):
                return False
            if not self._spool_pending:
                return True
            self._next_retry = 0.0
            time.sleep(min(0.2, self._retry_interval_s))
        return False

    def close(self, timeout: float = 30.0) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._thread.is_alive():
            self._spool.close()
            return
        marker = _Marker(stop=True)
        self._queue.put(marker)
        marker.done.wait(timeout)
        self._thread.join(timeout=1.0)

    @property
    def spool_pending(self) -> bool:
        return self._spool_pending

    # Writer thread --------------------------------------------------------------

    def _run(self) -> None:
        self._replay()  # segments left by an earlier process go before anything new
        while True:
            batch, spans, markers = self._collect()
            if batch:
                self._deliver(batch)
            if spans:
                self._deliver_spans(spans)
            if self._spool_pending and time.monotonic() >= self._next_retry:
                self._replay()
            stop = any(m.stop for m in markers)
            if stop:
                self._spool.close()
            for marker in markers:
                marker.done.set()
            if stop:
                return

    def _collect(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[_Marker]]:
        batch: list[dict[str, Any]] = []
        spans: list[dict[str, Any]] = []
        markers: list[_Marker] = []
        timeout = self._flush_interval_s if not self._spool_pending else min(self._flush_interval_s, 0.5)
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return batch, spans, markers
        while True:
            if isinstance(item, _Marker):
                markers.append(item)
                return batch, spans, markers  # a flush or stop is answered once what preceded it is handled
            if isinstance(item, _Spans):
                spans.extend(item.docs)
            else:
                batch.append(item)
            if len(batch) + len(spans) >= self._batch_size:
                return batch, spans, markers
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, spans, markers

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        if self._spool_pending:
            self._to_spool(batch, "write")  # keep order: older spooled batches go first
            return
        try:
            fresh = self._sink.insert_batch(batch)
        except (InvalidDocument, TypeError, ValueError):
            self._deliver_singly(batch)
            return
        except PyMongoError as exc:
            self._unavailable(exc)
            self._to_spool(batch, "write")
            return
        self._apply_or_spool(fresh)

    def _deliver_spans(self, spans: list[dict[str, Any]]) -> None:
        if self._spool_pending:
            self._to_spool(spans, SPANS)
            return
        try:
            self._sink.insert_spans(spans)
        except (InvalidDocument, TypeError, ValueError) as exc:
            self._reject(spans, exc)
            return
        except PyMongoError as exc:
            self._unavailable(exc)
            self._to_spool(spans, SPANS)
            return
        self.stats.spans_written += len(spans)

    def _deliver_singly(self, batch: list[dict[str, Any]]) -> None:
        """Isolate the record(s) MongoDB cannot encode so the rest of the batch still lands."""
        for doc in batch:
            if self._spool_pending:
                self._to_spool([doc], "write")
                continue
            try:
                fresh = self._sink.insert_batch([doc])
            except (InvalidDocument, TypeError, ValueError) as exc:
                self._reject([doc], exc)
                continue
            except PyMongoError as exc:
                self._unavailable(exc)
                self._to_spool([doc], "write")
                continue
            self._apply_or_spool(fresh)

    def _apply_or_spool(self, fresh: Sequence[Mapping[str, Any]]) -> None:
        try:
            self._sink.apply_rollups(fresh)
        except PyMongoError as exc:
            self._unavailable(exc)
            self._to_spool(list(fresh), "rollup")
        self.stats.written += len(fresh)

    def _replay(self) -> None:
        for segment in self._spool.pending_segments():
            if not self._replay_segment(segment):
                self._spool.release(segment)
                self._next_retry = time.monotonic() + self._retry_interval_s
                return
            self._spool.finish(segment)
        self._spool_pending = self._spool.has_own_pending()

    def _replay_segment(self, segment: Segment) -> bool:
        try:
            for spooled in segment.batches():
                if spooled.action == SPANS:
                    self._sink.insert_spans(spooled.docs)
                elif spooled.action == "write":
                    fresh = self._sink.insert_batch(spooled.docs)
                    try:
                        self._sink.apply_rollups(fresh)
                    except PyMongoError:
                        self._spool.append(fresh, "rollup")  # logs are in; only the rollup is owed
                        raise
                else:
                    self._sink.apply_rollups(spooled.docs)
                segment.save_offset(spooled.end_offset)
                self.stats.replayed += len(spooled.docs)
        except PyMongoError as exc:
            self._unavailable(exc)
            return False
        return True

    def _to_spool(self, docs: Sequence[Mapping[str, Any]], action: str) -> None:
        try:
            self._spool.append(docs, action)
            self.stats.spooled += len(docs)
        except (TypeError, ValueError):
            # A record the spool cannot encode (e.g. a date) must not kill this thread: set it aside.
            for doc in docs:
                try:
                    self._spool.append([doc], action)
                except (TypeError, ValueError) as exc:
                    self._reject([dict(doc)], exc)
                    continue
                self.stats.spooled += 1
        self._spool_pending = True
        if self._next_retry <= time.monotonic():
            self._next_retry = time.monotonic() + self._retry_interval_s

    def _unavailable(self, exc: PyMongoError) -> None:
        message = f"MongoDB unavailable, spooling run logs: {type(exc).__name__}: {exc}"
        if self.stats.last_error != message:
            log.warning(message)
        self.stats.last_error = message

    def _reject(self, batch: list[dict[str, Any]], exc: Exception) -> None:
        # A record MongoDB cannot store would block the spool forever; keep it aside for inspection.
        self._rejected_path.parent.mkdir(parents=True, exist_ok=True)
        with self._rejected_path.open("a", encoding="utf-8") as handle:
            for doc in batch:
                handle.write(json.dumps({"error": str(exc), "doc": doc}, default=str) + "\n")
        self.stats.rejected += len(batch)
        log.error("rejected %d run logs: %s", len(batch), exc)
