"""The Labelling page's parts: an item as the annotator reads it, and the rubric as a compact, keyboard-friendly form.

Form values live in st.session_state under keys that contain the item id, so every item starts with a fresh form
and nothing carries over between items. That state is only the annotator's unsaved input: a label is of record
once the service has stored it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.components.markdown import plain, plain_lines
from workbench.labelling.rubrics import LabelValues, Rubric, RubricField
from workbench.labelling.views import ItemView, LabelView

MAX_BUTTON_OPTIONS = 6  # more categories than this become a select box
CHOICE_KINDS = ("binary", "categorical", "ordinal")
RELEVANCE = {True: "Relevant", False: "Not relevant"}


# Session-state keys -----------------------------------------------------------------------------------------------


def field_key(item_id: str, key: str) -> str:
    return f"lab_{item_id}_f_{key}"


def chunk_key(item_id: str, chunk_id: str) -> str:
    return f"lab_{item_id}_c_{chunk_id}"


def chunk_id(chunk: dict[str, Any], position: int) -> str:
    return str(chunk.get("chunk_id", position))


def prefill(item: ItemView, rubric: Rubric) -> None:
    """Start the form from the annotator's stored label (revising), or empty; typed input is kept across reruns."""
    values = item.mine.values if item.mine else {}
    relevance = item.mine.chunk_relevance if item.mine else {}
    for field in rubric.fields:
        st.session_state.setdefault(field_key(item.id, field.key), values.get(field.key))
    for position, chunk in enumerate(item.chunks, start=1):
        cid = chunk_id(chunk, position)
        st.session_state.setdefault(chunk_key(item.id, cid), relevance.get(cid))


def forget(item_id: str) -> None:
    """Drop an item's form state (after it is stored, or to start a revision from the stored label)."""
    for key in [key for key in st.session_state if str(key).startswith(f"lab_{item_id}_")]:
        del st.session_state[key]


def read(item: ItemView, rubric: Rubric) -> LabelValues:
    """The form as the service takes it: only the fields given (blank text counts as not given)."""
    values = {}
    for field in rubric.fields:
        value = st.session_state.get(field_key(item.id, field.key))
        if isinstance(value, str):
            value = value.strip()
        if value is not None and value != "":
            values[field.key] = value
    relevance = {}
    for position, chunk in enumerate(item.chunks, start=1):
        mark = st.session_state.get(chunk_key(item.id, chunk_id(chunk, position)))
        if mark is not None:
            relevance[chunk_id(chunk, position)] = bool(mark)
    return LabelValues(values, relevance)


# Keyboard shortcuts -----------------------------------------------------------------------------------------------


def shortcuts(rubric: Rubric) -> dict[str, dict[Any, str]]:
    """Single keys for the common fields: Y/N for the first yes/no field, digits for the first short scale.

    Streamlit ignores single-key shortcuts while the focus is in a text box, so typing never triggers them.
    """
    keys: dict[str, dict[Any, str]] = {}
    binary = next((f for f in rubric.fields if f.kind == "binary"), None)
    if binary is not None:
        keys[binary.key] = {True: "Y", False: "N"}
    for field in rubric.fields:
        choices = field.choices
        if field.kind == "ordinal" and all(0 <= value <= 9 for value in choices):
            keys[field.key] = {value: str(value) for value in choices}
            break
        if field.kind == "categorical" and len(choices) <= min(9, MAX_BUTTON_OPTIONS):
            keys[field.key] = {value: str(n) for n, value in enumerate(choices, start=1)}
            break
    return keys


def legend(rubric: Rubric, keys: dict[str, dict[Any, str]], *, can_skip: bool) -> str:
    parts = []
    for field_name, mapping in keys.items():
        shown = list(mapping.values())
        span = " / ".join(shown) if len(shown) <= 2 else f"{shown[0]}–{shown[-1]}"
        parts.append(f"`{span}` {plain(rubric.field(field_name).label)}")
    parts.append("`Ctrl+Enter` submit")
    if can_skip:
        parts.append("`Ctrl+Shift+S` skip")
    return ":material/keyboard: " + " · ".join(parts)


# The item ---------------------------------------------------------------------------------------------------------


def show_item(item: ItemView) -> None:
    """Question, earlier turns (folded), answer and small metadata."""
    if item.history:
        with st.expander(f"Earlier turns ({len(item.history)})", icon=":material/history:"):
            for turn in item.history:
                role = turn.get("role", "user")
                with st.chat_message("assistant" if role == "assistant" else "user"):
                    st.markdown(plain_lines(str(turn.get("content", ""))))
    st.markdown("**Question**")
    with st.container(border=True, key=f"lab_question_{item.id}"):
        st.markdown(plain_lines(item.question) or ":gray[(no question)]")
    st.markdown("**Answer**")
    with st.container(border=True, key=f"lab_answer_{item.id}"):
        st.markdown(item.answer or ":gray[(no answer)]")
    details = metadata_line(item)
    if details:
        st.caption(details)


def metadata_line(item: ItemView) -> str:
    meta = item.metadata
    parts = [item.source_kind]
    if meta.get("model"):
        parts.append(f"model {plain(str(meta['model']))}")
    if meta.get("knowledge_base"):
        parts.append(f"knowledge base {plain(str(meta['knowledge_base']))}")
    if meta.get("prompt"):
        version = f" v{meta['prompt_version']}" if meta.get("prompt_version") else ""
        parts.append(f"prompt {plain(str(meta['prompt']))}{version}")
    if meta.get("run"):
        parts.append(f"run {plain(str(meta['run']))} · row {meta.get('row', '?')} · variant {meta.get('variant', '?')}")
    rating = meta.get("rating")
    if rating is not None:
        parts.append("user rated :material/thumb_up:" if rating > 0 else "user rated :material/thumb_down:")
    return " · ".join(parts)


def show_chunks(item: ItemView, *, relevance: bool, disabled: bool) -> None:
    """The retrieved passages, each with its source; with a relevant / not relevant mark when the rubric asks."""
    if not item.chunks:
        st.caption("No passages were retrieved for this answer.")
        return
    marked = sum(
        st.session_state.get(chunk_key(item.id, chunk_id(c, n))) is not None for n, c in enumerate(item.chunks, 1)
    )
    note = f" · {marked} of {len(item.chunks)} marked" if relevance else ""
    st.markdown(f"**Retrieved passages ({len(item.chunks)})**{note}")
    for position, chunk in enumerate(item.chunks, start=1):
        with st.container(border=True, key=f"lab_chunk_{item.id}_{position}"):
            score = chunk.get("score")
            figure = f" · score {float(score):.2f}" if isinstance(score, int | float) else ""
            st.markdown(f"**[{position}] {plain(str(chunk.get('source') or 'unknown source'))}**{figure}")
            st.caption(plain_lines(str(chunk.get("text", ""))))
            if relevance:
                st.segmented_control(
                    f"Passage {position} relevant?", list(RELEVANCE), format_func=RELEVANCE.__getitem__,
                    key=chunk_key(item.id, chunk_id(chunk, position)), label_visibility="collapsed", disabled=disabled,
                )  # fmt: skip


# The rubric -------------------------------------------------------------------------------------------------------


def rubric_fields(item: ItemView, rubric: Rubric, problems: dict[str, str], *, disabled: bool) -> None:
    """Every field of the rubric, compact: button rows for short choices (with their keys), inputs for the rest."""
    keys = shortcuts(rubric)
    for field in rubric.fields:
        title = plain(field.label) + (" :red[\\*]" if field.required else "")
        state = field_key(item.id, field.key)
        if field.kind in CHOICE_KINDS and len(field.choices) <= MAX_BUTTON_OPTIONS:
            choice_row(item.id, field, title, keys.get(field.key, {}), disabled=disabled)
        elif field.kind in CHOICE_KINDS:
            st.selectbox(title, field.choices, key=state, help=field.help or None, placeholder="Choose…",
                         disabled=disabled)  # fmt: skip
        elif field.kind == "numeric":
            st.number_input(title, min_value=field.minimum, max_value=field.maximum, key=state,
                            help=field.help or None, placeholder="A number", disabled=disabled)  # fmt: skip
        else:
            st.text_area(title, key=state, help=field.help or None, height=90, disabled=disabled)
        if field.key in problems:
            st.markdown(f":red[:material/error: {plain(problems[field.key])}]")


def choice_row(item_id: str, field: RubricField, title: str, keys: dict[Any, str], *, disabled: bool) -> None:
    """A choice as a row of buttons, the chosen one highlighted; each may carry a single-key shortcut.

    Buttons rather than st.segmented_control because only buttons take a `shortcut=`.
    """
    state = field_key(item_id, field.key)
    chosen = st.session_state.get(state)
    st.markdown(f"**{title}**", help=field.help or None)
    with st.container(horizontal=True, gap="small", key=f"lab_{item_id}_row_{field.key}"):
        for n, value in enumerate(field.choices):
            st.button(
                format_value(field, value), key=f"lab_{item_id}_opt_{field.key}_{n}", on_click=_choose,
                args=(state, value, field.required), type="primary" if chosen == value else "secondary",
                shortcut=keys.get(value), disabled=disabled,
            )  # fmt: skip


def _choose(state: str, value: Any, required: bool) -> None:
    # A second click on an optional field's choice clears it; a required field keeps its value.
    st.session_state[state] = None if (st.session_state.get(state) == value and not required) else value


# Labels -----------------------------------------------------------------------------------------------------------


def format_value(field: RubricField, value: Any) -> str:
    if value is None or value == "":
        return "–"
    if field.kind == "binary":
        return "Yes" if value else "No"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def labels_table(rubric: Rubric, item: ItemView) -> pd.DataFrame:
    """My label and the others' side by side, one row per annotator (only ever called once mine is in)."""
    rows = [("you", item.mine)] if item.mine else []
    rows += [(label.annotator, label) for label in item.others or []]
    return pd.DataFrame([label_row(rubric, name, label, len(item.chunks)) for name, label in rows if label])


def label_row(rubric: Rubric, name: str, label: LabelView, chunk_count: int) -> dict[str, object]:
    row: dict[str, object] = {"annotator": name}
    for field in rubric.fields:
        row[field.label] = format_value(field, label.values.get(field.key))
    if rubric.chunk_relevance:
        relevant = sum(label.chunk_relevance.values())
        row["relevant passages"] = f"{relevant} of {chunk_count}"
    row["updated (UTC)"] = label.updated_at.strftime("%Y-%m-%d %H:%M")
    return row


def summary(rubric: Rubric, label: LabelView | None) -> str:
    if label is None:
        return ""
    return " · ".join(
        f"{field.key} {format_value(field, label.values.get(field.key))}"
        for field in rubric.compared
        if label.values.get(field.key) is not None
    )
