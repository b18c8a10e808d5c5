"""How the Review page writes label values and labelling errors."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.components.formatting import DASH
from workbench.labelling.annotation import LabelProblems
from workbench.labelling.rubrics import RubricError, RubricField
from workbench.labelling.views import LabellingError, LabellingForbidden


def show_error(exc: Exception, fields: dict[str, RubricField] | None = None) -> None:
    """A labelling error as the reviewer should read it: per field for label problems."""
    if isinstance(exc, LabelProblems):
        named = fields or {}
        lines = [f"- **{named[key].label if key in named else key}**: {text}" for key, text in exc.problems.items()]
        st.error("The label does not fit the rubric:\n" + "\n".join(lines), icon=":material/error:")
    elif isinstance(exc, LabellingForbidden):
        st.error(f"Not allowed: {exc}", icon=":material/block:")
    elif isinstance(exc, LabellingError | RubricError):
        st.error(str(exc), icon=":material/error:")
    else:
        raise exc


def label_value(field: RubricField | None, value: Any) -> str:
    """A label value as a reviewer reads it: yes/no, the category, the number, the text; a dash when missing."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value == int(value) and (field is None or field.kind != "numeric"):
        return str(int(value))
    return str(value)
