"""Traces: OTLP/HTTP export in (`POST /v1/traces`, where OpenTelemetry exporters send by default), span trees out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from workbench.api.auth import allowed, may
from workbench.api.errors import ApiError
from workbench.api.otlp import MalformedExport, export_response, parse_export, span_documents
from workbench.domain.users import UserView
from workbench.storage.runlog.traces import TraceStore

otlp_router = APIRouter(tags=["traces"])
router = APIRouter(prefix="/traces", tags=["traces"])


def _store(request: Request) -> TraceStore:
    store: TraceStore = request.app.state.container.traces
    return store


@otlp_router.post(
    "/v1/traces",
    summary="OTLP/HTTP trace export (protobuf or JSON); spans that cannot be right are refused by partial success",
    openapi_extra={"requestBody": {"content": {"application/x-protobuf": {}, "application/json": {}}}},
)
async def export_traces(request: Request, user: UserView = Depends(may("send_traces"))) -> Response:  # noqa: B008
    content_type = request.headers.get("content-type", "")
    if request.headers.get("content-encoding", "identity") not in ("identity", ""):
        raise ApiError(415, "send the export uncompressed (OTEL_EXPORTER_OTLP_COMPRESSION=none)")
    try:
        export = parse_export(await request.body(), content_type)
    except MalformedExport as exc:
        raise ApiError(400, str(exc)) from exc
    documents, refused = span_documents(export)
    _store(request).add(documents)
    body, media_type = export_response(refused, content_type)
    return Response(body, media_type=media_type)


def _tree(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spans nested under their parents; a span whose parent is not stored (yet) is a root of its own."""
    nodes = {span["span_id"]: {**_public(span), "children": []} for span in spans}
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_span_id"] or "")
        (parent["children"] if parent is not None else roots).append(node)
    return roots


def _public(span: dict[str, Any]) -> dict[str, Any]:
    shown = {key: value for key, value in span.items() if key not in ("_id", "attributes", "events")}
    shown["start"], shown["end"] = span["start"].isoformat(), span["end"].isoformat()
    shown["attributes"] = {pair["key"]: pair["value"] for pair in span.get("attributes", [])}
    shown["events"] = [
        {"name": e["name"], "attributes": {p["key"]: p["value"] for p in e["attributes"]}}
        for e in span.get("events", [])
    ]
    return shown


@router.get("", summary="The newest traces (their root spans), optionally of one session")
def recent_traces(
    request: Request,
    session_id: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=500),
    user: UserView = Depends(allowed("run_log")),  # noqa: B008
) -> list[dict[str, Any]]:
    return [_public(span) for span in _store(request).recent(limit, session_id)]


@router.get("/{trace_id}", summary="One trace as a span tree")
def trace(trace_id: str, request: Request, user: UserView = Depends(allowed("run_log"))) -> dict[str, Any]:  # noqa: B008
    spans = _store(request).trace(trace_id.lower())
    if not spans:
        raise ApiError(404, f"no trace {trace_id} (ids are 32 hex characters)")
    return {"trace_id": trace_id.lower(), "spans": len(spans), "roots": _tree(spans)}
