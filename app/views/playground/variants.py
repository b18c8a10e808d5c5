"""The Playground's variant editors: one column per variant, their state, and promoting a variant's template.

A variant starts from a saved prompt version. Editing the template text makes it a draft (no version); editing the
system prompt overrides the template's system message (promote.py saves either as a new version).
The editors' values are UI state in st.session_state; a copy outside the widget keys keeps a hidden variant's edits
when the variant count goes down and up again (Streamlit forgets unrendered widgets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from app.views.playground.promote import key, promote, show_flash
from workbench.config.llm import ModelSpec
from workbench.domain.users import UserView
from workbench.llm.catalog import ModelCatalog
from workbench.playground.variants import MAX_VARIANTS, Variant, VariantError
from workbench.prompting.registry import PRODUCTION, PromptRegistry, PromptSummary, PromptVersion, content_hash
from workbench.prompting.templates import PromptTemplate, TemplateError

COUNT_KEY = "pg_variant_count"
DEFAULT_TOP_P = 1.0
# Widget values that make up one editor; kept aside so hiding a variant does not lose them.
FIELDS = ("prompt", "version", "model", "temperature", "max_tokens", "top_p", "system", "template", "source")


@dataclass(frozen=True, slots=True)
class Editor:
    """One variant column after this run: the variant to run, or why it cannot run yet."""

    position: int
    base: PromptVersion
    variant: Variant | None
    template: PromptTemplate | None
    error: str | None
    template_edited: bool
    system_edited: bool

    @property
    def changed(self) -> bool:
        return self.template_edited or self.system_edited

    @property
    def title(self) -> str:
        return f"Variant {self.position + 1}"


def variables(editors: list[Editor]) -> list[str]:
    """The union of the variants' template variables: declared ones first, in order, then any others they use."""
    names: dict[str, None] = {}
    for editor in editors:
        if editor.template is not None:
            names.update(dict.fromkeys(editor.template.required_variables()))
    return list(names)


def variant_editors(
    prompts: PromptRegistry, catalog: ModelCatalog, me: UserView, summaries: list[PromptSummary],
    models: list[ModelSpec],
) -> list[Editor]:  # fmt: skip
    """The variant count and one bordered column per variant; returns what each column holds."""
    by_name = {summary.name: summary for summary in summaries}
    counts = list(range(1, MAX_VARIANTS + 1))
    current = st.session_state.get(COUNT_KEY, 2)  # the default doubles as the value should the browser lose it
    index = counts.index(current) if current in counts else 1
    count = st.radio("Variants", counts, index=index, horizontal=True, key=COUNT_KEY)
    columns = st.columns(int(count or 1), border=True)
    editors = []
    for position, column in enumerate(columns):
        with column:
            editors.append(_editor(prompts, catalog, me, position, by_name, models))
    return editors


class _Fields:
    """One editor's widget values, kept in st.session_state under `pg_v<position>_<name>`.

    Each widget also gets its current value as its default. When reruns overlap, the browser can remount a widget
    without the value it had; it then comes back with that default instead of an empty field, and the next rerun
    would otherwise store the empty value. In a run that writes a value through st.session_state the default stays
    neutral: Streamlit warns about a widget with two sources, and the write reaches the browser anyway.
    """

    def __init__(self, position: int) -> None:
        self.position = position
        self.written: set[str] = set()

    def key(self, name: str) -> str:
        return key(self.position, name)

    def get(self, name: str) -> Any:
        return st.session_state.get(self.key(name))

    def set(self, name: str, value: Any) -> None:
        st.session_state[self.key(name)] = value
        self.written.add(name)

    def default(self, name: str, neutral: Any) -> Any:
        value = self.get(name)
        return neutral if name in self.written or value is None else value

    def index(self, name: str, options: list[Any]) -> int:
        value = self.get(name)
        return options.index(value) if name not in self.written and value in options else 0


def _editor(
    prompts: PromptRegistry, catalog: ModelCatalog, me: UserView, position: int, summaries: dict[str, PromptSummary],
    models: list[ModelSpec],
) -> Editor:  # fmt: skip
    fields = _Fields(position)
    for name, value in st.session_state.get(fields.key("kept"), {}).items():
        if fields.key(name) not in st.session_state:  # the variant was hidden: Streamlit dropped its widgets
            fields.set(name, value)
    pending = st.session_state.pop(fields.key("pending_version"), None)
    if pending is not None:  # a version saved on the last run: show it, with fresh defaults
        fields.set("version", pending)
        fields.set("source", None)
    st.markdown(f"**Variant {position + 1}**")
    show_flash(position)

    names = list(summaries)
    if fields.get("prompt") not in summaries:
        # The chat's plain prompt is the natural place to start trying things; any prompt when it is gone.
        fields.set("prompt", "plain-chat" if "plain-chat" in summaries else names[0])
    name = str(st.selectbox("Prompt", names, index=fields.index("prompt", names), key=fields.key("prompt")))
    versions = {version.version: version for version in prompts.versions(name)}  # newest first
    if fields.get("version") not in versions:
        fields.set("version", summaries[name].labels.get(PRODUCTION, next(iter(versions))))
    numbers = list(versions)
    number = st.selectbox(
        "Version", numbers, index=fields.index("version", numbers), key=fields.key("version"),
        format_func=lambda n: _version_label(versions[n]),
    )  # fmt: skip
    base = versions[int(number or numbers[0])]

    specs = {spec.id: spec for spec in models}
    if fields.get("model") not in specs:
        default = catalog.default()
        fields.set("model", default.id if default else models[0].id)
    ids = list(specs)
    model = st.selectbox(
        "Model", ids, index=fields.index("model", ids), key=fields.key("model"),
        format_func=lambda m: specs[m].display_name,
    )  # fmt: skip
    _defaults_from(fields, base, specs[model])
    left, middle, right = st.columns(3)
    temperature = left.number_input(
        "Temperature", 0.0, 2.0, fields.default("temperature", "min"), step=0.1, format="%.2f",
        key=fields.key("temperature"),
    )  # fmt: skip
    max_tokens = middle.number_input(
        "Max tokens", 1, 32_000, fields.default("max_tokens", "min"), step=16, key=fields.key("max_tokens")
    )
    top_p = right.number_input(
        "Top-p", 0.01, 1.0, fields.default("top_p", "min"), step=0.05, format="%.2f", key=fields.key("top_p")
    )
    system = st.text_area("System prompt", fields.default("system", ""), key=fields.key("system"), height=96)
    with st.expander("Edit template", icon=":material/edit_note:"):
        text = st.text_area(
            "Template file: front matter, then the Jinja2 body", fields.default("template", ""),
            key=fields.key("template"), height=260,
            help="Editing makes this variant a draft; save it below as a new version to keep it.",
        )  # fmt: skip
    st.session_state[fields.key("kept")] = {field: fields.get(field) for field in FIELDS}

    values = (float(temperature or 0), int(max_tokens or 1), float(top_p or 1), system or "", text or "")
    editor = _build(position, name, base, str(model), *values)
    _describe(editor)
    promote(
        prompts, me, position, editor.base, changed=editor.changed, broken=bool(editor.error),
        system_edited=editor.system_edited, system=values[3], text=values[4],
    )  # fmt: skip
    return editor


def _defaults_from(fields: _Fields, base: PromptVersion, spec: ModelSpec) -> None:
    """When the prompt or version changes, the parameters, system prompt and text start from that version."""
    source = f"{base.name}@{base.version}"
    if fields.get("source") == source:
        return
    template = base.template
    parameters = template.parameters
    fields.set("temperature", _number(parameters.get("temperature"), spec.temperature, 0.0, 2.0))
    fields.set("max_tokens", int(_number(parameters.get("max_tokens"), spec.max_tokens, 1, 32_000)))
    fields.set("top_p", _number(parameters.get("top_p"), DEFAULT_TOP_P, 0.01, 1.0))
    fields.set("system", template.system)
    fields.set("template", base.content)
    fields.set("source", source)


def _number(value: Any, fallback: float, low: float, high: float) -> float:
    """A template's parameter as the input can show it: a number within the input's range, else the fallback."""
    try:
        number = float(value if value is not None else fallback)
    except (TypeError, ValueError):
        number = float(fallback)
    return min(max(number, low), high)


def _build(
    position: int, name: str, base: PromptVersion, model: str, temperature: float, max_tokens: int, top_p: float,
    system: str, text: str,
) -> Editor:  # fmt: skip
    template_edited = content_hash(text) != base.content_sha256
    system_edited = system.strip() != base.template.system.strip()
    try:
        template = PromptTemplate.parse(text, fallback_name=name) if template_edited else base.template
    except TemplateError as exc:
        return Editor(position, base, None, None, f"The edited template does not parse: {exc}", True, system_edited)
    variant = Variant(
        prompt_name=name, template_text=text if template_edited else base.content, model_id=model,
        prompt_version=None if template_edited else base.version, temperature=temperature, max_tokens=max_tokens,
        top_p=top_p, system_prompt=system if system_edited else None,
    )  # fmt: skip
    try:
        variant.check()
    except VariantError as exc:
        return Editor(position, base, None, template, str(exc), template_edited, system_edited)
    return Editor(position, base, variant, template, None, template_edited, system_edited)


def _describe(editor: Editor) -> None:
    if editor.error:
        st.error(editor.error, icon=":material/error:")
        return
    state = "draft (edited template)" if editor.template_edited else f"v{editor.base.version}"
    if editor.system_edited:
        state += " · own system prompt"
    names = ", ".join(f"`{name}`" for name in variables([editor])) or "none"
    st.caption(f"{state} · variables: {names}")


def _version_label(version: PromptVersion) -> str:
    labels = f" · {', '.join(version.labels)}" if version.labels else ""
    return f"v{version.version}{labels} · {version.source} · {version.created_at:%Y-%m-%d}"
