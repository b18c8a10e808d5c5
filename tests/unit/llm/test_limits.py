"""Request limits counted in one process: concurrency slots, starts per minute, and the transport that holds a
slot until its response is closed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from workbench.config.llm import RequestLimits
from workbench.llm import LLMRuntime, LLMSettings, ModelSpec, ModelWeights
from workbench.llm.limits import Limit, LimitWaitTimeout, LocalLimiter, limited_transport, limits_of

TWO_AT_ONCE = Limit("model:m", RequestLimits(max_concurrency=2))


def test_no_more_than_max_concurrency_hold_a_slot_at_once() -> None:
    limiter = LocalLimiter()
    peak, lock, done = [0], threading.Lock(), []

    def request() -> None:
        permit = limiter.acquire([TWO_AT_ONCE], timeout_s=30)
        with lock:
            peak[0] = max(peak[0], limiter.in_flight("model:m"))
        time.sleep(0.02)
        permit.release()
        done.append(1)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(done) == 8
    assert peak[0] == 2
    assert limiter.in_flight("model:m") == 0


def test_a_request_that_finds_no_slot_in_time_names_the_limit() -> None:
    limiter = LocalLimiter()
    held = [limiter.acquire([TWO_AT_ONCE], timeout_s=1) for _ in range(2)]

    with pytest.raises(LimitWaitTimeout, match=r"model:m allows max_concurrency=2"):
        limiter.acquire([TWO_AT_ONCE], timeout_s=0.1)

    held[0].release()
    limiter.acquire([TWO_AT_ONCE], timeout_s=0.1).release()  # a freed slot is taken at once


def test_starts_per_minute_are_counted() -> None:
    limiter = LocalLimiter()
    three_a_minute = Limit("provider:openai", RequestLimits(requests_per_minute=3))
    for _ in range(3):
        limiter.acquire([three_a_minute], timeout_s=0.1).release()

    with pytest.raises(LimitWaitTimeout, match="requests_per_minute=3"):
        limiter.acquire([three_a_minute], timeout_s=0.1)


def test_a_slot_taken_before_a_rate_limit_ran_out_is_given_back() -> None:
    limiter = LocalLimiter()
    once = Limit("provider:p", RequestLimits(requests_per_minute=1))
    limiter.acquire([once], timeout_s=0.1).release()

    with pytest.raises(LimitWaitTimeout):
        limiter.acquire([TWO_AT_ONCE, once], timeout_s=0.1)

    assert limiter.in_flight("model:m") == 0


def test_the_transport_holds_the_slot_until_the_streamed_body_is_closed() -> None:
    limiter = LocalLimiter()
    one_at_once = Limit("model:m", RequestLimits(max_concurrency=1))
    inner = httpx.MockTransport(lambda request: httpx.Response(200, content=b"data: hello\n\n"))
    client = httpx.Client(transport=limited_transport(inner, limiter, [one_at_once], wait_s=0.1))

    with client.stream("POST", "http://model/v1/chat/completions") as response:
        assert limiter.in_flight("model:m") == 1
        refused = client.post("http://model/v1/chat/completions")  # the one slot is in use: waits, then a 429
        assert refused.status_code == 429
        assert "model:m allows max_concurrency=1" in refused.json()["error"]["message"]
        assert refused.headers["x-should-retry"] == "false"
        response.read()
    assert limiter.in_flight("model:m") == 0
    assert client.post("http://model/v1/chat/completions").status_code == 200
    assert limiter.in_flight("model:m") == 0


def test_a_failed_send_gives_the_slot_back() -> None:
    limiter = LocalLimiter()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = httpx.Client(transport=limited_transport(httpx.MockTransport(refuse), limiter, [TWO_AT_ONCE], 0.1))
    with pytest.raises(httpx.ConnectError):
        client.post("http://model/v1/chat/completions")
    assert limiter.in_flight("model:m") == 0


def test_which_limits_a_model_counts_against() -> None:
    limited = ModelSpec(id="gpt", provider="openai", model="gpt-4o-mini", limits=RequestLimits(max_concurrency=4))
    free = ModelSpec(id="other", provider="openai_compatible", model="m", base_url="http://h/v1")
    account = {"openai": RequestLimits(requests_per_minute=500)}

    assert [limit.key for limit in limits_of(limited, account)] == ["model:gpt", "provider:openai"]  # type: ignore[arg-type]
    assert limits_of(free, account) == []  # type: ignore[arg-type]


def test_a_model_with_limits_gets_its_own_client_over_the_shared_pool(tmp_path: Path) -> None:
    limited = ModelSpec(id="vllm", provider="openai_compatible", model="m", base_url="http://h/v1",
                        limits=RequestLimits(max_concurrency=2))  # fmt: skip
    free = ModelSpec(id="free", provider="openai_compatible", model="m", base_url="http://h/v1")
    runtime = LLMRuntime(LLMSettings(default_model="free", models=[limited, free]), ModelWeights(tmp_path))
    try:
        assert runtime.http_client(free) is runtime.http_client()
        assert runtime.http_client(limited) is runtime.http_client(limited)
        assert runtime.http_client(limited) is not runtime.http_client()
    finally:
        runtime.close()
