"""A stand-in for the MongoDB run-log store under the writer."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import bson
from pymongo.errors import AutoReconnect

from workbench.storage.runlog.rollups import rollup_increments


@dataclass
class FakeRunLogSink:
    """Stands in for MongoRunLogStore under the writer.

    `down = True` makes every call raise AutoReconnect (MongoDB away) after `delay_s` (server selection
    time); `rollups_down = True` fails only the rollup step; `lose_ack = True` stores an insert and then raises,
    as when the connection drops before the reply. Documents are BSON-encoded on insert, so unencodable ones
    raise InvalidDocument like pymongo. Duplicate ids are skipped, as the real store does.
    """

    down: bool = False
    rollups_down: bool = False
    lose_ack: bool = False
    delay_s: float = 0.0
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    inserted_ids: list[str] = field(default_factory=list)  # in the order they were stored
    rolled_up_ids: list[str] = field(default_factory=list)
    rollup_counts: dict[str, int] = field(default_factory=dict)  # rollup key -> count
    spans: dict[str, dict[str, Any]] = field(default_factory=dict)
    insert_calls: int = 0
    failed_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def insert_batch(self, docs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        with self._lock:
            self.insert_calls += 1
            if self.down:
                self.failed_calls += 1
                time.sleep(self.delay_s)
                raise AutoReconnect("connection refused (fake)")
            for doc in docs:
                bson.encode(doc)  # raises InvalidDocument before anything is stored, like insert_many
            fresh = []
            for doc in docs:
                if doc["_id"] in self.docs:
                    continue
                self.docs[doc["_id"]] = dict(doc)
                self.inserted_ids.append(doc["_id"])
                fresh.append(doc)
            if self.lose_ack:
                self.failed_calls += 1
                raise AutoReconnect("connection closed before the reply (fake)")
            return fresh

    def apply_rollups(self, docs: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            if self.down or self.rollups_down:
                self.failed_calls += 1
                raise AutoReconnect("connection refused (fake)")
            for key, entry in rollup_increments(docs).items():
                self.rollup_counts[key] = self.rollup_counts.get(key, 0) + int(entry["inc"]["count"])
            self.rolled_up_ids.extend(doc["_id"] for doc in docs)

    def insert_spans(self, docs: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            if self.down:
                self.failed_calls += 1
                raise AutoReconnect("connection refused (fake)")
            for doc in docs:
                bson.encode(doc)
            for doc in docs:
                self.spans.setdefault(doc["_id"], dict(doc))

    @property
    def rolled_up_total(self) -> int:
        return sum(self.rollup_counts.values())
