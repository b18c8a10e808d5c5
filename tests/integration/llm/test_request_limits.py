"""Request limits counted in the machine's real Redis: shared by separate processes, lapsing when a holder dies,
and reported as a rate limit when no slot comes free."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.integration.llm.conftest import Reply, ScriptedOpenAIServer
from workbench.bootstrap import build_limiter
from workbench.config import Settings
from workbench.config.llm import RequestLimits
from workbench.llm import LLMRuntime, LLMSettings, ModelSpec, ModelWeights, ProviderError
from workbench.llm.errors import FailureKind, provider_error_from
from workbench.llm.limits import Limit, LimitWaitTimeout, LocalLimiter, RedisLimiter
from workbench.llm.messages import Message, Role, to_llama_index
from workbench.storage.runlog.embedded import free_port

pytestmark = pytest.mark.integration

REDIS = "redis://127.0.0.1:6379/0"
ANSWER = {
    "id": "c", "object": "chat.completion", "created": 0, "model": "m",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Paris."}}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}  # fmt: skip

# One process of the app or a worker: four questions at once to a model limited to two at once in all processes.
CLIENT = textwrap.dedent(
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path
    from workbench.config.llm import RequestLimits
    from workbench.llm import LLMRuntime, LLMSettings, ModelSpec, ModelWeights
    from workbench.llm.limits import RedisLimiter
    from workbench.llm.messages import Message, Role, to_llama_index

    base_url, namespace, models = sys.argv[1:4]
    spec = ModelSpec(id="vllm", provider="openai_compatible", model="m", base_url=base_url,
                     limits=RequestLimits(max_concurrency=2))
    runtime = LLMRuntime(LLMSettings(default_model="vllm", models=[spec], max_retries=0), ModelWeights(Path(models)),
                         limiter=RedisLimiter("redis://127.0.0.1:6379/0", namespace))
    ask = lambda _: runtime.llm("vllm").chat(to_llama_index([Message(Role.USER, "Capital?")]))
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, range(4)))
    print(sum(1 for a in answers if "Paris" in str(a.message.content)))
    """
)


def namespace() -> str:
    return f"wb-test-{uuid.uuid4().hex[:10]}"


def test_two_processes_share_one_models_concurrency(tmp_path: Path, scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.reply = Reply(200, ANSWER, delay_s=0.3)
    shared = namespace()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    command = [sys.executable, "-c", CLIENT, scripted_server.base_url, shared, str(tmp_path)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    answered = [int((process.communicate(timeout=120)[0] or "0").strip().splitlines()[-1]) for process in processes]

    assert answered == [4, 4]
    assert len(scripted_server.requests) == 8
    assert scripted_server.peak_in_flight == 2  # eight asked at once from two processes; two answered at a time


def test_a_slot_of_a_holder_that_died_lapses() -> None:
    key = Limit("model:m", RequestLimits(max_concurrency=1))
    shared = namespace()
    dead = RedisLimiter(REDIS, shared, slot_ttl_s=1.0)
    dead.acquire([key], timeout_s=1)  # never released: its process was killed mid-request

    survivor = RedisLimiter(REDIS, shared)
    with pytest.raises(LimitWaitTimeout):
        survivor.acquire([key], timeout_s=0.2)
    survivor.acquire([key], timeout_s=10).release()  # after the lapse
    assert survivor.in_flight("model:m") == 0


def test_starts_per_minute_are_counted_across_processes() -> None:
    key = Limit("provider:openai", RequestLimits(requests_per_minute=5))
    shared = namespace()
    limiters = [RedisLimiter(REDIS, shared), RedisLimiter(REDIS, shared)]
    started = 0
    for attempt in range(10):
        try:
            limiters[attempt % 2].acquire([key], timeout_s=0.05).release()
            started += 1
        except LimitWaitTimeout:
            pass
    assert started == 5


def test_requests_go_ahead_when_the_counting_redis_is_away() -> None:
    away = RedisLimiter(f"redis://127.0.0.1:{free_port()}/0", namespace())
    limit = Limit("model:m", RequestLimits(max_concurrency=1, requests_per_minute=1))
    for _ in range(3):
        away.acquire([limit], timeout_s=0.1).release()


def test_no_free_slot_in_time_is_reported_as_a_rate_limit(
    tmp_path: Path, scripted_server: ScriptedOpenAIServer
) -> None:
    scripted_server.reply = Reply(200, ANSWER, delay_s=1.5)
    spec = ModelSpec(id="vllm", provider="openai_compatible", model="m", base_url=scripted_server.base_url,
                     limits=RequestLimits(max_concurrency=1))  # fmt: skip
    settings = LLMSettings(default_model="vllm", models=[spec], max_retries=1, request_timeout_s=0.5)
    runtime = LLMRuntime(settings, ModelWeights(tmp_path / "models"), limiter=RedisLimiter(REDIS, namespace()))
    question = to_llama_index([Message(Role.USER, "Capital?")])
    first = threading.Thread(target=lambda: runtime.llm("vllm", timeout_s=10).chat(question))
    first.start()
    deadline = time.monotonic() + 30
    while scripted_server.in_flight == 0 and time.monotonic() < deadline:  # the first question holds the one slot
        time.sleep(0.01)
    try:
        with pytest.raises(ProviderError) as caught:
            try:
                runtime.llm("vllm").chat(question)
            except Exception as exc:
                raise provider_error_from(exc, provider="openai_compatible", model="vllm") from exc
    finally:
        first.join()
        runtime.close()

    assert caught.value.kind is FailureKind.RATE_LIMIT
    assert "no request slot came free: model:vllm allows max_concurrency=1" in str(caught.value)
    assert len(scripted_server.requests) == 1  # the refused question never reached the server, nor was retried


def test_the_limits_are_counted_in_the_queues_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    limited = {"provider_limits": {"openai": {"requests_per_minute": 100}}}
    assert isinstance(build_limiter(Settings(llm=limited)), LocalLimiter)  # type: ignore[arg-type]
    on_redis = Settings(llm=limited, queue={"broker_url": REDIS})  # type: ignore[arg-type]
    assert isinstance(build_limiter(on_redis), RedisLimiter)
    on_amqp = Settings(llm=limited, queue={"broker_url": "amqp://guest:guest@127.0.0.1:5672//"})  # type: ignore[arg-type]
    assert isinstance(build_limiter(on_amqp), LocalLimiter)
    named = Settings(llm={**limited, "limits_url": REDIS}, queue={"broker_url": "amqp://x//"})  # type: ignore[arg-type]
    assert isinstance(build_limiter(named), RedisLimiter)
    assert isinstance(build_limiter(Settings(queue={"broker_url": REDIS})), LocalLimiter)  # type: ignore[arg-type]
