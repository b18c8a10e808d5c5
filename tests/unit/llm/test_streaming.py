"""ChatStream: deltas as they come, then timings and token counts (reported or estimated); errors mapped."""

from __future__ import annotations

import httpx
import openai
import pytest
from llama_index.core.llms import MockLLM

from tests.unit.llm.conftest import FakeLLM, chunk
from workbench.config.llm import ModelSpec
from workbench.llm.errors import FailureKind, ProviderError
from workbench.llm.messages import Message, Role
from workbench.llm.streaming import cost_usd, stream_chat

QUESTION = [Message(Role.SYSTEM, "Be brief."), Message(Role.USER, "Capital of France?")]


class Usage:
    """Shape of openai's CompletionUsage on the last chunk."""

    def __init__(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


class Chunk:
    def __init__(self, usage: Usage | None = None, finish_reason: str | None = None) -> None:
        self.usage = usage
        self.choices = [{"finish_reason": finish_reason}] if finish_reason else []


def test_deltas_stream_and_the_reported_usage_is_kept() -> None:
    llm = FakeLLM(
        [
            chunk("", raw=Chunk()),  # the role-only first chunk carries no text
            chunk("Par", raw=Chunk()),
            chunk("is", raw=Chunk()),
            chunk("", raw=Chunk(finish_reason="stop")),
            chunk("", raw=Chunk(Usage(prompt_tokens=31, completion_tokens=2))),
        ]
    )
    stream = stream_chat(llm, QUESTION, provider="local", model="qwen")

    assert llm.calls == [], "nothing is sent before the first next()"
    assert list(stream) == ["Par", "is"]
    assert stream.text == "Paris"
    assert (stream.input_tokens, stream.output_tokens, stream.tokens_estimated) == (31, 2, False)
    assert stream.finish_reason == "stop"
    assert stream.ttft_ms is not None and stream.latency_ms is not None
    assert 0 <= stream.ttft_ms <= stream.latency_ms
    assert stream.finished and stream.error is None
    assert list(stream) == [], "an exhausted stream stays exhausted"


def test_anthropic_style_usage_in_message_kwargs() -> None:
    llm = FakeLLM([chunk("Hi", usage={"input_tokens": 12, "output_tokens": 1}, stop_reason="end_turn")])
    stream = stream_chat(llm, QUESTION, provider="anthropic", model="claude")
    assert "".join(stream) == "Hi"
    assert (stream.input_tokens, stream.output_tokens, stream.finish_reason) == (12, 1, "end_turn")


def test_without_usage_tokens_are_estimated_and_marked() -> None:
    stream = stream_chat(MockLLM(max_tokens=5), QUESTION, provider="local", model="mock")
    deltas = list(stream)
    assert stream.text == "".join(deltas)
    assert stream.tokens_estimated
    assert stream.input_tokens is not None and stream.input_tokens >= len("Capital of France?") // 4
    assert stream.output_tokens is not None and stream.output_tokens >= len(deltas)


def test_an_error_mid_stream_is_a_provider_error_with_what_arrived() -> None:
    refused = openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1"))
    llm = FakeLLM([chunk("Pa"), chunk("r")], error=refused, error_after=2)
    stream = stream_chat(llm, QUESTION, provider="openai_compatible", model="vllm")

    received = []
    with pytest.raises(ProviderError) as caught:
        received.extend(stream)

    assert received == ["Pa", "r"]
    assert caught.value is stream.error
    assert caught.value.kind is FailureKind.CONNECTION
    assert str(caught.value).startswith("openai_compatible (vllm): cannot connect at http://127.0.0.1:9/v1")
    assert stream.finished and stream.latency_ms is not None and stream.text == "Par"


def test_an_error_before_the_first_token_leaves_no_ttft() -> None:
    llm = FakeLLM([], error=TimeoutError("read timed out"))
    stream = stream_chat(llm, QUESTION, provider="ollama", model="llama3")
    with pytest.raises(ProviderError, match=r"ollama \(llama3\): timed out: no answer within the request timeout"):
        next(stream)
    assert stream.ttft_ms is None and stream.latency_ms is not None


def test_close_stops_reading_early() -> None:
    llm = FakeLLM([chunk("a"), chunk("b"), chunk("c")])
    stream = stream_chat(llm, QUESTION, provider="local", model="m")
    assert next(stream) == "a"
    stream.close()
    assert llm.closed and stream.finished
    assert stream.text == "a"
    assert list(stream) == []


def test_cost_from_prices_per_million_tokens() -> None:
    priced = ModelSpec(id="g", provider="openai", model="g", input_price_per_mtok=0.15, output_price_per_mtok=0.60)
    assert cost_usd(priced, 1_000_000, 500_000) == pytest.approx(0.45)
    assert cost_usd(priced, 2000, None) == pytest.approx(0.0003)
    assert cost_usd(ModelSpec(id="l", provider="local", model="m"), 100, 100) is None
    half = ModelSpec(id="h", provider="openai", model="h", output_price_per_mtok=2.0)
    assert cost_usd(half, 10, 1_000) == pytest.approx(0.002)
