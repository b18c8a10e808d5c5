"""Promoting a Playground variant: save its edited template as a new prompt version, or move a label to it.

The outcome is shown at the top of the variant's column on the next run (a "flash" in the session state), since
saving changes which version the editor shows.
"""

from __future__ import annotations

import streamlit as st

from workbench.domain.users import UserView
from workbench.prompting.front_matter import with_system
from workbench.prompting.registry import PRODUCTION, PromptRegistry, PromptVersion, RegistryError
from workbench.prompting.templates import TemplateError

LABELS = (PRODUCTION, "staging")
NO_LABEL = "(no label)"


def key(position: int, name: str) -> str:
    """The session-state key of one field of a variant's editor (tests address widgets by it)."""
    return f"pg_v{position}_{name}"


def promote(
    prompts: PromptRegistry, me: UserView, position: int, base: PromptVersion, *, changed: bool, broken: bool,
    system_edited: bool, system: str, text: str,
) -> None:  # fmt: skip
    """Save an edited variant as a new version (optionally labelled), or point a label at its version."""
    with st.expander("Save as version · labels", icon=":material/bookmark:"):
        if changed:
            message = st.text_input("Message", key=key(position, "save_message"), placeholder="What changed, and why")
            label = st.selectbox("Then point a label at it", [NO_LABEL, *LABELS], key=key(position, "save_label"))
            if st.button("Save as new version", key=key(position, "save"), type="primary", disabled=broken):
                content = with_system(text, system) if system_edited else text
                try:
                    result = prompts.save(
                        base.name, content, author=me.username, author_id=me.id, source="ui",
                        message=message or f"Saved from the Playground (from v{base.version})",
                        label=None if label == NO_LABEL else str(label),
                    )  # fmt: skip
                except (RegistryError, TemplateError) as exc:
                    st.error(str(exc), icon=":material/error:")
                else:
                    saved = result.version
                    verb = "Saved as" if result.created else "This content already is"
                    where = f" ({', '.join(saved.labels)})" if saved.labels else ""
                    _set_flash(position, f"{verb} {saved.name} v{saved.version}{where}.")
                    st.session_state[key(position, "pending_version")] = saved.version
                    st.rerun()
        else:
            st.caption("Edit the template or the system prompt to save a new version.")
        label = st.selectbox("Label", LABELS, key=key(position, "label"))
        disabled = changed
        if st.button(f"Point '{label}' at v{base.version}", key=key(position, "set_label"), disabled=disabled):
            try:
                prompts.set_label(base.name, str(label), base.version, actor=me.username)
            except RegistryError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                _set_flash(position, f"'{label}' now points at {base.name} v{base.version}.")
                st.rerun()
        if disabled:
            st.caption("This variant is edited: save it as a version first, then label that version.")


def _set_flash(position: int, message: str) -> None:
    st.session_state[key(position, "flash")] = message


def show_flash(position: int) -> None:
    message = st.session_state.pop(key(position, "flash"), None)
    if message:
        st.success(message, icon=":material/check_circle:")
