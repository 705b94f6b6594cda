"""The pattern bootstrap is the item bootstrap, computed faster."""

from __future__ import annotations

import math

import numpy as np
import pytest

from connector.metrics.agreement import summarise_agreement
from connector.metrics.bootstrap import (
    bootstrap_totals,
    percentile_interval,
    unit_patterns,
)
from connector.metrics.krippendorff import alpha_from_coincidences, coincidences, unit_coincidences
from connector.metrics.table import value_counts
from connector.metrics.weights import category_scores


def _counts(seed: int, units: int = 300, raters: int = 4, q: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, units)
    values = np.where(
        rng.random((units, raters)) < 0.6, truth[:, None], rng.integers(0, q, (units, raters))
    )
    values = np.where(rng.random((units, raters)) < 0.2, -1, values)
    unit = np.repeat(np.arange(units), raters)
    return value_counts(unit, values.reshape(-1), n_units=units, q=q)


def test_patterns_keep_every_unit() -> None:
    counts = _counts(0)
    patterns = unit_patterns(counts)
    assert patterns.n_units == counts.shape[0]
    assert len(patterns.multiplicity) < counts.shape[0] / 5
    rebuilt = (patterns.counts * patterns.multiplicity[:, None]).sum(axis=0)
    np.testing.assert_allclose(rebuilt, counts.sum(axis=0))


def test_pattern_coincidences_equal_unit_coincidences() -> None:
    counts = _counts(1)
    patterns = unit_patterns(counts)
    by_pattern = np.tensordot(patterns.multiplicity, unit_coincidences(patterns.counts), axes=1)
    np.testing.assert_allclose(by_pattern, coincidences(counts))


def test_pattern_bootstrap_matches_naive_item_bootstrap_in_distribution() -> None:
    counts = _counts(2)
    scores = category_scores([0, 1, 2])
    patterns = unit_patterns(counts)
    features = unit_coincidences(patterns.counts).reshape(len(patterns.multiplicity), 9)
    totals = bootstrap_totals(features, patterns.multiplicity, resamples=4000, seed=5)
    fast = alpha_from_coincidences(totals.reshape(-1, 3, 3), "nominal", scores)
    rng = np.random.default_rng(6)
    naive = np.array(
        [
            float(
                alpha_from_coincidences(
                    coincidences(counts[rng.integers(0, len(counts), len(counts))]),
                    "nominal",
                    scores,
                )
            )
            for _ in range(4000)
        ]
    )
    assert fast.mean() == pytest.approx(naive.mean(), abs=0.004)
    assert fast.std() == pytest.approx(naive.std(), rel=0.1)


def test_bootstrap_is_seeded() -> None:
    counts = _counts(3)
    kwargs = {"categories": [0, 1, 2], "level": "nominal", "weights": np.eye(3)}
    a = summarise_agreement(counts, seed=11, **kwargs)
    b = summarise_agreement(counts, seed=11, **kwargs)
    c = summarise_agreement(counts, seed=12, **kwargs)
    assert a.krippendorff_alpha.ci95 == b.krippendorff_alpha.ci95
    assert a.krippendorff_alpha.ci95 != c.krippendorff_alpha.ci95
    lo, hi = a.krippendorff_alpha.ci95
    assert lo < a.krippendorff_alpha.value < hi
    assert hi - lo < 0.2


def test_interval_ignores_undefined_resamples() -> None:
    assert percentile_interval(np.array([np.nan, 0.5, 0.5])) == (0.5, 0.5)
    lo, hi = percentile_interval(np.array([np.nan, np.nan]))
    assert math.isnan(lo)
    assert math.isnan(hi)
    with pytest.raises(ValueError, match=r"confidence must lie in \(0, 1\); got 1.5"):
        percentile_interval(np.array([0.1]), confidence=1.5)


def test_summary_of_a_slice_without_pairs_is_nan_not_an_error() -> None:
    counts = np.array([[1.0, 0.0], [0.0, 1.0]])
    summary = summarise_agreement(counts, categories=["a", "b"], level="nominal", weights=np.eye(2))
    assert summary.n_pairable_items == 0
    assert math.isnan(summary.krippendorff_alpha.value)
    assert math.isnan(summary.krippendorff_alpha.ci95[0])
    assert summary.n_pairs == 0
