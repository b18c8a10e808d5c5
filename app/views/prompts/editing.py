"""Writing prompts on the Prompts page: a version's text edited and saved as a new version, and a new prompt.

Saving never overwrites a version; the registry says what is wrong with a text, and a syntax error is shown on its
line.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app.components.widget_state import refill
from app.views.prompts.navigation import navigate
from workbench.prompting.registry import LABEL_PATTERN, LATEST, PromptRegistry, PromptVersion, RegistryError
from workbench.prompting.templates import TemplateSyntaxProblem

EDITOR_KEY = "prompts_editor"
_EDITOR_NOTICE = "prompts_editor_notice"
SKELETON = """---
description: What this prompt is for, in one line.
variables: [question]
parameters:
  temperature: 0.2
  max_tokens: 400
system: |
  You are a helpful, concise assistant.
---
{{ question }}
"""


def label_problem(label: str) -> str | None:
    if label == LATEST:
        return "'latest' always means the newest version; choose another label."
    if not LABEL_PATTERN.match(label):
        return (
            f"'{label}' is not a label name: up to 32 lower-case letters, digits, '-' or '_', starting with a letter."
        )
    return None


def _show_location(slot: DeltaGenerator, text: str, exc: Exception) -> None:
    """Under a syntax error, the line it is on with a caret at the column."""
    problem = exc.__cause__ if isinstance(exc.__cause__, TemplateSyntaxProblem) else exc
    if not isinstance(problem, TemplateSyntaxProblem):
        return
    lines = text.replace("\r\n", "\n").split("\n")
    if not 1 <= problem.line <= len(lines):
        return
    gutter = f"{problem.line} | "
    slot.code(f"{gutter}{lines[problem.line - 1]}\n{' ' * (len(gutter) + problem.column - 1)}^", language=None)


def editor(registry: PromptRegistry, username: str, user_id: str, chosen: PromptVersion, latest: PromptVersion) -> None:
    """Edit a version's full text and save it as a new version (never over an old one)."""
    refill("prompts_editor", (chosen.name, chosen.version), {EDITOR_KEY: chosen.content})
    following = "" if chosen.version == latest.version else f" (the latest is v{latest.version})"
    st.caption(
        f"Starting from v{chosen.version}{following}. Saving records v{latest.version + 1}; existing versions never "
        "change, and labels stay where they are unless you name one below."
    )
    with st.form("prompts-edit", border=False):
        text = st.text_area("Front matter and template", key=EDITOR_KEY, height=460)
        slot = st.container()  # errors appear right under the editor
        left, right = st.columns([3, 1])
        message = left.text_input("What changed", key="prompts_edit_message", placeholder="e.g. shorter answers")
        label = right.text_input("Point a label at it", key="prompts_edit_label", placeholder="e.g. staging")
        submitted = st.form_submit_button("Save as new version", type="primary", icon=":material/save:")
    notice = st.session_state.pop(_EDITOR_NOTICE, None)
    if notice:
        slot.info(notice, icon=":material/info:")
    if not submitted:
        return
    label = (label or "").strip()
    problem = label_problem(label) if label else None
    if problem:
        slot.error(problem)
        return
    try:
        result = registry.save(
            chosen.name, text or "", author=username, author_id=user_id, message=message or "", source="ui",
            label=label or None,
        )  # fmt: skip
    except RegistryError as exc:
        slot.error(str(exc), icon=":material/error:")
        _show_location(slot, text or "", exc)
        return
    number = result.version.version
    moved = f" · {label} → v{number}" if label else ""
    if result.created:
        navigate(chosen.name, number, f"Saved {chosen.name} v{number}{moved}")
    unchanged = f"Unchanged — v{number} already has this content; no version was created.{moved}"
    if label or number != chosen.version:
        st.session_state[_EDITOR_NOTICE] = unchanged
        navigate(chosen.name, number)
    slot.info(unchanged, icon=":material/info:")


def new_prompt_form(registry: PromptRegistry, username: str, existing: set[str]) -> None:
    with st.form("prompts-new", border=False):
        st.markdown("**New prompt**")
        name = st.text_input(
            "Name", key="prompts_new_name", placeholder="e.g. support-answer",
            help="Letters, digits, '.', '_' or '-'. The front matter may leave the name out.",
        )  # fmt: skip
        # The skeleton as the widget's default, not through session_state: a popover's fields are re-created when it
        # opens, and then show their default.
        text = st.text_area("Front matter and template", SKELETON, key="prompts_new_content", height=300)
        slot = st.container()
        message = st.text_input("What it is for", key="prompts_new_message", placeholder="First version")
        submitted = st.form_submit_button("Create prompt", type="primary", icon=":material/add:")
    if not submitted:
        return
    name = (name or "").strip()
    if not name:
        slot.error("Give the prompt a name.")
        return
    if name in existing:
        slot.error(f"There is already a prompt named '{name}': open it and use Edit to add a version.")
        return
    try:
        result = registry.save(
            name, text or "", author=username, message=message or "Created in the Prompts page", source="ui"
        )
    except RegistryError as exc:
        slot.error(str(exc), icon=":material/error:")
        _show_location(slot, text or "", exc)
        return
    navigate(name, result.version.version, f"Created {name} v{result.version.version} (production)")
