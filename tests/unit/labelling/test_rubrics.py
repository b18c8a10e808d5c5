"""Rubric fields: what they accept, how they are compared, and rubrics refused with the field named."""

from __future__ import annotations

import math

import pytest

from workbench.labelling.rubrics import DEFAULT_RUBRIC, Rubric, RubricError, RubricField


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        (RubricField("ok", "OK", "binary"), True, None),
        (RubricField("ok", "OK", "binary"), "yes", "choose yes or no"),
        (RubricField("ok", "OK", "binary"), None, "required"),
        (RubricField("ok", "OK", "binary", required=False), None, None),
        (RubricField("c", "C", "categorical", options=("a", "b")), "b", None),
        (RubricField("c", "C", "categorical", options=("a", "b")), "z", "choose one of: a, b"),
        (RubricField("s", "S", "ordinal", minimum=1, maximum=5), 3, None),
        (RubricField("s", "S", "ordinal", minimum=1, maximum=5), 2.5, "a whole number"),
        (RubricField("s", "S", "ordinal", minimum=1, maximum=5), 6, "between 1 and 5"),
        (RubricField("n", "N", "numeric", minimum=0, maximum=1), 0.25, None),
        (RubricField("n", "N", "numeric"), float("nan"), "a number"),
        (RubricField("n", "N", "numeric"), True, "a number"),
        (RubricField("t", "T", "text"), "fine", None),
        (RubricField("t", "T", "text"), "x" * 10_001, "text up to 10,000 characters"),
    ],
)
def test_field_values(field: RubricField, value: object, problem: str | None) -> None:
    assert field.check(value) == problem


def test_encoding_for_agreement() -> None:
    category = RubricField("c", "C", "categorical", options=("a", "b", "c"))
    assert [category.encode(v) for v in ("a", "c")] == [0.0, 2.0]
    assert math.isnan(category.encode(None))
    assert RubricField("ok", "OK", "binary").encode(False) == 0.0
    assert [f.level for f in DEFAULT_RUBRIC.fields] == ["nominal", "ordinal", "nominal", None]
    assert [f.key for f in DEFAULT_RUBRIC.compared] == ["correct", "helpfulness", "issue"]


def test_a_rubric_round_trips_and_checks_values() -> None:
    again = Rubric.from_dict(DEFAULT_RUBRIC.to_dict())
    assert again == DEFAULT_RUBRIC
    assert again.check({"correct": True, "helpfulness": 4, "extra": 1}) == {"extra": "not a field of this rubric"}


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"fields": []}, "at least one field"),
        ({"fields": [{"key": "Bad Key", "kind": "binary"}]}, "key 'Bad Key'"),
        ({"fields": [{"key": "x", "kind": "colour"}]}, "kind must be one of"),
        ({"fields": [{"key": "x", "kind": "categorical", "options": ["one"]}]}, "at least two"),
        ({"fields": [{"key": "x", "kind": "ordinal", "minimum": 1}]}, "whole-number minimum and maximum"),
        ({"fields": [{"key": "x", "kind": "numeric", "minimum": 5, "maximum": 1}]}, "below the maximum"),
        ({"fields": [{"key": "x", "kind": "binary"}, {"key": "x", "kind": "text"}]}, "x used twice"),
    ],
)
def test_bad_rubrics_name_the_problem(definition: dict[str, object], message: str) -> None:
    with pytest.raises(RubricError, match=message):
        Rubric.from_dict(definition)
