"""Where the re-test copies went: the share that reached the annotator who judged the original.

Neither platform can give a task to one annotator: a re-test copy (a second task for an item, role
``retest`` in its batch, :mod:`connector.calibration.batch`) reaches whoever picks it. A copy
yields a re-test pair only when its annotator also judged the item in another task; otherwise
it is one more annotator's first judgment of the item (it counts for inter-annotator agreement,
:mod:`connector.report.build`). Only the store knows which tasks are copies, so a report of a
judgments file has no such figures.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RetestReach", "retest_reach"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetestReach:
    """Judged re-test copies, counted once per (item, annotator) over dimensions.

    Attributes:
        n_judged: (item, annotator) pairs with a judgment in a re-test copy.
        n_same_annotator: of those, the pairs whose annotator also judged the item in another
            task (a re-test pair).
        annotator_judged: per annotator, their ``n_judged``.
        annotator_same: per annotator, their ``n_same_annotator``.
    """

    n_judged: int
    n_same_annotator: int
    annotator_judged: dict[str, int]
    annotator_same: dict[str, int]

    @property
    def share_same_annotator(self) -> float | None:
        """``n_same_annotator / n_judged``; None with no copy judged."""
        return self.n_same_annotator / self.n_judged if self.n_judged else None


def retest_reach(frame: pd.DataFrame, copies: Collection[tuple[str, str]]) -> RetestReach:
    """Count who judged the re-test copies.

    Args:
        frame: canonical judgments with ``batch`` (the batch id of the task judged).
        copies: the ``(batch id, item id)`` of every re-test copy (one task each: a batch shows
            an item in one role).
    """
    if frame.empty or not copies:
        return RetestReach(n_judged=0, n_same_annotator=0, annotator_judged={}, annotator_same={})
    keys = pd.MultiIndex.from_arrays(
        [frame["batch"].astype(object), frame["item_id"].astype(object)]
    )
    is_copy = np.asarray(keys.isin(list(copies)), dtype=bool)
    pairs = pd.DataFrame(
        {"item": frame["item_id"].astype(str), "annotator": frame["annotator"].astype(str)}
    )
    judged = pairs[is_copy].drop_duplicates()
    original = pairs[~is_copy].drop_duplicates()
    same = judged.merge(original, on=["item", "annotator"], how="inner")
    by_annotator = judged.groupby("annotator").size()
    same_by_annotator = same.groupby("annotator").size()
    return RetestReach(
        n_judged=len(judged),
        n_same_annotator=len(same),
        annotator_judged={str(k): int(v) for k, v in by_annotator.items()},
        annotator_same={str(k): int(same_by_annotator.get(k, 0)) for k in by_annotator.index},
    )
