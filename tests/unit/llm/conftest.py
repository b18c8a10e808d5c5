"""Fakes for the model layer: weight packages on a temporary sys.path, and an LLM that replays scripted chunks."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse

from workbench.llm.weights import PackagedModel, WeightPart


@dataclass
class FakePackages:
    """Creates importable-looking packages (folders on sys.path) holding weight files."""

    root: Path

    def add(self, module: str, relative_path: str, content: bytes) -> Path:
        path = self.root / module / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        importlib.invalidate_caches()  # the path finders cache directory listings
        return path

    def model(self, key: str, contents: Sequence[bytes], *, sha256: str | None = None) -> PackagedModel:
        """A packaged model in len(contents) parts, installed; sha256 defaults to the true one."""
        parts = []
        for i, content in enumerate(contents, start=1):
            module = f"fakeweights_{key.replace('-', '_')}_part{i}"
            self.add(module, f"data/part{i:02d}.bin", content)
            parts.append(WeightPart(module, f"data/part{i:02d}.bin"))
        digest = sha256 or hashlib.sha256(b"".join(contents)).hexdigest()
        return PackagedModel(key=key, filename=f"{key}.gguf", sha256=digest, parts=tuple(parts))


@pytest.fixture
def fake_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePackages:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return FakePackages(root)


@dataclass
class FakeLLM:
    """Duck-types the one method ChatStream uses: stream_chat(messages) -> iterator of ChatResponse."""

    chunks: list[ChatResponse] = field(default_factory=list)
    error: Exception | None = None
    error_after: int = 0
    api_base: str | None = "http://127.0.0.1:9/v1"
    calls: list[list[ChatMessage]] = field(default_factory=list)
    closed: bool = False

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Iterator[ChatResponse]:
        self.calls.append(list(messages))
        return self._gen()

    def _gen(self) -> Iterator[ChatResponse]:
        try:
            for i, chunk in enumerate(self.chunks):
                if self.error is not None and i == self.error_after:
                    raise self.error
                yield chunk
            if self.error is not None and self.error_after >= len(self.chunks):
                raise self.error
        finally:
            self.closed = True


def chunk(delta: str, raw: Any = None, **message_kwargs: Any) -> ChatResponse:
    return ChatResponse(
        message=ChatMessage(role="assistant", content=delta, additional_kwargs=message_kwargs),
        delta=delta,
        raw=raw,
    )


ChunkFactory = Callable[..., ChatResponse]
