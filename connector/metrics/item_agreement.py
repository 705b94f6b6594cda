"""Agreement on one item: the unit term of Gwet's weighted percent agreement.

For an item with ``r_k`` judgments in category ``k`` (``r = Σ_k r_k ≥ 2``) and agreement weights
``w`` (q × q, ones on the diagonal)::

    a = Σ_k r_k (r*_k − 1) / (r (r − 1)),      r*_k = Σ_l w_kl r_l

the weighted share of agreeing ordered pairs of its judgments: 1 when every judgment is the
same, 0 when no two agree at all. With identity weights it is Fleiss' (1971) ``P_i``; with linear
weights on a 1–5 scale two judgments 4 and 5 agree 0.75 (not 0, as an exact match would say).
The mean of ``a`` over items with two or more judgments is ``p_a`` of Fleiss' kappa and Gwet's
AC1/AC2 (:mod:`connector.metrics.multirater`), so what is written on a task and the project's
coefficients come from the same counts and weights. Undefined (NaN) below two judgments.

References:
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin, 76(5), 378–382. https://doi.org/10.1037/h0031619
    Gwet, K. L. (2014). Handbook of Inter-Rater Reliability (4th ed.), section 2.5. Advanced
    Analytics, LLC. ISBN 978-0970806284.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics.multirater import UNIT_AGREEMENT, unit_features

__all__ = ["item_agreement"]

FloatArray: TypeAlias = npt.NDArray[np.float64]


def item_agreement(counts: npt.ArrayLike, w: npt.ArrayLike) -> FloatArray:
    """Each item's weighted agreement (see the module docstring); NaN below two judgments.

    Args:
        counts: per-item value counts, shape (n_items, q).
        w: agreement weights, shape (q, q), ones on the diagonal.

    Returns:
        shape (n_items,), in [0, 1] or NaN.

    Raises:
        ValueError: shapes that do not match, or negative counts.

    >>> item_agreement([[3, 0, 0], [2, 1, 0], [1, 1, 1], [1, 0, 0]], np.eye(3)).round(3)
    array([1.   , 0.333, 0.   ,   nan])
    >>> linear = [[1, .5, 0], [.5, 1, .5], [0, .5, 1]]
    >>> item_agreement([[0, 1, 1], [1, 0, 1]], linear).round(3)
    array([0.5, 0. ])
    """
    table = np.asarray(counts, dtype=np.float64)
    weights = np.asarray(w, dtype=np.float64)
    if table.ndim != 2 or weights.shape != (table.shape[1], table.shape[1]):
        raise ValueError(
            f"counts must have shape (n_items, q) and w shape (q, q); got {table.shape} and "
            f"{weights.shape}"
        )
    if (table < 0).any():
        raise ValueError("counts must not be negative")
    features = unit_features(table, weights)
    pairable = table.sum(axis=1) >= 2
    return np.where(pairable, features[:, UNIT_AGREEMENT], np.nan)
