"""A variant: one template text (a saved version or a draft) x one model x its parameters."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from workbench.prompting.templates import PARAMETER_RANGES, PromptTemplate

MAX_VARIANTS = 4
# Parameters a variant may set; None means "the template's default, else the model's".
PARAMETERS = ("temperature", "max_tokens", "top_p")


class VariantError(ValueError):
    """A variant that cannot run as given; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Variant:
    prompt_name: str
    template_text: str
    model_id: str
    prompt_version: int | None = None  # None: an unsaved draft
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    system_prompt: str | None = None  # replaces the template's system message when not None

    @property
    def template(self) -> PromptTemplate:
        return PromptTemplate.parse(self.template_text, fallback_name=self.prompt_name)

    @property
    def label(self) -> str:
        version = f"v{self.prompt_version}" if self.prompt_version is not None else "draft"
        return f"{self.prompt_name} {version} · {self.model_id}"

    def parameters(self, template: PromptTemplate | None = None) -> dict[str, Any]:
        """The parameters a call uses: the variant's, over the template's defaults (over the model's)."""
        defaults = (template or self.template).parameters
        chosen = {name: getattr(self, name) for name in PARAMETERS}
        merged = {name: defaults[name] for name in PARAMETERS if name in defaults}
        merged.update({name: value for name, value in chosen.items() if value is not None})
        return merged

    def with_parameters(self, **values: Any) -> Variant:
        return replace(self, **values)

    def check(self) -> None:
        """The same bounds as a template's front matter."""
        for name in PARAMETERS:
            value = getattr(self, name)
            low, high = PARAMETER_RANGES[name]
            if value is not None and not low <= value <= high:
                raise VariantError(f"{self.label}: {name.replace('_', ' ')} must be between {low:g} and {high:,g}.")


def parse_variant_spec(spec: str) -> dict[str, str]:
    """`prompt=NAME[@VERSION|@LABEL],model=ID[,temperature=…][,max_tokens=…][,top_p=…]` (the CLI's --variant)."""
    fields: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not value.strip():
            raise VariantError(f"'{part}' in --variant '{spec}' is not key=value.")
        if key not in ("prompt", "model", *PARAMETERS):
            raise VariantError(
                f"Unknown field '{key}' in --variant '{spec}'; use prompt, model, temperature, max_tokens, top_p."
            )
        fields[key] = value.strip()
    if "prompt" not in fields:
        raise VariantError(f"--variant '{spec}' needs prompt=NAME (optionally NAME@VERSION or NAME@LABEL).")
    return fields


def numeric_parameters(fields: dict[str, str]) -> dict[str, Any]:
    """temperature/max_tokens/top_p from a parsed spec, as numbers."""
    values: dict[str, Any] = {}
    for name in PARAMETERS:
        if name in fields:
            try:
                values[name] = int(fields[name]) if name == "max_tokens" else float(fields[name])
            except ValueError as exc:
                raise VariantError(f"{name}={fields[name]!r} is not a number.") from exc
    return values
