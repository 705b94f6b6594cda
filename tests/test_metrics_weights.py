"""Weight distances: ranks of the declared categories by default, values only when asked.

Published outputs: R irr's ``kappa2`` (weights from factor-level ranks), scikit-learn's
``cohen_kappa_score`` and statsmodels' ``cohens_kappa`` (both on label positions), and irrCAC
(ranks for labelled categories, values for numeric ones).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from irrCAC.raw import CAC
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

from connector.errors import OptionError
from connector.metrics import brennan_prediger, cohen_kappa, fleiss_kappa, gwet_ac1
from connector.metrics.weights import agreement_weights, weights_for_level

# R irr, kappa2(cbind(tv1, tv2), weight = "equal") on six ordered factor levels
# "<10%" .. ">50%": Kappa = 0.316 (D. Wollschläger, "R examples repository",
# interRaterICC: https://github.com/dwoll/RExRepos/blob/master/md/interRaterICC.md).
TV_TABLE = [
    [5, 8, 1, 2, 4, 2],
    [3, 5, 3, 5, 5, 0],
    [1, 2, 6, 11, 2, 1],
    [0, 1, 5, 4, 3, 3],
    [0, 0, 1, 2, 5, 2],
    [0, 0, 1, 2, 1, 4],
]
TV_LEVELS = ["<10%", "11-20%", "21-30%", "31-40%", "41-50%", ">50%"]

# R irr manual, kappa2 examples on data(anxiety), raters 1 and 2 (20 subjects, ratings 1-6):
# kappa2(anxiety[, 1:2]) = 0.119; kappa2(anxiety[, 1:2], "squared") = 0.297.
ANXIETY_1 = [3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3]
ANXIETY_2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]


def _rows(table: list[list[int]], labels: list[object]) -> list[tuple[object, object]]:
    rows: list[tuple[object, object]] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            rows += [(labels[i], labels[j])] * count
    return rows


def test_r_irr_kappa2_equal_weights_on_ordered_levels() -> None:
    ours = cohen_kappa(_rows(TV_TABLE, TV_LEVELS), weights="linear", categories=TV_LEVELS)
    assert ours == pytest.approx(0.316, abs=5e-4)


def test_declared_values_with_a_gap_give_the_rank_weights() -> None:
    # The same table coded 1, 2, 3, 4, 6, 9: with ranks (the default) kappa is R irr's 0.316,
    # exactly as for 1..6; distances="values" is a different number.
    gapped = [1, 2, 3, 4, 6, 9]
    rows = _rows(TV_TABLE, gapped)
    plain = _rows(TV_TABLE, [1, 2, 3, 4, 5, 6])
    for weights in ("linear", "quadratic"):
        ours = cohen_kappa(rows, weights=weights, categories=gapped)
        assert ours == pytest.approx(cohen_kappa(plain, weights=weights), abs=1e-12)
        by_value = cohen_kappa(rows, weights=weights, categories=gapped, distances="values")
        assert abs(by_value - ours) > 1e-3
    assert cohen_kappa(rows, weights="linear", categories=gapped) == pytest.approx(0.316, abs=5e-4)


def test_r_irr_kappa2_anxiety_examples() -> None:
    data = list(zip(ANXIETY_1, ANXIETY_2, strict=True))
    assert cohen_kappa(data) == pytest.approx(0.119, abs=5e-4)
    assert cohen_kappa(data, weights="quadratic") == pytest.approx(0.297, abs=5e-4)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_statsmodels_cohens_kappa_counts_table_positions(weights: str) -> None:
    theirs = sm_cohens_kappa(np.asarray(TV_TABLE, dtype=float), wt=weights).kappa
    gapped = [1, 2, 3, 4, 6, 9]
    ours = cohen_kappa(_rows(TV_TABLE, gapped), weights=weights, categories=gapped)
    assert ours == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_sklearn_cohen_kappa_score_uses_label_indices(weights: str) -> None:
    rng = np.random.default_rng(11)
    labels = [1, 2, 3, 4, 6]
    a = rng.choice(labels, size=200)
    b = np.where(rng.random(200) < 0.6, a, rng.choice(labels, size=200))
    theirs = cohen_kappa_score(a, b, labels=labels, weights=weights)
    ours = cohen_kappa(np.column_stack([a, b]), weights=weights, categories=labels)
    assert ours == pytest.approx(theirs, abs=1e-12)


def _irrcac(table: np.ndarray, categories: list[object], weights: str, name: str) -> float:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cac = CAC(pd.DataFrame(table), weights=weights, categories=categories, digits=15)
        value: float = getattr(cac, name)()["est"]["coefficient_value"]
    return value


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_multirater_ranks_and_values_match_irrcac(weights: str) -> None:
    # irrCAC's Weights use the values of numeric categories and 1..q for labels: our ranks match
    # it on labels, our distances="values" on the numbers.
    rng = np.random.default_rng(5)
    gapped = [1, 2, 3, 4, 6]
    truth = rng.choice(gapped, size=(40, 1))
    noise = rng.choice(gapped, size=(40, 4))
    table = np.where(rng.random((40, 4)) < 0.55, truth, noise).astype(float)
    table[rng.random((40, 4)) < 0.15] = np.nan
    names = {1: "one", 2: "two", 3: "three", 4: "four", 6: "six"}
    labelled = np.vectorize(lambda v: names.get(v), otypes=[object])(table)
    order = [names[v] for v in gapped]
    functions = {"fleiss": fleiss_kappa, "gwet": gwet_ac1, "bp": brennan_prediger}
    for name, function in functions.items():
        by_rank = function(table, weights=weights, categories=gapped)
        by_value = function(table, weights=weights, categories=gapped, distances="values")
        assert by_rank == pytest.approx(_irrcac(labelled, order, weights, name), abs=1e-9), name
        assert by_value == pytest.approx(
            _irrcac(table, [float(c) for c in gapped], weights, name), abs=1e-9
        ), name


@pytest.mark.parametrize("function", [cohen_kappa, fleiss_kappa, gwet_ac1, brennan_prediger])
@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_every_weighted_coefficient_ignores_the_gaps_between_declared_values(
    function: object, weights: str
) -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 5, size=(50, 2))
    gapped = np.array([1, 2, 3, 4, 6])[codes]
    plain = np.array([1, 2, 3, 4, 5])[codes]
    assert callable(function)
    ours = function(gapped, weights=weights, categories=[1, 2, 3, 4, 6])
    assert ours == pytest.approx(function(plain, weights=weights, categories=[1, 2, 3, 4, 5]))
    assert not math.isnan(ours)


def test_weights_for_level_is_the_one_rule() -> None:
    assert [
        (weights_for_level(level).name, weights_for_level(level).distances)
        for level in ("nominal", "ordinal", "interval", "ratio")
    ] == [
        ("identity", "ranks"),
        ("linear", "ranks"),
        ("quadratic", "values"),
        ("quadratic", "values"),
    ]
    assert weights_for_level("ordinal").describe() == "linear over ranks"
    assert weights_for_level("ratio").describe() == "quadratic over values"
    assert weights_for_level("nominal").describe() == "none"


def test_distances_are_looked_up_strictly() -> None:
    with pytest.raises(OptionError, match=r"distances='rank' is not one of 'ranks', 'values'"):
        agreement_weights("linear", [1, 2, 3], distances="rank")
    with pytest.raises(ValueError, match=r"distances='values' needs numeric categories"):
        cohen_kappa([["lo", "hi"]], weights="linear", categories=["lo", "hi"], distances="values")
