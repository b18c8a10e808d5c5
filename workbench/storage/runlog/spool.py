"""Append-only on-disk spool for run logs that could not reach MongoDB.

Each writer owns one segment file at a time (held with an exclusive flock so no other process replays it
while it is being written). Segments left behind by a process that died are adopted by the next writer
that finds them. Every line is one JSON-encoded batch; replay progress is kept in a sidecar `.offset`
file, and because log ids are unique, a batch re-sent after a crash is harmless.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bson import json_util

_JSON_OPTIONS = json_util.CANONICAL_JSON_OPTIONS.with_options(tz_aware=True)


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """One line of a segment: what to do with the docs on replay ('write' or 'rollup')."""

    action: str
    docs: list[dict[str, Any]]
    end_offset: int  # byte offset just after this line


class Segment:
    def __init__(self, path: Path, handle: IO[bytes] | None = None) -> None:
        self.path = path
        self._handle = handle

    @property
    def offset_path(self) -> Path:
        return self.path.with_suffix(".offset")

    def read_offset(self) -> int:
        try:
            return int(self.offset_path.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def save_offset(self, offset: int) -> None:
        tmp = self.offset_path.with_suffix(".offset.tmp")
        tmp.write_text(str(offset))
        os.replace(tmp, self.offset_path)

    def batches(self) -> Iterator[SpooledBatch]:
        """Batches not yet replayed, in the order they were written. A torn last line is skipped."""
        with self.path.open("rb") as handle:
            handle.seek(self.read_offset())
            while True:
                line = handle.readline()
                if not line.endswith(b"\n"):
                    return  # empty, or a half-written line from a crash: nothing acknowledged was in it
                record = json_util.loads(line, json_options=_JSON_OPTIONS)
                yield SpooledBatch(record["action"], record["docs"], handle.tell())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def remove(self) -> None:
        # Unlink before unlocking, so no other writer can adopt a file that is being deleted.
        self.path.unlink(missing_ok=True)
        self.offset_path.unlink(missing_ok=True)
        self.close()


class Spool:
    """The spool directory. Not thread-safe: one writer thread uses it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._own: Segment | None = None
        self._own_handle: IO[bytes] | None = None

    def append(self, docs: Sequence[Mapping[str, Any]], action: str = "write") -> None:
        if not docs:
            return
        handle = self._own_segment_handle()
        line = json_util.dumps({"action": action, "docs": list(docs)}, json_options=_JSON_OPTIONS)
        handle.write(line.encode() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())

    def has_own_pending(self) -> bool:
        return self._own is not None

    def pending_segments(self) -> list[Segment]:
        """Own segment plus orphans whose writer has gone, oldest first (names sort by creation time).

        Orphans come back locked by this spool; hand each to `finish` or `release` when done.
        """
        if not self.directory.exists():
            return []
        segments: list[Segment] = []
        for path in sorted(self.directory.glob("segment-*.jsonl")):
            if self._own is not None and path == self._own.path:
                segments.append(self._own)
            else:
                adopted = _adopt(path)
                if adopted is not None:
                    segments.append(adopted)
        return segments

    def release(self, segment: Segment) -> None:
        """Unlock an adopted segment that still has batches left (replay stopped part-way)."""
        if segment is not self._own:
            segment.close()

    def finish(self, segment: Segment) -> None:
        """Delete a fully replayed segment."""
        if segment is self._own:
            self._own_handle = None
            self._own = None
        segment.remove()

    def close(self) -> None:
        if self._own_handle is not None:
            self._own_handle.close()  # releases the lock; the segment stays for the next writer
            self._own_handle = None
            self._own = None

    def _own_segment_handle(self) -> IO[bytes]:
        if self._own_handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"segment-{time.time_ns():020d}-{os.getpid()}.jsonl"
            handle = path.open("ab")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._own_handle = handle
            self._own = Segment(path, handle)
        return self._own_handle


def _adopt(path: Path) -> Segment | None:
    """Lock a segment no live writer holds; None when someone else has it (or it just vanished)."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    if not path.exists():  # removed by its replayer between our open and our lock
        handle.close()
        return None
    return Segment(path, handle)
