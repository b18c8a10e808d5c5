"""Time to first token through the chat service versus the same model call made directly, in the same run.

The service path is everything a user waits for before the first word: storing the question (SQLite), retrieval
(ONNX embedding + Chroma), rendering the prompt, then the model call. llama.cpp caches earlier prompts, so two
separate calls with the same prompt are not comparable (the second skips reading the prompt). Each turn therefore
measures both on the SAME model request: the service's time to first token (from ask() to the first delta the
caller sees) and the direct model call's own time to first token (from sending the request to its first delta).
The difference is exactly what the service adds. Target: under 100 ms at the median.
Default model: SmolLM2 (fast); `--model qwen2.5-0.5b-instruct` for the default one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit, mongo_server, say
from workbench.bootstrap import build_container
from workbench.config import get_settings
from workbench.domain.users import Role
from workbench.rag.sample import ensure_sample_knowledge_base
from workbench.services import users as user_service
from workbench.services.chat import ChatRequest

QUESTIONS = [
    "How long is the warranty on the R2 arm?",
    "When is phone support open?",
    "What does the M1 mobile base weigh?",
    "Which release added collision detection?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wb-ttft-") as tmp, mongo_server() as client:
        url = f"mongodb://{client.address[0]}:{client.address[1]}/"
        settings = get_settings(data_dir=Path(tmp), mongodb_url=url)
        container = build_container(settings, register_atexit=False)
        try:
            say("ingesting the sample corpus and warming up the model…")
            ensure_sample_knowledge_base(container.rag)
            container.llm_runtime.warm_up(args.model)
            user = user_service.create_user(container.uow(), "bench", "bench-password-1", Role.ANALYST)
            chat = container.chat
            service_ms, direct_ms = [], []
            for run in range(args.runs):
                question = f"{QUESTIONS[run % len(QUESTIONS)]} (asked in run {run + 1})"
                request = ChatRequest(
                    user_id=user.id, question=question, model_id=args.model, knowledge_base="sample", max_tokens=8
                )
                started = time.perf_counter()
                turn = chat.ask(request)
                deltas = iter(turn)
                next(deltas)
                service_ms.append((time.perf_counter() - started) * 1000)
                for _ in deltas:
                    pass
                direct_ms.append(float(turn.stats["ttft_ms"]))
                say(f"run {run + 1}: through the service {service_ms[-1]:.0f} ms, model call {direct_ms[-1]:.0f} ms")
        finally:
            container.close()
    service, direct = statistics.median(service_ms), statistics.median(direct_ms)
    overhead = statistics.median(s - d for s, d in zip(service_ms, direct_ms, strict=True))
    say(f"median time to first token: service {service:.0f} ms, direct {direct:.0f} ms, overhead {overhead:.0f} ms")
    emit(
        {
            "bench": "chat_ttft",
            "model": args.model,
            "runs": args.runs,
            "service_ttft_p50_ms": round(service, 1),
            "direct_ttft_p50_ms": round(direct, 1),
            "overhead_p50_ms": round(overhead, 1),
            "ratio": round(service / direct, 3),
            "target_overhead_ms": 100,
            "target_met": overhead < 100,
        }
    )


if __name__ == "__main__":
    main()
