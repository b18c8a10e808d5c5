"""One prompt version on the Prompts page: its content, variables and parameters, a diff against another version,
and a preview of the messages it renders to."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app.components.formatting import when
from app.components.markdown import plain
from app.components.widget_state import refill
from workbench.prompting.registry import PRODUCTION, PromptRegistry, PromptVersion
from workbench.prompting.templates import TemplateError


def label_badges(labels: dict[str, int], *, with_version: bool = True) -> str:
    colours = {PRODUCTION: "green", "staging": "orange"}
    return " ".join(
        f":{colours.get(label, 'blue')}-badge[{label}{f' → v{version}' if with_version else ''}]"
        for label, version in sorted(labels.items(), key=lambda item: (item[0] != PRODUCTION, item[0]))
    )


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


def diff_view(registry: PromptRegistry, versions: list[PromptVersion], chosen: PromptVersion) -> None:
    if len(versions) < 2:
        st.info("There is one version so far. Save an edit to create another, then compare them here.")
        return
    numbers = [v.version for v in versions]
    old, new = (
        (chosen.version - 1, chosen.version) if chosen.version > min(numbers) else (chosen.version, chosen.version + 1)
    )
    refill("prompts_diff", (chosen.name, chosen.version), {"prompts_diff_old": old, "prompts_diff_new": new})
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
