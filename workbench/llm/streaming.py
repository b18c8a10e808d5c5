"""One streamed chat turn: text deltas as they arrive, then timings and token counts for the run log."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from workbench.llm.errors import ProviderError, provider_error_from
from workbench.llm.messages import Message, to_llama_index

if TYPE_CHECKING:
    from llama_index.core.base.llms.types import ChatResponse
    from llama_index.core.llms import LLM

    from workbench.config.llm import ModelSpec

# Rough size of a token in characters, for providers that report no usage.
_CHARS_PER_TOKEN = 4
_TOKENS_PER_MESSAGE = 4


def stream_chat(
    llm: LLM,
    messages: Sequence[Message],
    *,
    provider: str,
    model: str,
    api_key_env: str | None = None,
) -> ChatStream:
    """Stream one chat turn. The request is sent on the first next(); errors surface as ProviderError."""
    return ChatStream(llm, messages, provider=provider, model=model, api_key_env=api_key_env)


class ChatStream(Iterator[str]):
    """Iterator of non-empty text deltas. Once exhausted: text, ttft_ms, latency_ms, input/output tokens.

    Times are measured from the first next(), when the request leaves. Token counts come from the provider's
    usage report when it sends one; otherwise they are estimated and tokens_estimated is True.
    """

    def __init__(
        self,
        llm: LLM,
        messages: Sequence[Message],
        *,
        provider: str,
        model: str,
        api_key_env: str | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self._llm = llm
        self._messages = list(messages)
        self._request = to_llama_index(self._messages)
        self._api_key_env = api_key_env
        self._responses: Iterator[ChatResponse] | None = None
        self._parts: list[str] = []
        self._started: float | None = None
        self.ttft_ms: float | None = None
        self.latency_ms: float | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.tokens_estimated = False
        self.finish_reason: str | None = None
        self.finished = False
        self.error: ProviderError | None = None

    @property
    def text(self) -> str:
        """Everything received so far (the whole answer once the stream is exhausted)."""
        return "".join(self._parts)

    @property
    def decode_tokens_per_s(self) -> float | None:
        """Output tokens after the first, per second after the first arrived."""
        if self.output_tokens is None or self.ttft_ms is None or self.latency_ms is None:
            return None
        seconds = (self.latency_ms - self.ttft_ms) / 1000
        return (self.output_tokens - 1) / seconds if self.output_tokens > 1 and seconds > 0 else None

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> str:
        if self.finished:
            raise StopIteration
        try:
            if self._responses is None:
                self._started = time.perf_counter()
                self._responses = iter(self._llm.stream_chat(self._request))
            while True:
                chunk = next(self._responses)
                self._observe(chunk)
                delta = chunk.delta or ""
                if delta:
                    if self.ttft_ms is None:
                        self.ttft_ms = self._elapsed_ms()
                    self._parts.append(delta)
                    return delta
        except StopIteration:
            self._finish()
            raise
        except Exception as exc:
            self.error = provider_error_from(
                exc,
                provider=self.provider,
                model=self.model,
                base_url=_base_url(self._llm),
                api_key_env=self._api_key_env,
                timeout_s=_timeout_s(self._llm),
            )
            self._finish()
            raise self.error from exc

    def close(self) -> None:
        """Stop reading early (the user cancelled); the connection is released and counts are what arrived."""
        close = getattr(self._responses, "close", None)
        if callable(close):
            close()
        if not self.finished:
            self._finish()

    def _observe(self, chunk: ChatResponse) -> None:
        prompt, completion = _usage(chunk)
        if prompt is not None:
            self.input_tokens = prompt
        if completion is not None:
            self.output_tokens = completion
        self.finish_reason = _finish_reason(chunk) or self.finish_reason

    def _finish(self) -> None:
        self.finished = True
        self.latency_ms = self._elapsed_ms()
        if self.input_tokens is None:
            self.tokens_estimated = True
            chars = sum(len(message.content or "") for message in self._messages)
            self.input_tokens = math.ceil(chars / _CHARS_PER_TOKEN) + _TOKENS_PER_MESSAGE * len(self._messages)
        if self.output_tokens is None:
            self.tokens_estimated = True
            # Most servers send about one token per delta; some send several, which the length catches.
            self.output_tokens = max(len(self._parts), math.ceil(len(self.text) / _CHARS_PER_TOKEN))

    def _elapsed_ms(self) -> float | None:
        return None if self._started is None else (time.perf_counter() - self._started) * 1000


def cost_usd(spec: ModelSpec, input_tokens: int | None, output_tokens: int | None) -> float | None:
    """Price of one call from the spec's USD-per-million-token prices; None when the spec has no prices."""
    if spec.input_price_per_mtok is None and spec.output_price_per_mtok is None:
        return None
    return (
        (input_tokens or 0) * (spec.input_price_per_mtok or 0.0)
        + (output_tokens or 0) * (spec.output_price_per_mtok or 0.0)
    ) / 1_000_000


# Reading provider responses -----------------------------------------------------------------------------------------
# OpenAI-style chunks carry `usage` (prompt/completion tokens) on the raw chunk, the last one when asked with
# stream_options.include_usage; Anthropic reports input/output tokens in message.additional_kwargs["usage"];
# Ollama's final raw dict carries `usage` added by LlamaIndex.


def _usage(chunk: ChatResponse) -> tuple[int | None, int | None]:
    for source in (chunk.raw, chunk.message.additional_kwargs):
        usage = _field(source, "usage")
        if usage is None:
            continue
        prompt = _first_int(usage, "prompt_tokens", "input_tokens")
        completion = _first_int(usage, "completion_tokens", "output_tokens")
        if prompt is not None or completion is not None:
            return prompt, completion
    return None, None


def _finish_reason(chunk: ChatResponse) -> str | None:
    choices = _field(chunk.raw, "choices")
    if isinstance(choices, list) and choices:
        reason = _field(choices[0], "finish_reason")
        if isinstance(reason, str):
            return reason
    for source, name in ((chunk.message.additional_kwargs, "stop_reason"), (chunk.raw, "done_reason")):
        reason = _field(source, name)
        if isinstance(reason, str):
            return reason
    return None


def _field(source: Any, name: str) -> Any:
    if source is None:
        return None
    if isinstance(source, dict):
        return source.get(name)
    return getattr(source, name, None)


def _first_int(source: Any, *names: str) -> int | None:
    for name in names:
        value = _field(source, name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _base_url(llm: Any) -> str | None:
    for name in ("api_base", "base_url"):
        value = getattr(llm, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _timeout_s(llm: Any) -> float | None:
    for name in ("timeout", "request_timeout"):  # OpenAI/Anthropic, Ollama
        value = getattr(llm, name, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None
