"""One chat turn over the documents: store the question, retrieve, stream the answer, store it with citations,
and write every retrieval and model call to the run log. Used by the Chat page and the Gradio embed alike."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from workbench.domain.clock import utcnow
from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.llm.errors import ModelNotConfigured, ProviderError, ProviderTimeout
from workbench.llm.messages import Message, Role, prompt_messages
from workbench.prompting.templates import PromptTemplate, TemplateError, load_prompt
from workbench.rag.passages import passages
from workbench.services import conversations
from workbench.services.chat_trace import TurnTrace
from workbench.services.conversations import MessageView
from workbench.storage.ports import UnitOfWork

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 8_000
HISTORY_MESSAGES = 6  # earlier turns sent with a question (user + assistant messages)
RAG_PROMPT = "rag-answer"
PLAIN_PROMPT = "plain-chat"


class ChatInputError(ValueError):
    """The question cannot be asked as it is; the message says what to change."""


class ChatFailed(RuntimeError):
    """Retrieval or the model failed; the message says which and what to do. The question stays saved."""


class Runtime(Protocol):
    def stream_chat(self, model_id: str, messages: list[Message], **overrides: Any) -> Any: ...
    def warm_up(self, model_id: str) -> None: ...
    def load_libraries(self) -> None: ...


class Retriever(Protocol):
    def retrieve(self, kb: str, query: str, top_k: int | None = None) -> Any: ...


class RunLogSink(Protocol):
    def log(self, record: RunLog) -> None: ...
    def log_spans(self, docs: Sequence[dict[str, Any]]) -> None: ...


class PromptSource(Protocol):
    def resolve(self, name: str, label: str = ...) -> tuple[PromptTemplate, int]: ...


@dataclass(frozen=True, slots=True)
class ChatRequest:
    user_id: str
    question: str
    model_id: str
    knowledge_base: str | None  # None: plain chat without retrieval
    conversation_id: str | None = None
    prompt_name: str | None = None  # default: rag-answer with a knowledge base, plain-chat without
    top_k: int | None = None
    max_tokens: int | None = None  # caps the answer; default: the prompt's parameters
    channel: str = "app"  # "app", "gradio" or "api", kept in the run log


@dataclass(slots=True)
class ChatTurn:
    """Iterate for the answer's text deltas; afterwards `answer`, `citations` and `error` are set."""

    conversation_id: str
    question: MessageView
    citations: list[dict[str, Any]]
    _deltas: Iterator[str]
    answer: MessageView | None = None
    error: ChatFailed | None = None
    timed_out: bool = False
    stats: dict[str, Any] = field(default_factory=dict)
    _trace: TurnTrace | None = None

    def __iter__(self) -> Iterator[str]:
        return self._deltas


class ChatService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        retriever: Retriever,
        runtime: Runtime,
        runlog: RunLogSink,
        *,
        history_messages: int = HISTORY_MESSAGES,
        prompts: PromptSource | None = None,
        prompt_label: str = "production",
    ) -> None:
        self._uow = uow_factory
        self._prompts = prompts  # None: the files in prompts/ as they are, without versions
        self._prompt_label = prompt_label
        self._retriever = retriever
        self._runtime = runtime
        self._runlog = runlog
        self._history_messages = history_messages

    # Reading -------------------------------------------------------------------------------------------

    def conversations(self, user_id: str, limit: int = 30) -> list[conversations.ConversationView]:
        return conversations.list_conversations(self._uow(), user_id, limit)

    def transcript(self, user_id: str, conversation_id: str) -> list[MessageView]:
        self._own(user_id, conversation_id)
        return conversations.list_messages(self._uow(), conversation_id, viewer_id=user_id)

    def rate(self, user_id: str, message_id: str, rating: int, comment: str | None = None) -> str:
        return conversations.record_feedback(self._uow(), message_id, user_id, rating, comment)

    def load_libraries(self) -> None:
        """Import the model and retrieval libraries in the calling thread (see LLMRuntime.load_libraries)."""
        self._runtime.load_libraries()

    def warm_up(self, model_id: str) -> None:
        """Start a local model ahead of the first question; a failure is only logged (the question will say)."""
        try:
            self._runtime.warm_up(model_id)
        except Exception as exc:  # noqa: BLE001 - background nicety; the real call reports the error to the user
            log.warning("warming up %s failed: %s", model_id, exc)

    # Asking --------------------------------------------------------------------------------------------

    def ask(self, request: ChatRequest) -> ChatTurn:
        """Save the question, retrieve, and return a turn whose iteration streams the answer.

        Raises ChatInputError before anything is stored, and ChatFailed when retrieval fails (the question is
        then saved, so the conversation shows what was asked). Model errors surface on `turn.error` after the
        stream ends, with the partial answer (if any) saved.
        """
        started = utcnow()
        question = request.question.strip()
        if not question:
            raise ChatInputError("Type a question first.")
        if len(question) > MAX_QUESTION_CHARS:
            raise ChatInputError(
                f"That question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}. "
                "Shorten it or ingest the text as a document instead."
            )
        prompt_name = request.prompt_name or (RAG_PROMPT if request.knowledge_base else PLAIN_PROMPT)
        template, prompt_version = self._template(prompt_name)
        conversation_id = request.conversation_id or conversations.start_conversation(
            self._uow(), request.user_id, title=_title(question), knowledge_base=request.knowledge_base,
            model=request.model_id, prompt_name=prompt_name,
        )  # fmt: skip
        if request.conversation_id:
            self._own(request.user_id, conversation_id)
        history = conversations.list_messages(self._uow(), conversation_id)[-self._history_messages :]
        asked = conversations.append_message(self._uow(), conversation_id, "user", question)
        run_id = uuid.uuid4().hex  # also the turn's trace id: 32 hex digits, as OpenTelemetry's are
        trace = TurnTrace(run_id, request.user_id, conversation_id, request.channel, started=started)
        citations, context = self._retrieve(request, question, run_id, conversation_id, trace)
        available = {"question": question, "context": context} if request.knowledge_base else {"question": question}
        # A template takes what it uses: plain-chat over a knowledge base simply ignores the passages.
        wanted = set(template.required_variables())
        values = {name: value for name, value in available.items() if name in wanted}
        try:
            system, user = template.render(**values)
        except TemplateError as exc:
            self._emit(trace, question, "", request, str(exc))
            raise ChatFailed(str(exc)) from exc
        messages = prompt_messages(system, user, [_message(m) for m in history])
        turn = ChatTurn(conversation_id=conversation_id, question=asked, citations=citations, _deltas=iter(()),
                        _trace=trace)  # fmt: skip
        parameters = dict(template.parameters)
        if request.max_tokens:
            parameters["max_tokens"] = request.max_tokens
        turn._deltas = self._stream(turn, request, messages, parameters, (prompt_name, prompt_version), run_id, values)
        return turn

    def _template(self, name: str) -> tuple[PromptTemplate, int | None]:
        """The template and version the chat answers with: the labelled version in the registry."""
        try:
            if self._prompts is None:
                return load_prompt(name), None
            return self._prompts.resolve(name, self._prompt_label)
        except (TemplateError, ValueError) as exc:  # RegistryError is a ValueError
            raise ChatInputError(str(exc)) from exc

    def _retrieve(
        self, request: ChatRequest, question: str, run_id: str, conversation_id: str, trace: TurnTrace
    ) -> tuple[list[dict[str, Any]], str]:
        if not request.knowledge_base:
            return [], ""
        start = utcnow()
        try:
            retrieval = self._retriever.retrieve(request.knowledge_base, question, request.top_k)
        except Exception as exc:
            self._log(RunKind.RETRIEVAL, request, run_id, conversation_id, provider="chroma",
                      model=request.knowledge_base, status=RunStatus.ERROR, error=str(exc))  # fmt: skip
            failure = f"Searching '{request.knowledge_base}' failed: {exc}"
            trace.retrieval(start, request.knowledge_base, question, [], top_k=request.top_k, error=str(exc))
            self._emit(trace, question, "", request, failure)
            raise ChatFailed(failure) from exc
        trace.retrieval(start, request.knowledge_base, question, retrieval.chunks, top_k=retrieval.top_k,
                        embedding_model=retrieval.embedding_model)  # fmt: skip
        self._log(
            RunKind.RETRIEVAL, request, run_id, conversation_id, provider="chroma", model=retrieval.embedding_model,
            latency_ms=retrieval.latency_ms,
            metadata={"kb": request.knowledge_base, "top_k": retrieval.top_k, "hits": len(retrieval.chunks),
                      "embedding_ms": retrieval.embedding_ms, "search_ms": retrieval.search_ms},
        )  # fmt: skip
        return passages(retrieval.chunks)

    def _stream(
        self,
        turn: ChatTurn,
        request: ChatRequest,
        messages: list[Message],
        parameters: dict[str, Any],
        prompt: tuple[str, int | None],
        run_id: str,
        variables: dict[str, Any],
    ) -> Iterator[str]:
        stream = None
        started = utcnow()
        try:
            stream = self._runtime.stream_chat(request.model_id, messages, **_overrides(parameters))
            yield from stream
        except ProviderTimeout as exc:
            turn.error = ChatFailed(str(exc))
            turn.timed_out = True
        except (ProviderError, ModelNotConfigured) as exc:
            turn.error = ChatFailed(str(exc))
        finally:
            # Runs on normal end, on an error, and when the reader stops early (the page was left).
            if stream is not None and not stream.finished:
                stream.close()
            self._finish(turn, request, stream, prompt, parameters, run_id)
            if turn._trace is not None:
                self._emit(turn._trace, turn.question.content, turn.answer.content if turn.answer else "", request,
                           str(turn.error) if turn.error else None,
                           llm=lambda trace: trace.llm(
                               started, model=request.model_id, provider=getattr(stream, "provider", "") or "",
                               messages=messages, output=stream.text if stream is not None else "", prompt=prompt,
                               variables=variables, parameters=parameters,
                               input_tokens=getattr(stream, "input_tokens", None),
                               output_tokens=getattr(stream, "output_tokens", None),
                               error=str(turn.error) if turn.error else None,
                           ))  # fmt: skip

    def _finish(
        self, turn: ChatTurn, request: ChatRequest, stream: Any, prompt: tuple[str, int | None],
        parameters: dict[str, Any], run_id: str,
    ) -> None:  # fmt: skip
        prompt_name, prompt_version = prompt
        text = stream.text if stream is not None else ""
        status = RunStatus.OK if turn.error is None else RunStatus.ERROR
        if turn.timed_out:
            status = RunStatus.TIMEOUT
        provider = getattr(stream, "provider", "") or ""
        self._log(
            RunKind.LLM, request, run_id, turn.conversation_id, provider=provider, model=request.model_id,
            latency_ms=getattr(stream, "latency_ms", None), ttft_ms=getattr(stream, "ttft_ms", None),
            input_tokens=getattr(stream, "input_tokens", None), output_tokens=getattr(stream, "output_tokens", None),
            prompt_name=prompt_name, prompt_version=prompt_version, parameters=parameters, status=status,
            error=str(turn.error) if turn.error else None,
            metadata={"tokens_estimated": getattr(stream, "tokens_estimated", False)},
        )  # fmt: skip
        turn.stats = {
            "ttft_ms": getattr(stream, "ttft_ms", None),
            "latency_ms": getattr(stream, "latency_ms", None),
            "output_tokens": getattr(stream, "output_tokens", None),
        }
        if text.strip():
            turn.answer = conversations.append_message(
                self._uow(), turn.conversation_id, "assistant", text.strip(), model=request.model_id,
                prompt_name=prompt_name, prompt_version=prompt_version, run_id=run_id, citations=turn.citations,
                input_tokens=getattr(stream, "input_tokens", None),
                output_tokens=getattr(stream, "output_tokens", None), latency_ms=getattr(stream, "latency_ms", None),
            )  # fmt: skip

    def _emit(
        self, trace: TurnTrace, question: str, answer: str, request: ChatRequest, error: str | None,
        llm: Callable[[TurnTrace], None] | None = None,
    ) -> None:  # fmt: skip
        """Add the model call's span (`llm`), then hand the turn's span tree to the run-log writer; tracing never
        fails a turn."""
        try:
            if llm is not None:
                llm(trace)
            spans = trace.finish(question, answer, kb=request.knowledge_base, model=request.model_id, error=error)
            self._runlog.log_spans(spans)
        except Exception as exc:  # noqa: BLE001 - the answer is stored already; only its trace is missing
            log.warning("could not record the trace of run %s: %s", trace.trace_id, exc)

    def _log(self, kind: RunKind, request: ChatRequest, run_id: str, conversation_id: str, **fields: Any) -> None:
        metadata = {"channel": request.channel, **fields.pop("metadata", {})}
        self._runlog.log(
            RunLog(
                kind=kind,
                run_id=run_id,
                user_id=request.user_id,
                conversation_id=conversation_id,
                metadata=metadata,
                **fields,
            )
        )

    def _own(self, user_id: str, conversation_id: str) -> None:
        if not conversations.belongs_to(self._uow(), conversation_id, user_id):
            raise ChatInputError("That conversation does not exist or is not yours.")


def _title(question: str) -> str:
    line = question.splitlines()[0]
    return line if len(line) <= 60 else line[:57].rstrip() + "…"


def _overrides(parameters: dict[str, Any]) -> dict[str, Any]:
    return {k: parameters[k] for k in ("temperature", "max_tokens") if k in parameters}


def _message(message: MessageView) -> Message:
    """An earlier turn of the conversation, as the model is sent it."""
    return Message(Role.USER if message.role == "user" else Role.ASSISTANT, message.content)
