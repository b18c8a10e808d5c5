"""A scripted, thread-safe model runtime and a run-log recorder for playground and chat tests over real SQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from workbench.config.llm import ModelSpec
from workbench.domain.runlog import RunLog
from workbench.llm.errors import FailureKind, ModelNotConfigured, ProviderError, ProviderTimeout

SPECS = {
    "echo": ModelSpec(id="echo", provider="local", model="echo"),
    "priced": ModelSpec(
        id="priced", provider="openai", model="gpt-x", input_price_per_mtok=1.0, output_price_per_mtok=2.0
    ),
}


class FakeCatalog:
    def get(self, model_id: str) -> ModelSpec:
        if model_id not in SPECS:
            raise ModelNotConfigured(model_id, list(SPECS))
        return SPECS[model_id]


class EchoStream:
    """Streams "<model>: <last user message>" word by word, then reports fixed figures."""

    def __init__(self, model_id: str, text: str, delay_s: float, fail: str | None) -> None:
        self.provider = SPECS[model_id].provider
        self._words = text.split(" ")
        self._delay_s = delay_s
        self._fail = fail
        self._parts: list[str] = []
        self.finished = False
        self.ttft_ms: float | None = None
        self.latency_ms: float | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.tokens_estimated = False

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def __iter__(self) -> Iterator[str]:
        for i, word in enumerate(self._words):
            if self._delay_s:
                time.sleep(self._delay_s)
            if self._fail == "timeout" and i == 1:
                self._finish()
                raise ProviderTimeout("local", "echo", "no answer within 1 s")
            if self._fail == "error" and i == 1:
                self._finish()
                raise ProviderError("local", "echo", "the server went away", kind=FailureKind.CONNECTION)
            delta = word if i == 0 else " " + word
            if self.ttft_ms is None:
                self.ttft_ms = 5.0
            self._parts.append(delta)
            yield delta
        self._finish()

    def _finish(self) -> None:
        self.finished = True
        self.latency_ms, self.input_tokens, self.output_tokens = 20.0, 10, max(1, len(self._parts))

    def close(self) -> None:
        self.finished = True


class EchoRuntime:
    """Records every call; answers fail when the user message contains FAIL-ERROR or FAIL-TIMEOUT."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.catalog = FakeCatalog()
        self.delay_s = delay_s
        self.calls: list[tuple[str, list[Any], dict[str, Any]]] = []
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def stream_chat(self, model_id: str, messages: list[Any], **overrides: Any) -> EchoStream:
        self.catalog.get(model_id)
        user = messages[-1].content
        with self._lock:
            self.calls.append((model_id, messages, overrides))
        fail = "timeout" if "FAIL-TIMEOUT" in user else "error" if "FAIL-ERROR" in user else None
        return _Counted(self, EchoStream(model_id, f"{model_id}: {user}", self.delay_s, fail))

    def warm_up(self, model_id: str) -> None:
        pass

    def load_libraries(self) -> None:
        pass


class _Counted(EchoStream):
    """Counts calls in progress, to check the concurrency bound."""

    def __init__(self, runtime: EchoRuntime, inner: EchoStream) -> None:
        self.__dict__.update(inner.__dict__)
        self._runtime = runtime

    def __iter__(self) -> Iterator[str]:
        with self._runtime._lock:
            self._runtime.in_flight += 1
            self._runtime.max_in_flight = max(self._runtime.max_in_flight, self._runtime.in_flight)
        try:
            yield from super().__iter__()
        finally:
            with self._runtime._lock:
                self._runtime.in_flight -= 1


class Recorder:
    def __init__(self) -> None:
        self.records: list[RunLog] = []
        self.spans: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def log(self, record: RunLog) -> None:
        with self._lock:
            self.records.append(record)

    def log_spans(self, docs: Sequence[dict[str, Any]]) -> None:
        with self._lock:
            self.spans.extend(docs)
