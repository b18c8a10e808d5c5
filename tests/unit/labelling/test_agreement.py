"""Agreement statistics against independent references: sklearn, statsmodels, the `krippendorff` package, textbooks."""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from workbench.labelling.agreement import (
    CohenWeights,
    Level,
    annotator_stats,
    as_label_matrix,
    cohen_kappa,
    disagreement,
    field_agreement,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)

NAN = math.nan
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval")
WEIGHTS: tuple[CohenWeights, ...] = (None, "linear", "quadratic")

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with missing data:
# 4 observers (rows there, columns here) x 12 units, values 1..5.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
).T
# The 3 coders x 15 units example of the krippendorff package's tests (and Wikipedia).
WIKIPEDIA = np.array(
    [
        [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
        [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
        [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
    ]
).T
# Fleiss (1971) as on Wikipedia: 10 subjects, 14 raters each, counts per category 1..5; kappa 0.210.
FLEISS_TABLE = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def random_matrix(seed: int, items: int, raters: int, values: int, missing: float = 0.15) -> np.ndarray:
    """Integer labels 1..values (as floats), each missing with probability `missing`."""
    rng = np.random.default_rng(seed)
    # Raters share a latent item value, so agreement is well above chance but not perfect.
    truth = rng.integers(1, values + 1, size=(items, 1))
    noise = rng.integers(-1, 2, size=(items, raters)) * (rng.random((items, raters)) < 0.4)
    x = np.clip(truth + noise, 1, values).astype(float)
    x[rng.random((items, raters)) < missing] = NAN
    return x


MATRICES = {
    "krippendorff-2011": KRIPPENDORFF_2011,
    "wikipedia": WIKIPEDIA,
    "small-complete": random_matrix(1, 12, 3, 3, missing=0.0),
    "medium-missing": random_matrix(2, 60, 5, 4, missing=0.25),
    "200x4-5cat-15pct": random_matrix(3, 200, 4, 5),
    "uncentred-codes": random_matrix(4, 150, 6, 7, missing=0.3) * 10 + 1000,
}


def reference_alpha(matrix: np.ndarray, level: Level) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(krippendorff.alpha(reliability_data=matrix.T, level_of_measurement=level))


def reference_fleiss(rows: np.ndarray) -> float:
    table, _ = aggregate_raters(rows)
    return float(statsmodels_fleiss(table, method="fleiss"))


# --- Krippendorff's alpha ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_alpha_matches_krippendorff_2011_with_missing_data(level: Level, published: float) -> None:
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, level), 3) == published


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.691358), ("interval", 0.810845)])
def test_alpha_matches_the_packages_published_example(level: Level, published: float) -> None:
    assert round(krippendorff_alpha(WIKIPEDIA, level), 6) == published


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", MATRICES)
def test_alpha_equals_the_krippendorff_package(name: str, level: Level) -> None:
    matrix = MATRICES[name]
    assert krippendorff_alpha(matrix, level) == pytest.approx(reference_alpha(matrix, level), abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_with_many_distinct_float_values(level: Level) -> None:
    rng = np.random.default_rng(7)
    matrix = rng.normal(50, 10, size=(120, 1)) + rng.normal(0, 4, size=(120, 4))
    matrix[rng.random(matrix.shape) < 0.2] = NAN
    assert krippendorff_alpha(matrix, level) == pytest.approx(reference_alpha(matrix, level), abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_ignores_labels_on_items_with_a_single_label(level: Level) -> None:
    # The reference's value domain includes 9 (only on a one-label item), which must change nothing.
    matrix = np.array([[1, 2, NAN], [2, 2, 3], [1, 1, 1], [9, NAN, NAN], [3, 2, 3]], dtype=float)
    expected = reference_alpha(matrix, level)
    assert krippendorff_alpha(matrix, level) == pytest.approx(expected, abs=1e-9)
    assert krippendorff_alpha(matrix[:3].tolist() + matrix[4:].tolist(), level) == pytest.approx(expected, abs=1e-9)


def test_alpha_is_one_for_perfect_agreement_and_nan_without_variation() -> None:
    perfect = np.array([[1, 1, 1], [2, 2, 2], [3, 3, NAN]], dtype=float)
    for level in LEVELS:
        assert krippendorff_alpha(perfect, level) == pytest.approx(1.0, abs=1e-12)
        # All labels one value: the reference raises (a one-value domain); alpha is 0/0.
        assert math.isnan(krippendorff_alpha([[4, 4], [4, None], [4, 4]], level))
        # Other values only on one-label items: the reference returns 0/0 = NaN too.
        lonely = np.array([[4, 4], [7, NAN], [4, 4]])
        assert math.isnan(krippendorff_alpha(lonely, level))
        assert math.isnan(reference_alpha(lonely, level))


# --- Cohen's kappa -------------------------------------------------------------------------------------------


def test_cohen_matches_the_textbook_example() -> None:
    # Wikipedia: 50 proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("name", MATRICES)
def test_cohen_equals_sklearn_dropping_missing_items(name: str, weights: CohenWeights) -> None:
    matrix = MATRICES[name]
    for i, j in itertools.combinations(range(matrix.shape[1]), 2):
        a, b = matrix[:, i], matrix[:, j]
        shared = ~np.isnan(a) & ~np.isnan(b)
        if shared.sum() < 2 or len(np.unique(np.r_[a[shared], b[shared]])) < 2:
            continue
        expected = cohen_kappa_score(a[shared].astype(int), b[shared].astype(int), weights=weights)
        assert cohen_kappa(a, b, weights) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("weights", WEIGHTS)
def test_cohen_with_explicit_labels_equals_sklearn(weights: CohenWeights) -> None:
    # Neither rater used 3 or 6; the weights still count positions in the whole scale, as sklearn's `labels` does.
    a = [1, 2, 2, 4, 5, 5, 1, 4, 7]
    b = [1, 2, 4, 4, 5, 7, 2, 5, 7]
    labels = [1, 2, 3, 4, 5, 6, 7]
    expected = cohen_kappa_score(a, b, labels=labels, weights=weights)
    assert cohen_kappa(a, b, weights, labels=labels) == pytest.approx(expected, abs=1e-9)
    unsorted = [7, 1, 6, 2, 5, 3, 4]
    expected = cohen_kappa_score(a, b, labels=unsorted, weights=weights)
    assert cohen_kappa(a, b, weights, labels=unsorted) == pytest.approx(expected, abs=1e-9)


def test_cohen_is_nan_when_undefined_and_rejects_bad_input() -> None:
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))  # chance agreement is 1
    assert math.isnan(cohen_kappa([1, None], [None, 2]))  # no shared item
    assert math.isnan(cohen_kappa([], []))
    with pytest.raises(ValueError, match="same length"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError, match="not among"):
        cohen_kappa([1, 2], [1, 3], labels=[1, 2])


# --- Fleiss' kappa -------------------------------------------------------------------------------------------


def fleiss_rows() -> np.ndarray:
    """FLEISS_TABLE as a subjects x 14 raters label matrix."""
    return np.array([np.repeat(np.arange(1, 6), counts) for counts in FLEISS_TABLE], dtype=float)


def test_fleiss_matches_fleiss_1971() -> None:
    assert round(fleiss_kappa(fleiss_rows()), 3) == 0.210
    assert fleiss_kappa(fleiss_rows()) == pytest.approx(statsmodels_fleiss(FLEISS_TABLE), abs=1e-9)


@pytest.mark.parametrize("name", ["small-complete", "krippendorff-2011", "wikipedia", "200x4-5cat-15pct"])
def test_fleiss_on_complete_items_equals_statsmodels(name: str) -> None:
    matrix = MATRICES[name]
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    assert fleiss_kappa(complete) == pytest.approx(reference_fleiss(complete), abs=1e-9)


@pytest.mark.parametrize("name", ["krippendorff-2011", "medium-missing", "200x4-5cat-15pct", "uncentred-codes"])
def test_fleiss_with_missing_uses_the_items_with_the_modal_label_count(name: str) -> None:
    matrix = MATRICES[name]
    counts = (~np.isnan(matrix)).sum(axis=1)
    modal = Counter(counts[counts >= 2].tolist()).most_common()
    raters = max(size for size, seen in modal if seen == modal[0][1])
    rows = np.array([row[~np.isnan(row)] for row in matrix[counts == raters]])
    result = field_agreement(matrix, "nominal")
    assert (result.fleiss_raters, result.fleiss_items) == (raters, len(rows))
    assert fleiss_kappa(matrix) == pytest.approx(reference_fleiss(rows), abs=1e-9)


def test_fleiss_when_each_item_gets_two_of_a_pool_of_annotators() -> None:
    # A queue giving each item 2 of 4 annotators: no item is complete, every item has 2 labels.
    matrix = np.full((6, 4), NAN)
    given = [(0, 1, 1, 1), (1, 2, 2, 1), (2, 3, 2, 2), (3, 0, 1, 2), (0, 2, 3, 3), (1, 3, 2, 2)]
    for item, (first, second, a, b) in enumerate(given):
        matrix[item, first], matrix[item, second] = a, b
    rows = np.array([row[~np.isnan(row)] for row in matrix])
    assert fleiss_kappa(matrix) == pytest.approx(reference_fleiss(rows), abs=1e-9)


def test_fleiss_is_nan_with_a_reason_when_undefined() -> None:
    one_item = field_agreement([[1, 2, 1]], "nominal")
    assert math.isnan(one_item.fleiss) and any("fewer than 2 items" in note for note in one_item.notes)
    same = field_agreement([[1, 1], [1, 1], [1, 1]], "nominal")
    assert math.isnan(same.fleiss) and any(note.startswith("fleiss: every label") for note in same.notes)


# --- Percent agreement and disagreement ----------------------------------------------------------------------


def brute_force_share(row: np.ndarray) -> float:
    labels = row[~np.isnan(row)]
    pairs = list(itertools.combinations(labels, 2))
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else NAN


def test_percent_agreement_by_hand() -> None:
    matrix = [[1, 1, 1], [1, 1, 2], [1, 2, 3], [1, None, None], [2, 2, None]]
    # Items: 3/3 pairs agree, 1/3, 0/3, (one label: left out), 1/1.
    assert percent_agreement(matrix) == pytest.approx((1 + 1 / 3 + 0 + 1) / 4, abs=1e-12)
    assert disagreement(matrix, "nominal") == pytest.approx([0, 2 / 3, 1, NAN, 0], abs=1e-12, nan_ok=True)


@pytest.mark.parametrize("name", MATRICES)
def test_percent_agreement_equals_a_brute_force_over_pairs(name: str) -> None:
    matrix = MATRICES[name]
    shares = np.array([brute_force_share(row) for row in matrix])
    assert percent_agreement(matrix) == pytest.approx(np.nanmean(shares), abs=1e-12)
    assert disagreement(matrix, "nominal") == pytest.approx(1 - shares, abs=1e-12, nan_ok=True)


@pytest.mark.parametrize("level", ["ordinal", "interval"])
@pytest.mark.parametrize("name", MATRICES)
def test_disagreement_is_the_mean_pairwise_distance_over_the_range(name: str, level: Level) -> None:
    matrix = MATRICES[name]
    width = np.nanmax(matrix) - np.nanmin(matrix)
    expected = []
    for row in matrix:
        labels = row[~np.isnan(row)]
        pairs = list(itertools.combinations(labels, 2))
        expected.append(np.mean([abs(a - b) for a, b in pairs]) / width if pairs else NAN)
    assert disagreement(matrix, level) == pytest.approx(expected, abs=1e-12, nan_ok=True)


def test_disagreement_uses_a_declared_scale() -> None:
    matrix = [[1, 5, None], [2, 2, 3], [4, None, None]]
    assert disagreement(matrix, "ordinal", value_range=(1, 5)) == pytest.approx(
        [1.0, (0 + 1 + 1) / 3 / 4, NAN], nan_ok=True
    )
    ranked = disagreement(MATRICES["200x4-5cat-15pct"], "ordinal")
    assert np.nanmax(ranked) <= 1.0 and np.nanmin(ranked) >= 0.0


# --- The field summary and per-annotator statistics ----------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", MATRICES)
def test_field_agreement_equals_the_references(name: str, level: Level) -> None:
    matrix = MATRICES[name]
    result = field_agreement(matrix, level)
    present = ~np.isnan(matrix)
    assert (result.n_items, result.n_annotators) == matrix.shape
    assert result.n_labels == present.sum()
    assert result.n_items_with_two_or_more == (present.sum(axis=1) >= 2).sum()
    assert result.alpha == pytest.approx(reference_alpha(matrix, level), abs=1e-9)
    assert result.percent == pytest.approx(percent_agreement(matrix), abs=1e-12)
    assert result.fleiss == pytest.approx(fleiss_kappa(matrix), abs=1e-12)
    domain = np.unique(matrix[present]).astype(int)
    assert result.cohen_weights == {"nominal": None, "ordinal": "linear", "interval": "quadratic"}[level]
    for (i, j), kappa in result.pairwise_cohen.items():
        shared = present[:, i] & present[:, j]
        assert shared.sum() >= 2
        a, b = matrix[shared, i].astype(int), matrix[shared, j].astype(int)
        expected = cohen_kappa_score(a, b, labels=domain, weights=result.cohen_weights)
        assert kappa == pytest.approx(expected, abs=1e-9)
    assert result.cohen is None if matrix.shape[1] > 2 else result.cohen is not None


def test_field_agreement_with_two_annotators_reports_cohen() -> None:
    matrix = np.array([[1, 1, NAN], [2, 2, NAN], [1, 2, NAN], [3, 3, NAN], [None, 3, NAN]], dtype=float)
    result = field_agreement(matrix, "nominal")
    assert result.cohen == pytest.approx(cohen_kappa_score([1, 2, 1, 3], [1, 2, 2, 3]), abs=1e-9)
    assert list(result.pairwise_cohen) == [(0, 1)]


def brute_force_annotator(matrix: np.ndarray, j: int) -> tuple[int, float, float]:
    """Compared items, share matching a mode of the others, mean |own - others' mean|, by plain loops."""
    compared = matches = 0
    deviations = []
    for row in matrix:
        others = [v for k, v in enumerate(row) if k != j and not math.isnan(v)]
        if math.isnan(row[j]) or not others:
            continue
        compared += 1
        counts = Counter(others)
        matches += counts[row[j]] == max(counts.values())
        deviations.append(abs(row[j] - sum(others) / len(others)))
    return compared, matches / compared if compared else NAN, float(np.mean(deviations)) if deviations else NAN


@pytest.mark.parametrize("name", MATRICES)
def test_annotator_stats_equal_plain_loops_and_sklearn(name: str) -> None:
    matrix = MATRICES[name]
    ids = [f"annotator-{j}" for j in range(matrix.shape[1])]
    ordinal = annotator_stats(matrix, "ordinal", ids)
    nominal = annotator_stats(matrix, "nominal", ids)
    pairwise = field_agreement(matrix, "ordinal").pairwise_cohen
    for j, stats in enumerate(ordinal):
        compared, majority, mad = brute_force_annotator(matrix, j)
        assert stats.annotator_id == ids[j]
        assert stats.n_labelled == (~np.isnan(matrix[:, j])).sum()
        assert stats.n_compared == compared
        assert stats.majority_agreement == pytest.approx(majority, abs=1e-12, nan_ok=True)
        assert nominal[j].majority_agreement == pytest.approx(majority, abs=1e-12, nan_ok=True)
        assert stats.mean_abs_deviation == pytest.approx(mad, abs=1e-12, nan_ok=True)
        assert nominal[j].mean_abs_deviation is None
        kappas = [k for pair, k in pairwise.items() if j in pair and not math.isnan(k)]
        assert stats.mean_cohen == pytest.approx(np.mean(kappas) if kappas else NAN, abs=1e-12, nan_ok=True)


def test_annotator_stats_by_hand() -> None:
    # Annotator 2 is one point harsher than the others on every item; ties among the others count as a majority.
    matrix = [[3, 3, 2], [4, 4, 3], [5, 4, 3], [2, None, 1]]
    first, _, harsh = annotator_stats(matrix, "interval", ["ann", "bob", "cy"])
    assert harsh.mean_deviation == pytest.approx((-1 - 1 - 1.5 - 1) / 4)
    assert harsh.majority_agreement is None
    assert first.n_compared == 4 and first.n_labelled == 4
    # Annotator 0 against the others: tie 3/2 (3 counts), tie 4/3 (4 counts), 5 vs 4/3, 2 vs 1.
    assert annotator_stats(matrix, "nominal")[0].majority_agreement == pytest.approx(2 / 4)
    assert annotator_stats(matrix, "nominal")[2].annotator_id == "2"
    with pytest.raises(ValueError, match="annotator ids"):
        annotator_stats(matrix, "nominal", ["only-one"])


# --- Input and degenerate cases ------------------------------------------------------------------------------


def test_a_list_of_rows_with_none_equals_a_nan_array() -> None:
    rows = [[1, None, 2], [None, None, None], [3, 3, 1]]
    array = np.array([[1, NAN, 2], [NAN, NAN, NAN], [3, 3, 1]])
    assert np.array_equal(as_label_matrix(rows), array, equal_nan=True)
    for level in LEVELS:
        assert repr(field_agreement(rows, level)) == repr(field_agreement(array, level))  # NaN != NaN
    with pytest.raises(ValueError, match="2-D"):
        as_label_matrix([1, 2, 3])
    with pytest.raises(ValueError, match="finite"):
        as_label_matrix([[1, math.inf]])


# name: (matrix, percent agreement, alpha); Fleiss' kappa is NaN for all of them.
DEGENERATE: dict[str, tuple[list[list[float | None]] | np.ndarray, float, float]] = {
    "empty": ([], NAN, NAN),
    "no items": (np.zeros((0, 3)), NAN, NAN),
    "one item": ([[1, 2, 2]], 1 / 3, 0.0),  # alpha is defined (0) on one item with variation; Fleiss is not
    "all identical": ([[2, 2, 2], [2, 2, None], [2, 2, 2]], 1.0, NAN),
    "single annotator": ([[1], [2], [3]], NAN, NAN),
    "everything missing": ([[None, None], [None, None]], NAN, NAN),
    "no overlap": ([[1, None], [None, 2], [3, None]], NAN, NAN),
}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", DEGENERATE)
def test_degenerate_input_gives_nan_not_an_exception(name: str, level: Level) -> None:
    matrix, percent, alpha = DEGENERATE[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a RuntimeWarning from a 0/0
        result = field_agreement(matrix, level)
        stats = annotator_stats(matrix, level)
        per_item = disagreement(matrix, level)
        assert krippendorff_alpha(matrix, level) == pytest.approx(alpha, nan_ok=True)
        assert percent_agreement(matrix) == pytest.approx(percent, nan_ok=True)
        assert math.isnan(fleiss_kappa(matrix))
    assert result.percent == pytest.approx(percent, nan_ok=True)
    assert result.alpha == pytest.approx(alpha, nan_ok=True)
    assert math.isnan(result.fleiss) and any(note.startswith("fleiss:") for note in result.notes)
    assert math.isnan(alpha) == any(note.startswith("alpha:") for note in result.notes)
    assert len(stats) == result.n_annotators and len(per_item) == result.n_items
    assert all(math.isnan(s.mean_cohen) for s in stats)
