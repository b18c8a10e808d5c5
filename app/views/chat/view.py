"""Chat: ask questions about a knowledge base; answers stream in with their sources, and can be rated."""

from __future__ import annotations

import threading

import streamlit as st

from app.components.formatting import format_ms
from app.components.markdown import plain_lines
from workbench.config.settings import Settings
from workbench.domain.users import UserView
from workbench.llm.catalog import ModelCatalog
from workbench.rag.engine import RagEngine
from workbench.services.chat import MAX_QUESTION_CHARS, ChatFailed, ChatInputError, ChatRequest, ChatService

CONVERSATION_KEY = "chat_conversation"
NO_RAG = "— none (plain chat) —"


def render(user: UserView, *, chat: ChatService, catalog: ModelCatalog, rag: RagEngine, settings: Settings) -> None:
    st.title("Chat")
    conversation_sidebar(user, chat)
    kb, model, top_k = settings_row(catalog, rag, settings.rag.top_k)
    if model is not None and settings.llm.warm_up_on_open:
        _warm_up(model, str(settings.resolved_data_dir), chat)

    current = st.session_state.get(CONVERSATION_KEY)
    transcript(user, chat, current)
    if current is None:
        welcome(kb, model)

    question = st.chat_input("Ask a question…", max_chars=MAX_QUESTION_CHARS, disabled=model is None, key="chat_q")
    if question and model is not None:
        answer(user, chat, question, kb, model, top_k)


@st.cache_resource(show_spinner=False)
def _warm_up(model_id: str, environment_key: str, _chat: ChatService) -> threading.Thread:
    """Start a local model's server in the background once, so the first answer does not pay for it."""
    _chat.load_libraries()  # here, not in the thread: two threads importing LlamaIndex at once can break it
    thread = threading.Thread(target=_chat.warm_up, args=(model_id,), daemon=True, name=f"warm-{model_id}")
    thread.start()
    return thread


def conversation_sidebar(user: UserView, chat: ChatService) -> None:
    with st.sidebar:
        st.divider()
        if st.button("New conversation", icon=":material/add_comment:", width="stretch", key="chat_new"):
            st.session_state.pop(CONVERSATION_KEY, None)
            st.rerun()
        current = st.session_state.get(CONVERSATION_KEY)
        for item in chat.conversations(user.id):
            label = ("▸ " if item.id == current else "") + item.title
            if st.button(label, key=f"conv_{item.id}", width="stretch", type="tertiary"):
                st.session_state[CONVERSATION_KEY] = item.id
                st.rerun()


def settings_row(catalog: ModelCatalog, rag: RagEngine, default_top_k: int) -> tuple[str | None, str | None, int]:
    models = catalog.available()
    bases = [kb.name for kb in rag.list_knowledge_bases()]
    cols = st.columns([3, 3, 1])
    options = [*bases, NO_RAG]
    kb = cols[0].selectbox("Knowledge base", options, index=0, key="chat_kb")
    if not models:
        cols[1].error("No model is available. Run `make install` for the local models or configure one.")
        return None, None, 4
    default = catalog.default()
    labels = {spec.id: spec.label for spec in models}
    ids = list(labels)
    model = cols[1].selectbox(
        "Model", ids, index=ids.index(default.id) if default else 0, format_func=labels.get, key="chat_model"
    )
    top_k = cols[2].number_input("Passages", 1, 12, default_top_k, key="chat_top_k")
    return (None if kb == NO_RAG else kb), model, int(top_k)


def welcome(kb: str | None, model: str | None) -> None:
    """What a new conversation is about, before the first question."""
    if kb is None and model is not None:
        st.info("Plain chat: answers come from the model alone, without your documents.", icon=":material/chat:")
    elif kb is not None:
        st.info(
            f"Ask about the documents in **{kb}**. Answers cite the passages they use; rate them with 👍/👎. "
            "Add documents on the Documents page.",
            icon=":material/lightbulb:",
        )
    else:
        st.info("No knowledge base yet: create one and upload documents on the Documents page.")


def show_citations(citations: list[dict[str, object]]) -> None:
    if not citations:
        return
    with st.expander(f"Sources ({len(citations)})", icon=":material/format_quote:"):
        for citation in citations:
            where = f" · page {citation['page']}" if citation.get("page") else ""
            where += f" · row {citation['row']}" if citation.get("row") is not None else ""
            st.markdown(f"**[{citation['n']}] {citation['source']}**{where} · score {float(citation['score']):.2f}")  # type: ignore[arg-type]
            # Passage text shown as it is: Markdown headings and emphasis in a source must not restyle the page.
            st.caption(plain_lines(str(citation["text"])))


def feedback_controls(
    user: UserView, chat: ChatService, message_id: str, rating: int | None, comment: str | None
) -> None:
    key = f"fb_{message_id}"
    if key not in st.session_state and rating is not None:
        st.session_state[key] = 1 if rating > 0 else 0
    choice = st.feedback("thumbs", key=key)
    if choice is not None:
        new_rating = 1 if choice == 1 else -1
        with st.popover("Add a comment", icon=":material/rate_review:"):
            text = st.text_area("Comment", value=comment or "", key=f"fbc_{message_id}", max_chars=4000)
            if st.button("Save comment", key=f"fbs_{message_id}"):
                chat.rate(user.id, message_id, new_rating, text)
                st.toast("Thanks, comment saved.")
        if rating != new_rating:
            chat.rate(user.id, message_id, new_rating, comment)


def transcript(user: UserView, chat: ChatService, conversation_id: str | None) -> None:
    if conversation_id is None:
        return
    try:
        messages = chat.transcript(user.id, conversation_id)
    except ChatInputError as exc:
        st.session_state.pop(CONVERSATION_KEY, None)
        st.warning(str(exc))
        return
    for message in messages:
        with st.chat_message(message.role):
            st.markdown(message.content)
            if message.role == "assistant":
                show_citations(message.citations)
                if message.prompt_name:
                    version = f" v{message.prompt_version}" if message.prompt_version else ""
                    st.caption(f"{message.model or ''} · prompt {message.prompt_name}{version}")
                feedback_controls(user, chat, message.id, message.my_rating, message.my_comment)


def answer(user: UserView, chat: ChatService, question: str, kb: str | None, model: str, top_k: int) -> None:
    with st.chat_message("user"):
        st.markdown(question)
    request = ChatRequest(
        user_id=user.id, question=question, model_id=model, knowledge_base=kb, top_k=top_k,
        conversation_id=st.session_state.get(CONVERSATION_KEY),
    )  # fmt: skip
    try:
        turn = chat.ask(request)
    except (ChatInputError, ChatFailed) as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.session_state[CONVERSATION_KEY] = turn.conversation_id
    with st.chat_message("assistant"):
        with st.spinner("Thinking…"):
            st.write_stream(turn)
        if turn.error is not None:
            st.error(f"{turn.error}", icon=":material/error:")
            st.caption("Your question is saved in this conversation; try again or pick another model.")
        show_citations(turn.citations)
        if turn.answer is not None:
            ttft, total = turn.stats.get("ttft_ms"), turn.stats.get("latency_ms")
            st.caption(f"{model} · first token {format_ms(ttft)} · total {format_ms(total)}")
    if turn.answer is not None:
        st.rerun()  # show the stored answer with its feedback controls
