"""A queue's labels as matrices (items x annotators per rubric field), and the agreement and disagreement the
Review page shows. Pure functions over label views; the review service reads the labels and calls these."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from workbench.labelling.agreement import (
    AnnotatorStats,
    FieldAgreement,
    FloatArray,
    annotator_stats,
    disagreement,
    field_agreement,
)
from workbench.labelling.rubrics import Rubric, RubricField


@dataclass(frozen=True, slots=True)
class LabelledItem:
    """One item with its labels: annotator id -> field values."""

    item_id: str
    question: str
    values: dict[str, dict[str, object]]


@dataclass(frozen=True, slots=True)
class FieldReport:
    key: str
    label: str
    agreement: FieldAgreement
    annotators: list[AnnotatorStats]


@dataclass(frozen=True, slots=True)
class QueueAgreement:
    items: int
    annotators: list[str]  # usernames, the matrices' columns
    fields: list[FieldReport] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Disagreement:
    item_id: str
    question: str
    score: float  # mean over the compared fields of the per-field disagreement (0 all agree … 1)
    labels: int
    by_field: dict[str, float]


def label_matrix(rubric_field: RubricField, items: Sequence[LabelledItem], annotators: Sequence[str]) -> FloatArray:
    """items x annotators, the field's encoded values, NaN where an annotator gave no label."""
    column = {annotator: j for j, annotator in enumerate(annotators)}
    matrix = np.full((len(items), len(annotators)), np.nan)
    for i, item in enumerate(items):
        for annotator, values in item.values.items():
            matrix[i, column[annotator]] = rubric_field.encode(values.get(rubric_field.key))
    return matrix


def queue_agreement(rubric: Rubric, items: Sequence[LabelledItem], names: dict[str, str]) -> QueueAgreement:
    """Agreement per compared field (every field but free text), with per-annotator statistics."""
    annotators = sorted({annotator for item in items for annotator in item.values})
    reports = []
    for rubric_field in rubric.compared:
        level = rubric_field.level
        assert level is not None
        matrix = label_matrix(rubric_field, items, annotators)
        reports.append(FieldReport(
            rubric_field.key, rubric_field.label, field_agreement(matrix, level),
            annotator_stats(matrix, level, [names.get(a, a) for a in annotators]),
        ))  # fmt: skip
    return QueueAgreement(len(items), [names.get(a, a) for a in annotators], reports)


def disagreements(rubric: Rubric, items: Sequence[LabelledItem], limit: int = 50) -> list[Disagreement]:
    """The items whose labels disagree most (items with fewer than two labels are left out)."""
    annotators = sorted({annotator for item in items for annotator in item.values})
    per_field: dict[str, FloatArray] = {}
    for rubric_field in rubric.compared:
        level = rubric_field.level
        assert level is not None
        low, high = rubric_field.minimum, rubric_field.maximum
        # A declared scale normalises distances (2 points apart on 1-5 is 0.5); otherwise the observed range does.
        value_range = (low, high) if low is not None and high is not None else None
        per_field[rubric_field.key] = disagreement(label_matrix(rubric_field, items, annotators), level, value_range)
    found = []
    for i, item in enumerate(items):
        scores = {key: float(values[i]) for key, values in per_field.items() if not math.isnan(values[i])}
        if scores:
            found.append(Disagreement(item.item_id, item.question, sum(scores.values()) / len(scores),
                                      len(item.values), scores))  # fmt: skip
    found.sort(key=lambda d: (-d.score, d.item_id))
    return found[:limit]
