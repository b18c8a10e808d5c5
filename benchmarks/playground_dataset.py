"""Playground dataset runs: rows per second with bounded concurrency versus a plain sequential loop over the same
variants, and what the run machinery adds to each cell compared with calling the model directly.

Both measured in the same run on the same machine with the real local model:
- throughput: the same rows x variants, once as a bare loop of model calls one after another (the baseline), once
  as a playground run with concurrency (llama.cpp batches the requests in its parallel slots). Rows carry a
  per-pass marker, so llama.cpp's prompt cache never lets one pass reuse another's prompt processing.
- overhead per cell: a sequential playground run (concurrency 1) against the model time its own calls report:
  rendering, the SQL writes of each cell and the run-log record are the difference. Target: a few ms per cell.
Passes are interleaved (alternating order) and the median is reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit, mongo_server, say
from workbench.bootstrap import Container, build_container
from workbench.config import get_settings
from workbench.domain.users import Role
from workbench.playground.datasets import load_dataset
from workbench.playground.service import chat_messages
from workbench.playground.variants import Variant
from workbench.services import users as user_service


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
                variant.model_id, chat_messages(variant.system_prompt or system, user), **variant.parameters(template)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=24)
    args = parser.parse_args()

    table = load_dataset("playground/support-questions.csv")
    questions = [row["question"] for row in table.rows[: args.rows]]
    with tempfile.TemporaryDirectory(prefix="wb-playground-") as tmp, mongo_server() as client:
        url = f"mongodb://{client.address[0]}:{client.address[1]}/"
        container = build_container(get_settings(data_dir=Path(tmp), mongodb_url=url), register_atexit=False)
        try:
            say(f"warming up {args.model} ({container.settings.llm.local_parallel} parallel slots)…")
            container.llm_runtime.warm_up(args.model)
            user = user_service.create_user(container.uow(), "bench", "bench-password-1", Role.ANALYST)
            chosen = variants(container, args.model, args.max_tokens)
            cells = len(questions) * len(chosen)
            direct_s: list[float] = []
            concurrent_s: list[float] = []
            sequential: list[tuple[float, float]] = []
            tokens: dict[str, list[int]] = {"direct": [], "concurrent": [], "sequential": []}
            passes = 0

            def rows() -> list[dict[str, str]]:
                nonlocal passes
                passes += 1
                return [{"question": f"{q} (pass {passes})"} for q in questions]

            for round_index in range(args.rounds):
                order = ["direct", "concurrent", "sequential"]
                for kind in order if round_index % 2 == 0 else order[::-1]:
                    if kind == "direct":
                        seconds, used = direct_loop(container, chosen, rows())
                        direct_s.append(seconds)
                    elif kind == "concurrent":
                        seconds, _, used = playground_run(container, user.id, chosen, rows(), args.concurrency)
                        concurrent_s.append(seconds)
                    else:
                        seconds, model_s, used = playground_run(container, user.id, chosen, rows(), 1)
                        sequential.append((seconds, model_s))
                    tokens[kind].append(used)
                    say(f"round {round_index + 1} {kind:>10}: {cells} cells in {seconds:.2f} s, {used} output tokens")
        finally:
            container.close()

    direct = statistics.median(direct_s)
    concurrent = statistics.median(concurrent_s)
    overhead_ms = statistics.median((wall - model) * 1000 / cells for wall, model in sequential)
    overhead_ratio = statistics.median(wall / model for wall, model in sequential)
    result: dict[str, Any] = {
        "bench": "playground_dataset",
        "model": args.model,
        "rows": len(questions),
        "variants": 2,
        "concurrency": args.concurrency,
        "sequential_rows_per_s": round(len(questions) / direct, 3),
        "concurrent_rows_per_s": round(len(questions) / concurrent, 3),
        "ratio": round(direct / concurrent, 3),  # throughput with concurrency / sequential loop
        "overhead_per_cell_ms": round(overhead_ms, 2),
        "overhead_ratio": round(overhead_ratio, 4),  # sequential run wall time / its model calls' own time
        "output_tokens_median": {kind: statistics.median(values) for kind, values in tokens.items()},
    }
    say(
        f"sequential loop {result['sequential_rows_per_s']} rows/s, playground with concurrency {args.concurrency} "
        f"{result['concurrent_rows_per_s']} rows/s (x{result['ratio']}); overhead {overhead_ms:.1f} ms per cell"
    )
    emit(result)


if __name__ == "__main__":
    main()
