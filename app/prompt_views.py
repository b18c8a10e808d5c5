"""The parts of the Prompts page: the version selector, one version's content, the editor, the diff, the preview
and the new-prompt form.

Which prompt and version are open is UI state (session_state); every version and label is in the registry (SQL).
After a change the page reruns on the version it produced: `navigate` leaves the target and a toast for the next
run, because a widget's value cannot be set once the widget has been drawn in this run.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app.ui import plain
from workbench.prompting.registry import (
    LABEL_PATTERN,
    LATEST,
    PRODUCTION,
    PromptRegistry,
    PromptVersion,
    RegistryError,
)
from workbench.prompting.templates import TemplateError, TemplateSyntaxProblem

PROMPT_KEY = "prompts_name"
VERSION_KEY = "prompts_version"
EDITOR_KEY = "prompts_editor"
_GOTO = "prompts_goto"  # (name, version) to open on the next run
_TOAST = "prompts_toast"
_EDITOR_NOTICE = "prompts_editor_notice"
_SEEN = "prompts_seen"  # marks which prompt/version the dependent widgets were last filled for
_CLEARED_AFTER_SAVE = ("prompts_edit_message", "prompts_edit_label", "prompts_new_name", "prompts_new_message")
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


def navigate(name: str, version: int, toast: str | None = None) -> None:
    """Open `name` at `version` on a fresh run (after a save or a label move)."""
    st.session_state[_GOTO] = (name, version)
    if toast:
        st.session_state[_TOAST] = toast
    st.rerun()


def apply_pending_navigation() -> None:
    """Call before any widget is drawn: open what `navigate` asked for, clear the submitted fields, show the toast."""
    goto = st.session_state.pop(_GOTO, None)
    if goto is not None:
        st.session_state[PROMPT_KEY], st.session_state[VERSION_KEY] = goto
        st.session_state[f"{_SEEN}:version"] = goto[0]  # so `choose_version` keeps the version asked for
        for key in _CLEARED_AFTER_SAVE:
            st.session_state.pop(key, None)
        st.session_state.pop("prompts_new_content", None)
    toast = st.session_state.pop(_TOAST, None)
    if toast:
        st.toast(toast, icon=":material/check_circle:")


def refill(marker: str, owner: object, values: dict[str, object]) -> None:
    """Reset widgets to `values` when what they belong to (`owner`) changed since they were last filled."""
    if st.session_state.get(f"{_SEEN}:{marker}") != owner:
        st.session_state[f"{_SEEN}:{marker}"] = owner
        st.session_state.update(values)


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def label_badges(labels: dict[str, int], *, with_version: bool = True) -> str:
    colours = {PRODUCTION: "green", "staging": "orange"}
    return " ".join(
        f":{colours.get(label, 'blue')}-badge[{label}{f' → v{version}' if with_version else ''}]"
        for label, version in sorted(labels.items(), key=lambda item: (item[0] != PRODUCTION, item[0]))
    )


def open_version(number: int) -> None:
    """A button callback (it runs before the script, so it may still set the selector's value)."""
    st.session_state[VERSION_KEY] = number


def choose_version(name: str, versions: list[PromptVersion]) -> PromptVersion:
    """The version selector (newest first, the latest by default when a prompt is opened)."""
    numbers = [v.version for v in versions]
    refill("version", name, {VERSION_KEY: numbers[0]})
    if st.session_state.get(VERSION_KEY) not in numbers:
        st.session_state[VERSION_KEY] = numbers[0]
    by_number = {v.version: v for v in versions}
    number = st.selectbox(
        "Version", numbers, key=VERSION_KEY,
        format_func=lambda n: f"v{n}" + (f"  ·  {', '.join(by_number[n].labels)}" if by_number[n].labels else ""),
    )  # fmt: skip
    return by_number[number]


# -- one version --------------------------------------------------------------------------------------------------


def show_version(version: PromptVersion) -> None:
    st.caption(
        f"v{version.version} · {version.source} · {plain(version.author)} · {when(version.created_at)} UTC"
        + (f" · {plain(version.message)}" if version.message else "")
    )
    st.code(version.content, language="markdown", line_numbers=True, wrap_lines=True)
    try:
        template = version.template
        variables = template.required_variables()
    except TemplateError as exc:  # recorded before a stricter check existed
        st.error(str(exc))
        return
    left, right = st.columns(2)
    with left:
        st.markdown("**Variables**")
        st.markdown(" ".join(f"`{name}`" for name in variables) or ":gray[none]")
        undeclared = sorted(set(variables) - set(template.variables))
        if undeclared:
            st.caption(f"Used but not declared in the front matter: {', '.join(undeclared)}")
    with right:
        st.markdown("**Default parameters**")
        if template.parameters:  # not st.json: it would show temperature 0.0 as 0
            st.markdown("  \n".join(f"`{key}: {value}`" for key, value in template.parameters.items()))
        else:
            st.markdown(":gray[none: the model's defaults]")


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


def label_problem(label: str) -> str | None:
    if label == LATEST:
        return "'latest' always means the newest version; choose another label."
    if not LABEL_PATTERN.match(label):
        return (
            f"'{label}' is not a label name: up to 32 lower-case letters, digits, '-' or '_', starting with a letter."
        )
    return None


def editor(registry: PromptRegistry, username: str, user_id: str, chosen: PromptVersion, latest: PromptVersion) -> None:
    """Edit a version's full text and save it as a new version (never over an old one)."""
    refill("editor", (chosen.name, chosen.version), {EDITOR_KEY: chosen.content})
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


# -- diff and preview ---------------------------------------------------------------------------------------------


def diff_view(registry: PromptRegistry, versions: list[PromptVersion], chosen: PromptVersion) -> None:
    if len(versions) < 2:
        st.info("There is one version so far. Save an edit to create another, then compare them here.")
        return
    numbers = [v.version for v in versions]
    old, new = (
        (chosen.version - 1, chosen.version) if chosen.version > min(numbers) else (chosen.version, chosen.version + 1)
    )
    refill("diff", (chosen.name, chosen.version), {"prompts_diff_old": old, "prompts_diff_new": new})
    left, right = st.columns(2)
    old = left.selectbox("From", numbers, key="prompts_diff_old", format_func=lambda n: f"v{n}")
    new = right.selectbox("To", numbers, key="prompts_diff_new", format_func=lambda n: f"v{n}")
    lines = registry.diff(chosen.name, old, new)
    if not lines:
        same = "the same version" if old == new else "identical"
        st.info(f"v{old} and v{new} are {same}: there is nothing to compare.", icon=":material/info:")
        return
    body = [line for line in lines[2:] if not line.startswith("@@")]
    added = sum(1 for line in body if line.startswith("+"))
    removed = sum(1 for line in body if line.startswith("-"))
    st.caption(f"v{old} → v{new}: {added} line(s) added, {removed} removed")
    st.code("\n".join(lines), language="diff", wrap_lines=True)


def preview_form(chosen: PromptVersion) -> None:
    """Render the version with values typed here; a missing value is named under its field."""
    try:
        template = chosen.template
        variables = template.required_variables()
    except TemplateError as exc:
        st.error(str(exc))
        return
    st.caption("Fill in the variables and render the messages the model would get. An empty field counts as missing.")
    with st.form("prompts-preview", border=False):
        slots: dict[str, DeltaGenerator] = {}
        for name in variables:
            st.text_area(name, key=f"prompts_var_{name}", height=100)
            slots[name] = st.empty()
        if not variables:
            st.caption("This template uses no variables.")
        submitted = st.form_submit_button("Render", icon=":material/play_arrow:")
    if not submitted:
        return
    values = {name: st.session_state.get(f"prompts_var_{name}") or "" for name in variables}
    values = {name: value for name, value in values.items() if value.strip()}
    problems = template.check_values(values)
    for name, problem in problems.items():
        if name in slots:
            slots[name].error(f"`{name}`: {problem}", icon=":material/error:")
    if problems:
        return
    try:
        system, user = template.render(**values)
    except TemplateError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.markdown("**System message**")
    st.code(system or "(none)", language=None, wrap_lines=True)
    st.markdown("**User message**")
    st.code(user, language=None, wrap_lines=True)
    if template.parameters:
        st.caption("Default parameters: " + ", ".join(f"{k}={v}" for k, v in template.parameters.items()))


# -- a new prompt -------------------------------------------------------------------------------------------------


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
