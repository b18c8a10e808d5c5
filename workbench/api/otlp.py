"""OTLP/HTTP trace export (`POST /v1/traces`), protobuf or JSON, decoded into span documents for the TraceStore.

The JSON encoding of OTLP writes trace and span ids as hex, where protobuf's JSON mapping expects base64 for bytes,
so ids are converted before the message is parsed. Spans that cannot be right (an end before the start, a start a
day in the future, ids of the wrong length) are refused one by one through OTLP's partial success, with the reason;
the rest of the batch is stored.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from workbench.domain.traces import as_pairs, span_document

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_FUTURE = timedelta(days=1)
_SPAN_KINDS = {  # OTel's own kinds, where a span says nothing in OpenInference terms
    Span.SPAN_KIND_CLIENT: "CLIENT", Span.SPAN_KIND_SERVER: "SERVER", Span.SPAN_KIND_INTERNAL: "INTERNAL",
    Span.SPAN_KIND_PRODUCER: "PRODUCER", Span.SPAN_KIND_CONSUMER: "CONSUMER",
}  # fmt: skip


class MalformedExport(ValueError):
    """The body is not an OTLP trace export; the message says what was wrong."""


class ExportTooLarge(MalformedExport):
    """A compressed export that inflates past the body limit."""


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """A gzip-compressed export, refused once it inflates past `max_bytes` (the body limit holds after inflating,
    so a small bomb cannot fill the memory)."""
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        data = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise MalformedExport(f"the body is not valid gzip ({exc})") from exc
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise ExportTooLarge(f"the export inflates past {max_bytes:,} bytes (api.max_body_bytes)")
    if not inflater.eof:
        raise MalformedExport("the gzip body ends before its end marker (truncated)")
    return data


def parse_export(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind == PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise MalformedExport(f"the body is not an OTLP protobuf ExportTraceServiceRequest ({exc})") from exc
        return request
    if kind == JSON:
        try:
            document = json.loads(body)
            if not isinstance(document, dict):
                raise ValueError("the body must be a JSON object with resourceSpans")
            _hex_ids_to_base64(document)
            json_format.ParseDict(document, request, ignore_unknown_fields=True)
        except (ValueError, TypeError, AttributeError, json_format.ParseError) as exc:  # any shape it is not
            raise MalformedExport(f"the body is not OTLP JSON ({str(exc)[:200]})") from exc
        return request
    raise MalformedExport(f"send {PROTOBUF} or {JSON}, not {kind or 'no Content-Type'}")


def _hex_ids_to_base64(document: Any) -> None:
    for resource in document.get("resourceSpans", []) if isinstance(document, dict) else []:
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                _ids_to_base64("span", span, ("traceId", "spanId", "parentSpanId"))
                for link in span.get("links", []):
                    _ids_to_base64("link", link, ("traceId", "spanId"))


def _ids_to_base64(what: str, holder: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if holder.get(key):
            try:
                holder[key] = base64.b64encode(bytes.fromhex(holder[key])).decode()
            except ValueError as exc:
                raise MalformedExport(f"{what} {key} {holder[key]!r} is not hex") from exc


def value_of(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [value_of(each) for each in value.array_value.values]
    if which == "kvlist_value":
        return as_pairs(attributes_of(value.kvlist_value.values))
    if which == "bytes_value":
        return binascii.hexlify(value.bytes_value).decode()
    return getattr(value, which) if which else None


def attributes_of(pairs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:
        assert isinstance(pair, KeyValue)
        key = pair.key.lstrip("$")
        if key:
            found[key] = value_of(pair.value)
    return found


def span_documents(
    request: ExportTraceServiceRequest, now: datetime | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """(span documents to store, one reason per refused span)."""
    now = now or datetime.now(UTC)
    documents: list[dict[str, Any]] = []
    refused: list[str] = []
    for resource_spans in request.resource_spans:
        resource = attributes_of(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                document, reason = _document(span, resource, scope_spans.scope.name, now)
                if reason is not None:
                    refused.append(reason)
                else:
                    documents.append(document)
    return documents, refused


def _document(span: Span, resource: dict[str, Any], scope: str, now: datetime) -> tuple[dict[str, Any], str | None]:
    trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
    if len(span.trace_id) != 16 or len(span.span_id) != 8:
        sizes = f"{len(span.trace_id)} and {len(span.span_id)}"
        return {}, f"span {span.name!r}: a trace id is 16 bytes and a span id 8 (got {sizes})"
    start = datetime.fromtimestamp(span.start_time_unix_nano / 1e9, UTC)
    end = datetime.fromtimestamp(span.end_time_unix_nano / 1e9, UTC) if span.end_time_unix_nano else start
    if end < start:
        return {}, f"span {span_id}: it ends before it starts"
    if start > now + _FUTURE:
        return {}, f"span {span_id}: it starts more than a day in the future ({start:%Y-%m-%d %H:%M} UTC)"
    attributes = attributes_of(span.attributes)
    kind = str(attributes.get("openinference.span.kind") or _SPAN_KINDS.get(span.kind, "UNKNOWN")).upper()
    document = span_document(
        trace_id=trace_id, span_id=span_id, parent_span_id=span.parent_span_id.hex() or None, name=span.name,
        kind=kind, start=start, end=end, attributes=attributes,
        status={Status.STATUS_CODE_ERROR: "error", Status.STATUS_CODE_OK: "ok"}.get(span.status.code, "unset"),
        status_message=span.status.message or None, service=resource.get("service.name"), scope=scope,
        events=[(event.name, attributes_of(event.attributes)) for event in span.events],
    )  # fmt: skip
    if not span.end_time_unix_nano:
        document["duration_ms"] = 0.0
    else:  # from the nanoseconds: datetimes keep only microseconds
        document["duration_ms"] = (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6
    return document, None


def export_response(refused: list[str], content_type: str) -> tuple[bytes, str]:
    response = ExportTraceServiceResponse()
    if refused:
        response.partial_success.rejected_spans = len(refused)
        response.partial_success.error_message = "; ".join(refused[:10])
    if content_type.split(";", maxsplit=1)[0].strip().lower() == PROTOBUF:
        return response.SerializeToString(), PROTOBUF
    return json_format.MessageToJson(response).encode(), JSON
