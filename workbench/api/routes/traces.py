"""Traces: OTLP/HTTP export in (`POST /v1/traces`, where OpenTelemetry exporters send by default), span trees out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from workbench.api.auth import allowed, may
from workbench.api.errors import ApiError
from workbench.api.otlp import ExportTooLarge, MalformedExport, export_response, gunzip, parse_export, span_documents
from workbench.domain.traces import attributes
from workbench.domain.users import UserView
from workbench.services.traces import SpanNode, TraceError, TraceService
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
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip"):
        raise ApiError(415, f"the export is {encoding}-encoded; send it gzip-compressed or uncompressed "
                            "(OTEL_EXPORTER_OTLP_COMPRESSION=gzip or none)")  # fmt: skip
    body = await request.body()
    try:
        if encoding == "gzip":
            body = gunzip(body, request.app.state.container.settings.api.max_body_bytes)
        export = parse_export(body, content_type)
    except ExportTooLarge as exc:
        raise ApiError(413, str(exc)) from exc
    except MalformedExport as exc:
        raise ApiError(400, str(exc)) from exc
    documents, refused = span_documents(export)
    _store(request).add(documents)
    body, media_type = export_response(refused, content_type)
    return Response(body, media_type=media_type)


def _reader(request: Request) -> TraceService:
    reader: TraceService = request.app.state.container.trace_reader
    return reader


def _node(node: SpanNode) -> dict[str, Any]:
    span = node.span
    shown = {key: value for key, value in span.items() if key not in ("_id", "attributes", "events")}
    shown["start"], shown["end"] = span["start"].isoformat(), span["end"].isoformat()
    shown["attributes"] = node.attributes
    shown["events"] = [{"name": e["name"], "attributes": attributes(e)}
                       for e in span.get("events", [])]  # fmt: skip
    shown["children"] = [_node(child) for child in node.children]
    return shown


def _root(span: dict[str, Any]) -> dict[str, Any]:
    shown = _node(SpanNode(span, attributes(span)))
    del shown["children"]
    return shown


@router.get("", summary="The newest traces (their root spans), optionally of one session")
def recent_traces(
    request: Request,
    session_id: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=500),
    user: UserView = Depends(allowed("run_log")),  # noqa: B008
) -> list[dict[str, Any]]:
    return [_root(span) for span in _reader(request).recent(limit, session_id)]


@router.get("/sessions", summary="The newest sessions (traces grouped by their session.id attribute)")
def sessions(
    request: Request,
    limit: int = Query(default=50, ge=1, le=500),
    user: UserView = Depends(allowed("run_log")),  # noqa: B008
) -> list[dict[str, Any]]:
    return [{"session_id": s["_id"], "traces": s["traces"], "errors": s["errors"], "first": s["first"].isoformat(),
             "last": s["last"].isoformat(), "users": [u for u in s["users"] if u]}
            for s in _reader(request).sessions(limit)]  # fmt: skip


@router.get("/{trace_id}", summary="One trace as a span tree")
def trace(trace_id: str, request: Request, user: UserView = Depends(allowed("run_log"))) -> dict[str, Any]:  # noqa: B008
    try:
        tree = _reader(request).tree(trace_id)
    except TraceError as exc:
        raise ApiError(404, str(exc)) from exc
    feedback = [{"user_id": f["user_id"], "rating": f["rating"], "score": f["score"], "comment": f["comment"],
                 "at": f["at"].isoformat()} for f in _reader(request).feedback(tree.trace_id)]  # fmt: skip
    return {"trace_id": tree.trace_id, "spans": tree.span_count, "roots": [_node(root) for root in tree.roots],
            "feedback": feedback}  # fmt: skip
