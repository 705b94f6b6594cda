"""Compare two rubric versions on matched items: alpha per dimension under each version and
the difference (new − old) with a paired bootstrap interval over items.

Matched items are the items judged under both versions (at least two first judgments each, so
each version's alpha has a coincidence there). Resampling is paired: one bootstrap draw of
matched items gives both versions' alpha, so the interval of the difference accounts for the
items being the same (the item-to-item variation common to both cancels). Intervals are BCa
(:mod:`connector.metrics.bootstrap`), falling back to the percentile interval where BCa is
undefined (every resample on one side of the estimate); ``ci_method`` says which.

Dimensions are matched by name. A dimension only in the old version whose question text is
identical to that of exactly one dimension only in the new version (and no other old-only
dimension asks the same) is taken as renamed and compared under both names. A matching scale
alone is not taken as a rename (two different questions on a 3-point scale are not the same
dimension). Every other dimension present in one version only is listed as removed or added,
never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from connector.metrics.agreement import MIN_INTERVAL_ITEMS
from connector.metrics.bootstrap import (
    DEFAULT_RESAMPLES,
    IntervalMethod,
    bootstrap_interval,
)
from connector.metrics.krippendorff import alpha_from_coincidences, unit_coincidences
from connector.metrics.weights import category_scores
from connector.report.build import first_judgments
from connector.rubric import Dimension, Rubric

__all__ = [
    "DimensionComparison",
    "VersionComparison",
    "compare_versions",
    "describe",
    "matched_dimensions",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
_NAN = float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class DimensionComparison:
    """One dimension compared on its matched items.

    ``old_name`` differs from ``name`` for a renamed dimension. Alpha values are NaN when
    undefined (no variation, or no matched item); the intervals are NaN below
    :data:`~connector.metrics.agreement.MIN_INTERVAL_ITEMS` matched items (``note`` says so).
    """

    name: str
    old_name: str
    n_matched_items: int
    alpha_old: float
    alpha_new: float
    difference: float
    difference_ci95: tuple[float, float]
    ci_method: IntervalMethod | None
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "dimension": self.name,
            "old_name": self.old_name,
            "n_matched_items": self.n_matched_items,
            "alpha_old": _num(self.alpha_old),
            "alpha_new": _num(self.alpha_new),
            "difference": _num(self.difference),
            "difference_ci95": [_num(v) for v in self.difference_ci95],
            "ci_method": self.ci_method,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionComparison:
    """The new version against the old on matched items, dimension by dimension."""

    old_ref: str
    new_ref: str
    dimensions: tuple[DimensionComparison, ...]
    renamed: tuple[tuple[str, str], ...]
    removed: tuple[str, ...]
    added: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "old": self.old_ref,
            "new": self.new_ref,
            "dimensions": [d.as_json() for d in self.dimensions],
            "renamed": [{"old": old, "new": new} for old, new in self.renamed],
            "removed": list(self.removed),
            "added": list(self.added),
        }


def _fmt(value: float, spec: str = ".3f") -> str:
    return format(value, spec) if np.isfinite(value) else "—"


def _num(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def matched_dimensions(
    old: Rubric, new: Rubric
) -> tuple[list[tuple[Dimension, Dimension]], list[str], list[str]]:
    """Pairs (old dimension, new dimension) to compare, and the names removed and added.

    Same name first; then, among the rest, identical question text when exactly one old and one
    new dimension ask it."""
    new_by_name = {d.name: d for d in new.dimensions}
    pairs = [(d, new_by_name[d.name]) for d in old.dimensions if d.name in new_by_name]
    old_rest = [d for d in old.dimensions if d.name not in new_by_name]
    new_rest = [d for d in new.dimensions if d.name not in {o.name for o in old.dimensions}]
    for o in list(old_rest):
        same_old = [x for x in old_rest if x.question == o.question]
        same_new = [x for x in new_rest if x.question == o.question]
        if len(same_old) == 1 and len(same_new) == 1:
            pairs.append((o, same_new[0]))
            old_rest.remove(o)
            new_rest.remove(same_new[0])
    return pairs, [d.name for d in old_rest], [d.name for d in new_rest]


def _per_item_counts(
    frame: pd.DataFrame, rubric: Rubric, dimension: str
) -> tuple[npt.NDArray[Any], FloatArray]:
    """Item ids and per-item value counts of one dimension's first judgments."""
    coded = first_judgments(frame[frame["dimension"] == dimension], rubric)
    judgments = coded.dimensions.get(dimension)
    if judgments is None:
        return np.zeros(0, dtype=object), np.zeros((0, len(rubric.dimension(dimension).values)))
    return coded.item_ids, judgments.counts()


def compare_versions(
    old_frame: pd.DataFrame,
    old: Rubric,
    new_frame: pd.DataFrame,
    new: Rubric,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> VersionComparison:
    """Alpha of each version on the matched items of each dimension and their difference.

    Args:
        old_frame: canonical judgments made under ``old`` (gold items left out by the caller).
        new_frame: canonical judgments made under ``new``.
        resamples: bootstrap resamples of matched items.
    """
    pairs, removed, added = matched_dimensions(old, new)
    compared = []
    for old_dim, new_dim in pairs:
        old_items, old_counts = _per_item_counts(old_frame, old, old_dim.name)
        new_items, new_counts = _per_item_counts(new_frame, new, new_dim.name)
        old_pairable = {
            item: row for item, row in zip(old_items, old_counts, strict=True) if row.sum() >= 2
        }
        new_pairable = {
            item: row for item, row in zip(new_items, new_counts, strict=True) if row.sum() >= 2
        }
        matched = sorted(set(old_pairable) & set(new_pairable), key=str)
        compared.append(
            _compare_dimension(
                old_dim,
                new_dim,
                np.array([old_pairable[i] for i in matched]).reshape(
                    len(matched), len(old_dim.values)
                ),
                np.array([new_pairable[i] for i in matched]).reshape(
                    len(matched), len(new_dim.values)
                ),
                resamples=resamples,
                seed=seed,
            )
        )
    return VersionComparison(
        old_ref=old.ref,
        new_ref=new.ref,
        dimensions=tuple(compared),
        renamed=tuple((o.name, n.name) for o, n in pairs if o.name != n.name),
        removed=tuple(removed),
        added=tuple(added),
    )


def _alpha(dimension: Dimension) -> Any:
    scores = category_scores(list(dimension.values))
    q = len(dimension.values)

    def alpha(coincidence_totals: FloatArray) -> FloatArray:
        o = coincidence_totals.reshape(*coincidence_totals.shape[:-1], q, q)
        return alpha_from_coincidences(o, dimension.level, scores)

    return alpha


def _compare_dimension(
    old: Dimension,
    new: Dimension,
    old_counts: FloatArray,
    new_counts: FloatArray,
    *,
    resamples: int,
    seed: int,
) -> DimensionComparison:
    n = old_counts.shape[0]
    q_old, q_new = len(old.values), len(new.values)
    old_features = unit_coincidences(old_counts.astype(np.float64)).reshape(n, q_old * q_old)
    new_features = unit_coincidences(new_counts.astype(np.float64)).reshape(n, q_new * q_new)
    features = np.hstack([old_features, new_features])
    alpha_old, alpha_new = _alpha(old), _alpha(new)
    split = q_old * q_old

    def difference(totals: FloatArray) -> FloatArray:
        result: FloatArray = alpha_new(totals[..., split:]) - alpha_old(totals[..., :split])
        return result

    totals = features.sum(axis=0)
    point_old = float(alpha_old(totals[:split])) if n else _NAN
    point_new = float(alpha_new(totals[split:])) if n else _NAN
    interval: tuple[float, float] = (_NAN, _NAN)
    method: IntervalMethod | None = None
    note = None
    if n < MIN_INTERVAL_ITEMS:
        note = f"{n} matched item(s): an interval needs at least {MIN_INTERVAL_ITEMS}"
    elif resamples > 0:
        ones = np.ones(n)
        interval = bootstrap_interval(
            difference, features, ones, method="bca", resamples=resamples, seed=seed
        )
        method = "bca"
        if not np.isfinite(interval).all():
            interval = bootstrap_interval(
                difference, features, ones, method="percentile", resamples=resamples, seed=seed
            )
            method = "percentile" if np.isfinite(interval).all() else None
    return DimensionComparison(
        name=new.name,
        old_name=old.name,
        n_matched_items=n,
        alpha_old=point_old,
        alpha_new=point_new,
        difference=point_new - point_old,
        difference_ci95=interval,
        ci_method=method,
        note=note,
    )


def describe(comparison: VersionComparison) -> Sequence[str]:
    """Lines for a console or Markdown report."""
    lines = [f"{comparison.new_ref} against {comparison.old_ref} on matched items:"]
    for d in comparison.dimensions:
        low, high = d.difference_ci95
        name = d.name if d.old_name == d.name else f"{d.name} (was {d.old_name})"
        interval = f" [{low:+.3f}, {high:+.3f}]" if np.isfinite([low, high]).all() else ""
        lines.append(
            f"  {name}: {d.n_matched_items} matched items, alpha {_fmt(d.alpha_old)} → "
            f"{_fmt(d.alpha_new)}, difference {_fmt(d.difference, '+.3f')}{interval}"
            + (f" ({d.note})" if d.note else "")
        )
    for old, new in comparison.renamed:
        lines.append(f"  renamed: {old} → {new} (compared under both names)")
    for name in comparison.removed:
        lines.append(f"  removed in {comparison.new_ref}: {name} (not compared)")
    for name in comparison.added:
        lines.append(f"  added in {comparison.new_ref}: {name} (no earlier judgments to compare)")
    return lines
