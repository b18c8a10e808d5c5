"""Rubrics: the fields an annotator fills in for an item, how each is checked, and how it is compared.

A rubric is a list of fields, each binary, categorical (labels), ordinal (a Likert range), numeric, or free text,
plus, optionally, a relevant/not-relevant mark for each retrieved chunk of a RAG answer. Rubrics are versioned in
SQL; a label keeps the version it was given under, so editing a rubric never changes labels already given.
No I/O here: these are the rules the services and pages share.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

FieldKind = Literal["binary", "categorical", "ordinal", "numeric", "text"]
Level = Literal["nominal", "ordinal", "interval"]
KINDS: tuple[FieldKind, ...] = ("binary", "categorical", "ordinal", "numeric", "text")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 20
MAX_TEXT = 10_000


class RubricError(ValueError):
    """A rubric that cannot be used as written; the message names the field and the problem."""


@dataclass(frozen=True, slots=True)
class RubricField:
    key: str
    label: str
    kind: FieldKind
    options: tuple[str, ...] = ()  # categorical: the labels an annotator picks from
    minimum: float | None = None  # ordinal and numeric
    maximum: float | None = None
    required: bool = True
    help: str = ""

    @property
    def level(self) -> Level | None:
        """The level of measurement agreement is computed at; None for free text (not compared)."""
        return {"binary": "nominal", "categorical": "nominal", "ordinal": "ordinal", "numeric": "interval"}.get(
            self.kind
        )  # type: ignore[return-value]

    @property
    def choices(self) -> tuple[Any, ...]:
        """The values a binary, categorical or ordinal field takes, in order."""
        if self.kind == "binary":
            return (True, False)
        if self.kind == "categorical":
            return self.options
        if self.kind == "ordinal" and self.minimum is not None and self.maximum is not None:
            return tuple(range(int(self.minimum), int(self.maximum) + 1))
        return ()

    def check(self, value: Any) -> str | None:
        """Why a value does not fit this field (None when it does). A missing value is None."""
        if value is None or value == "":
            return "required" if self.required else None
        if self.kind == "binary":
            return None if isinstance(value, bool) else "choose yes or no"
        if self.kind == "categorical":
            return None if value in self.options else f"choose one of: {', '.join(self.options)}"
        if self.kind == "text":
            return None if isinstance(value, str) and len(value) <= MAX_TEXT else f"text up to {MAX_TEXT:,} characters"
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return "a number"
        if self.kind == "ordinal" and value != int(value):
            return "a whole number"
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            return f"between {_number(low)} and {_number(high)}"
        return None

    def encode(self, value: Any) -> float:
        """The number agreement statistics compare (NaN when missing): a category's position, or the value."""
        if value is None or value == "" or self.kind == "text":
            return math.nan
        if self.kind == "binary":
            return 1.0 if value else 0.0
        if self.kind == "categorical":
            return float(self.options.index(value)) if value in self.options else math.nan
        return float(value)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "label": self.label, "kind": self.kind, "required": self.required}
        if self.options:
            data["options"] = list(self.options)
        if self.minimum is not None:
            data["minimum"] = self.minimum
        if self.maximum is not None:
            data["maximum"] = self.maximum
        if self.help:
            data["help"] = self.help
        return data


@dataclass(frozen=True, slots=True)
class Rubric:
    fields: tuple[RubricField, ...]
    chunk_relevance: bool = False  # also mark each retrieved chunk relevant or not
    instructions: str = ""

    def field(self, key: str) -> RubricField:
        for item in self.fields:
            if item.key == key:
                return item
        raise KeyError(key)

    @property
    def compared(self) -> tuple[RubricField, ...]:
        """The fields agreement is computed for (all but free text)."""
        return tuple(item for item in self.fields if item.level is not None)

    def check(self, values: dict[str, Any]) -> dict[str, str]:
        """Problems per field key (also for keys this rubric does not have); empty when the values fit."""
        problems = {key: "not a field of this rubric" for key in values if key not in {f.key for f in self.fields}}
        for item in self.fields:
            problem = item.check(values.get(item.key))
            if problem:
                problems[item.key] = problem
        return problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "fields": [item.to_dict() for item in self.fields],
            "chunk_relevance": self.chunk_relevance,
            "instructions": self.instructions,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rubric:
        """Build and validate a rubric from its stored or submitted form; RubricError names what is wrong."""
        raw_fields = data.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise RubricError("A rubric needs at least one field.")
        if len(raw_fields) > MAX_FIELDS:
            raise RubricError(f"A rubric has at most {MAX_FIELDS} fields.")
        fields = tuple(_field(raw, n) for n, raw in enumerate(raw_fields, start=1))
        keys = [item.key for item in fields]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise RubricError(f"Field keys must differ: {', '.join(duplicates)} used twice.")
        return cls(fields, bool(data.get("chunk_relevance", False)), str(data.get("instructions") or ""))


@dataclass(frozen=True, slots=True)
class LabelValues:
    """What one annotator (or the reviewer) gave an item: field values and per-chunk relevance."""

    values: dict[str, Any] = field(default_factory=dict)
    chunk_relevance: dict[str, bool] = field(default_factory=dict)  # chunk id -> relevant


def _field(raw: Any, position: int) -> RubricField:
    if not isinstance(raw, dict):
        raise RubricError(f"Field {position} is not a mapping.")
    key = str(raw.get("key", "")).strip()
    if not KEY_PATTERN.match(key):
        raise RubricError(
            f"Field {position}: key '{key}' must be lower-case letters, digits or '_', starting with a letter."
        )
    kind = raw.get("kind")
    if kind not in KINDS:
        raise RubricError(f"Field '{key}': kind must be one of {', '.join(KINDS)}.")
    options = tuple(str(option).strip() for option in raw.get("options") or () if str(option).strip())
    if kind == "categorical" and len(set(options)) < 2:
        raise RubricError(f"Field '{key}': a categorical field needs at least two different options.")
    minimum, maximum = _bound(raw, "minimum", key), _bound(raw, "maximum", key)
    if kind == "ordinal":
        if minimum is None or maximum is None or minimum != int(minimum) or maximum != int(maximum):
            raise RubricError(f"Field '{key}': an ordinal field needs whole-number minimum and maximum (e.g. 1 to 5).")
        if not 1 <= maximum - minimum <= 20:
            raise RubricError(f"Field '{key}': an ordinal scale has 2 to 21 points.")
    if minimum is not None and maximum is not None and minimum >= maximum:
        raise RubricError(f"Field '{key}': the minimum must be below the maximum.")
    return RubricField(
        key=key,
        label=str(raw.get("label") or key.replace("_", " ").capitalize()),
        kind=kind,
        options=options if kind == "categorical" else (),
        minimum=minimum if kind in ("ordinal", "numeric") else None,
        maximum=maximum if kind in ("ordinal", "numeric") else None,
        required=bool(raw.get("required", True)),
        help=str(raw.get("help") or ""),
    )


def _bound(raw: dict[str, Any], name: str, key: str) -> float | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RubricError(f"Field '{key}': {name} must be a number.")
    return float(value)


def _number(value: float | None) -> str:
    if value is None:
        return "…"
    return str(int(value)) if value == int(value) else str(value)


DEFAULT_RUBRIC = Rubric(
    fields=(
        RubricField("correct", "Is the answer correct?", "binary"),
        RubricField("helpfulness", "Helpfulness", "ordinal", minimum=1, maximum=5),
        RubricField(
            "issue",
            "Main issue",
            "categorical",
            options=("none", "hallucination", "incomplete", "off-topic", "unsafe"),
            required=False,
        ),
        RubricField(
            "reference_answer",
            "Better answer (optional)",
            "text",
            required=False,
            help="What the assistant should have said; becomes the reference answer of a golden dataset.",
        ),
    ),
    chunk_relevance=True,
    instructions="Read the question and the answer; mark each retrieved passage relevant or not.",
)
