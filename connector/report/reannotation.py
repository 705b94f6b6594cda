"""What re-annotation did to the agreement of the items pushed again: before and after.

For the items of every re-annotation round (:mod:`connector.calibration.reannotation`), per
dimension: Krippendorff's alpha with its bootstrap interval (the report's method, BCa by
default) and the mean per-item agreement, over the judgments made before (every judgment but
those in the items' new copies) and after (all of them). The coding rule is the report's
(:func:`connector.report.build.first_judgments`: each annotator's first judgment of an item).

The items were chosen *because* their agreement was low, so "before" is low by selection; part
of any rise is regression to the mean, not a better judgment. What the figures do show is
whether the added judgments settled the items (agreement after, and its interval).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from connector.metrics.agreement import Estimate, summarise_agreement
from connector.metrics.item_agreement import item_agreement
from connector.metrics.weights import agreement_weights, weights_for_level
from connector.report.build import ReportOptions, first_judgments
from connector.rubric import Rubric

__all__ = ["reannotation_section"]


def _value(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _estimate(estimate: Estimate, note: str | None) -> dict[str, Any]:
    lo, hi = estimate.ci95
    interval = [float(lo), float(hi)] if np.isfinite(lo) and np.isfinite(hi) else None
    entry: dict[str, Any] = {"value": _value(estimate.value), "ci95": interval}
    if interval is None and note is not None and entry["value"] is not None:
        entry["no_interval"] = note
    return entry


def _figures(
    frame: pd.DataFrame, rubric: Rubric, options: ReportOptions
) -> dict[str, dict[str, Any]]:
    """Per dimension of ``frame``: items, judgments, alpha with interval, mean item agreement."""
    if frame.empty:
        return {}
    coded = first_judgments(frame, rubric)
    found: dict[str, dict[str, Any]] = {}
    for dimension in rubric.dimensions:
        judgments = coded.dimensions.get(dimension.name)
        if judgments is None:
            continue
        counts = judgments.counts()
        level = weights_for_level(dimension.level)
        w = agreement_weights(level.name, list(dimension.values), distances=level.distances)
        summary = summarise_agreement(
            counts,
            categories=list(dimension.values),
            level=dimension.level,
            weights=w,
            resamples=options.resamples,
            seed=options.seed,
            confidence=options.confidence,
            interval_method=options.interval_method,
        )
        per_item = item_agreement(counts, w)
        found[dimension.name] = {
            "n_items": summary.n_items,
            "n_judgments": summary.n_judgments,
            "krippendorff_alpha": _estimate(summary.krippendorff_alpha, summary.interval_note),
            "mean_item_agreement": _value(float(np.nanmean(per_item)))
            if np.isfinite(per_item).any()
            else None,
        }
    return found


def reannotation_section(
    frame: pd.DataFrame,
    rubric: Rubric,
    copies: Collection[tuple[str, str]],
    *,
    options: ReportOptions | None = None,
) -> dict[str, Any] | None:
    """The report's ``reannotation`` section; None when no item was pushed again.

    Args:
        frame: the project's judgments (canonical table with ``batch``).
        copies: ``(batch id, item id)`` of every re-annotation copy pushed.
    """
    if not copies:
        return None
    options = options or ReportOptions()
    items = {item for _, item in copies}
    mine = frame.loc[frame["item_id"].astype(str).isin(items)].reset_index(drop=True)
    keys = pd.MultiIndex.from_arrays([mine["batch"].astype(object), mine["item_id"].astype(str)])
    in_copy = np.asarray(keys.isin(list(copies)), dtype=bool)
    rejudged = set(mine.loc[in_copy, "item_id"].astype(str))
    before = _figures(mine.loc[~in_copy], rubric, options)
    after = _figures(mine, rubric, options)
    return {
        "n_items": len(items),
        "n_items_rejudged": len(rejudged),
        "n_new_judgments": int(in_copy.sum()),
        "dimensions": {
            name: {"before": before.get(name), "after": figures} for name, figures in after.items()
        },
    }
