"""The Gradio embed: the workbench's chat service behind a ChatInterface, for demo audiences.

Standalone: `workbench demo` (or `python app/gradio_demo.py`) serves it on http://127.0.0.1:7860.
Mounted: `mount_demo(fastapi_app, "/demo")` puts it inside an existing FastAPI app.
Embedding in a page: `<iframe src="http://HOST:7860/?__theme=light" width="100%" height="640"></iframe>`.
Same knowledge base, model, prompt, run log and feedback as the app; answers are stored under the inactive
service user `gradio-demo`. Public demos get a per-client rate limit and a question size limit.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import gradio as gr

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from workbench.bootstrap import Container, build_container  # noqa: E402
from workbench.security.ratelimit import RateLimiter  # noqa: E402
from workbench.services import users as user_service  # noqa: E402
from workbench.services.chat import ChatFailed, ChatInputError, ChatRequest  # noqa: E402

DEMO_USER = "gradio-demo"
DEMO_MAX_CHARS = 2_000


@dataclass
class DemoSettings:
    knowledge_base: str | None = "sample"
    model_id: str | None = None  # None: the configured default model
    per_minute: float = 10.0
    max_chars: int = DEMO_MAX_CHARS
    max_tokens: int | None = 300  # keeps public answers (and the machine's time) bounded
    title: str = "Ask the documents"


@dataclass
class _Sessions:
    """Per browser session: its conversation and the ids of the answers shown, for 👍/👎."""

    conversations: dict[str, str] = field(default_factory=dict)
    answers: dict[str, list[str]] = field(default_factory=dict)


def build_demo(container: Container, settings: DemoSettings | None = None) -> gr.Blocks:
    settings = settings or DemoSettings()
    chat = container.chat
    user = user_service.ensure_service_user(container.uow(), DEMO_USER)
    model_id = settings.model_id or _default_model(container)
    kb = settings.knowledge_base if _has_kb(container, settings.knowledge_base) else None
    limiter = RateLimiter(settings.per_minute, burst=max(1, int(settings.per_minute)))
    sessions = _Sessions()

    def respond(message: str, history: list[dict[str, Any]], request: gr.Request) -> Any:
        client = (request.client.host if request and request.client else None) or "unknown"
        if not limiter.allow(client):
            raise gr.Error(f"Too many questions. Try again in {limiter.retry_after_s(client):.0f} seconds.")
        if len(message) > settings.max_chars:
            raise gr.Error(f"Please keep questions under {settings.max_chars:,} characters.")
        session = request.session_hash or client
        ask = ChatRequest(
            user_id=user.id, question=message, model_id=model_id, knowledge_base=kb,
            conversation_id=sessions.conversations.get(session), channel="gradio", max_tokens=settings.max_tokens,
        )  # fmt: skip
        try:
            turn = chat.ask(ask)
        except (ChatInputError, ChatFailed) as exc:
            raise gr.Error(str(exc)) from exc
        sessions.conversations[session] = turn.conversation_id
        text = ""
        for delta in turn:
            text += delta
            yield text
        if turn.error is not None:
            text += f"\n\n⚠️ {turn.error}"
        if turn.citations:
            text += "\n\n**Sources:** " + ", ".join(f"[{c['n']}] {c['source']}" for c in turn.citations)
        if turn.answer is not None:
            sessions.answers.setdefault(session, []).append(turn.answer.id)
        yield text

    def on_like(data: gr.LikeData, request: gr.Request) -> None:
        session = request.session_hash or ""
        answers = sessions.answers.get(session, [])
        position = data.index[0] if isinstance(data.index, list | tuple) else data.index
        answer_number = int(position) // 2  # the transcript alternates question, answer
        if 0 <= answer_number < len(answers):
            chat.rate(user.id, answers[answer_number], 1 if data.liked else -1)

    with gr.Blocks(title=settings.title, analytics_enabled=False) as demo:
        chatbot = gr.Chatbot(height=520, label="Answers cite the documents they use")
        chatbot.like(on_like)
        description = f"Answers come from the **{kb}** documents." if kb else "A general assistant."
        gr.ChatInterface(
            fn=respond,
            chatbot=chatbot,
            title=settings.title,
            description=description,
            examples=["How long is the warranty on the R2 arm?", "When is support open?"] if kb else None,
            cache_examples=False,
        )
    return demo


def mount_demo(app: Any, path: str = "/demo", container: Container | None = None) -> Any:
    """Mount the demo into a FastAPI app at `path`; returns the app."""
    demo = build_demo(container or build_container())
    return gr.mount_gradio_app(app, demo, path=path)


def _default_model(container: Container) -> str:
    spec = container.llm_runtime.catalog.default()
    if spec is None:
        raise SystemExit("No model is available: run `make install` for the local models, or configure one.")
    return spec.id


def _has_kb(container: Container, name: str | None) -> bool:
    return name is not None and any(kb.name == name for kb in container.rag.list_knowledge_bases())


def main(host: str = "127.0.0.1", port: int = 7860, knowledge_base: str | None = "sample") -> None:
    container = build_container()
    demo = build_demo(container, DemoSettings(knowledge_base=knowledge_base))
    demo.queue(default_concurrency_limit=2).launch(
        server_name=host, server_port=port, share=False, show_error=True, prevent_thread_lock=False
    )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Serve the Gradio chat demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--kb", default="sample", help="knowledge base to answer from ('' for plain chat)")
    arguments = parser.parse_args()
    main(arguments.host, arguments.port, arguments.kb or None)
