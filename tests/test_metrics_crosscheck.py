"""Cross-check every coefficient against independent implementations on random data.

References: the ``krippendorff`` package (Castro, fast-krippendorff), ``irrCAC`` (Python port of
Gwet's R package), ``statsmodels.stats.inter_rater`` and ``sklearn.metrics.cohen_kappa_score``.
Random tables have missing values, unequal ratings per unit and unused categories.
"""

from __future__ import annotations

import itertools
import math
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from connector.metrics import (
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from irrCAC.raw import CAC

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tables(draw: st.DrawFn, *, min_raters: int = 2, max_raters: int = 6, missing: bool = True):
    """A units × raters float table with NaN for missing, values in 1..q, and q."""
    q = draw(st.integers(2, 5))
    units = draw(st.integers(2, 25))
    raters = draw(st.integers(min_raters, max_raters))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, q + 1, size=(units, 1))
    noise = rng.integers(1, q + 1, size=(units, raters))
    table = np.where(rng.random((units, raters)) < draw(st.floats(0.0, 1.0)), truth, noise)
    table = table.astype(np.float64)
    if missing:
        table[rng.random((units, raters)) < draw(st.floats(0.0, 0.5))] = np.nan
    pairable = (np.isfinite(table).sum(axis=1) >= 2).any()
    assume(pairable)
    return table, q


def _irrcac(table: np.ndarray, q: int, weights: str, name: str) -> dict[str, float]:
    frame = pd.DataFrame(table)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cac = CAC(frame, weights=weights, categories=[float(k) for k in range(1, q + 1)], digits=15)
        result: dict[str, float] = getattr(cac, name)()["est"]
    return result


@SETTINGS
@given(tables(), st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_matches_krippendorff_package(data, level: str) -> None:
    table, q = data
    categories = list(range(1, q + 1))
    ours = krippendorff_alpha(table, level=level, categories=categories)
    with np.errstate(all="ignore"):
        theirs = krippendorff.alpha(
            reliability_data=table.T, level_of_measurement=level, value_domain=categories
        )
    if math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@SETTINGS
@given(tables(), st.sampled_from(["identity", "linear", "quadratic"]))
def test_gwet_fleiss_bp_match_irrcac(data, weights: str) -> None:
    table, q = data
    # irrCAC's variance divides by n (n - 1) over rated units: it needs two of them.
    assume(int(np.isfinite(table).any(axis=1).sum()) >= 2)
    categories = list(range(1, q + 1))
    ours = {
        "gwet": gwet_ac1(table, weights=weights, categories=categories),
        "fleiss": fleiss_kappa(table, weights=weights, categories=categories),
        "bp": brennan_prediger(table, weights=weights, categories=categories),
    }
    for name, value in ours.items():
        if math.isnan(value):
            continue  # 0/0: irrCAC divides by zero here; our NaN is tested in test_metrics_edges
        theirs = _irrcac(table, q, weights, name)["coefficient_value"]
        assert value == pytest.approx(theirs, abs=1e-9), name
    pa = _irrcac(table, q, weights, "bp")["pa"]
    assert percent_agreement(
        table, method="unit_mean", weights=weights, categories=categories
    ) == pytest.approx(pa, abs=1e-9)


@SETTINGS
@given(tables(missing=False))
def test_fleiss_matches_statsmodels_on_complete_data(data) -> None:
    table, q = data
    counts, _ = aggregate_raters(table.astype(int), n_cat=q + 1)
    with np.errstate(all="ignore"):
        theirs = sm_fleiss_kappa(counts[:, 1:])
    ours = fleiss_kappa(table, categories=list(range(1, q + 1)))
    if math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@SETTINGS
@given(tables(min_raters=2, max_raters=2), st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_matches_sklearn(data, weights: str | None) -> None:
    table, q = data
    both = np.isfinite(table).all(axis=1)
    a, b = table[both, 0].astype(int), table[both, 1].astype(int)
    labels = list(range(1, q + 1))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = cohen_kappa_score(a, b, labels=labels, weights=weights)
    ours = cohen_kappa(table, weights=weights, categories=labels)
    if math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


def _pooled_by_brute_force(table: np.ndarray) -> float:
    agree = pairs = 0
    for row in table:
        values = [v for v in row if np.isfinite(v)]
        for x, y in itertools.combinations(values, 2):
            pairs += 1
            agree += x == y
    return agree / pairs


@SETTINGS
@given(tables())
def test_pooled_percent_agreement_by_brute_force(data) -> None:
    table, _ = data
    assert percent_agreement(table) == pytest.approx(_pooled_by_brute_force(table), abs=1e-12)


@SETTINGS
@given(tables(min_raters=2, max_raters=2, missing=False))
def test_scott_pi_from_its_definition(data) -> None:
    table, q = data
    pooled = np.bincount(table.astype(int).ravel(), minlength=q + 1)[1:] / table.size
    p_o = float(np.mean(table[:, 0] == table[:, 1]))
    p_e = float((pooled**2).sum())
    assume(p_e < 1)
    assert scott_pi(table) == pytest.approx((p_o - p_e) / (1 - p_e), abs=1e-12)


@SETTINGS
@given(tables(), st.randoms(use_true_random=False))
def test_invariant_under_relabelling_and_permutation(data, rnd) -> None:
    table, q = data
    names = ["x", "y", "z", "w", "v"][:q]
    rnd.shuffle(names)
    relabelled = [[None if np.isnan(v) else names[int(v) - 1] for v in row] for row in table]
    units = list(range(table.shape[0]))
    raters = list(range(table.shape[1]))
    rnd.shuffle(units)
    rnd.shuffle(raters)
    shuffled = [[relabelled[u][r] for r in raters] for u in units]
    for coefficient in (krippendorff_alpha, fleiss_kappa, gwet_ac1, percent_agreement):
        before, after = coefficient(table), coefficient(shuffled)
        assert (math.isnan(before) and math.isnan(after)) or before == pytest.approx(after)
