"""All coefficients of one slice of judgments, with bootstrap intervals, from value counts.

This is what the report calls per dimension and per slice (category, rubric version, batch,
time window). Unlike the public coefficient functions, a slice with nothing pairable does not
raise: its figures are NaN and ``n_pairable_items`` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics.bootstrap import (
    DEFAULT_INTERVAL_METHOD,
    DEFAULT_RESAMPLES,
    IntervalMethod,
    acceleration,
    bca_interval,
    bootstrap_totals,
    check_interval_method,
    leave_one_out_totals,
    percentile_interval,
    unit_patterns,
)
from connector.metrics.krippendorff import alpha_from_coincidences, unit_coincidences
from connector.metrics.multirater import (
    ALL_PAIRS,
    chance_corrected_from_totals,
    percent_agreement_from_totals,
    unit_features,
)
from connector.metrics.table import Category
from connector.metrics.weights import Level, category_scores

__all__ = ["MIN_INTERVAL_ITEMS", "AgreementSummary", "Estimate", "summarise_agreement"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
NAN_PAIR = (float("nan"), float("nan"))

MIN_INTERVAL_ITEMS = 10
"""Bootstrap intervals need at least this many pairable items. Resampling a handful of items
says little about the population (3 items in perfect agreement give 1.000 [1.000, 1.000] in
every resample); below it the summary has no interval and ``interval_note`` says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """A point estimate and its bootstrap interval (NaNs when undefined).

    ``ci_method`` names how the interval was made: ``"bca"`` or ``"percentile"`` (asked for, or
    BCa undefined for this estimate, :func:`~connector.metrics.bootstrap.bca_interval`); None
    when there is no interval.
    """

    value: float
    ci95: tuple[float, float]
    ci_method: IntervalMethod | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementSummary:
    """Agreement of one slice of one dimension.

    ``percent_agreement`` counts exact agreement over unordered pairs of judgments on the same
    item (``n_pairs`` of them); the chance-corrected coefficients use ``weights``.
    """

    n_items: int
    n_pairable_items: int
    n_judgments: int
    krippendorff_alpha: Estimate
    fleiss_kappa: Estimate
    gwet_ac1: Estimate
    percent_agreement: float
    n_pairs: int
    interval_note: str | None = None


def summarise_agreement(
    counts: FloatArray,
    *,
    categories: Sequence[Category],
    level: Level,
    weights: FloatArray,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator | None = 0,
    confidence: float = 0.95,
    interval_method: IntervalMethod = DEFAULT_INTERVAL_METHOD,
) -> AgreementSummary:
    """Alpha, Fleiss' kappa, Gwet's AC1/AC2 with intervals, and percent agreement.

    Args:
        counts: per-item value counts, shape (U, q) (items with no judgment are ignored).
        categories: the q ordered categories.
        level: Krippendorff's level of measurement.
        weights: agreement weights for Fleiss and Gwet, shape (q, q).
        resamples: bootstrap resamples of items (0 for no intervals). Below
            :data:`MIN_INTERVAL_ITEMS` pairable items there are no intervals either.
        interval_method: ``"bca"`` (default; holds its coverage at 50 items) or
            ``"percentile"``. Where BCa is undefined for an estimate and the percentile
            interval is not, the estimate gets the percentile one and says so (``ci_method``).

    Raises:
        OptionError: an unknown ``interval_method`` (the message lists the valid ones).
    """
    interval_method = check_interval_method(interval_method)
    q = len(categories)
    rated = counts.sum(axis=1) > 0
    patterns = unit_patterns(counts[rated])
    n_pairable = int(patterns.multiplicity[patterns.counts.sum(axis=1) >= 2].sum())
    exact = np.eye(q)
    # One feature table for every coefficient: coincidences | weighted features | exact features.
    blocks = [
        unit_coincidences(patterns.counts).reshape(len(patterns.multiplicity), q * q),
        unit_features(patterns.counts, weights),
        unit_features(patterns.counts, exact),
    ]
    widths = np.cumsum([0] + [b.shape[1] for b in blocks])
    features = np.hstack(blocks)
    scores = category_scores(categories)

    def estimates(totals: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        o = totals[..., widths[0] : widths[1]].reshape(*totals.shape[:-1], q, q)
        weighted = totals[..., widths[1] : widths[2]]
        plain = totals[..., widths[2] : widths[3]]
        return (
            alpha_from_coincidences(o, level, scores),
            chance_corrected_from_totals(weighted, weights, "fleiss"),
            chance_corrected_from_totals(weighted, weights, "gwet"),
            percent_agreement_from_totals(plain, "pooled"),
        )

    point_totals = patterns.multiplicity @ features
    alpha, fleiss, ac1, pooled = (float(x) for x in estimates(point_totals))
    n_pairs = round(float(point_totals[widths[2] + ALL_PAIRS]) / 2.0)
    intervals = [NAN_PAIR, NAN_PAIR, NAN_PAIR]
    methods: list[IntervalMethod | None] = [None, None, None]
    note = None
    if resamples > 0 and 0 < n_pairable < MIN_INTERVAL_ITEMS:
        note = (
            f"{n_pairable} pairable item{'s' if n_pairable != 1 else ''}: an interval needs at "
            f"least {MIN_INTERVAL_ITEMS}"
        )
    if resamples > 0 and n_pairable >= MIN_INTERVAL_ITEMS:
        boot = bootstrap_totals(features, patterns.multiplicity, resamples=resamples, seed=seed)
        samples = estimates(boot)[:3]
        if interval_method == "bca":
            jackknife = estimates(leave_one_out_totals(features, patterns.multiplicity))
            for k, point in enumerate((alpha, fleiss, ac1)):
                accel = acceleration(jackknife[k], patterns.multiplicity)
                intervals[k] = bca_interval(samples[k], point, accel, confidence=confidence)
                methods[k] = "bca"
        for k, sample in enumerate(samples):
            if methods[k] is None or not np.isfinite(intervals[k]).all():
                intervals[k] = percentile_interval(sample, confidence=confidence)
                methods[k] = "percentile"
            if not np.isfinite(intervals[k]).all():
                methods[k] = None
    if n_pairable == 0:
        alpha = fleiss = ac1 = pooled = float("nan")
    return AgreementSummary(
        n_items=patterns.n_units,
        n_pairable_items=n_pairable,
        n_judgments=int(counts.sum()),
        krippendorff_alpha=Estimate(value=alpha, ci95=intervals[0], ci_method=methods[0]),
        fleiss_kappa=Estimate(value=fleiss, ci95=intervals[1], ci_method=methods[1]),
        gwet_ac1=Estimate(value=ac1, ci95=intervals[2], ci_method=methods[2]),
        percent_agreement=pooled,
        n_pairs=n_pairs,
        interval_note=note,
    )
