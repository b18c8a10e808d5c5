"""Playground dataset runs: rows per second with bounded concurrency versus a plain sequential loop over the same
variants, and what the run machinery adds to each cell compared with calling the model directly.

Measured in the same run, for two kinds of model:
- the real local model (llama.cpp, parallel slots). On a 2-core machine it is CPU-bound: llama.cpp already keeps
  the cores busy, so concurrency mostly lets the variants stream side by side rather than finish sooner;
- a hosted-like model: an OpenAI-compatible endpoint on loopback that answers like a hosted API (fixed time to
  first token, then tokens at a steady rate, usage in the last chunk; these machines have no network). This is
  where concurrency pays: the calls wait on the network, not on this machine's CPU.
Figures:
- throughput: the same rows x variants, once as a bare loop of model calls one after another (the baseline), once
  as a playground run with concurrency. Rows carry a per-pass marker, so llama.cpp's prompt cache never lets one
  pass reuse another's prompt processing.
- overhead per cell: a sequential playground run (concurrency 1) against the model time its own calls report:
  rendering, the SQL writes of each cell and the run-log record are the difference. Target: a few ms per cell.
Passes are interleaved (alternating order) and the median is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit, mongo_server, say
from workbench.bootstrap import Container, build_container
from workbench.config import get_settings
from workbench.config.llm import ModelSpec
from workbench.domain.users import Role
from workbench.llm.messages import prompt_messages
from workbench.playground.datasets import load_dataset
from workbench.playground.variants import Variant
from workbench.services import users as user_service

HOSTED = "hosted-like"


class _HostedLike(BaseHTTPRequestHandler):
    """/v1/chat/completions, streamed: 150 ms to the first token, then one token every 10 ms."""

    protocol_version = "HTTP/1.1"
    ttft_s = 0.15
    token_s = 0.01

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        tokens = int(body.get("max_tokens") or 16)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        time.sleep(self.ttft_s)
        for i in range(tokens):
            if i:
                time.sleep(self.token_s)
            self._event({"choices": [{"index": 0, "delta": {"content": f" word{i}"}, "finish_reason": None}]})
        self._event({"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": tokens}})
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _event(self, payload: dict[str, Any]) -> None:
        payload.update(id="x", object="chat.completion.chunk", created=0, model="hosted-like")
        self._chunk(f"data: {json.dumps(payload)}\n\n".encode())

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def hosted_like_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostedLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


def variants(container: Container, model: str, max_tokens: int) -> list[Variant]:
    prompt = container.prompts.get("plain-chat", "production")
    return [
        Variant("plain-chat", prompt.content, model, prompt.version, temperature=0.0, max_tokens=max_tokens),
        Variant("plain-chat", prompt.content, model, prompt.version, temperature=0.0, max_tokens=max_tokens,
                system_prompt="You answer in one short sentence."),
    ]  # fmt: skip


def direct_loop(container: Container, chosen: list[Variant], rows: list[dict[str, str]]) -> tuple[float, int]:
    """The baseline: every variant on every row, one model call after another. (seconds, output tokens)"""
    tokens = 0
    started = time.perf_counter()
    for values in rows:
        for variant in chosen:
            template = variant.template
            system, user = template.render(**values)
            stream = container.llm_runtime.stream_chat(
                variant.model_id, prompt_messages(variant.system_prompt or system, user), **variant.parameters(template)
            )
            for _ in stream:
                pass
            tokens += stream.output_tokens or 0
    return time.perf_counter() - started, tokens


def playground_run(
    container: Container, user_id: str, chosen: list[Variant], rows: list[dict[str, str]], concurrency: int
) -> tuple[float, float, int]:
    """A stored playground run. (wall seconds, summed model-call seconds, output tokens)"""
    service = container.playground
    run_id = service.create_run(user_id=user_id, variants=chosen, rows=rows, concurrency=concurrency)
    started = time.perf_counter()
    run = service.execute(run_id)
    wall = time.perf_counter() - started
    assert run.status == "done" and run.counts == {"ok": len(rows) * len(chosen)}, run
    cells = service.cells(run_id)
    return wall, sum((c.latency_ms or 0) for c in cells) / 1000, sum(c.output_tokens or 0 for c in cells)


def measure(
    container: Container, user_id: str, model: str, questions: list[str], args: argparse.Namespace, concurrency: int
) -> dict[str, Any]:
    """Interleaved rounds of: the bare loop, a concurrent run, a sequential run; medians of each."""
    chosen = variants(container, model, args.max_tokens)
    cells = len(questions) * len(chosen)
    direct_s: list[float] = []
    concurrent_s: list[float] = []
    sequential: list[tuple[float, float]] = []
    tokens: dict[str, list[int]] = {"direct": [], "concurrent": [], "sequential": []}
    for round_index in range(args.rounds):
        order = ["direct", "concurrent", "sequential"]
        for kind in order if round_index % 2 == 0 else order[::-1]:
            rows = [{"question": f"{q} (round {round_index}, {kind})"} for q in questions]
            if kind == "direct":
                seconds, used = direct_loop(container, chosen, rows)
                direct_s.append(seconds)
            elif kind == "concurrent":
                seconds, _, used = playground_run(container, user_id, chosen, rows, concurrency)
                concurrent_s.append(seconds)
            else:
                seconds, model_s, used = playground_run(container, user_id, chosen, rows, 1)
                sequential.append((seconds, model_s))
            tokens[kind].append(used)
            say(f"{model} round {round_index + 1} {kind:>10}: {cells} cells in {seconds:.2f} s, {used} output tokens")
    direct, concurrent = statistics.median(direct_s), statistics.median(concurrent_s)
    figures = {
        "concurrency": concurrency,
        "sequential_rows_per_s": round(len(questions) / direct, 3),
        "concurrent_rows_per_s": round(len(questions) / concurrent, 3),
        "ratio": round(direct / concurrent, 3),  # throughput with concurrency / the sequential loop's
        "overhead_per_cell_ms": round(statistics.median((w - m) * 1000 / cells for w, m in sequential), 2),
        "overhead_ratio": round(statistics.median(w / m for w, m in sequential), 4),  # run wall / its model time
        "output_tokens_median": {kind: statistics.median(values) for kind, values in tokens.items()},
    }
    say(
        f"{model}: sequential loop {figures['sequential_rows_per_s']} rows/s, playground with concurrency "
        f"{concurrency} {figures['concurrent_rows_per_s']} rows/s (x{figures['ratio']}); "
        f"overhead {figures['overhead_per_cell_ms']} ms per cell"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="smollm2-135m-instruct", help="the local model")
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="for the local model")
    parser.add_argument("--hosted-concurrency", type=int, default=4, help="for the hosted-like model")
    parser.add_argument("--max-tokens", type=int, default=24)
    args = parser.parse_args()

    table = load_dataset("playground/support-questions.csv")
    questions = [row["question"] for row in table.rows[: args.rows]]
    with (
        tempfile.TemporaryDirectory(prefix="wb-playground-") as tmp,
        mongo_server() as client,
        hosted_like_endpoint() as hosted_url,
    ):
        url = f"mongodb://{client.address[0]}:{client.address[1]}/"
        settings = get_settings(data_dir=Path(tmp), mongodb_url=url)
        hosted = ModelSpec(id=HOSTED, provider="openai_compatible", model=HOSTED, base_url=hosted_url)
        settings.llm.extra_models.append(hosted)
        container = build_container(settings, register_atexit=False)
        try:
            say(f"warming up {args.model} ({settings.llm.local_parallel} parallel slots)…")
            container.llm_runtime.warm_up(args.model)
            user = user_service.create_user(container.uow(), "bench", "bench-password-1", Role.ANALYST)
            local = measure(container, user.id, args.model, questions, args, args.concurrency)
            remote = measure(container, user.id, HOSTED, questions, args, args.hosted_concurrency)
        finally:
            container.close()
    emit(
        {
            "bench": "playground_dataset",
            "rows": len(questions),
            "variants": 2,
            "ratio": remote["ratio"],  # hosted-like model: rows/s with concurrency / the sequential loop's
            "local_ratio": local["ratio"],
            "overhead_per_cell_ms": local["overhead_per_cell_ms"],
            "local": {"model": args.model, **local},
            "hosted_like": remote,
        }
    )


if __name__ == "__main__":
    main()
