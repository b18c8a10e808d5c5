"""Traces to read: the newest, by session, one as a span tree with what each span retrieved and prompted, and a
trace turned into an eval item. Spans come from OTLP ingest and from the chat (both in workbench.domain.traces)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from workbench.domain.clock import utcnow
from workbench.domain.traces import attributes, documents_of, messages_of
from workbench.services.runlog import reading

MAX_TRACES = 500


class TraceError(LookupError):
    """The trace asked for is not stored (yet); the message says so."""


class SpanSource(Protocol):
    def trace(self, trace_id: str) -> list[dict[str, Any]]: ...
    def recent(self, limit: int = 50, session_id: str | None = None) -> list[dict[str, Any]]: ...
    def sessions(self, limit: int = 50) -> list[dict[str, Any]]: ...
    def exists(self, trace_id: str) -> bool: ...
    def put_feedback(self, document: dict[str, Any]) -> None: ...
    def feedback(self, trace_id: str) -> list[dict[str, Any]]: ...


@dataclass
class SpanNode:
    span: dict[str, Any]  # the stored document
    attributes: dict[str, Any]
    children: list[SpanNode] = field(default_factory=list)
    depth: int = 0

    @property
    def kind(self) -> str:
        return str(self.span.get("kind") or "UNKNOWN")

    @property
    def documents(self) -> list[dict[str, Any]]:
        return documents_of(self.attributes)

    @property
    def input_messages(self) -> list[dict[str, Any]]:
        return messages_of(self.attributes, "input")

    @property
    def output_messages(self) -> list[dict[str, Any]]:
        return messages_of(self.attributes, "output")

    @property
    def input(self) -> str:
        return str(self.attributes.get("input.value") or "")

    @property
    def output(self) -> str:
        return str(self.attributes.get("output.value") or "")

    @property
    def prompt(self) -> str | None:
        """The prompt template (and version) the span names, as OpenInference's llm.prompt_template.*."""
        name = self.attributes.get("llm.prompt_template.template")
        version = self.attributes.get("llm.prompt_template.version")
        if not name:
            return None
        return f"{name} v{version}" if version else str(name)

    def walk(self) -> list[SpanNode]:
        """This span and every descendant, depth first in start order (for an indented list)."""
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes


@dataclass
class TraceTree:
    trace_id: str
    roots: list[SpanNode]
    span_count: int

    @property
    def nodes(self) -> list[SpanNode]:
        return [node for root in self.roots for node in root.walk()]

    @property
    def start(self) -> datetime:
        start: datetime = min(node.span["start"] for node in self.nodes)
        return start

    @property
    def end(self) -> datetime:
        end: datetime = max(node.span["end"] for node in self.nodes)
        return end

    @property
    def root(self) -> SpanNode:
        return self.roots[0]

    @property
    def question(self) -> str:
        """What was asked: the root's input, else the first LLM span's last user message."""
        if self.root.input:
            return self.root.input
        for node in self.nodes:
            users = [m for m in node.input_messages if m.get("role") == "user"]
            if users:
                return str(users[-1].get("content") or "")
        return ""

    @property
    def answer(self) -> str:
        if self.root.output:
            return self.root.output
        for node in reversed(self.nodes):
            if node.output_messages:
                return str(node.output_messages[-1].get("content") or "")
            if node.kind == "LLM" and node.output:
                return node.output
        return ""

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [doc for node in self.nodes if node.kind == "RETRIEVER" for doc in node.documents]

    @property
    def summary(self) -> dict[str, Any]:
        """What a reader of one item wants to know about where it came from (labelling keeps it as metadata)."""
        root = self.root.span
        models = list(dict.fromkeys(n.span["model"] for n in self.nodes if n.span.get("model")))
        prompts = list(dict.fromkeys(n.prompt for n in self.nodes if n.prompt))
        return {
            "name": root.get("name"), "service": root.get("service"), "session_id": root.get("session_id"),
            "model": models[0] if models else None, "prompt": prompts[0] if prompts else None,
            "status": root.get("status"), "started_at": self.start.isoformat(),
            "duration_ms": round((self.end - self.start).total_seconds() * 1000, 1),
        }  # fmt: skip


def build_tree(trace_id: str, spans: list[dict[str, Any]]) -> TraceTree:
    """Spans nested under their parents; a span whose parent is not stored (yet) is a root of its own."""
    nodes = {span["span_id"]: SpanNode(span, attributes(span)) for span in spans}
    roots: list[SpanNode] = []
    for node in nodes.values():  # spans come earliest first, so children keep their start order
        parent = nodes.get(node.span.get("parent_span_id") or "")
        (parent.children if parent is not None and parent is not node else roots).append(node)

    def set_depth(node: SpanNode, depth: int) -> None:
        node.depth = depth
        for child in node.children:
            set_depth(child, depth + 1)

    for root in roots:
        set_depth(root, 0)
    return TraceTree(trace_id, roots, len(spans))


class TraceService:
    def __init__(self, store: SpanSource) -> None:
        self._store = store

    def recent(self, limit: int = 50, session_id: str | None = None) -> list[dict[str, Any]]:
        """The newest traces' root spans, optionally of one session."""
        return reading(lambda: self._store.recent(min(limit, MAX_TRACES), session_id))

    def sessions(self, limit: int = 50) -> list[dict[str, Any]]:
        return reading(lambda: self._store.sessions(min(limit, MAX_TRACES)))

    def tree(self, trace_id: str) -> TraceTree:
        trace_id = trace_id.strip().lower()
        spans = reading(lambda: self._store.trace(trace_id))
        if not spans:
            raise TraceError(f"No trace {trace_id} is stored (trace ids are 32 hex characters).")
        return build_tree(trace_id, spans)

    def give_feedback(
        self, trace_id: str, user_id: str, *, rating: int | None = None, score: float | None = None,
        comment: str | None = None,
    ) -> str:  # fmt: skip
        """A user's thumbs (1 or -1), score (0 to 1) and comment on a trace; the same user again replaces theirs."""
        trace_id = trace_id.strip().lower()
        if rating not in (None, 1, -1):
            raise ValueError("A rating is 1 (thumbs up) or -1 (thumbs down).")
        if score is not None and not 0 <= score <= 1:
            raise ValueError(f"A score lies between 0 and 1; got {score:g}.")
        if rating is None and score is None and not (comment or "").strip():
            raise ValueError("Give a rating, a score or a comment.")
        if not reading(lambda: self._store.exists(trace_id)):
            raise TraceError(f"No trace {trace_id} is stored (send its spans first, to /v1/traces).")
        feedback_id = f"{trace_id}:{user_id}"
        document = {"_id": feedback_id, "trace_id": trace_id, "user_id": user_id, "rating": rating, "score": score,
                    "comment": (comment or "").strip() or None, "at": utcnow()}  # fmt: skip
        reading(lambda: self._store.put_feedback(document))
        return feedback_id

    def feedback(self, trace_id: str) -> list[dict[str, Any]]:
        return reading(lambda: self._store.feedback(trace_id.strip().lower()))

    def eval_item(self, trace_id: str) -> dict[str, Any]:
        return eval_item_of(self.tree(trace_id))


def eval_item_of(tree: TraceTree) -> dict[str, Any]:
    """The trace as an eval dataset item: its question, its answer as the reference (to be checked), and the
    passages it retrieved as reference contexts."""
    if not tree.question.strip():
        raise TraceError(f"Trace {tree.trace_id} holds no question (no input on its root or LLM spans).")
    return {
        "question": tree.question, "reference_answer": tree.answer or None,
        "reference_contexts": [str(d.get("content") or "") for d in tree.documents if d.get("content")],
        "tags": ["from-trace"],
    }  # fmt: skip
