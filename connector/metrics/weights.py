"""Agreement weights for the kappa family and Krippendorff's difference functions.

Weighted kappa, AC2 and Brennan–Prediger measure the distance between two categories on one of
two scales (``distances``):

- ``"ranks"`` (the default): the categories' positions ``0..q-1`` in the declared order, so
  declaring ``[1, 2, 3, 4, 6]`` gives the same weights as ``[1, 2, 3, 4, 5]`` or
  ``["poor", …, "excellent"]``. This is what an ordinal scale supports (its values say only
  which is larger) and what R irr (``kappa2``, ``kappam.fleiss``), psych, scikit-learn
  (``cohen_kappa_score`` on label indices) and statsmodels (``cohens_kappa``) do;
- ``"values"``: the category values themselves (``[1, 2, 3, 5]`` keeps the gap between 3 and 5
  twice as wide), for interval and ratio scales, or when asked for explicitly. irrCAC does this
  whenever the categories are numbers, whatever the level.

:func:`weights_for_level` is the one rule of which weights a level of measurement gets.
Krippendorff's alpha has its own difference functions (:func:`squared_differences`): its ordinal
metric is rank-based by construction, its interval and ratio metrics use the values
(:func:`category_scores`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics._options import choose
from connector.metrics.table import Category, _is_number

__all__ = [
    "DISTANCES",
    "LEVELS",
    "WEIGHTS",
    "Distances",
    "Level",
    "LevelWeights",
    "agreement_weights",
    "category_ranks",
    "category_scores",
    "difference_function",
    "weights_for_level",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
WeightName = Literal["identity", "linear", "quadratic"]
WEIGHTS: tuple[WeightName, ...] = ("identity", "linear", "quadratic")
Distances = Literal["ranks", "values"]
DISTANCES: tuple[Distances, ...] = ("ranks", "values")


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelWeights:
    """The agreement weights a level of measurement gets: their name and distance scale."""

    name: WeightName
    distances: Distances

    def describe(self) -> str:
        """``"none"``, ``"linear over ranks"``, ``"quadratic over values"``."""
        if self.name == "identity":
            return "none"
        return f"{self.name} over {'ranks' if self.distances == 'ranks' else 'values'}"


_LEVEL_WEIGHTS: dict[Level, LevelWeights] = {
    "nominal": LevelWeights(name="identity", distances="ranks"),
    "ordinal": LevelWeights(name="linear", distances="ranks"),
    "interval": LevelWeights(name="quadratic", distances="values"),
    "ratio": LevelWeights(name="quadratic", distances="values"),
}


def weights_for_level(level: str) -> LevelWeights:
    """The weights of kappa and AC2 for a dimension at ``level``: none for nominal, linear over
    the categories' ranks for ordinal, quadratic over their values for interval and ratio.

    Raises:
        OptionError: unknown level.
    """
    return _LEVEL_WEIGHTS[choose("level", level, LEVELS)]


def category_ranks(categories: Sequence[Category]) -> FloatArray:
    """Positions ``0..q-1`` of the categories in the declared order."""
    return np.arange(len(categories), dtype=np.float64)


def category_scores(categories: Sequence[Category]) -> FloatArray:
    """Numeric scores of the categories: their values if all are numbers, else 0..q-1 (the
    scores of Krippendorff's interval and ratio metrics and of ``distances="values"``)."""
    if categories and all(_is_number(c) for c in categories):
        return np.asarray([float(c) for c in categories], dtype=np.float64)
    return np.arange(len(categories), dtype=np.float64)


def agreement_weights(
    weights: Any, categories: Sequence[Category], *, distances: str = "ranks"
) -> FloatArray:
    """The q × q agreement-weight matrix ``w`` (1 on the diagonal, in [0, 1] elsewhere).

    Args:
        weights: ``None`` (identity: only exact matches agree), ``"linear"``
            (``1 - |x_k - x_l| / (x_max - x_min)``), ``"quadratic"``
            (``1 - (x_k - x_l)^2 / (x_max - x_min)^2``), or a q × q matrix of agreement
            weights, symmetric, with ones on the diagonal and values in [0, 1].
        categories: the ordered categories, which fix q and the scores ``x``.
        distances: ``"ranks"`` (``x`` = positions ``0..q-1`` in the declared order, the
            convention of R irr, psych, scikit-learn and statsmodels) or ``"values"`` (``x`` =
            the category values; needs numeric categories). Ignored for a matrix.

    Raises:
        OptionError: unknown weight name or distances. ValueError: a malformed matrix, or
            ``distances="values"`` on non-numeric categories.
    """
    q = len(categories)
    if weights is None:
        return np.eye(q)
    if isinstance(weights, str):
        name = choose("weights", weights, WEIGHTS)
        scale = choose("distances", distances, DISTANCES)
        if name == "identity" or q < 2:
            return np.eye(q)
        if scale == "values" and not all(_is_number(c) for c in categories):
            raise ValueError(
                f"distances='values' needs numeric categories; got {list(categories)[:5]}: use "
                "distances='ranks' to measure distances by position in the declared order"
            )
        x = category_scores(categories) if scale == "values" else category_ranks(categories)
        span = x.max() - x.min()
        gap = np.abs(x[:, None] - x[None, :]) / span
        return np.asarray(1.0 - gap if name == "linear" else 1.0 - gap**2, dtype=np.float64)
    matrix = np.asarray(weights, dtype=np.float64)
    if matrix.shape != (q, q):
        raise ValueError(
            f"weights matrix must be {q} × {q} (one row per category); got {matrix.shape}"
        )
    if not np.allclose(np.diag(matrix), 1.0):
        raise ValueError("weights matrix must have ones on its diagonal (agreement weights)")
    if not np.allclose(matrix, matrix.T):
        raise ValueError("weights matrix must be symmetric")
    if (matrix < 0).any() or (matrix > 1).any():
        raise ValueError("weights matrix entries must lie in [0, 1]")
    return matrix


def difference_function(level: str, categories: Sequence[Category]) -> Level:
    """Validate ``level`` for these categories and return it (interval/ratio need numbers).

    Raises:
        OptionError: unknown level. ValueError: interval or ratio on non-numeric categories,
            ratio on negative values.
    """
    chosen = choose("level", level, LEVELS)
    if chosen in ("interval", "ratio") and not all(_is_number(c) for c in categories):
        raise ValueError(
            f"level={chosen!r} needs numeric values; got {list(categories)[:5]}: use "
            "level='ordinal' for ordered labels, or pass numeric categories"
        )
    if chosen == "ratio" and any(float(c) < 0 for c in categories):
        raise ValueError("level='ratio' needs non-negative values (a ratio scale has a true zero)")
    return chosen


def squared_differences(level: Level, scores: FloatArray, marginals: FloatArray) -> FloatArray:
    """Krippendorff's squared difference δ²(c, k), shape (..., q, q).

    ``marginals`` (shape (..., q): pairable values per category, n_c) is used by the ordinal
    metric only, whose distance between two ranks depends on how many values lie between them:
    ``δ²(c, k) = (Σ_{g=c..k} n_g − (n_c + n_k)/2)²``.
    """
    q = scores.shape[0]
    if level == "nominal":
        return np.asarray(1.0 - np.eye(q), dtype=np.float64)
    if level == "interval":
        return np.asarray((scores[:, None] - scores[None, :]) ** 2, dtype=np.float64)
    if level == "ratio":
        total = scores[:, None] + scores[None, :]
        diff = scores[:, None] - scores[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(total == 0, 0.0, diff / np.where(total == 0, 1.0, total))
        return np.asarray(ratio**2, dtype=np.float64)
    cumulative = np.cumsum(marginals, axis=-1)
    lo = np.minimum.outer(np.arange(q), np.arange(q))
    hi = np.maximum.outer(np.arange(q), np.arange(q))
    upto_hi = cumulative[..., hi]
    below_lo = np.where(lo > 0, cumulative[..., np.maximum(lo - 1, 0)], 0.0)
    between = upto_hi - below_lo
    half = (marginals[..., :, None] + marginals[..., None, :]) / 2.0
    return np.asarray((between - half) ** 2, dtype=np.float64)
