"""The shared model server: aggregate decode speed of the local model with 4 requests at once against 1, and the
time to first token of a chat question while a dataset run keeps the model busy.

A `workbench model-server` process runs SmolLM2 (the smallest packaged model) with 4 llama.cpp slots, as
`workbench serve` starts it; this process reaches it as the app and the workers do (`llm.model_server_url`).

1. `parallel_ratio`: output tokens per second over all requests with 4 streamed at once, against one at a time
   (each request 64 tokens; rounds alternate which goes first; medians). llama.cpp decodes the 4 slots as one
   batch, so on 2 cores the aggregate rate should grow (target >= 1.5).
   The bare baseline, in the same run: the same requests sent straight to the llama.cpp server the model server
   started (no workbench client), `llama_cpp_parallel_ratio`. What llama.cpp's batching gives on this CPU bounds
   what the workbench can pass on.
2. `ttft_busy_ms` against `ttft_idle_ms`: one short question's time to first token alone, and while 3 other
   requests are being decoded (a dataset run's cells): what a person chatting feels while a run goes on.

    .venv/bin/python benchmarks/model_server.py [--rounds N] [--tokens N] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import emit, say

from workbench.llm import LLMRuntime, LLMSettings
from workbench.llm.messages import Message, Role
from workbench.llm.weights import ModelWeights
from workbench.storage.runlog.embedded import free_port

MODEL = "smollm2-135m-instruct"
PROMPT = "Write a short story about a robot that learns to paint. Use simple words."


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def one(runtime: LLMRuntime, tokens: int, prompt: str = PROMPT) -> tuple[int, float]:
    """(output tokens, time to first token in s) of one streamed request."""
    stream = runtime.stream_chat(MODEL, [Message(Role.USER, prompt)], max_tokens=tokens, temperature=0.0)
    started, first = time.perf_counter(), None
    for _ in stream:
        if first is None:
            first = time.perf_counter() - started
    return int(stream.output_tokens or 0), first or 0.0


def rate(runtime: LLMRuntime, pool: ThreadPoolExecutor, at_once: int, tokens: int) -> float:
    started = time.perf_counter()
    results = list(pool.map(lambda _: one(runtime, tokens), range(at_once)))
    return sum(n for n, _ in results) / (time.perf_counter() - started)


def bare_one(base_url: str, key: str, tokens: int) -> int:
    """One request straight to llama.cpp (not streamed): its output tokens."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": tokens, "temperature": 0}
    request = urllib.request.Request(base_url + "/chat/completions", data=json.dumps(body).encode(), headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {key}"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=300) as response:
        return int(json.loads(response.read())["usage"]["completion_tokens"])


def bare_rate(base_url: str, key: str, pool: ThreadPoolExecutor, at_once: int, tokens: int) -> float:
    started = time.perf_counter()
    produced = sum(pool.map(lambda _: bare_one(base_url, key, tokens), range(at_once)))
    return produced / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (workbench serve: llm.local_threads)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wb-bench-models-") as tmp:
        port, key = free_port(), secrets.token_urlsafe(16)
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "WORKBENCH_DATA_DIR": tmp, "WORKBENCH_LLM__MODEL_SERVER_KEY": key}
        server = subprocess.Popen([sys.executable, "-m", "workbench.cli", "model-server", "--port", str(port),
                                   "--parallel", "4", "--threads", str(args.threads)], env=env,
                                  stdout=subprocess.DEVNULL)  # fmt: skip
        runtime = LLMRuntime(LLMSettings(model_server_url=url, model_server_key=key, request_timeout_s=300),
                             ModelWeights(Path(tmp) / "models"))  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not healthy(url):
                if time.monotonic() > deadline:
                    raise SystemExit("the model server did not start")
                time.sleep(0.2)
            one(runtime, 4)  # loads the model and warms llama.cpp up
            say(f"model server on {url}, {MODEL}, 4 slots")
            singles: list[float] = []
            parallels: list[float] = []
            bare_singles: list[float] = []
            bare_parallels: list[float] = []
            served = runtime.local_server(runtime.catalog.get(MODEL))
            with ThreadPoolExecutor(max_workers=4) as pool:
                for i in range(args.rounds):
                    order = [(1, singles), (4, parallels)][:: 1 if i % 2 == 0 else -1]
                    for at_once, figures in order:
                        figures.append(rate(runtime, pool, at_once, args.tokens))
                    for at_once, figures in [(1, bare_singles), (4, bare_parallels)][:: 1 if i % 2 == 0 else -1]:
                        figures.append(bare_rate(served.base_url, served.api_key, pool, at_once, args.tokens))
                    say(f"round {i + 1}: 1 at once {singles[-1]:.1f} tok/s, 4 at once {parallels[-1]:.1f} tok/s; "
                        f"bare llama.cpp {bare_singles[-1]:.1f} and {bare_parallels[-1]:.1f}")  # fmt: skip
                idle = statistics.median(one(runtime, 16, "Say hello.")[1] for _ in range(3))
                busy_figures = []
                for _ in range(3):
                    background = [pool.submit(one, runtime, args.tokens * 2) for _ in range(3)]
                    time.sleep(0.5)  # the three are decoding
                    busy_figures.append(one(runtime, 16, "Say hello.")[1])
                    for future in background:
                        future.result()
                busy = statistics.median(busy_figures)
        finally:
            runtime.close()
            server.terminate()
            server.wait(30)
    single, parallel = statistics.median(singles), statistics.median(parallels)
    bare_single, bare_parallel = statistics.median(bare_singles), statistics.median(bare_parallels)
    say(f"time to first token: {idle * 1000:.0f} ms idle, {busy * 1000:.0f} ms beside 3 busy slots")
    emit({
        "bench": "model_server", "parallel_ratio": round(parallel / single, 3), "tokens_per_s_1": round(single, 1),
        "tokens_per_s_4": round(parallel, 1), "llama_cpp_parallel_ratio": round(bare_parallel / bare_single, 3),
        "llama_cpp_tokens_per_s_1": round(bare_single, 1), "llama_cpp_tokens_per_s_4": round(bare_parallel, 1),
        "avx2": "avx2" in Path("/proc/cpuinfo").read_text(), "threads": args.threads,
        "ttft_idle_ms": round(idle * 1000, 1),
        "ttft_busy_ms": round(busy * 1000, 1), "rounds": args.rounds, "tokens": args.tokens,
    })  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
