"""Agreement on rankings: Kendall's coefficient of concordance W (tie-corrected), mid-ranks, and
the pairwise preferences a ranking implies.

A ranking of ``n`` options is a rank vector (1 = best; tied options share the mean of the ranks
they span, the *mid-rank*). ``m`` rankings of the same options are an array of shape ``(m, n)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from connector.errors import InsufficientDataError

__all__ = ["implied_preferences", "kendall_w", "kendall_w_by_item", "midranks"]

FloatArray = npt.NDArray[np.float64]


def midranks(tiers: Sequence[Sequence[int]], n: int) -> FloatArray:
    """The rank vector of a ranking given best tier first, each tier the option indices it
    holds (a tier of several options is a tie): ``[[1], [0, 2]]`` over 3 options gives
    ``[2.5, 1.0, 2.5]``. Options in no tier are ``nan`` (an incomplete ranking).

    Raises:
        ValueError: an index outside ``0 .. n-1``, or an option in two tiers.
    """
    ranks = np.full(n, np.nan)
    start = 1
    for tier in tiers:
        for option in tier:
            if not 0 <= option < n or not np.isnan(ranks[option]):
                raise ValueError(f"option {option} is outside 0..{n - 1} or ranked twice")
            ranks[option] = start + (len(tier) - 1) / 2
        start += len(tier)
    return ranks


def _tie_sum(ranks: FloatArray) -> float:
    """Sum over the rankings of sum(t^3 - t), t the size of each group of tied ranks."""
    total = 0.0
    for row in ranks:
        _, sizes = np.unique(row, return_counts=True)
        total += float((sizes**3 - sizes).sum())
    return total


def kendall_w(ranks: npt.ArrayLike) -> float:
    """Kendall's coefficient of concordance of ``m`` complete rankings of ``n`` options, with
    the correction for ties::

        R_j = sum_i r_ij            S = sum_j (R_j - m (n + 1) / 2)^2
        W = 12 S / (m^2 (n^3 - n) - m sum_i sum_g (t_g^3 - t_g))

    (``t_g`` the size of each group of tied options in ranking ``i``). ``W`` is 1 when the
    rankings are identical, 0 when the rank sums are all equal. It equals the Friedman
    chi-square (tie-corrected) over ``m (n - 1)``; without ties, the mean Spearman correlation
    over the pairs of rankings is ``(m W - 1) / (m - 1)``.

    Args:
        ranks: shape ``(m, n)``, each row a complete ranking (mid-ranks for ties, as
            :func:`midranks` gives them).

    Returns:
        W in [0, 1]; ``nan`` when every ranking ties every option (0/0: nothing ranked).

    Raises:
        InsufficientDataError: fewer than 2 rankings or fewer than 2 options.
        ValueError: a ranking that is incomplete (``nan``) or not a ranking of 1..n (its ranks
            do not sum to n (n + 1) / 2).

    References:
        Kendall, M. G. & Babington Smith, B. (1939). The problem of m rankings. *The Annals of
        Mathematical Statistics* 10(3), 275-287. doi:10.1214/aoms/1177732186.
        Siegel, S. (1956). *Nonparametric Statistics for the Behavioral Sciences*. McGraw-Hill
        (the correction for ties; its tied example is NAG's G08DAF example, W = 0.828).
    """
    r = np.asarray(ranks, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] < 2 or r.shape[1] < 2:
        raise InsufficientDataError(
            f"Kendall's W needs at least 2 rankings of at least 2 options; got shape {r.shape}"
        )
    m, n = r.shape
    if np.isnan(r).any():
        raise ValueError("Kendall's W needs complete rankings; a ranking leaves an option out")
    if not np.allclose(r.sum(axis=1), n * (n + 1) / 2):
        raise ValueError(f"each ranking's ranks must sum to n (n + 1) / 2 = {n * (n + 1) / 2}")
    totals = r.sum(axis=0)
    s = float(((totals - m * (n + 1) / 2) ** 2).sum())
    denominator = float(m * m * (n**3 - n)) - m * _tie_sum(r)
    if denominator <= 0:
        return float("nan")
    return float(12 * s / denominator)


def kendall_w_by_item(
    ranks: npt.ArrayLike, item: npt.ArrayLike, n_items: int
) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """:func:`kendall_w` of many items at once: the rankings of item ``g`` are the rows of
    ``ranks`` where ``item == g``. Tie groups are counted per ranking as
    ``sum_g (t_g^3 - t_g) = sum_j c_j^2 - n``, ``c_j`` the number of options sharing option j's
    rank.

    Args:
        ranks: shape ``(N, n)``, complete rankings (mid-ranks for ties).
        item: shape ``(N,)``, each ranking's item code in ``0 .. n_items - 1``.

    Returns:
        ``(w, m)``, shape ``(n_items,)`` each: W per item (``nan`` for an item with fewer
        than 2 rankings, or whose rankings tie every option) and its number of rankings.

    Raises:
        ValueError: an incomplete ranking, or ranks not summing to n (n + 1) / 2.
    """
    r = np.asarray(ranks, dtype=np.float64)
    codes = np.asarray(item, dtype=np.intp)
    n = r.shape[1]
    if np.isnan(r).any():
        raise ValueError("Kendall's W needs complete rankings; a ranking leaves an option out")
    if not np.allclose(r.sum(axis=1), n * (n + 1) / 2):
        raise ValueError(f"each ranking's ranks must sum to n (n + 1) / 2 = {n * (n + 1) / 2}")
    m = np.bincount(codes, minlength=n_items).astype(np.intp)
    totals = np.zeros((n_items, n))
    np.add.at(totals, codes, r)
    s = ((totals - m[:, None] * (n + 1) / 2) ** 2).sum(axis=1)
    shared = (r[:, :, None] == r[:, None, :]).sum(axis=2)
    ties = np.bincount(codes, weights=(shared**2).sum(axis=1) - n, minlength=n_items)
    denominator = m.astype(np.float64) ** 2 * (n**3 - n) - m * ties
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where((m >= 2) & (denominator > 0), 12 * s / denominator, np.nan)
    return w, m


def implied_preferences(ranks: npt.ArrayLike) -> tuple[npt.NDArray[np.intp], ...]:
    """The pairwise preferences one ranking implies: for options ``i < j`` both ranked,
    ``(i, j, outcome)`` with outcome ``-1`` (i ranked above j), ``1`` (j above i) or ``0`` (tied).
    ``k`` ranked options give ``k (k - 1) / 2`` pairs.

    Args:
        ranks: shape ``(n,)``, a rank vector (``nan`` for an option not ranked).

    Returns:
        ``(first, second, outcome)``, three integer arrays of equal length, pairs in the
        order (0, 1), (0, 2), ..., (1, 2), ...
    """
    r = np.asarray(ranks, dtype=np.float64)
    first, second = np.triu_indices(r.size, k=1)
    ranked = ~(np.isnan(r[first]) | np.isnan(r[second]))
    first, second = first[ranked], second[ranked]
    outcome = np.sign(r[first] - r[second]).astype(np.intp)
    return first.astype(np.intp), second.astype(np.intp), outcome
