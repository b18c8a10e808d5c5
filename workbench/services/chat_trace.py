"""The span tree of one chat turn, in the same OpenInference terms an instrumented application sends over OTLP:

    chat (CHAIN: the question in, the answer out; session = the conversation)
    ├── retrieve (RETRIEVER: the query and the passages with their scores)
    └── llm (LLM: model, prompt template and version, the messages sent, the answer, tokens)

The trace id is the turn's run id, so the run logs of the turn and its trace find each other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workbench.domain.clock import utcnow
from workbench.domain.traces import flatten, new_span_id, span_document
from workbench.llm.messages import Message

SERVICE = "genai-workbench"
SCOPE = "workbench.chat"
MAX_CONTENT_CHARS = 4_000  # of one passage or message kept on a span: enough to read, bounded in size


@dataclass
class TurnTrace:
    trace_id: str
    user_id: str
    conversation_id: str
    channel: str
    started: datetime = field(default_factory=utcnow)
    root_id: str = field(default_factory=new_span_id)
    spans: list[dict[str, Any]] = field(default_factory=list)

    def retrieval(
        self, start: datetime, kb: str, query: str, chunks: Sequence[Any], *, top_k: int | None = None,
        embedding_model: str | None = None, error: str | None = None,
    ) -> None:  # fmt: skip
        documents = [
            {"id": chunk.chunk_id, "content": _cut(chunk.text), "score": float(chunk.score),
             "metadata": json.dumps({"source": chunk.source, **_plain(chunk.metadata)})}
            for chunk in chunks
        ]  # fmt: skip
        attributes = {
            "openinference.span.kind": "RETRIEVER", "input.value": query, "workbench.knowledge_base": kb,
            "workbench.top_k": top_k, "embedding.model_name": embedding_model,
            **flatten("retrieval.documents", documents, "document"),
        }  # fmt: skip
        self._span("retrieve", "RETRIEVER", start, attributes, error)

    def llm(
        self, start: datetime, *, model: str, provider: str, messages: Sequence[Message], output: str,
        prompt: tuple[str, int | None], variables: dict[str, Any], parameters: dict[str, Any],
        input_tokens: int | None, output_tokens: int | None, error: str | None = None,
    ) -> None:  # fmt: skip
        prompt_name, prompt_version = prompt
        sent = [{"role": str(m.role.value), "content": _cut(m.content)} for m in messages]
        attributes = {
            "openinference.span.kind": "LLM", "llm.model_name": model, "llm.provider": provider or None,
            "input.value": sent[-1]["content"] if sent else "", "output.value": output,
            "llm.prompt_template.template": prompt_name,
            "llm.prompt_template.version": str(prompt_version) if prompt_version is not None else None,
            "llm.prompt_template.variables": json.dumps({k: _cut(str(v)) for k, v in variables.items()}),
            "llm.invocation_parameters": json.dumps(parameters, default=str),
            "llm.token_count.prompt": input_tokens, "llm.token_count.completion": output_tokens,
            "llm.token_count.total": (input_tokens or 0) + (output_tokens or 0) if input_tokens or output_tokens
            else None,
            **flatten("llm.input_messages", sent, "message"),
            **flatten("llm.output_messages", [{"role": "assistant", "content": output}] if output else [], "message"),
        }  # fmt: skip
        self._span("llm", "LLM", start, attributes, error)

    def finish(
        self, question: str, answer: str, *, kb: str | None, model: str, error: str | None
    ) -> list[dict[str, Any]]:
        """The whole tree: the root span, then its children."""
        attributes = {
            "openinference.span.kind": "CHAIN", "input.value": question, "output.value": answer,
            "session.id": self.conversation_id, "user.id": self.user_id, "workbench.channel": self.channel,
            "workbench.knowledge_base": kb, "llm.model_name": model, "workbench.run_id": self.trace_id,
        }  # fmt: skip
        root = span_document(
            trace_id=self.trace_id, span_id=self.root_id, parent_span_id=None, name="chat", kind="CHAIN",
            start=self.started, end=utcnow(), attributes=attributes, status="error" if error else "ok",
            status_message=error, service=SERVICE, scope=SCOPE,
        )  # fmt: skip
        for span in self.spans:  # every span of the turn is findable by its session, as the root is
            span["session_id"], span["user_id"] = self.conversation_id, self.user_id
        return [root, *self.spans]

    def _span(self, name: str, kind: str, start: datetime, attributes: dict[str, Any], error: str | None) -> None:
        self.spans.append(span_document(
            trace_id=self.trace_id, span_id=new_span_id(), parent_span_id=self.root_id, name=name, kind=kind,
            start=start, end=utcnow(), attributes=attributes, status="error" if error else "ok",
            status_message=error, service=SERVICE, scope=SCOPE,
        ))  # fmt: skip


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CONTENT_CHARS else text[: MAX_CONTENT_CHARS - 1] + "…"


def _plain(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if isinstance(v, str | int | float | bool)}
