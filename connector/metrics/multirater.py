"""Chance-corrected agreement for any number of raters per unit (Gwet's generalisation).

For unit ``i`` with ``r_ik`` ratings in category ``k`` (``r_i = Σ_k r_ik``), agreement weights
``w`` (q × q) and ``r*_ik = Σ_l w_kl r_il``:

    p_a = (1/n₂) Σ_{i: r_i ≥ 2} Σ_k r_ik (r*_ik − 1) / (r_i (r_i − 1))
    π_k = (1/n₁) Σ_{i: r_i ≥ 1} r_ik / r_i

    Fleiss' kappa        p_e = Σ_kl w_kl π_k π_l
    Gwet's AC1 (AC2)     p_e = T_w / (q (q − 1)) · Σ_k π_k (1 − π_k),   T_w = Σ_kl w_kl
    Brennan–Prediger     p_e = T_w / q²
    coefficient          (p_a − p_e) / (1 − p_e)

On complete data (every unit rated by the same number of raters) Fleiss' kappa here equals
Fleiss (1971). Every quantity is a sum over units of a per-unit feature, so the engine reduces
units to a (n_units, f) feature table once and a bootstrap is a matrix product
(:func:`unit_features` and the ``*_from_totals`` estimators).

References:
    Gwet, K. L. (2014). Handbook of Inter-Rater Reliability (4th ed.), chapters 2–3. Advanced
    Analytics, LLC. ISBN 978-0970806284.
    Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of
    high agreement. British Journal of Mathematical and Statistical Psychology, 61(1), 29–48.
    https://doi.org/10.1348/000711006X126600
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin, 76(5), 378–382. https://doi.org/10.1037/h0031619
    Brennan, R. L., & Prediger, D. J. (1981). Coefficient kappa: Some uses, misuses, and
    alternatives. Educational and Psychological Measurement, 41(3), 687–699.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics._options import choose
from connector.metrics.table import Category, code_table, require_pairable, table_counts
from connector.metrics.weights import agreement_weights

__all__ = [
    "Chance",
    "brennan_prediger",
    "chance_corrected_from_totals",
    "fleiss_kappa",
    "gwet_ac1",
    "percent_agreement",
    "percent_agreement_from_totals",
    "unit_features",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
Chance = Literal["fleiss", "gwet", "brennan_prediger"]
PercentMethod = Literal["pooled", "unit_mean"]
PERCENT_METHODS: tuple[PercentMethod, ...] = ("pooled", "unit_mean")

# Columns of the per-unit feature table; π contributions follow in columns PI.. PI+q-1.
RATED, PAIRABLE, UNIT_AGREEMENT, AGREEING_PAIRS, ALL_PAIRS, PI = range(6)


def unit_features(counts: FloatArray, w: FloatArray) -> FloatArray:
    """Per-unit sufficient statistics of the multi-rater coefficients, shape (U, 5 + q).

    Columns: rated (r ≥ 1), pairable (r ≥ 2), the unit's agreement
    ``Σ_k r_k (r*_k − 1) / (r (r − 1))``, agreeing ordered pairs ``Σ_k r_k (r*_k − 1)``,
    all ordered pairs ``r (r − 1)``, then ``r_k / r`` for each category.

    Args:
        counts: per-unit value counts, shape (U, q).
        w: agreement weights, shape (q, q).
    """
    r = counts.sum(axis=1)
    starred = counts @ w.T
    agreeing = (counts * (starred - 1.0)).sum(axis=1)
    pairs = r * (r - 1.0)
    pairable = r >= 2
    features = np.empty((counts.shape[0], PI + counts.shape[1]))
    features[:, RATED] = r >= 1
    features[:, PAIRABLE] = pairable
    features[:, UNIT_AGREEMENT] = np.where(pairable, agreeing / np.where(pairable, pairs, 1.0), 0)
    features[:, AGREEING_PAIRS] = np.where(pairable, agreeing, 0.0)
    features[:, ALL_PAIRS] = np.where(pairable, pairs, 0.0)
    features[:, PI:] = counts / np.maximum(r, 1.0)[:, None]
    return features


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan))


def chance_corrected_from_totals(totals: FloatArray, w: FloatArray, chance: Chance) -> FloatArray:
    """A chance-corrected coefficient from summed unit features, vectorised over leading axes.

    Args:
        totals: unit features summed over units, shape (..., 5 + q).
        w: agreement weights, shape (q, q).
        chance: which chance-agreement model (``fleiss``, ``gwet``, ``brennan_prediger``).

    Returns:
        The coefficient, shape (...); NaN where ``p_e = 1`` (0/0: no variation, or q = 1).
    """
    q = w.shape[0]
    p_a = _ratio(totals[..., UNIT_AGREEMENT], totals[..., PAIRABLE])
    pi = totals[..., PI:] / np.maximum(totals[..., RATED], 1.0)[..., None]
    t_w = w.sum()
    if chance == "fleiss":
        p_e = np.einsum("...k,kl,...l->...", pi, w, pi)
    elif chance == "gwet":
        if q < 2:
            return np.full(p_a.shape, np.nan)
        p_e = t_w / (q * (q - 1.0)) * (pi * (1.0 - pi)).sum(axis=-1)
    else:
        p_e = np.full(p_a.shape, t_w / q**2)
    undefined = np.isclose(p_e, 1.0, rtol=0.0, atol=1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (p_a - p_e) / (1.0 - p_e)
    return np.asarray(np.where(undefined, np.nan, value), dtype=np.float64)


def percent_agreement_from_totals(totals: FloatArray, method: PercentMethod) -> FloatArray:
    """Percent agreement from summed unit features: ``pooled`` or ``unit_mean`` (Fleiss' P̄)."""
    if method == "pooled":
        return _ratio(totals[..., AGREEING_PAIRS], totals[..., ALL_PAIRS])
    return _ratio(totals[..., UNIT_AGREEMENT], totals[..., PAIRABLE])


def _coefficient(
    data: Any,
    weights: Any,
    categories: Sequence[Category] | None,
    distances: str,
    chance: Chance,
    what: str,
) -> float:
    table = code_table(data, categories)
    w = agreement_weights(weights, table.categories, distances=distances)
    counts = table_counts(table)
    require_pairable(counts, what=what)
    totals = unit_features(counts, w).sum(axis=0)
    return float(chance_corrected_from_totals(totals, w, chance))


def fleiss_kappa(
    data: Any,
    *,
    weights: Any = None,
    categories: Sequence[Category] | None = None,
    distances: str = "ranks",
) -> float:
    """Fleiss' kappa, generalised by Gwet to weights and unequal numbers of ratings per unit.

    Args:
        data: units × raters table, shape (U, R); ``None``/``NaN`` = missing.
        weights: ``None``, ``"linear"``, ``"quadratic"`` or a q × q agreement-weight matrix.
        categories: declared ordered categories; they fix q and the order of the ranks.
        distances: ``"ranks"`` (default: weights from the categories' positions in the
            declared order, as irrCAC with labelled categories) or ``"values"`` (the numeric
            category values, for interval or ratio scales, as irrCAC with numeric categories);
            see :mod:`connector.metrics.weights`.

    Returns:
        kappa; ``nan`` when chance agreement is 1 (every rating in one category: 0/0).

    Raises:
        InsufficientDataError: no unit has two ratings. OptionError: unknown weights.

    References:
        Fleiss (1971), doi:10.1037/h0031619; Gwet (2014), Handbook, §2.5 and §3.
    """
    return _coefficient(data, weights, categories, distances, "fleiss", "fleiss_kappa")


def gwet_ac1(
    data: Any,
    *,
    weights: Any = None,
    categories: Sequence[Category] | None = None,
    distances: str = "ranks",
) -> float:
    """Gwet's AC1 (AC2 when ``weights`` is given), for any number of raters per unit.

    Chance agreement ``p_e = T_w / (q (q − 1)) · Σ_k π_k (1 − π_k)``, so AC1 stays high when
    raters agree on a skewed distribution (where kappa collapses). ``distances`` as for
    :func:`fleiss_kappa`: ranks by default; irrCAC uses the values when the categories are
    numbers, which is ``distances="values"`` here.

    Returns:
        AC1/AC2; ``nan`` with a single category (q = 1, chance agreement undefined).

    Raises:
        InsufficientDataError: no unit has two ratings. OptionError: unknown weights.

    References:
        Gwet (2008), doi:10.1348/000711006X126600; Gwet (2014), Handbook, §4.
    """
    return _coefficient(data, weights, categories, distances, "gwet", "gwet_ac1")


def brennan_prediger(
    data: Any,
    *,
    weights: Any = None,
    categories: Sequence[Category] | None = None,
    distances: str = "ranks",
) -> float:
    """Brennan–Prediger coefficient: chance agreement ``T_w / q²`` (uniform over q categories).

    ``distances`` as for :func:`fleiss_kappa` (ranks by default).

    Returns ``nan`` when q = 1. Raises :class:`InsufficientDataError` with no pairable unit.

    References:
        Brennan & Prediger (1981), doi:10.1177/001316448104100307; Gwet (2014), §2.4.
    """
    return _coefficient(
        data, weights, categories, distances, "brennan_prediger", "brennan_prediger"
    )


def percent_agreement(
    data: Any,
    *,
    method: str = "pooled",
    weights: Any = None,
    categories: Sequence[Category] | None = None,
    distances: str = "ranks",
) -> float:
    """Observed agreement, without chance correction.

    Args:
        data: units × raters table, shape (U, R); ``None``/``NaN`` = missing.
        method: ``"pooled"``: agreeing pairs of judgments on the same unit divided by all such
            pairs, over all units (a unit with many raters weighs more), as in MT-Bench;
            ``"unit_mean"``: the mean over pairable units of each unit's agreement (Fleiss' P̄).
        weights: credit partial agreement (``"linear"``, ``"quadratic"``, or a matrix).
        distances: ``"ranks"`` (default) or ``"values"``, as for :func:`fleiss_kappa`.

    Raises:
        InsufficientDataError: no unit has two ratings. OptionError: unknown method/weights.
    """
    chosen = choose("method", method, PERCENT_METHODS)
    table = code_table(data, categories)
    w = agreement_weights(weights, table.categories, distances=distances)
    counts = table_counts(table)
    require_pairable(counts, what="percent_agreement")
    totals = unit_features(counts, w).sum(axis=0)
    return float(percent_agreement_from_totals(totals, chosen))
