"""Two-rater coefficients: Cohen's kappa (weighted or not) and Scott's pi.

With ``p_kl`` the share of units rated ``k`` by rater 1 and ``l`` by rater 2 (units missing
either rating dropped listwise), margins ``p_k+``, ``p_+l`` and agreement weights ``w``:

    p_o = Σ_kl w_kl p_kl
    Cohen:  p_e = Σ_kl w_kl p_k+ p_+l            (each rater's own margins)
    Scott:  p_e = Σ_kl w_kl π_k π_l,  π = (p_k+ + p_+k) / 2   (pooled margins)
    coefficient = (p_o − p_e) / (1 − p_e)

With ``w = 1 − v / max(v)`` for disagreement weights ``v`` this is Cohen's (1968) weighted kappa.

References:
    Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement, 20(1), 37–46. https://doi.org/10.1177/001316446002000104
    Cohen, J. (1968). Weighted kappa. Psychological Bulletin, 70(4), 213–220.
    https://doi.org/10.1037/h0026256
    Scott, W. A. (1955). Reliability of content analysis: The case of nominal scale coding.
    Public Opinion Quarterly, 19(3), 321–325. https://doi.org/10.1086/266577
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from connector.errors import InsufficientDataError
from connector.metrics.table import Category, code_table
from connector.metrics.weights import agreement_weights

__all__ = ["cohen_kappa", "kappa_from_tables", "paired_table", "scott_pi"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]


def paired_table(first: IntArray, second: IntArray, q: int) -> FloatArray:
    """Contingency table of two raters' codes, shape (q, q); pairs with a missing code dropped."""
    keep = (first >= 0) & (second >= 0)
    flat = np.bincount(first[keep] * q + second[keep], minlength=q * q)
    return np.asarray(flat.reshape(q, q), dtype=np.float64)


def kappa_from_tables(tables: FloatArray, w: FloatArray, *, pooled: bool = False) -> FloatArray:
    """Cohen's kappa (or Scott's pi when ``pooled``) of contingency tables, shape (..., q, q).

    Returns:
        shape (...); NaN for an empty table or where chance agreement is 1 (0/0).
    """
    n = tables.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = tables / n[..., None, None]
    rows = p.sum(axis=-1)
    cols = p.sum(axis=-2)
    p_o = (p * w).sum(axis=(-2, -1))
    if pooled:
        pi = (rows + cols) / 2.0
        p_e = np.einsum("...k,kl,...l->...", pi, w, pi)
    else:
        p_e = np.einsum("...k,kl,...l->...", rows, w, cols)
    undefined = (n == 0) | np.isclose(p_e, 1.0, rtol=0.0, atol=1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (p_o - p_e) / (1.0 - p_e)
    return np.asarray(np.where(undefined, np.nan, value), dtype=np.float64)


def _two_rater(
    data: Any,
    weights: Any,
    categories: Sequence[Category] | None,
    distances: str,
    *,
    pooled: bool,
    what: str,
) -> float:
    table = code_table(data, categories)
    if table.codes.shape[1] != 2:
        raise ValueError(
            f"{what} compares exactly 2 raters; got {table.codes.shape[1]} columns "
            "(use fleiss_kappa or krippendorff_alpha for more)"
        )
    w = agreement_weights(weights, table.categories, distances=distances)
    counts = paired_table(table.codes[:, 0], table.codes[:, 1], table.q)
    if counts.sum() == 0:
        raise InsufficientDataError(
            f"{what} needs at least one unit rated by both raters; none of the "
            f"{table.codes.shape[0]} unit(s) is (no pairable values)"
        )
    return float(kappa_from_tables(counts, w, pooled=pooled))


def cohen_kappa(
    data: Any,
    *,
    weights: Any = None,
    categories: Sequence[Category] | None = None,
    distances: str = "ranks",
) -> float:
    """Cohen's kappa of two raters, weighted or not.

    Args:
        data: units × 2 table, shape (U, 2); units missing either rating are dropped.
        weights: ``None``, ``"linear"``, ``"quadratic"`` or a q × q agreement-weight matrix.
        categories: declared ordered categories (fix q and the order of the ranks).
        distances: ``"ranks"`` (default): weights from the categories' positions in the
            declared order, as R irr's ``kappa2(weight="equal"/"squared")``, scikit-learn's
            ``cohen_kappa_score`` and statsmodels' ``cohens_kappa``; ``"values"``: from the
            numeric category values (interval or ratio scales). See
            :mod:`connector.metrics.weights`.

    Returns:
        kappa; ``nan`` when chance agreement is 1 (both raters always give the same single
        category: 0/0).

    Raises:
        InsufficientDataError: no unit rated by both. ValueError: not two columns.

    Examples:
        >>> rows = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10
        >>> rows += [("no", "no")] * 15
        >>> round(cohen_kappa(rows), 3)
        0.4
    """
    return _two_rater(data, weights, categories, distances, pooled=False, what="cohen_kappa")


def scott_pi(
    data: Any,
    *,
    weights: Any = None,
    categories: Sequence[Category] | None = None,
    distances: str = "ranks",
) -> float:
    """Scott's pi of two raters (chance from the pooled margins); listwise deletion.

    Fleiss' kappa is its generalisation to more raters and equals it on two complete raters.

    Raises:
        InsufficientDataError: no unit rated by both. ValueError: not two columns.
    """
    return _two_rater(data, weights, categories, distances, pooled=True, what="scott_pi")
