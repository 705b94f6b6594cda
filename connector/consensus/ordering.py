"""The consensus ordering of a ranking dimension's options per item: by mean rank.

A ranking is scored through derived dimensions (:func:`connector.judgments.rankings.scoring_view`):
``<name>.<option>``, each option's rank (1 = best, tied options share the mean of the ranks
they span). Per item, each option's consensus rank is the mean of its ranks over the item's first
rankings that rank it (one per annotator: :func:`connector.report.build.first_judgments`), and
the consensus ordering sorts the options by that mean, best first, written as a ranking value
(``"b>a=c>d"``). Options whose mean ranks are equal (within 1e-9) are tied (``=``), never
ordered silently; an option no ranking of the item ranks is left out of the ordering.

On complete rankings the mean rank orders the options as the Borda count does (a Borda score is
``k`` minus the rank), so this is the Borda ordering.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from connector.judgments.rankings import RANK_SEPARATOR, TIE_SEPARATOR
from connector.report.build import FirstJudgments
from connector.rubric import Dimension

__all__ = ["ORDERING_METHOD", "ordering_rows"]

ORDERING_METHOD = "mean-rank"
_EQUAL = 1e-9


def _ordering(means: dict[str, float]) -> tuple[str, bool]:
    """The options of ``means`` (option → mean rank) best first, ``=`` between equal means;
    and whether any two are tied."""
    ranked = sorted(means.items(), key=lambda kv: kv[1])
    tiers: list[list[str]] = []
    last = np.nan
    for option, mean in ranked:
        if tiers and abs(mean - last) <= _EQUAL:
            tiers[-1].append(option)
        else:
            tiers.append([option])
        last = mean
    text = RANK_SEPARATOR.join(TIE_SEPARATOR.join(tier) for tier in tiers)
    return text, any(len(tier) > 1 for tier in tiers)


def ordering_rows(coded: FirstJudgments, dimension: Dimension) -> pd.DataFrame:
    """One row per item ranked on ``dimension`` (a ranking): columns as the consensus table's
    (:data:`connector.consensus.table.CONSENSUS_COLUMNS`), ``method`` :data:`ORDERING_METHOD`,
    ``label`` the ordering, ``tied`` whether it ties two options, ``n_judgments`` the item's
    first rankings, ``votes`` per option how many of them rank it, ``soft_label`` per option
    its mean rank, ``confidence`` empty (a mean rank is no probability).

    ``coded`` holds the first judgments of the scoring view (the derived ``<name>.<option>``
    dimensions).
    """
    n_items = len(coded.item_ids)
    options = [str(o) for o in dimension.values]
    sums = np.zeros((n_items, len(options)))
    counts = np.zeros((n_items, len(options)))
    seen = np.zeros((n_items, len(coded.annotators)), dtype=bool)
    for j, option in enumerate(options):
        found = coded.dimensions.get(f"{dimension.name}.{option}")
        if found is None:
            continue
        # the derived dimension's values are the ranks 1, 1.5, 2, ..., k (value code h: 1 + h/2)
        ranks = 1 + found.value / 2
        np.add.at(sums[:, j], found.item, ranks)
        np.add.at(counts[:, j], found.item, 1)
        seen[found.item, found.annotator] = True
    rankings = seen.sum(axis=1)
    rows: list[dict[str, Any]] = []
    for i in np.flatnonzero(rankings > 0):
        ranked = counts[i] > 0
        means = {options[j]: float(sums[i, j] / counts[i, j]) for j in np.flatnonzero(ranked)}
        label, tied = _ordering(means)
        rows.append(
            {
                "item_id": str(coded.item_ids[i]),
                "dimension": dimension.name,
                "label": label,
                "method": ORDERING_METHOD,
                "confidence": np.nan,
                "tied": tied,
                "n_judgments": int(rankings[i]),
                "votes": {o: int(c) for o, c in zip(options, counts[i], strict=True)},
                "soft_label": means,
                "adjudicated": False,
                "method_label": label,
            }
        )
    return pd.DataFrame(rows)
