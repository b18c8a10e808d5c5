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
FEEDBACK = "trace_feedback"  # one document per trace and user: an application's users rating what it answered
DUPLICATE_KEY = 11000


class TraceStore:
    def __init__(self, database: Database[dict[str, Any]]) -> None:
        self._spans = database[COLLECTION]
        self._feedback = database[FEEDBACK]

    def ensure_indexes(self) -> None:
        self._spans.create_index([("trace_id", ASCENDING), ("start", ASCENDING)])
        self._spans.create_index([("start", DESCENDING)])
        self._spans.create_index([("session_id", ASCENDING), ("start", ASCENDING)], sparse=True)
        self._feedback.create_index([("trace_id", ASCENDING)])

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

    def exists(self, trace_id: str) -> bool:
        return self._spans.find_one({"trace_id": trace_id}, {"_id": 1}) is not None

    def put_feedback(self, document: Mapping[str, Any]) -> None:
        """Store a user's feedback on a trace (`_id` = trace:user): a second rating by the same user replaces it."""
        self._feedback.replace_one({"_id": document["_id"]}, dict(document), upsert=True)

    def feedback(self, trace_id: str) -> list[dict[str, Any]]:
        return list(self._feedback.find({"trace_id": trace_id}).sort([("at", ASCENDING)]))
