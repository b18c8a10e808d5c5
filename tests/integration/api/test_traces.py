"""OTLP trace ingest: spans sent by the real OpenTelemetry SDK and its OTLP/HTTP exporter come back as a span tree
with their kinds, tokens and session; OTLP JSON works too; a re-sent batch stores nothing twice; malformed bodies
and impossible spans are refused with the reason, and the rest of a batch is kept."""

from __future__ import annotations

import gzip
import json
import time
import zlib

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.integration.api.conftest import ApiWorld

pytestmark = pytest.mark.integration
V1 = "/api/v1"
TRACE = "5b8efff798038103d269b633813fc60c"


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_spans_from_the_opentelemetry_sdk_come_back_as_a_tree(
    api_world: ApiWorld, served: str, compression: Compression
) -> None:
    exporter = OTLPSpanExporter(endpoint=f"{served}/v1/traces", headers=api_world.as_("analyst"),
                                compression=compression)  # fmt: skip
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    with tracer.start_as_current_span("answer", attributes={"openinference.span.kind": "CHAIN", "session.id": "s-1"}):
        retrieved = {"openinference.span.kind": "RETRIEVER", "retrieval.documents": ["doc a", "doc b"]}
        with tracer.start_as_current_span("retrieve", attributes=retrieved):
            pass
        with tracer.start_as_current_span("generate", attributes={
            "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
            "llm.token_count.prompt": 120, "llm.token_count.completion": 30,
        }) as llm:  # fmt: skip
            trace_id = format(llm.get_span_context().trace_id, "032x")
    provider.shutdown()

    tree = api_world.client.get(f"{V1}/traces/{trace_id}", headers=api_world.as_("viewer")).json()
    assert tree["spans"] == 3
    (root,) = tree["roots"]
    assert (root["name"], root["kind"], root["session_id"], root["service"]) == (
        "answer",
        "CHAIN",
        "s-1",
        "support-bot",
    )
    children = {child["name"]: child for child in root["children"]}
    assert children["retrieve"]["kind"] == "RETRIEVER"
    assert children["retrieve"]["attributes"]["retrieval.documents"] == ["doc a", "doc b"]
    generate = children["generate"]
    assert (generate["kind"], generate["model"], generate["input_tokens"], generate["output_tokens"]) == (
        "LLM", "gpt-4o-mini", 120, 30,
    )  # fmt: skip
    assert generate["duration_ms"] >= 0
    sessions = api_world.client.get(f"{V1}/traces", params={"session_id": "s-1"}, headers=api_world.as_("viewer"))
    assert [span["trace_id"] for span in sessions.json()] == [trace_id]
    (session,) = api_world.client.get(f"{V1}/traces/sessions", headers=api_world.as_("viewer")).json()
    assert (session["session_id"], session["traces"], session["errors"]) == ("s-1", 1, 0)


def otlp_json(*spans: dict[str, object]) -> bytes:
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [
        {"scope": {"name": "json-client"}, "spans": list(spans)}]}]}).encode()  # fmt: skip


def span(span_id: str, start_s: float, end_s: float, parent: str = "") -> dict[str, object]:
    return {"traceId": TRACE, "spanId": span_id, "parentSpanId": parent, "name": f"s{span_id[-1]}", "kind": 1,
            "startTimeUnixNano": str(int(start_s * 1e9)), "endTimeUnixNano": str(int(end_s * 1e9)),
            "attributes": [{"key": "openinference.span.kind", "value": {"stringValue": "TOOL"}}]}  # fmt: skip


def test_otlp_json_is_stored_once_and_impossible_spans_are_refused_by_name(api_world: ApiWorld) -> None:
    now = time.time()
    body = otlp_json(
        span("00000000000000a1", now - 2, now - 1),
        span("00000000000000a2", now - 2, now - 1.5, parent="00000000000000a1"),
        span("00000000000000a3", now - 1, now - 2),  # ends before it starts
        span("00000000000000a4", now + 3 * 86400, now + 3 * 86400 + 1),  # days ahead
    )
    headers = {**api_world.as_("analyst"), "Content-Type": "application/json"}
    answer = api_world.client.post("/v1/traces", content=body, headers=headers)
    assert answer.status_code == 200
    partial = answer.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "ends before it starts" in partial["errorMessage"] and "in the future" in partial["errorMessage"]

    assert api_world.client.post("/v1/traces", content=body, headers=headers).status_code == 200  # sent again
    tree = api_world.client.get(f"{V1}/traces/{TRACE}", headers=api_world.as_("analyst")).json()
    assert tree["spans"] == 2  # stored once
    assert [child["span_id"] for child in tree["roots"][0]["children"]] == ["00000000000000a2"]


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("application/x-protobuf", b"\xff\xff not protobuf", "not an OTLP protobuf"),
        ("application/json", b"{not json", "not OTLP JSON"),
        ("text/plain", b"hello", "send application/x-protobuf or application/json"),
    ],
)
def test_a_malformed_export_is_a_400_that_says_why(
    api_world: ApiWorld, content_type: str, body: bytes, reason: str
) -> None:
    answer = api_world.client.post("/v1/traces", content=body,
                                   headers={**api_world.as_("analyst"), "Content-Type": content_type})  # fmt: skip
    assert answer.status_code == 400 and reason in answer.json()["error"]["message"]


def test_only_analysts_and_admins_send_traces(api_world: ApiWorld) -> None:
    headers = {**api_world.as_("viewer"), "Content-Type": "application/json"}
    answer = api_world.client.post("/v1/traces", content=otlp_json(), headers=headers)
    assert answer.status_code == 403 and "send traces" in answer.json()["error"]["message"]
    assert api_world.client.post("/v1/traces", content=otlp_json()).status_code == 401


def test_a_gzip_bomb_or_an_unknown_encoding_is_refused_and_nothing_is_stored(api_world: ApiWorld) -> None:
    limit = api_world.container.settings.api.max_body_bytes
    headers = {**api_world.as_("analyst"), "Content-Type": "application/json", "Content-Encoding": "gzip"}
    bomb = gzip.compress(b" " * (limit + 1))  # a few kB that inflate past the body limit
    assert len(bomb) < limit // 100
    answer = api_world.client.post("/v1/traces", content=bomb, headers=headers)
    assert answer.status_code == 413 and "inflates past" in answer.json()["error"]["message"]

    truncated = gzip.compress(otlp_json(span("00000000000000b1", time.time() - 1, time.time())))[:-12]
    answer = api_world.client.post("/v1/traces", content=truncated, headers=headers)
    assert answer.status_code == 400 and "gzip" in answer.json()["error"]["message"]

    deflated = zlib.compress(otlp_json())
    answer = api_world.client.post("/v1/traces", content=deflated, headers={**headers, "Content-Encoding": "br"})
    assert answer.status_code == 415 and "gzip" in answer.json()["error"]["message"]
    assert api_world.client.get(f"{V1}/traces", headers=api_world.as_("analyst")).json() == []


def test_feedback_on_a_trace_is_kept_once_per_user_and_comes_back_with_the_tree(api_world: ApiWorld) -> None:
    now = time.time()
    headers = {**api_world.as_("analyst"), "Content-Type": "application/json"}
    api_world.client.post("/v1/traces", content=otlp_json(span("00000000000000c1", now - 2, now - 1)), headers=headers)
    first = api_world.client.post(f"{V1}/feedback", json={"trace_id": TRACE, "rating": -1, "comment": "vague"},
                                  headers=api_world.as_("viewer"))  # fmt: skip
    assert first.status_code == 201, first.text
    again = api_world.client.post(f"{V1}/feedback", json={"trace_id": TRACE.upper(), "score": 0.25},
                                  headers=api_world.as_("viewer"))  # fmt: skip
    assert again.json()["id"] == first.json()["id"]  # the same user: replaced
    api_world.client.post(f"{V1}/feedback", json={"trace_id": TRACE, "rating": 1}, headers=api_world.as_("admin"))
    tree = api_world.client.get(f"{V1}/traces/{TRACE}", headers=api_world.as_("viewer")).json()
    assert {(f["rating"], f["score"]) for f in tree["feedback"]} == {(1, None), (None, 0.25)}

    cases = [
        ({"trace_id": "f" * 32, "rating": 1}, 404, "No trace"),
        ({"trace_id": TRACE}, 422, "Give a rating, a score or a comment"),
        ({"trace_id": TRACE, "score": 1.5}, 422, "less than or equal to 1"),
        ({"trace_id": TRACE, "message_id": "m1", "rating": 1}, 422, "either message_id"),
        ({"message_id": "m1", "score": 0.5}, 422, "without a score"),
    ]
    for body, status, reason in cases:
        answer = api_world.client.post(f"{V1}/feedback", json=body, headers=api_world.as_("viewer"))
        assert answer.status_code == status and reason in answer.json()["error"]["message"], (body, answer.text)
