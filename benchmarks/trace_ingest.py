"""Trace ingest: OTLP/HTTP exports through the API into the span store, against a bare insert_many of the same span
documents, on one MongoDB-wire server.

  api   POST /v1/traces with a protobuf ExportTraceServiceRequest of BATCH spans (key check, decode, validate,
        insert), over real HTTP to uvicorn in this process, one request at a time
  bare  collection.insert_many(documents, ordered=False) of the same spans, already decoded, into a collection
        with the same indexes

Slices of batches alternate between the two, so noise from other processes falls on both alike. Prints spans/s of
each, `ratio` (api / bare, target >= 0.5) and the API's request latency p50/p99.

Then the API's overhead on a chat answer: `POST /api/v1/chat` against `ChatService.ask` called directly, the same
question to the same OpenAI-compatible stub model (a fixed answer after 20 ms, so the model's time is equal in
both), alternating; `chat_overhead_ms` is the difference of the medians (target < 20 ms).

    .venv/bin/python benchmarks/trace_ingest.py [--spans N] [--batch N] [--chats N]
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import threading
import time
from typing import Any

import httpx
import uvicorn
from _common import emit, median, mongo_server, percentile, say
from _stub_model import StubModelServer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

RATIO_TARGET = 0.5


def export(batch: int, rng_prefix: bytes) -> ExportTraceServiceRequest:
    """One export: a trace of `batch` spans shaped like a RAG answer (a chain, retrievals, LLM calls)."""
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="bench-app")))
    scope = resource.scope_spans.add()
    scope.scope.name = "bench"
    trace_id = rng_prefix + secrets.token_bytes(16 - len(rng_prefix))
    start = time.time_ns() - 10_000_000_000
    for i in range(batch):
        span = scope.spans.add()
        span.trace_id = trace_id
        span.span_id = i.to_bytes(8, "big") if i else (batch + 1).to_bytes(8, "big")
        if i:
            span.parent_span_id = (batch + 1).to_bytes(8, "big")
        span.name = ("retrieve", "generate", "embed")[i % 3]
        span.start_time_unix_nano = start + i * 1_000_000
        span.end_time_unix_nano = start + i * 1_000_000 + 800_000
        kind = ("RETRIEVER", "LLM", "EMBEDDING")[i % 3] if i else "CHAIN"
        texts = {"openinference.span.kind": kind, "llm.model_name": "qwen2.5-0.5b-instruct",
                 "session.id": "bench-session", "input.value": "What is the refund window? " * 4}  # fmt: skip
        for key, value in texts.items():
            span.attributes.append(KeyValue(key=key, value=AnyValue(string_value=value)))
        span.attributes.append(KeyValue(key="llm.token_count.prompt", value=AnyValue(int_value=420)))
        span.attributes.append(KeyValue(key="llm.token_count.completion", value=AnyValue(int_value=64)))
    return request


def chat_overhead(http: httpx.Client, container: Any, user_id: str, rounds: int) -> tuple[list[float], list[float]]:
    """ms per whole answer through POST /api/v1/chat and through ChatService.ask, alternating."""
    from workbench.services.chat import ChatRequest

    through_api: list[float] = []
    direct: list[float] = []
    body = {"question": "What is the capital of France?", "model": "stub"}
    for i in range(rounds + 2):
        began = time.perf_counter()
        http.post("/api/v1/chat", json=body, headers={"Content-Type": "application/json"}).raise_for_status()
        api_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        turn = container.chat.ask(ChatRequest(user_id=user_id, question=body["question"], model_id="stub",
                                              knowledge_base=None, channel="bench"))  # fmt: skip
        for _ in turn:
            pass
        direct_ms = (time.perf_counter() - began) * 1000
        if i >= 2:  # the first two warm both paths up
            through_api.append(api_ms)
            direct.append(direct_ms)
    return through_api, direct


def main() -> None:  # noqa: PLR0915 - one measurement, set up and torn down in order
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=6_000, help="spans per variant")
    parser.add_argument("--batch", type=int, default=100, help="spans per export")
    parser.add_argument("--chats", type=int, default=40, help="chat answers per path")
    args = parser.parse_args()
    batches = max(2, args.spans // args.batch)

    with (
        tempfile.TemporaryDirectory(prefix="wb-bench-traces-") as tmp,
        mongo_server() as client,
        StubModelServer(delay_s=0.02) as model,
    ):
        url = f"mongodb://{client.address[0]}:{client.address[1]}"
        os.environ["WORKBENCH_LLM__EXTRA_MODELS"] = model.models_env()
        os.environ.update(WORKBENCH_DATA_DIR=tmp, WORKBENCH_MONGODB_URL=url, WORKBENCH_MONGODB_DATABASE="bench")
        os.environ.update(WORKBENCH_LLM__WARM_UP_ON_OPEN="false", WORKBENCH_API__REQUESTS_PER_MINUTE="1000000")
        from workbench.api.app import create_api
        from workbench.api.otlp import span_documents
        from workbench.bootstrap import build_container
        from workbench.config import get_settings
        from workbench.domain.users import Role
        from workbench.services import api_keys, users
        from workbench.storage.runlog.embedded import free_port
        from workbench.storage.runlog.traces import TraceStore

        container = build_container(get_settings(), register_atexit=False)
        user = users.create_user(container.uow(), "bench", "a-long-enough-password", Role.ANALYST)
        key = api_keys.create_key(container.uow(), user.id, "bench").secret
        container.traces.ensure_indexes()
        bare_store = TraceStore(client["bench-bare"])
        bare_store.ensure_indexes()
        bare = client["bench-bare"]["spans"]

        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_api(container), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        say(f"API on :{port}; {batches} exports of {args.batch} spans per variant")

        api_bodies = [export(args.batch, b"a").SerializeToString() for _ in range(batches)]
        bare_docs = [span_documents(export(args.batch, b"b"))[0] for _ in range(batches)]
        latencies: list[float] = []
        seconds = {"api": 0.0, "bare": 0.0}
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-protobuf"}
        slice_size = max(1, batches // 6)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
            http.post("/v1/traces", content=export(2, b"w").SerializeToString())  # warm-up
            for start in range(0, batches, slice_size):
                for body in api_bodies[start : start + slice_size]:
                    began = time.perf_counter()
                    answer = http.post("/v1/traces", content=body)
                    elapsed = time.perf_counter() - began
                    answer.raise_for_status()
                    latencies.append(elapsed * 1000)
                    seconds["api"] += elapsed
                for docs in bare_docs[start : start + slice_size]:
                    began = time.perf_counter()
                    bare.insert_many([dict(doc) for doc in docs], ordered=False)
                    seconds["bare"] += time.perf_counter() - began
            api_chat, direct_chat = chat_overhead(http, container, user.id, args.chats)
        server.should_exit = True
        thread.join(10)
        stored = client["bench"]["spans"].count_documents({"service": "bench-app"})
        container.close()

    spans = batches * args.batch
    rates: dict[str, Any] = {name: spans / value for name, value in seconds.items()}
    ratio = rates["api"] / rates["bare"]
    p50, p99 = median(latencies), percentile(latencies, 99)
    say(f"api {rates['api']:.0f} spans/s, bare insert_many {rates['bare']:.0f} spans/s, ratio {ratio:.2f} "
        f"(target >= {RATIO_TARGET}); request p50 {p50:.1f} ms, p99 {p99:.1f} ms")  # fmt: skip
    overhead = median(api_chat) - median(direct_chat)
    say(f"chat answer: {median(api_chat):.1f} ms through the API, {median(direct_chat):.1f} ms calling the service: "
        f"overhead {overhead:.1f} ms (target < 20)")  # fmt: skip
    if stored != spans + 2:
        raise SystemExit(f"stored {stored} spans, sent {spans + 2}")
    emit({
        "bench": "trace_ingest", "ratio": round(ratio, 3), "api_spans_per_s": round(rates["api"]),
        "bare_spans_per_s": round(rates["bare"]), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
        "spans": spans, "batch": args.batch, "stored": stored, "chat_overhead_ms": round(overhead, 2),
        "chat_api_ms": round(median(api_chat), 2), "chat_direct_ms": round(median(direct_chat), 2),
    })  # fmt: skip


if __name__ == "__main__":
    main()
