"""Each annotator's streams of right/wrong judgments, for the CUSUM chart and the lifecycle.

Two streams per annotator, each a 0/1 array in ``submitted_at`` order:

- **gold**: 1 where a judgment of a gold item equals the gold value, 0 where it does not;
- **consensus**: 1 where a judgment equals the strict majority of the *other* annotators of
  the item on that dimension, 0 where it does not; judgments whose item has fewer than
  ``min_others`` other judgments, or whose others hold no strict majority (more than half of
  them), are left out. (The report's ``leave_one_out`` uses the plurality instead; a strict
  majority is the firmer reference for a chart that may put someone on probation.)

Only an annotator's first judgment of an item on a dimension counts (re-tests are consistency
evidence, not new gold evidence), as in the report. The chart and its design are
:mod:`connector.metrics.cusum`; :func:`gold_design` and :func:`consensus_design` set it from the
rubric's thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from connector.metrics.cusum import DEFAULT_ARL0, DriftDesign, design
from connector.rubric import Rubric

__all__ = [
    "Stream",
    "consensus_design",
    "consensus_streams",
    "gold_design",
    "gold_streams",
    "pool_rate",
]

IntArray: TypeAlias = npt.NDArray[np.int64]
ObjectArray: TypeAlias = npt.NDArray[np.object_]


def gold_design(rubric: Rubric, *, arl0: float = DEFAULT_ARL0) -> DriftDesign:
    """The gold chart: ``p0`` = qualify threshold, ``p1`` = retrain threshold of the rubric."""
    t = rubric.thresholds
    return design(t.qualify_gold_accuracy, t.retrain_gold_accuracy, arl0=arl0)


def consensus_design(
    pool_rate: float, rubric: Rubric, *, arl0: float = DEFAULT_ARL0
) -> DriftDesign | None:
    """The consensus chart: ``p0`` = the pool's agreement with consensus (to 0.01), ``p1`` =
    ``p0`` minus the rubric's qualify - retrain gap; None when that leaves no valid pair."""
    t = rubric.thresholds
    gap = t.qualify_gold_accuracy - t.retrain_gold_accuracy
    p0 = round(min(max(pool_rate, 0.0), 0.99), 2)
    p1 = round(p0 - gap, 4)
    if not (0.0 < p1 < p0 < 1.0):
        return None
    return design(p0, p1, arl0=arl0)


# --- streams from a judgments table ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Stream:
    """One annotator's 0/1 outcomes, oldest first; every array has shape (N,).

    Attributes:
        annotator: who judged.
        successes: 1 right (equals gold / the others' majority), 0 wrong; int8.
        item_id, dimension, batch: where each judgment comes from (``batch`` None if unknown).
        submitted_at: when it was submitted (NaT if unknown), datetime64[ns] in UTC.
    """

    annotator: str
    successes: npt.NDArray[np.int8]
    item_id: ObjectArray
    dimension: ObjectArray
    batch: ObjectArray
    submitted_at: npt.NDArray[np.datetime64]

    def __len__(self) -> int:
        return int(self.successes.shape[0])

    @property
    def correct(self) -> int:
        return int(self.successes.sum())

    def select(self, mask: npt.NDArray[np.bool_]) -> Stream:
        """The judgments where ``mask`` is true, order kept."""
        return Stream(
            annotator=self.annotator,
            successes=self.successes[mask],
            item_id=self.item_id[mask],
            dimension=self.dimension[mask],
            batch=self.batch[mask],
            submitted_at=self.submitted_at[mask],
        )

    @classmethod
    def empty(cls, annotator: str) -> Stream:
        return cls(
            annotator=annotator,
            successes=np.zeros(0, dtype=np.int8),
            item_id=np.empty(0, dtype=object),
            dimension=np.empty(0, dtype=object),
            batch=np.empty(0, dtype=object),
            submitted_at=np.empty(0, dtype="datetime64[ns]"),
        )


def _value_key(value: Any) -> Any:
    """Compare values as the rubric does: 3, 3.0 and "3" are the same rating."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _value_keys(values: pd.Series) -> npt.NDArray[np.object_]:
    """:func:`_value_key` of every value, computed once per distinct value (and type)."""
    seen: dict[tuple[type, Any], Any] = {}
    keys = np.empty(len(values), dtype=object)
    for index, value in enumerate(values.to_numpy(dtype=object)):
        marker = (type(value), value)
        try:
            keys[index] = seen[marker]
        except KeyError:
            keys[index] = seen[marker] = _value_key(value)
        except TypeError:  # unhashable: a list or dict value
            keys[index] = _value_key(value)
    return keys


def _primary(frame: pd.DataFrame) -> pd.DataFrame:
    """First judgment per (item, dimension, annotator) by ``submitted_at``, rows sorted by time."""
    missing = [c for c in ("item_id", "annotator", "dimension", "value") if c not in frame]
    if missing:
        raise ValueError(f"the judgments table lacks column(s) {missing}; see judgments.COLUMNS")
    table = pd.DataFrame(
        {
            "item_id": frame["item_id"].astype(str).to_numpy(dtype=object),
            "annotator": frame["annotator"].astype(str).to_numpy(dtype=object),
            "dimension": frame["dimension"].astype(str).to_numpy(dtype=object),
            "value": _value_keys(frame["value"]),
            "gold": (
                _value_keys(frame["gold_value"])
                if "gold_value" in frame
                else np.full(len(frame), None, dtype=object)
            ),
            "batch": (
                frame["batch"].to_numpy(dtype=object)
                if "batch" in frame
                else np.full(len(frame), None, dtype=object)
            ),
            "submitted_at": (
                pd.to_datetime(frame["submitted_at"], utc=True)
                if "submitted_at" in frame
                else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
            ).to_numpy(),
            "row": np.arange(len(frame)),
        }
    )
    table = table[table["value"].notna()]
    table = table.sort_values(
        ["submitted_at", "item_id", "dimension", "row"], na_position="first", kind="stable"
    )
    return table.drop_duplicates(["item_id", "dimension", "annotator"], keep="first")


def _streams(table: pd.DataFrame, outcome: npt.NDArray[np.int8]) -> dict[str, Stream]:
    streams: dict[str, Stream] = {}
    annotators = table["annotator"].to_numpy(dtype=object)
    names, codes = np.unique(annotators.astype(str), return_inverse=True)
    order = np.argsort(codes, kind="stable")  # table is in time order; keep it per annotator
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    item = table["item_id"].to_numpy(dtype=object)
    dimension = table["dimension"].to_numpy(dtype=object)
    batch = np.array([None if pd.isna(b) else str(b) for b in table["batch"]], dtype=object)
    when = np.asarray(table["submitted_at"].to_numpy(dtype="datetime64[ns]"))
    for index, name in enumerate(names):
        rows = order[bounds[index] : bounds[index + 1]]
        streams[str(name)] = Stream(
            annotator=str(name),
            successes=outcome[rows],
            item_id=item[rows],
            dimension=dimension[rows],
            batch=batch[rows],
            submitted_at=when[rows],
        )
    return streams


def gold_streams(frame: pd.DataFrame) -> dict[str, Stream]:
    """Each annotator's gold correctness over all dimensions, in ``submitted_at`` order.

    ``frame`` is a canonical judgments table (:data:`connector.judgments.COLUMNS`); judgments
    without a ``gold_value`` are left out. Annotators with no gold judgment are absent.
    """
    if "gold_value" not in frame:
        return {}
    # Every judgment of a gold item carries its gold value: keep those rows before the first-
    # judgment pass (a tenth of a typical table), which then picks the same rows.
    table = _primary(frame[frame["gold_value"].notna()])
    table = table[table["gold"].notna()]
    if table.empty:
        return {}
    outcome = table["value"].to_numpy(dtype=object) == table["gold"].to_numpy(dtype=object)
    return _streams(table, outcome.astype(np.int8))


def consensus_streams(frame: pd.DataFrame, *, min_others: int = 2) -> dict[str, Stream]:
    """Each annotator's agreement with the strict majority of the other annotators.

    A judgment scores 1 when more than half of the other annotators of its item and dimension
    gave the same value, 0 when more than half gave one other value, and is left out when
    fewer than ``min_others`` others judged the item or no value holds such a majority.

    Raises:
        ValueError: ``min_others`` is below 1.
    """
    if min_others < 1:
        raise ValueError(f"min_others must be at least 1; got {min_others}")
    table = _primary(frame)
    if table.empty:
        return {}
    group = pd.factorize(pd.MultiIndex.from_arrays([table["item_id"], table["dimension"]]))[0]
    value = pd.factorize(table["value"].astype(str))[0]
    n_values = int(value.max()) + 1 if value.size else 1
    cell = group.astype(np.int64) * n_values + value
    cells, cell_of, cell_count = np.unique(cell, return_inverse=True, return_counts=True)
    size = np.bincount(group, minlength=int(group.max()) + 1 if group.size else 0)
    # the two largest value counts of every (item, dimension) group
    cell_group = cells // n_values
    by_count = np.lexsort((-cell_count, cell_group))
    sorted_group = cell_group[by_count]
    first = np.ones(len(by_count), dtype=bool)
    first[1:] = sorted_group[1:] != sorted_group[:-1]
    top = np.zeros(len(size), dtype=np.int64)
    top[sorted_group[first]] = cell_count[by_count][first]
    second_pos = np.flatnonzero(~first & np.concatenate(([False], first[:-1])))
    runner_up = np.zeros(len(size), dtype=np.int64)
    runner_up[sorted_group[second_pos]] = cell_count[by_count][second_pos]
    own = cell_count[cell_of]
    others = size[group] - 1
    with_own = own - 1  # the others who gave this judgment's value
    best_other = np.where(own == top[group], runner_up[group], top[group])
    agrees = 2 * with_own > others
    disagrees = 2 * best_other > others
    keep = (others >= min_others) & (agrees | disagrees)
    return _streams(table[keep], agrees[keep].astype(np.int8))


def pool_rate(streams: Mapping[str, Stream]) -> float | None:
    """Share of successes over every stream (None when there are no judgments)."""
    total = sum(len(s) for s in streams.values())
    return sum(s.correct for s in streams.values()) / total if total else None
