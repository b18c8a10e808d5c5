"""The pipeline an eval run measures: the chat's retrieval, prompt and model, without a conversation.

`resolve` pins a configuration to exact versions (prompt version and hash, the knowledge base's chunking and
embedding model) before a run starts; `answer` produces one item's answer and retrieved contexts the way the
Chat page would, from that pinned configuration.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from workbench.evaluation.config import EvalConfig, EvalConfigError
from workbench.llm.errors import ModelNotConfigured, ProviderError
from workbench.llm.messages import Message, prompt_messages
from workbench.prompting.templates import PromptTemplate, TemplateError
from workbench.rag.errors import RagError
from workbench.rag.passages import passages


class Runtime(Protocol):
    def stream_chat(self, model_id: str, messages: list[Message], **overrides: Any) -> Any: ...
    @property
    def catalog(self) -> Any: ...


class Rag(Protocol):
    def retrieve(self, kb: str, query: str, top_k: int | None = None) -> Any: ...
    def get_knowledge_base(self, name: str) -> Any: ...


class Prompts(Protocol):
    def get(self, name: str, ref: int | str | None = None) -> Any: ...


@dataclass(slots=True)
class PipelineAnswer:
    answer: str = ""
    contexts: list[dict[str, Any]] = field(default_factory=list)  # text, source, score, chunk_id
    latency_ms: float | None = None
    output_tokens: int | None = None
    error: str | None = None  # the answer could not be produced: retrieval or model failure, in words


class RagPipeline:
    def __init__(self, runtime: Runtime, rag: Rag, prompts: Prompts) -> None:
        self._runtime = runtime
        self._rag = rag
        self._prompts = prompts
        self._templates: dict[tuple[str, int], PromptTemplate] = {}

    def resolve(self, config: EvalConfig) -> dict[str, Any]:
        """The configuration with everything a rerun needs pinned; raises EvalConfigError naming what is wrong."""
        config.check()
        for model_id in filter(None, (config.model, config.judge_model)):
            try:
                spec = self._runtime.catalog.get(model_id)
            except LookupError as exc:
                raise EvalConfigError(str(exc)) from exc
            reason = self._runtime.catalog.unavailable_reason(spec)
            if reason:
                raise EvalConfigError(f"model {model_id} cannot run here: {reason}")
        ref: int | str = int(config.prompt_ref) if config.prompt_ref.isdigit() else config.prompt_ref
        try:
            prompt = self._prompts.get(config.prompt, ref)
            prompt.template.required_variables()
        except (LookupError, ValueError, TemplateError) as exc:
            raise EvalConfigError(f"prompt {config.prompt}@{config.prompt_ref}: {exc}") from exc
        resolved: dict[str, Any] = {
            **config.model_dump(mode="json", exclude={"metrics", "chunk_size", "chunk_overlap"}),
            "metrics": list(config.chosen_metrics()),
            "prompt_version": prompt.version,
            "prompt_sha256": prompt.content_sha256,
        }
        if config.knowledge_base:
            try:
                kb = self._rag.get_knowledge_base(config.knowledge_base)
            except RagError as exc:
                raise EvalConfigError(f"knowledge base: {exc}") from exc
            wanted = (config.chunk_size or kb.chunk_size, kb.chunk_overlap if config.chunk_overlap is None
                      else config.chunk_overlap)  # fmt: skip
            if wanted != (kb.chunk_size, kb.chunk_overlap):
                raise EvalConfigError(
                    f"knowledge base {kb.name!r} is chunked with size {kb.chunk_size} and overlap {kb.chunk_overlap}; "
                    "to measure other chunking, ingest the documents into a knowledge base with that chunking "
                    "(Documents page or `workbench ingest --chunk-size`) and name it here."
                )
            resolved |= {"chunk_size": kb.chunk_size, "chunk_overlap": kb.chunk_overlap,
                         "embedding_model": kb.embedding_model, "kb_documents": kb.document_count,
                         "kb_chunks": kb.chunk_count}  # fmt: skip
        return resolved

    def answer(self, question: str, config: dict[str, Any]) -> PipelineAnswer:
        """Retrieve, render the pinned prompt version and ask the model; failures come back as `error`."""
        result = PipelineAnswer()
        started = time.perf_counter()
        context = ""
        if config.get("knowledge_base"):
            try:
                retrieval = self._rag.retrieve(config["knowledge_base"], question, config["top_k"])
            except Exception as exc:  # noqa: BLE001 - recorded on the item; the run goes on
                result.error = f"retrieval from {config['knowledge_base']!r} failed: {exc}"
                return result
            result.contexts = [
                {"text": c.text, "source": c.source, "score": round(float(c.score), 4), "chunk_id": c.chunk_id}
                for c in retrieval.chunks
            ]
            _, context = passages(retrieval.chunks)
        template = self._template(config["prompt"], int(config["prompt_version"]))
        wanted = set(template.required_variables())
        values = {k: v for k, v in {"question": question, "context": context}.items() if k in wanted}
        try:
            system, user = template.render(**values)
        except TemplateError as exc:
            result.error = f"the prompt could not be rendered: {exc}"
            return result
        stream = None
        try:
            stream = self._runtime.stream_chat(
                config["model"], prompt_messages(system, user), temperature=config["temperature"],
                max_tokens=config["max_tokens"],
            )  # fmt: skip
            result.answer = "".join(stream).strip()
            result.output_tokens = getattr(stream, "output_tokens", None)
        except (ProviderError, ModelNotConfigured) as exc:
            result.error = str(exc)
        finally:
            if stream is not None and not getattr(stream, "finished", True):
                stream.close()
        result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        if not result.error and not result.answer:
            result.error = "the model returned an empty answer"
        return result

    def _template(self, name: str, version: int) -> PromptTemplate:
        key = (name, version)
        if key not in self._templates:
            self._templates[key] = self._prompts.get(name, version).template
        return self._templates[key]
