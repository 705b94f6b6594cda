"""Edge cases, input forms and error messages of the agreement engine."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import InsufficientDataError, OptionError
from connector.metrics import (
    IncrementalAlpha,
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)

MULTI_RATER = [krippendorff_alpha, fleiss_kappa, gwet_ac1, brennan_prediger, percent_agreement]
TWO_RATER = [cohen_kappa, scott_pi]


@pytest.mark.parametrize("coefficient", MULTI_RATER)
def test_no_pairable_unit_raises_with_a_clear_message(coefficient) -> None:
    data = [[1, None, None], [None, 2, None], [None, None, None]]
    with pytest.raises(InsufficientDataError) as err:
        coefficient(data)
    assert str(err.value) == (
        f"{coefficient.__name__} needs at least one unit with two or more ratings; "
        "none of the 3 unit(s) has two (no pairable values)"
    )


@pytest.mark.parametrize("coefficient", TWO_RATER)
def test_two_rater_no_shared_unit_raises(coefficient) -> None:
    with pytest.raises(InsufficientDataError) as err:
        coefficient([["a", None], [None, "b"]])
    assert str(err.value) == (
        f"{coefficient.__name__} needs at least one unit rated by both raters; none of the "
        "2 unit(s) is (no pairable values)"
    )


def test_empty_table_raises() -> None:
    with pytest.raises(InsufficientDataError):
        krippendorff_alpha(np.zeros((0, 3)))


@pytest.mark.parametrize("coefficient", [krippendorff_alpha, fleiss_kappa, cohen_kappa, scott_pi])
def test_no_variation_is_nan(coefficient) -> None:
    # Every value the same: observed and expected disagreement are both 0, so 0/0 → NaN.
    assert math.isnan(coefficient([["a", "a"], ["a", "a"], ["a", "a"]]))


def test_one_category_ac1_and_bp_are_nan_unless_categories_declared() -> None:
    data = [["a", "a"], ["a", "a"]]
    assert math.isnan(gwet_ac1(data))  # q = 1: chance agreement T_w / (q (q - 1)) undefined
    assert math.isnan(brennan_prediger(data))  # q = 1: p_e = 1
    # Declared q = 2: raters agreeing on one of two possible values is perfect agreement.
    assert gwet_ac1(data, categories=["a", "b"]) == pytest.approx(1.0)
    assert brennan_prediger(data, categories=["a", "b"]) == pytest.approx(1.0)
    assert math.isnan(fleiss_kappa(data, categories=["a", "b"]))
    assert percent_agreement(data) == pytest.approx(1.0)


@pytest.mark.parametrize("coefficient", MULTI_RATER + TWO_RATER)
def test_perfect_agreement_is_one(coefficient) -> None:
    data = [["a", "a"], ["b", "b"], ["c", "c"], ["a", "a"]]
    assert coefficient(data) == pytest.approx(1.0)


def test_single_rating_units_are_ignored_by_alpha() -> None:
    full = [[1, 1], [2, 2], [1, 2], [3, None], [None, 2]]
    assert krippendorff_alpha(full) == pytest.approx(krippendorff_alpha(full[:3]))


def test_missing_value_forms_are_equivalent() -> None:
    base = [[1.0, 2.0, np.nan], [2.0, 2.0, 1.0], [np.nan, 1.0, 1.0]]
    expected = krippendorff_alpha(base)
    with_none = [[None if isinstance(v, float) and math.isnan(v) else v for v in r] for r in base]
    frame = pd.DataFrame(base, columns=["ann1", "ann2", "ann3"]).astype("Int64")
    assert krippendorff_alpha(with_none) == pytest.approx(expected)
    assert krippendorff_alpha(frame) == pytest.approx(expected)  # pd.NA
    assert krippendorff_alpha(np.asarray(base)) == pytest.approx(expected)


def test_string_and_numeric_labels_agree() -> None:
    numeric = [[1, 2], [2, 2], [3, 1], [1, 1]]
    names = {1: "low", 2: "mid", 3: "high"}
    text = [[names[v] for v in row] for row in numeric]
    order = ["low", "mid", "high"]
    assert krippendorff_alpha(text, level="ordinal", categories=order) == pytest.approx(
        krippendorff_alpha(numeric, level="ordinal")
    )
    assert cohen_kappa(text, weights="quadratic", categories=order) == pytest.approx(
        cohen_kappa(numeric, weights="quadratic")
    )


def test_declared_unused_category_changes_q_for_ac1_only() -> None:
    data = [["a", "b"], ["a", "a"], ["b", "b"]]
    assert fleiss_kappa(data, categories=["a", "b", "c"]) == pytest.approx(fleiss_kappa(data))
    assert gwet_ac1(data, categories=["a", "b", "c"]) != pytest.approx(gwet_ac1(data))


def test_numeric_category_values_set_the_weight_distances_only_when_asked() -> None:
    # distances="values": with categories 1, 2, 4 a 2-vs-4 disagreement is twice as far as
    # 1-vs-2; by default (ranks) both are one step.
    data = [[1, 2], [2, 4], [4, 4], [1, 1]]
    ours = cohen_kappa(data, weights="linear", categories=[1, 2, 4], distances="values")
    w = np.array([[1, 2 / 3, 0], [2 / 3, 1, 1 / 3], [0, 1 / 3, 1]])
    assert ours == pytest.approx(cohen_kappa(data, weights=w, categories=[1, 2, 4]))
    by_rank = np.array([[1, 0.5, 0], [0.5, 1, 0.5], [0, 0.5, 1]])
    assert cohen_kappa(data, weights="linear", categories=[1, 2, 4]) == pytest.approx(
        cohen_kappa(data, weights=by_rank, categories=[1, 2, 4])
    )


def test_unknown_level_lists_the_valid_ones() -> None:
    with pytest.raises(OptionError) as err:
        krippendorff_alpha([[1, 1]], level="ordnial")
    assert str(err.value) == (
        "level='ordnial' is not one of 'nominal', 'ordinal', 'interval', 'ratio'"
    )
    assert isinstance(err.value, ValueError)


def test_unknown_weights_and_method_list_the_valid_ones() -> None:
    with pytest.raises(OptionError, match=r"weights='cubic' is not one of 'identity', 'linear'"):
        fleiss_kappa([[1, 1]], weights="cubic")
    with pytest.raises(OptionError) as err:
        percent_agreement([[1, 1]], method="mean")
    assert str(err.value) == "method='mean' is not one of 'pooled', 'unit_mean'"


def test_interval_on_labels_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"level='interval' needs numeric values; got \['a', 'b'\]"
    ):
        krippendorff_alpha([["a", "b"], ["a", "a"]], level="interval")


def test_ratio_on_negative_values_is_refused() -> None:
    with pytest.raises(ValueError, match="level='ratio' needs non-negative values"):
        krippendorff_alpha([[-1, 2], [2, 2]], level="ratio")


def test_value_outside_declared_categories_is_named() -> None:
    with pytest.raises(ValueError, match="value 'x'") as err:
        krippendorff_alpha([["a", "b"], ["a", "x"]], categories=["a", "b"])
    assert str(err.value) == (
        "value 'x' (at flat position 3, 1 such value(s) in all) is not one of the declared "
        "categories ['a', 'b']"
    )


def test_mixed_label_types_need_declared_categories() -> None:
    with pytest.raises(ValueError, match="values mix int and str labels"):
        krippendorff_alpha([[1, "b"], [1, 1]])
    assert krippendorff_alpha([[1, "b"], [1, 1]], categories=[1, "b"]) == pytest.approx(0.0)


def test_flat_list_is_refused() -> None:
    with pytest.raises(ValueError, match="list of rows, not a flat list"):
        krippendorff_alpha([1, 2, 3])


def test_cohen_needs_two_columns() -> None:
    with pytest.raises(ValueError, match="cohen_kappa compares exactly 2 raters; got 3 columns"):
        cohen_kappa([[1, 1, 1], [2, 2, 1]])


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 0], [0, 1]], r"weights matrix must be 3 × 3"),
        ([[0.5, 0, 0], [0, 1, 0], [0, 0, 1]], "ones on its diagonal"),
        ([[1, 0.5, 0], [0, 1, 0], [0, 0, 1]], "symmetric"),
        ([[1, 2, 0], [2, 1, 0], [0, 0, 1]], r"lie in \[0, 1\]"),
    ],
)
def test_bad_weight_matrix(matrix, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cohen_kappa([[1, 2], [3, 3]], weights=matrix, categories=[1, 2, 3])


def test_incremental_alpha_tracks_the_batch_value() -> None:
    rng = np.random.default_rng(3)
    acc = IncrementalAlpha([1, 2, 3, 4], level="ordinal")
    table = np.full((40, 5), np.nan)
    for _ in range(300):
        unit, rater = int(rng.integers(40)), int(rng.integers(5))
        if np.isnan(table[unit, rater]):
            value = int(rng.integers(1, 5))
            table[unit, rater] = value
            acc.add(unit, value)
        else:
            acc.remove(unit, int(table[unit, rater]))
            table[unit, rater] = np.nan
    batch = krippendorff_alpha(table, level="ordinal", categories=[1, 2, 3, 4])
    assert acc.value == pytest.approx(batch, abs=1e-12)


# Found by the property test below against the float accumulator IncrementalAlpha used to be
# (issue 9): after these steps unit 0 holds [1, 1] and unit 1 holds [1], no variation, so the
# batch alpha is NaN; the accumulator's rounding residue made it 0.75.
CHURN = [
    ("add", 0, 1), ("add", 0, 3), ("add", 0, 2), ("remove", 0, 3), ("add", 0, 1),
    ("add", 0, 3), ("add", 1, 1), ("add", 0, 1), ("add", 1, 2), ("add", 1, 2),
    ("add", 1, 2), ("add", 1, 3), ("remove", 1, 2), ("remove", 0, 1), ("remove", 0, 3),
    ("remove", 1, 2), ("remove", 1, 3), ("remove", 1, 2), ("add", 0, 4), ("remove", 0, 2),
    ("add", 1, 3), ("remove", 0, 4), ("remove", 1, 3),
]  # fmt: skip


def _replay(acc: IncrementalAlpha, steps: list[tuple[str, int, int]]) -> dict[int, list[int]]:
    held: dict[int, list[int]] = {}
    for action, unit, value in steps:
        if action == "add":
            acc.add(unit, value)
            held.setdefault(unit, []).append(value)
        else:
            acc.remove(unit, value)
            held[unit].remove(value)
    return held


def test_incremental_alpha_is_nan_where_the_batch_is() -> None:
    acc = IncrementalAlpha([1, 2, 3, 4])
    held = _replay(acc, CHURN)
    assert held == {0: [1, 1], 1: [1]}
    assert math.isnan(krippendorff_alpha([[1, 1], [1, None]], categories=[1, 2, 3, 4]))
    assert math.isnan(acc.value)


def test_incremental_alpha_emptied_raises() -> None:
    acc = IncrementalAlpha([1, 2, 3, 4])
    held = _replay(acc, CHURN)
    for unit, values in held.items():
        for value in list(values):
            acc.remove(unit, value)
    with pytest.raises(InsufficientDataError) as err:
        _ = acc.value
    assert str(err.value) == (
        "krippendorff_alpha needs at least one unit with two or more ratings; "
        "none of the 0 unit(s) has two (no pairable values)"
    )


#: categories per level; interval and ratio with an uneven gap so distances matter
LEVEL_CATEGORIES: dict[str, list[Any]] = {
    "nominal": ["a", "b", "c"],
    "ordinal": [1, 2, 3, 4],
    "interval": [1, 2, 3, 5],
    "ratio": [1, 2, 3, 5],
}


def _assert_same_as_batch(acc: IncrementalAlpha, table: list[list[Any]], level: str) -> None:
    try:
        batch = krippendorff_alpha(table, level=level, categories=LEVEL_CATEGORIES[level])
    except InsufficientDataError:
        with pytest.raises(InsufficientDataError):
            _ = acc.value
        return
    if math.isnan(batch):
        assert math.isnan(acc.value)
    else:
        assert acc.value == pytest.approx(batch, rel=1e-9, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    level=st.sampled_from(sorted(LEVEL_CATEGORIES)),
    n_steps=st.integers(0, 80),
    keep=st.integers(-1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_incremental_alpha_equals_the_batch_function(
    level: str, n_steps: int, keep: int, seed: int
) -> None:
    """After every add or delete, alpha equals krippendorff_alpha of the current table: NaN
    where it is NaN, InsufficientDataError where it raises.

    ``n_steps`` random steps fill or empty cells of a 3 units × 8 raters table (units of up to
    8 values, so coincidences carry 1/3, 1/5, 1/6, 1/7); then every value but
    ``categories[keep]`` is deleted in a random order (all of them for ``keep = -1``), which
    ends in a table without variation (NaN) or without pairable values (raise), where any
    rounding left behind by the churn would show. (The float accumulator this class used to
    be fails about one example in nine.)
    """
    categories = LEVEL_CATEGORIES[level]
    rng = np.random.default_rng(seed)
    table: list[list[Any]] = [[None] * 8 for _ in range(3)]
    acc = IncrementalAlpha(categories, level=level)
    for _ in range(n_steps):
        unit, rater = int(rng.integers(3)), int(rng.integers(8))
        held = table[unit][rater]
        if held is None:
            table[unit][rater] = categories[int(rng.integers(len(categories)))]
            acc.add(unit, table[unit][rater])
        else:
            table[unit][rater] = None
            acc.remove(unit, held)
        _assert_same_as_batch(acc, table, level)
    kept = categories[keep % len(categories)] if keep >= 0 else None
    cells = [(u, r) for u, row in enumerate(table) for r, v in enumerate(row) if v is not None]
    for index in rng.permutation(len(cells)):
        unit, rater = cells[index]
        if table[unit][rater] != kept:
            acc.remove(unit, table[unit][rater])
            table[unit][rater] = None
            _assert_same_as_batch(acc, table, level)


def test_incremental_alpha_errors() -> None:
    acc = IncrementalAlpha(["a", "b"])
    with pytest.raises(InsufficientDataError):
        _ = acc.value
    with pytest.raises(ValueError, match=r"value 'c' is not one of the categories \['a', 'b'\]"):
        acc.add(1, "c")
    with pytest.raises(KeyError, match="unit 1 has no judgment 'a' to remove"):
        acc.remove(1, "a")


def test_distinct_pair_keys_equal_np_unique_by_counting_and_by_sorting() -> None:
    from connector.metrics.annotator import _distinct_keys

    rng = np.random.default_rng(5)
    for bound, n in ((50, 400), (10**9, 400), (1 << 16, 10), (7, 0)):
        key = rng.integers(0, bound, n).astype(np.int64)
        keys, inverse = _distinct_keys(key, bound)
        expected, expected_inverse = np.unique(key, return_inverse=True)
        assert keys.tolist() == expected.tolist()
        assert inverse.tolist() == expected_inverse.reshape(-1).tolist()
