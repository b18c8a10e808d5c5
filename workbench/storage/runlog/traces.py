"""Trace spans in the run-log database (collection `spans`): one document per span, keyed by trace and span id, so
a batch an exporter sends again stores nothing twice. Spans come from OTLP (`workbench.api.otlp` decodes them);
their kind follows OpenInference (`openinference.span.kind`: LLM, RETRIEVER, EMBEDDING, TOOL, CHAIN, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import BulkWriteError

COLLECTION = "spans"
DUPLICATE_KEY = 11000


class TraceStore:
    def __init__(self, database: Database[dict[str, Any]]) -> None:
        self._spans = database[COLLECTION]

    def ensure_indexes(self) -> None:
        self._spans.create_index([("trace_id", ASCENDING), ("start", ASCENDING)])
        self._spans.create_index([("start", DESCENDING)])
        self._spans.create_index([("session_id", ASCENDING), ("start", ASCENDING)], sparse=True)

    def add(self, spans: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        """Store spans (each with `_id` = trace_id:span_id); returns (stored now, already stored)."""
        if not spans:
            return 0, 0
        try:
            result = self._spans.insert_many([dict(span) for span in spans], ordered=False)
            return len(result.inserted_ids), 0
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            return int(exc.details.get("nInserted", 0)), len(errors)

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """Every span of one trace, earliest first."""
        return list(self._spans.find({"trace_id": trace_id}).sort([("start", ASCENDING), ("_id", ASCENDING)]))

    def recent(self, limit: int = 50, session_id: str | None = None) -> list[dict[str, Any]]:
        """The newest root spans (one per trace), optionally of one session."""
        query: dict[str, Any] = {"parent_span_id": None}
        if session_id is not None:
            query["session_id"] = session_id
        return list(self._spans.find(query).sort([("start", DESCENDING)]).limit(limit))

    def sessions(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest sessions: traces (root spans) per session id, first and last start, users, errors."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"parent_span_id": None, "session_id": {"$ne": None}}},
            {"$group": {"_id": "$session_id", "traces": {"$sum": 1}, "first": {"$min": "$start"},
                        "last": {"$max": "$start"}, "users": {"$addToSet": "$user_id"},
                        "errors": {"$sum": {"$cond": [{"$eq": ["$status", "error"]}, 1, 0]}}}},
            {"$sort": {"last": -1}},
            {"$limit": limit},
        ]  # fmt: skip
        return list(self._spans.aggregate(pipeline))
