"""Prompts: the registry's prompts, each version's content, editing as new versions, labels, diffs and previews."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.components.formatting import when
from app.components.markdown import plain
from app.components.widget_state import refill
from app.views.prompts.editing import editor, label_problem, new_prompt_form
from app.views.prompts.navigation import PROMPT_KEY, apply_pending_navigation, choose_version, navigate, open_version
from app.views.prompts.versions import diff_view, label_badges, preview_form, show_version
from workbench.domain.users import UserView
from workbench.prompting.registry import (
    FILE,
    PRODUCTION,
    PromptNotFound,
    PromptRegistry,
    PromptSummary,
    PromptVersion,
    RegistryError,
)
from workbench.prompting.templates import TemplateError

OTHER_LABEL = "another label…"


def summary_row(registry: PromptRegistry, summary: PromptSummary) -> dict[str, object]:
    try:
        description = registry.get(summary.name).template.description
    except (PromptNotFound, TemplateError):
        description = ""
    labels = sorted(summary.labels.items(), key=lambda item: (item[0] != PRODUCTION, item[0]))
    return {
        "name": summary.name,
        "description": description,
        "latest": f"v{summary.latest_version}",
        "labels": ", ".join(f"{label} → v{version}" for label, version in labels),
        "versions": summary.version_count,
        "last change (UTC)": when(summary.updated_at),
    }


def history(versions: list[PromptVersion], chosen: PromptVersion) -> None:
    """Every version, newest first, with its labels, source, author, message and time; a click opens one."""
    st.markdown("**Version history**")
    with st.container(height=420 if len(versions) > 4 else "content", border=True):
        for version in versions:
            button, text = st.columns([1, 5])
            current = version.version == chosen.version
            button.button(
                f"v{version.version}", key=f"prompts_open_{version.version}", on_click=open_version,
                args=(version.version,), type="primary" if current else "secondary", width="stretch",
            )  # fmt: skip
            badges = label_badges({label: version.version for label in version.labels}, with_version=False)
            text.markdown(
                f"{plain(version.message) or ':gray[no message]'} {badges}  \n"
                f":gray[{plain(version.author)} · {version.source} · {when(version.created_at)} UTC]"
            )


def labels_panel(
    registry: PromptRegistry, user: UserView, versions: list[PromptVersion], chosen: PromptVersion
) -> None:
    """Move production, staging or any label to a version; remove labels other than production."""
    current = {label: v.version for v in versions for label in v.labels}
    st.markdown("**Labels**")
    refill("prompts_labels", (chosen.name, chosen.version), {"prompts_label_target": chosen.version})
    left, right = st.columns(2)
    others = sorted(set(current) - {PRODUCTION, "staging", FILE})  # `file` moves with prompts/ only
    choice = left.selectbox("Label", [PRODUCTION, "staging", *others, OTHER_LABEL], key="prompts_label_name")
    numbers = [v.version for v in versions]
    target = right.selectbox("Point it at", numbers, key="prompts_label_target", format_func=lambda n: f"v{n}")
    label = choice
    if choice == OTHER_LABEL:
        label = st.text_input("Label name", key="prompts_label_custom", placeholder="e.g. experiment-b").strip()
    before = current.get(label)
    if not label:
        st.caption("Name the label to create.")
    elif before is None:
        st.caption(f"`{label}` is not set yet; it will point at v{target}.")
    elif before == target:
        st.caption(f"`{label}` already points at v{target}.")
    else:
        effect = " Chat then answers with it." if label == PRODUCTION else ""
        st.caption(f"`{label}` points at **v{before}** now; it will point at **v{target}**.{effect}")
    if st.button(
        f"Move {label or 'label'} to v{target}", key="prompts_label_move", icon=":material/label:",
        disabled=not label or before == target,
    ):  # fmt: skip
        problem = label_problem(label)
        try:
            if problem:
                raise RegistryError(problem)
            registry.set_label(chosen.name, label, target, actor=user.username)
        except RegistryError as exc:
            st.error(str(exc))
        else:
            was = f"v{before}" if before is not None else "not set"
            navigate(chosen.name, chosen.version, f"{label}: {was} → v{target}")

    removable = sorted(set(current) - {PRODUCTION, FILE})
    if not removable:
        st.caption("production cannot be removed: chat answers with it. There are no other labels.")
        return
    name_col, button_col = st.columns([3, 2], vertical_alignment="bottom")
    doomed = name_col.selectbox(
        "Remove a label", removable, key="prompts_label_remove_name", format_func=lambda n: f"{n} (v{current[n]})"
    )
    if button_col.button("Remove", key="prompts_label_remove", icon=":material/label_off:", width="stretch"):
        registry.remove_label(chosen.name, doomed)
        navigate(chosen.name, chosen.version, f"Removed {doomed} (it pointed at v{current[doomed]})")


def render(user: UserView, *, registry: PromptRegistry) -> None:
    apply_pending_navigation()
    st.title("Prompts")
    st.caption(
        "Templates the chat and the playground use. Every distinct text is an immutable, numbered version: saving "
        "here adds a version and never overwrites one. Labels such as production and staging point at versions; chat "
        "answers with the production version. Files in prompts/ that change on disk are picked up as new versions."
    )

    summaries = registry.summaries()  # also records prompt files that changed on disk
    for file_name, problem in sorted(registry.last_sync.problems.items()):
        st.warning(f"**prompts/{plain(file_name)}** was not recorded: {plain(problem)}", icon=":material/warning:")

    if not summaries:
        st.info(
            f"No prompts yet. Put a Markdown file with front matter in `{registry.directory}` (it is picked up on the "
            "next visit), or create a prompt here.",
            icon=":material/description:",
        )
        new_prompt_form(registry, user.username, existing=set())
        return

    names = [summary.name for summary in summaries]
    list_col, new_col = st.columns([5, 1], vertical_alignment="bottom")
    name = list_col.selectbox("Prompt", names, key=PROMPT_KEY)
    with new_col, st.popover("New prompt", icon=":material/add:", width="stretch"), st.container(width=640):
        new_prompt_form(registry, user.username, existing=set(names))
    prompts_table(registry, summaries)

    try:
        versions = registry.versions(name)
    except PromptNotFound as exc:
        st.error(str(exc))
        return
    summary = next(s for s in summaries if s.name == name)
    prompt(registry, user, summary, versions)


def prompts_table(registry: PromptRegistry, summaries: list[PromptSummary]) -> None:
    st.dataframe(
        pd.DataFrame([summary_row(registry, summary) for summary in summaries]),
        hide_index=True,
        key="prompts_table",
        column_config={
            "description": st.column_config.TextColumn(width="large"),
            "labels": st.column_config.TextColumn(width="medium"),
            "versions": st.column_config.NumberColumn(width="small"),
        },
    )


def prompt(registry: PromptRegistry, user: UserView, summary: PromptSummary, versions: list[PromptVersion]) -> None:
    """One prompt: its version picker and labels, history, and the chosen version's tabs."""
    st.subheader(summary.name, divider="gray")
    picker, badges = st.columns([1, 4], vertical_alignment="bottom")
    with picker:
        chosen = choose_version(summary.name, versions)
    badges.markdown(label_badges(summary.labels) or ":gray[no labels]")

    main, side = st.columns([3, 2], gap="large")
    with side:
        history(versions, chosen)
        with st.container(border=True):
            labels_panel(registry, user, versions, chosen)
    with main:
        content_tab, edit_tab, diff_tab, preview_tab = st.tabs(
            ["Prompt", "Edit", "Diff", "Preview"], key="prompts_tab", default="Prompt"
        )
        with content_tab:
            show_version(chosen)
        with edit_tab:
            editor(registry, user.username, user.id, chosen, latest=versions[0])
        with diff_tab:
            diff_view(registry, versions, chosen)
        with preview_tab:
            preview_form(chosen)
