"""Trace spans as the workbench stores them: one document per span, whether an application sent it over OTLP or the
workbench's own chat made it, so both read the same on the Run log page and through the API.

Attribute names follow OpenInference (`openinference.span.kind`, `input.value`, `llm.input_messages.0.message.role`,
`retrieval.documents.0.document.content`, ...): instrumented applications flatten lists into indexed keys, and so
does the chat. MongoDB reads dots in keys as paths, so attributes are kept as a list of key/value pairs.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

SPAN_KINDS = ("CHAIN", "RETRIEVER", "LLM", "EMBEDDING", "RERANKER", "TOOL", "AGENT", "GUARDRAIL", "EVALUATOR")


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def span_document(
    *,
    trace_id: str,
    span_id: str,
    parent_span_id: str | None,
    name: str,
    kind: str,
    start: datetime,
    end: datetime,
    attributes: Mapping[str, Any],
    status: str = "unset",
    status_message: str | None = None,
    service: str | None = None,
    scope: str = "",
    events: Iterable[tuple[str, Mapping[str, Any]]] = (),
) -> dict[str, Any]:
    """The stored form of one span (`_id` = trace:span, so a span sent twice is stored once)."""
    prompt_tokens = attributes.get("llm.token_count.prompt")
    completion_tokens = attributes.get("llm.token_count.completion")
    return {
        "_id": f"{trace_id}:{span_id}",
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent_span_id or None,
        "name": name,
        "kind": kind,
        "start": start,
        "end": end,
        "duration_ms": (end - start).total_seconds() * 1000,
        "status": status,
        "status_message": status_message or None,
        "model": attributes.get("llm.model_name") or attributes.get("gen_ai.request.model"),
        "input_tokens": int(prompt_tokens) if isinstance(prompt_tokens, int | float) else None,
        "output_tokens": int(completion_tokens) if isinstance(completion_tokens, int | float) else None,
        "session_id": attributes.get("session.id"),
        "user_id": attributes.get("user.id"),
        "service": service,
        "scope": scope,
        "attributes": as_pairs(attributes),
        "events": [{"name": name, "attributes": as_pairs(values)} for name, values in events],
    }


def as_pairs(attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in attributes.items() if value is not None]


def attributes(span: Mapping[str, Any]) -> dict[str, Any]:
    """A stored span's attributes as a dict again."""
    return {pair["key"]: pair["value"] for pair in span.get("attributes", [])}


def flatten(prefix: str, records: Iterable[Mapping[str, Any]], inner: str) -> dict[str, Any]:
    """OpenInference's indexed keys: flatten("retrieval.documents", [{"content": "x"}], "document") gives
    {"retrieval.documents.0.document.content": "x"}."""
    flat: dict[str, Any] = {}
    for index, record in enumerate(records):
        for key, value in record.items():
            flat[f"{prefix}.{index}.{inner}.{key}"] = value
    return flat


def indexed(attrs: Mapping[str, Any], prefix: str, inner: str) -> list[dict[str, Any]]:
    """The records flatten() wrote (or an instrumentor did), in index order; fields absent on a record are left out."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.{re.escape(inner)}\.(.+)$")
    records: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        match = pattern.match(key)
        if match:
            records.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [records[index] for index in sorted(records)]


def documents_of(attrs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A retriever span's documents: id, content, score, metadata (as OpenInference names them)."""
    return indexed(attrs, "retrieval.documents", "document")


def messages_of(attrs: Mapping[str, Any], direction: str) -> list[dict[str, Any]]:
    """An LLM span's input or output messages (direction "input" or "output"): role, content."""
    return indexed(attrs, f"llm.{direction}_messages", "message")
