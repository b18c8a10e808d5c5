"""Inter-annotator agreement for one rubric field: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha.

A field's labels come as a matrix, items in rows and annotators in columns, already encoded as numbers (a category's
code, a Likert point, a numeric value), NaN (or None in a list of rows) where an annotator gave no label.
Everything is vectorised over items (numpy only, no I/O), so 10,000 items x 5 annotators take milliseconds.
Undefined statistics come back as NaN (or None where a statistic does not apply), never as an exception: a queue
with one item, one annotator or one label value is normal while labelling is under way.
The tests check every statistic against sklearn, statsmodels and the `krippendorff` package on fixed matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

Level = Literal["nominal", "ordinal", "interval"]
CohenWeights = Literal["linear", "quadratic"] | None
FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
LabelMatrix: TypeAlias = npt.NDArray[Any] | Sequence[Sequence[float | None]]
LabelVector: TypeAlias = npt.NDArray[Any] | Sequence[float | None]

# Cohen's kappa weights per level: disagreeing by one Likert point costs less than by four; interval fields use the
# quadratic weights, which make kappa approach the intraclass correlation.
LEVEL_WEIGHTS: dict[Level, CohenWeights] = {"nominal": None, "ordinal": "linear", "interval": "quadratic"}
NO_PAIRS = "no item has two or more labels"


@dataclass(frozen=True)
class FieldAgreement:
    """Agreement on one rubric field; NaN where a statistic is undefined, with the reasons in `notes`."""

    level: Level
    n_items: int
    n_annotators: int
    n_items_with_two_or_more: int
    n_labels: int
    percent: float
    cohen: float | None  # only when exactly two annotators labelled anything; else see pairwise_cohen
    pairwise_cohen: dict[tuple[int, int], float]  # (column i, column j), i < j, for pairs sharing >= 2 items
    cohen_weights: CohenWeights
    fleiss: float
    fleiss_items: int  # the items Fleiss' kappa used: those with exactly `fleiss_raters` labels
    fleiss_raters: int
    alpha: float
    notes: tuple[str, ...]


@dataclass(frozen=True)
class AnnotatorStats:
    """One annotator's share of the work and how their labels compare with the other annotators'."""

    annotator_id: str
    n_labelled: int
    n_compared: int  # items this annotator labelled that at least one other annotator labelled too
    majority_agreement: float | None  # nominal/ordinal: share of compared items matching the others' majority
    mean_deviation: float | None  # ordinal/interval: mean of (own label - the others' mean); the sign shows bias
    mean_abs_deviation: float | None  # ordinal/interval: mean of |own label - the others' mean|
    mean_cohen: float  # mean of the defined pairwise kappas with the other annotators (NaN when none)


def as_label_matrix(matrix: LabelMatrix) -> FloatArray:
    """The labels as a float items x annotators array, NaN where missing (None in a list of rows becomes NaN)."""
    x = np.array(matrix, dtype=np.float64)
    if x.size == 0 and x.ndim < 2:
        x = x.reshape(0, 0)
    if x.ndim != 2:
        raise ValueError(f"a label matrix is items x annotators (2-D); got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("labels must be finite numbers (NaN or None for a missing label)")
    return x


def percent_agreement(matrix: LabelMatrix) -> float:
    """Pairwise percent agreement: over items with >= 2 labels, the mean share of that item's label pairs that agree.

    Each item weighs the same whatever its number of labels; values agree when they are equal (NaN when no item
    has two labels).
    """
    share = _agreeing_share(_Coded.of(as_label_matrix(matrix)))
    return float(np.nanmean(share)) if np.isfinite(share).any() else float("nan")


def disagreement(matrix: LabelMatrix, level: Level, value_range: tuple[float, float] | None = None) -> FloatArray:
    """Per item, how much its labels disagree, from 0 to 1, so a view can list the worst first (NaN under 2 labels).

    Nominal: the share of the item's label pairs that differ. Ordinal and interval: the mean absolute difference over
    the item's label pairs divided by the width of `value_range` (a rubric's declared scale, e.g. (1, 5)), or else of
    the range of the values seen in the matrix (0 when all values are equal).
    """
    x = as_label_matrix(matrix)
    if level == "nominal":
        return 1.0 - _agreeing_share(_Coded.of(x))
    m = (~np.isnan(x)).sum(axis=1)
    ordered = np.sort(x, axis=1)  # NaNs sort last, so ranks 0..m-1 hold the item's labels
    rank = np.arange(x.shape[1])
    # For sorted values s_0..s_{m-1}: sum over pairs i<j of (s_j - s_i) = sum_k s_k (2k - m + 1).
    coefficient = 2 * rank[np.newaxis, :] - m[:, np.newaxis] + 1
    pair_sum = np.where(rank[np.newaxis, :] < m[:, np.newaxis], ordered * coefficient, 0.0).sum(axis=1)
    pairs = m * (m - 1) / 2
    if value_range is not None:
        width = float(value_range[1] - value_range[0])
    else:
        width = float(np.nanmax(x) - np.nanmin(x)) if m.any() else 0.0
    width = width or 1.0  # all values equal: every difference is 0 anyway
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m >= 2, pair_sum / pairs / width, np.nan)


def cohen_kappa(
    a: LabelVector, b: LabelVector, weights: CohenWeights = None, labels: Sequence[float] | None = None
) -> float:
    """Cohen's kappa between two raters, as sklearn's `cohen_kappa_score`; items either rater left out are dropped.

    Weights use the positions of the values in `labels` (default: the sorted values either rater used), as sklearn
    does. NaN when no item is shared or when both raters used one and the same value (chance agreement is 1).
    """
    x, y = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"two label vectors of the same length are needed; got shapes {x.shape} and {y.shape}")
    keep = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[keep], y[keep]
    both = np.concatenate([x, y])
    domain = np.unique(both) if labels is None else np.asarray(labels, dtype=np.float64).ravel()
    if len(np.unique(domain)) != len(domain):
        raise ValueError("labels must not repeat")
    if len(x) == 0:
        return float("nan")
    if len(domain) == 0 or not np.isin(both, domain).all():
        raise ValueError("a label is not among `labels`")
    order = np.argsort(domain, kind="stable")
    codes = order[np.searchsorted(domain[order], both)]
    return _kappa(codes[: len(x)], codes[len(x) :], len(domain), weights)


def fleiss_kappa(matrix: LabelMatrix) -> float:
    """Fleiss' kappa (statsmodels' method="fleiss") over the items that have the modal number of labels.

    Fleiss' kappa needs the same number of ratings per item (not the same raters). It uses the items whose label
    count is the most common one among items with >= 2 labels (the larger count on a tie): all items of a complete
    matrix, and every item of a queue that gives each item k of a pool of annotators. Values are the categories.
    NaN when fewer than 2 items qualify or when every label is the same value; `field_agreement` says which.
    """
    return _fleiss(_Coded.of(as_label_matrix(matrix)))[0]


def krippendorff_alpha(matrix: LabelMatrix, level: Level) -> float:
    """Krippendorff's alpha at a level of measurement, with missing labels, equal to the `krippendorff` package's.

    Only pairable values count (items with >= 2 labels). The distances are the package's (and Krippendorff's):
    nominal 0/1; interval the squared difference; ordinal the squared difference of the values' mid-ranks in the
    cumulative frequencies of the pairable values. NaN when no item has two labels or all pairable labels are one
    value (the reference raises or returns 0/0 there).
    """
    return _alpha(_Coded.of(as_label_matrix(matrix)), level)[0]


def field_agreement(matrix: LabelMatrix, level: Level) -> FieldAgreement:
    """Every agreement statistic of one rubric field."""
    coded = _Coded.of(as_label_matrix(matrix))
    n_items, n_annotators = coded.values.shape
    share = _agreeing_share(coded)
    weights = LEVEL_WEIGHTS[level]
    pairwise = _pairwise_cohen(coded, weights)
    labelled = np.flatnonzero(coded.present.any(axis=0))
    cohen: float | None = None
    if len(labelled) == 2:
        cohen = pairwise.get((int(labelled[0]), int(labelled[1])), float("nan"))
    fleiss, fleiss_items, fleiss_raters, fleiss_note = _fleiss(coded)
    alpha, alpha_note = _alpha(coded, level)
    has_pairs = bool(np.isfinite(share).any())
    notes = [] if has_pairs else [f"percent: {NO_PAIRS}"]
    if cohen is not None and np.isnan(cohen):
        notes.append("cohen: the two annotators share fewer than 2 items, or both used a single and the same value")
    notes += [f"fleiss: {fleiss_note}"] if fleiss_note else []
    notes += [f"alpha: {alpha_note}"] if alpha_note else []
    return FieldAgreement(
        level=level,
        n_items=n_items,
        n_annotators=n_annotators,
        n_items_with_two_or_more=int((coded.counts >= 2).sum()),
        n_labels=int(coded.counts.sum()),
        percent=float(np.nanmean(share)) if has_pairs else float("nan"),
        cohen=cohen,
        pairwise_cohen=pairwise,
        cohen_weights=weights,
        fleiss=fleiss,
        fleiss_items=fleiss_items,
        fleiss_raters=fleiss_raters,
        alpha=alpha,
        notes=tuple(notes),
    )


def annotator_stats(
    matrix: LabelMatrix, level: Level, annotator_ids: Sequence[str] | None = None
) -> list[AnnotatorStats]:
    """Per annotator (column): items labelled, agreement with the other annotators, and mean pairwise kappa.

    The majority is the most frequent value among the other annotators' labels on the item; on a tie, matching any
    of the tied values counts as agreeing. Deviations compare with the mean of the others' labels (for ordinal
    fields, of their codes). Kappas are weighted as in `field_agreement`.
    """
    coded = _Coded.of(as_label_matrix(matrix))
    n_annotators = coded.values.shape[1]
    ids = [str(j) for j in range(n_annotators)] if annotator_ids is None else list(annotator_ids)
    if len(ids) != n_annotators:
        raise ValueError(f"{len(ids)} annotator ids for {n_annotators} annotator columns")
    pairwise = _pairwise_cohen(coded, LEVEL_WEIGHTS[level])
    return [_one_annotator(coded, level, j, ids[j], pairwise) for j in range(n_annotators)]


@dataclass(frozen=True)
class _Coded:
    """A label matrix with each value replaced by its position among the distinct values (codes; -1 = missing)."""

    values: FloatArray
    present: npt.NDArray[np.bool_]
    codes: IntArray
    domain: FloatArray
    counts: IntArray  # labels per item

    @classmethod
    def of(cls, x: FloatArray) -> _Coded:
        present = ~np.isnan(x)
        domain, inverse = np.unique(x[present], return_inverse=True)
        codes = np.full(x.shape, -1, dtype=np.int64)
        codes[present] = inverse
        return cls(x, present, codes, domain, present.sum(axis=1))

    def value_counts(self, skip_column: int | None = None) -> tuple[IntArray, IntArray, IntArray]:
        """(item, code, how many labels of that code the item has), sorted by item then code; a sparse count table."""
        codes = self.codes
        if skip_column is not None:
            codes = codes.copy()
            codes[:, skip_column] = -1
        rows, columns = np.nonzero(codes >= 0)
        n_values = max(len(self.domain), 1)
        keys, counts = np.unique(rows * n_values + codes[rows, columns], return_counts=True)
        return keys // n_values, keys % n_values, counts.astype(np.int64)


def _agreeing_share(coded: _Coded) -> FloatArray:
    """Per item, the share of its label pairs whose values are equal (NaN under 2 labels)."""
    rows, _, counts = coded.value_counts()
    agreeing = np.bincount(rows, weights=counts * (counts - 1), minlength=len(coded.counts))
    m = coded.counts
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m >= 2, agreeing / (m * (m - 1)), np.nan)


def _kappa(a: IntArray, b: IntArray, n_values: int, weights: CohenWeights) -> float:
    """Cohen's kappa from two raters' value codes (0..n_values-1), without the n_values x n_values table."""
    n = len(a)
    r = np.bincount(a, minlength=n_values).astype(np.float64)
    s = np.bincount(b, minlength=n_values).astype(np.float64)
    if n == 0 or np.count_nonzero(r + s) == 1:
        return float("nan")  # no items, or chance agreement is certain: sklearn's 0/0
    index = np.arange(n_values, dtype=np.float64)
    if weights is None:
        observed = float(np.count_nonzero(a != b))
        expected = n - float(r @ s) / n
    elif weights == "linear":
        observed = float(np.abs(a - b).sum())
        # sum over k of s_k |c - k| for every c, from prefix sums of s_k and k s_k.
        below, below_k = np.cumsum(s), np.cumsum(index * s)
        to_each = index * below - below_k + (below_k[-1] - below_k) - index * (below[-1] - below)
        expected = float(r @ to_each) / n
    else:
        observed = float(((a - b) ** 2).sum())
        # sum over c, k of r_c s_k (c - k)^2 / n = n (var_r + var_s + (mean_r - mean_s)^2), centred for accuracy.
        mean_r, mean_s = float(r @ index) / n, float(s @ index) / n
        spread = float(r @ (index - mean_r) ** 2) + float(s @ (index - mean_s) ** 2)
        expected = spread + n * (mean_r - mean_s) ** 2
    return 1.0 - observed / expected


def _pairwise_cohen(coded: _Coded, weights: CohenWeights) -> dict[tuple[int, int], float]:
    """Cohen's kappa for each pair of annotator columns that share >= 2 items, over the field's whole value domain."""
    result: dict[tuple[int, int], float] = {}
    n_annotators = coded.codes.shape[1]
    for i in range(n_annotators):
        for j in range(i + 1, n_annotators):
            shared = coded.present[:, i] & coded.present[:, j]
            if shared.sum() >= 2:
                codes = coded.codes[shared]
                result[(i, j)] = _kappa(codes[:, i], codes[:, j], len(coded.domain), weights)
    return result


def _fleiss(coded: _Coded) -> tuple[float, int, int, str | None]:
    """Fleiss' kappa, the items and raters per item it used, and why it is NaN when it is."""
    m = coded.counts
    if not (m >= 2).any():
        return float("nan"), 0, 0, NO_PAIRS
    sizes, frequency = np.unique(m[m >= 2], return_counts=True)
    raters = int(sizes[frequency == frequency.max()].max())
    selected = m == raters
    n_items = int(selected.sum())
    if n_items < 2:
        return float("nan"), n_items, raters, f"fewer than 2 items have the same number of labels ({raters})"
    rows, codes, counts = coded.value_counts()
    used = selected[rows]
    per_item = np.bincount(rows[used], weights=counts[used] ** 2, minlength=len(m))[selected]
    category = np.bincount(codes[used], weights=counts[used]) / (n_items * raters)
    if np.count_nonzero(category) == 1:
        return float("nan"), n_items, raters, "every label is the same value (chance agreement is 1)"
    observed = float(((per_item - raters) / (raters * (raters - 1.0))).mean())
    chance = float((category * category).sum())
    return (observed - chance) / (1.0 - chance), n_items, raters, None


def _alpha(coded: _Coded, level: Level) -> tuple[float, str | None]:
    """Krippendorff's alpha and why it is NaN when it is.

    alpha = 1 - D_o / D_e with, as in the package, D_o = sum(o * d) over the coincidence matrix o (each item's ordered
    pairs of labels weighted 1 / (m_u - 1)) and D_e = sum(n_c n_k d_ck) / (n - 1) over the pairable value counts n_c.
    Both sums are taken in closed form rather than over a values x values matrix, so numeric fields with thousands of
    distinct values cost no more than Likert ones. The ordinal distance (sum of n_g for g from c to k minus
    (n_c + n_k) / 2, squared) is the squared difference of mid-ranks (cumulative count up to c minus n_c / 2), so
    ordinal alpha is interval alpha on mid-ranks.
    """
    pairable = coded.counts >= 2
    if not pairable.any():
        return float("nan"), NO_PAIRS
    m = coded.counts[pairable]
    n = float(m.sum())
    if len(np.unique(coded.codes[pairable][coded.present[pairable]])) < 2:
        return float("nan"), "every pairable label is the same value (no variation: 0/0)"
    if level == "nominal":
        rows, codes, counts = coded.value_counts()
        keep = pairable[rows]
        agreeing = np.bincount(rows[keep], weights=counts[keep] * (counts[keep] - 1), minlength=len(pairable))
        observed = float(((m * (m - 1) - agreeing[pairable]) / (m - 1)).sum())
        n_v = np.bincount(codes[keep], weights=counts[keep])
        expected = (n * n - float(n_v @ n_v)) / (n - 1)
        return 1.0 - observed / expected, None
    y = coded.values[pairable]
    present = coded.present[pairable]
    if level == "ordinal":
        _, inverse, n_v = np.unique(y[present], return_inverse=True, return_counts=True)
        y = y.copy()
        y[present] = (np.cumsum(n_v) - n_v / 2.0)[inverse]
    item_mean = np.where(present, y, 0.0).sum(axis=1) / m
    within = (np.where(present, y - item_mean[:, np.newaxis], 0.0) ** 2).sum(axis=1)
    observed = float((2.0 * m * within / (m - 1)).sum())
    values = y[present]
    expected = 2.0 * n * float(((values - values.mean()) ** 2).sum()) / (n - 1)
    return 1.0 - observed / expected, None


def _one_annotator(
    coded: _Coded, level: Level, j: int, annotator_id: str, pairwise: dict[tuple[int, int], float]
) -> AnnotatorStats:
    own = coded.present[:, j]
    others = coded.counts - own
    compared = own & (others >= 1)
    n_compared = int(compared.sum())
    majority: float | None = None
    mean_deviation: float | None = None
    mean_abs_deviation: float | None = None
    if level in ("nominal", "ordinal"):
        majority = _majority_agreement(coded, j, compared) if n_compared else float("nan")
    if level in ("ordinal", "interval"):
        x = coded.values[compared]
        others_sum = np.where(coded.present[compared], x, 0.0).sum(axis=1) - x[:, j]
        deviation = x[:, j] - others_sum / others[compared]
        mean_deviation = float(deviation.mean()) if n_compared else float("nan")
        mean_abs_deviation = float(np.abs(deviation).mean()) if n_compared else float("nan")
    kappas = [k for pair, k in pairwise.items() if j in pair and not np.isnan(k)]
    return AnnotatorStats(
        annotator_id=annotator_id,
        n_labelled=int(own.sum()),
        n_compared=n_compared,
        majority_agreement=majority,
        mean_deviation=mean_deviation,
        mean_abs_deviation=mean_abs_deviation,
        mean_cohen=float(np.mean(kappas)) if kappas else float("nan"),
    )


def _majority_agreement(coded: _Coded, j: int, compared: npt.NDArray[np.bool_]) -> float:
    """The share of compared items where annotator j's value is a most frequent value among the others' labels."""
    rows, codes, counts = coded.value_counts(skip_column=j)  # not empty: some item is compared
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    top = np.zeros(len(coded.counts), dtype=np.int64)
    top[rows[starts]] = np.maximum.reduceat(counts, starts)  # the others' modal count per item
    items = np.flatnonzero(compared)
    n_values = len(coded.domain)
    keys, wanted = rows * n_values + codes, items * n_values + coded.codes[items, j]
    at = np.searchsorted(keys, wanted).clip(0, len(keys) - 1)
    own_count = np.where(keys[at] == wanted, counts[at], 0)  # how many others gave annotator j's value
    return float((own_count == top[items]).mean())
