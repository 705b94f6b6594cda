"""Kendall's W, mid-ranks and implied pairwise preferences (connector/metrics/ranking.py)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import friedmanchisquare, rankdata, spearmanr

from connector.errors import InsufficientDataError
from connector.metrics.ranking import implied_preferences, kendall_w, midranks


def test_kendall_w_without_ties_matches_the_published_strawberry_example() -> None:
    # Four raters rank the strawberries of eight farms (1 = best); rank sums 31 12 12 15 22 5
    # 22 25, S = 500, W = 500 / (504 * 16 / 12) = 0.744. InfluentialPoints, "Kendall
    # coefficient of concordance", worked example I,
    # https://influentialpoints.com/Training/coefficient_of_concordance.htm
    ranks = [
        [8, 4, 2, 3, 5, 1, 6, 7],
        [7, 3, 1, 4, 5, 2, 6, 8],
        [8, 2, 5, 6, 7, 1, 4, 3],
        [8, 3, 4, 2, 5, 1, 6, 7],
    ]
    assert kendall_w(ranks) == pytest.approx(500 / 672)
    assert round(kendall_w(ranks), 3) == 0.744


def test_kendall_w_with_ties_matches_the_published_tie_corrected_example() -> None:
    # Three comparisons of ten objects with tied (mid-)ranks: the example of the NAG Library's
    # g08daf (nagf_nonpar_concordance_kendall; reference Siegel (1956), Nonparametric
    # Statistics for the Behavioral Sciences), "G08DAF Example Program Results": Kendall's
    # coefficient = 0.828 (corrected for ties; 0.796 without the correction),
    # https://support.nag.com/numeric/nl/nagdoc_27.2/examples/baseresults/g08dafe.r.html
    ranks = [
        [1.0, 4.5, 2.0, 4.5, 3.0, 7.5, 6.0, 9.0, 7.5, 10.0],
        [2.5, 1.0, 2.5, 4.5, 4.5, 8.0, 9.0, 6.5, 10.0, 6.5],
        [2.0, 1.0, 4.5, 4.5, 4.5, 4.5, 8.0, 8.0, 8.0, 10.0],
    ]
    assert round(kendall_w(ranks), 3) == 0.828


@pytest.mark.parametrize("seed", range(20))
def test_kendall_w_is_friedmans_chi_square_over_m_n_minus_1(seed: int) -> None:
    # Independent route: scipy's Friedman test (tie-corrected) on the same ranks.
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(2, 8)), int(rng.integers(3, 9))
    scores = rng.integers(0, 4, size=(m, n))  # few distinct scores: many ties
    ranks = np.vstack([rankdata(row) for row in scores])
    if (ranks == ranks[:, :1]).all(axis=1).all():
        pytest.skip("every ranking ties everything")
    chi_square = friedmanchisquare(*ranks.T).statistic
    assert kendall_w(ranks) == pytest.approx(chi_square / (m * (n - 1)))


@pytest.mark.parametrize("seed", range(10))
def test_kendall_w_matches_the_mean_spearman_rho_without_ties(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    m, n = int(rng.integers(2, 7)), int(rng.integers(3, 10))
    ranks = np.vstack([rng.permutation(n) + 1 for _ in range(m)])
    rhos = [spearmanr(ranks[i], ranks[j]).statistic for i, j in itertools.combinations(range(m), 2)]
    assert (m * kendall_w(ranks) - 1) / (m - 1) == pytest.approx(np.mean(rhos))


def test_kendall_w_invariants() -> None:
    ranks = np.array([[1, 2, 3, 4], [2, 1, 3, 4], [1, 3, 2, 4]], dtype=float)
    assert kendall_w(np.tile([1, 2, 3, 4], (5, 1))) == 1.0  # identical rankings
    assert kendall_w([[1, 2], [2, 1]]) == 0.0  # opposite rankings: equal rank sums
    w = kendall_w(ranks)
    assert kendall_w(ranks[::-1]) == pytest.approx(w)  # raters' order
    assert kendall_w(ranks[:, [3, 1, 0, 2]]) == pytest.approx(w)  # options' order
    assert math.isnan(kendall_w([[1.5, 1.5], [1.5, 1.5]]))  # nothing ranked: 0/0


def test_kendall_w_refuses_what_it_cannot_score() -> None:
    with pytest.raises(InsufficientDataError, match="at least 2 rankings of at least 2 options"):
        kendall_w([[1, 2, 3]])
    with pytest.raises(ValueError, match="complete rankings"):
        kendall_w([[1, 2, np.nan], [1, 2, 3]])
    with pytest.raises(ValueError, match=r"must sum to n \(n \+ 1\) / 2 = 6.0"):
        kendall_w([[1, 1, 3], [1, 2, 3]])


def test_midranks_give_ties_the_mean_of_their_ranks() -> None:
    assert midranks([[1], [0, 2]], 3).tolist() == [2.5, 1.0, 2.5]
    assert midranks([[3], [0]], 4)[[3, 0]].tolist() == [1.0, 2.0]
    assert np.isnan(midranks([[3], [0]], 4)[[1, 2]]).all()  # not ranked
    with pytest.raises(ValueError, match="ranked twice"):
        midranks([[0], [0]], 2)


def test_a_ranking_of_k_options_implies_k_k_minus_1_over_2_preferences() -> None:
    first, second, outcome = implied_preferences(midranks([[1], [0, 2], [3]], 4))  # b > a=c > d
    pairs = list(zip(first.tolist(), second.tolist(), outcome.tolist(), strict=True))
    assert pairs == [(0, 1, 1), (0, 2, 0), (0, 3, -1), (1, 2, -1), (1, 3, -1), (2, 3, -1)]
    first, _, _ = implied_preferences(midranks([[2], [0]], 4))  # c > a; b, d not ranked
    assert len(first) == 1


@pytest.mark.parametrize("seed", range(5))
def test_kendall_w_by_item_equals_kendall_w_item_by_item(seed: int) -> None:
    from connector.metrics.ranking import kendall_w_by_item

    rng = np.random.default_rng(200 + seed)
    n, n_items = 5, 40
    item = rng.integers(0, n_items, 150)
    ranks = np.vstack([rankdata(rng.integers(0, 3, n)) for _ in item])  # many ties
    w, m = kendall_w_by_item(ranks, item, n_items)
    for g in range(n_items):
        group = ranks[item == g]
        assert m[g] == len(group)
        if len(group) < 2:
            assert math.isnan(w[g])
        else:
            expected = kendall_w(group)
            assert (math.isnan(w[g]) and math.isnan(expected)) or w[g] == pytest.approx(expected)
