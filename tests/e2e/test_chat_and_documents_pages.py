"""Chat and Documents pages in AppTest over real stores, Chroma and the smallest local model."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from workbench.bootstrap import build_container
from workbench.domain.users import Role
from workbench.rag.sample import ensure_sample_knowledge_base

pytestmark = pytest.mark.e2e
FAST_MODEL = "smollm2-135m-instruct"


@pytest.fixture
def chat_env(app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch) -> AppEnvironment:
    monkeypatch.setenv("WORKBENCH_LLM__DEFAULT_MODEL", FAST_MODEL)
    return app_env


def test_documents_page_creates_a_knowledge_base_and_lists_it(chat_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "documents")
    assert "No knowledge base yet" in at.info[0].value
    at.text_input(key="kb_name").input("handbook")
    at.text_input(key="kb_description").input("Team handbook")
    at.button(key="FormSubmitter:new-kb-Create").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["name"]) == ["handbook"]
    assert list(table["documents"]) == [0]


def test_documents_page_refuses_a_bad_name(chat_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "documents")
    at.text_input(key="kb_name").input("bad name with spaces!")
    at.button(key="FormSubmitter:new-kb-Create").click().run()
    assert at.error, "a readable error is shown"


def test_annotators_do_not_get_chat_or_documents(chat_env: AppEnvironment) -> None:
    chat_env.add_user("ann", Role.ANNOTATOR)
    at = signed_in("ann")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page(at, "chat")


@pytest.mark.slow
def test_chat_page_streams_an_answer_with_sources_and_keeps_the_conversation(chat_env: AppEnvironment) -> None:
    container = build_container(register_atexit=False)
    try:
        assert ensure_sample_knowledge_base(container.rag) is not None
    finally:
        container.close()
    at = open_page(signed_in(), "chat")
    assert at.selectbox(key="chat_kb").value == "sample"
    assert at.selectbox(key="chat_model").value == FAST_MODEL
    at.chat_input(key="chat_q").set_value("How long is the warranty on the R2 arm?").run(timeout=180)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    roles = [message.name for message in at.chat_message]
    assert roles == ["user", "assistant"]
    assert at.expander[0].label.startswith("Sources")
    assert "warranty-policy.md" in at.expander[0].markdown[0].value
    # The conversation is listed in the sidebar and survives a fresh session.
    again = open_page(signed_in(), "chat")
    titles = [b.label for b in again.sidebar.button]
    assert any("warranty" in title for title in titles)
