"""The strength of a consensus preference, from the annotators who preferred the same response.

A rubric may ask the strength of a preference as its own rating (a numeric dimension named
``strength``, e.g. 1–3 in ``rubrics/rlhf-pairwise/v2.yaml``). An annotator who preferred
response_b says how much *b* is better; counting that vote in the strength of a consensus for
response_a would turn disagreement into a margin. So the strength of an item whose consensus
chooses a response is the median of the strength votes of the annotators whose own (first)
preference chose that same response; on an even number of such votes, the one nearer the low end
of the scale (the lower median), so a strength is never overstated: the rule of a signed scale's
consensus (:func:`connector.consensus.table.lower_median`).

Votes are the report's first judgments (:func:`connector.report.build.first_judgments`): one per
item and annotator, re-tests left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from connector.consensus.table import lower_median
from connector.metrics.table import value_counts
from connector.report.build import first_judgments
from connector.rubric import Dimension, Rubric

__all__ = ["side_strengths"]


def side_strengths(
    frame: pd.DataFrame,
    rubric: Rubric,
    *,
    preference: Dimension,
    strength: Dimension,
    chosen: Mapping[str, str],
) -> dict[str, Any]:
    """Per item of ``chosen`` (item id → ``"a"`` or ``"b"``, the consensus side), the median
    strength vote of the annotators whose first ``preference`` judgment chose that side (the
    lower median on an even count); items without such a vote are left out.

    Raises:
        JudgmentTableError: a value outside its dimension's values (as the report's coding).
    """
    if not chosen or not len(frame):
        return {}
    coded = first_judgments(frame, rubric)
    prefer = coded.dimensions.get(preference.name)
    rated = coded.dimensions.get(strength.name)
    if prefer is None or rated is None:
        return {}
    n_annotators = len(coded.annotators)
    side_of_value = np.array(
        [preference.response_of(v) or "" for v in preference.values], dtype=object
    )
    # each (item, annotator)'s preferred side, "" where none
    side = np.full(len(coded.item_ids) * n_annotators, "", dtype=object)
    side[prefer.item * n_annotators + prefer.annotator] = side_of_value[prefer.value]
    wanted = np.array([chosen.get(str(i), "-") for i in coded.item_ids], dtype=object)
    same = side[rated.item * n_annotators + rated.annotator] == wanted[rated.item]
    counts = value_counts(
        rated.item[same], rated.value[same], n_units=len(coded.item_ids), q=rated.q
    )
    order = np.argsort(np.asarray(strength.values, dtype=np.float64), kind="stable").astype(np.intp)
    codes = lower_median(counts, order)
    return {str(coded.item_ids[i]): strength.values[codes[i]] for i in np.flatnonzero(codes >= 0)}
