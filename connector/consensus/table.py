"""The consensus table: one row per item, dimension and method, from a judgments table.

Judgments are coded with the rubric by the report's own rule
(:func:`connector.report.build.first_judgments`): one judgment per item and annotator (the
first; re-tests are left out), values checked against the dimension's values. Then each method
(:data:`METHODS`) gives every judged item a label, and a ruling (:mod:`.adjudication`) replaces
the label of its item and dimension.

Columns (:data:`CONSENSUS_COLUMNS`):

==================  =======================================================================
``item_id``         the item
``dimension``       the rubric dimension
``label``           the consensus value: the ruling if adjudicated, else the method's
                    label; empty when the method found a tie and there is no ruling
``method``          ``majority`` or ``dawid-skene``
``confidence``      majority: the top value's share of the votes; Dawid–Skene: its
                    posterior probability; empty on adjudicated rows (a ruling is not an
                    estimate) and on ties
``tied``            the method found two values equally supported (majority: equal top
                    counts; Dawid–Skene: posteriors within 1e-9); never broken silently
``n_judgments``     judgments counted (first per annotator)
``votes``           votes per value of the dimension, ``{value: count}``, every value listed
``soft_label``      per value: the vote share (majority) or the posterior (Dawid–Skene)
``adjudicated``     whether a ruling set ``label``
``method_label``    the method's own label (empty on a tie), to compare with a ruling
==================  =======================================================================

Values are JSON object keys in ``votes`` and ``soft_label``, so a value 4 is the key ``"4"``.

A signed preference scale (``signed: true``, e.g. -3 … 3) is decided in two steps, so that votes
-3, -2 and 3 give response_a rather than a three-way tie: each method decides the *side* from the
votes' signs (response_a, neither, response_b; ``soft_label`` is keyed ``a``, ``0`` and ``b``,
``confidence`` is the side's share or posterior), and ``label`` is the median of the winning
side's votes (the one nearer 0 when their number is even, so a strength is never overstated).
``votes`` still counts every value.

A ranking dimension (``kind: ranking``) is read through its derived dimensions
(:func:`connector.judgments.rankings.scoring_view`): each option's rank ``<name>.<option>`` and
the implied pairs ``<name>_pairs`` (items ``"<item> (<x> vs <y>)"``, values ``first``,
``second``, ``tie``) get rows of every method like any dimension (rulings name these derived
dimensions), and the ranking dimension itself gets one row per item with method ``mean-rank``:
the consensus ordering of the options by mean rank, ties as ties (:mod:`.ordering`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from connector.consensus.adjudication import Adjudication, resolve
from connector.consensus.dawid_skene import dawid_skene
from connector.consensus.majority import majority_vote
from connector.consensus.ordering import ordering_rows
from connector.judgments.rankings import scoring_view
from connector.metrics._options import choose
from connector.metrics.judgments import CodedJudgments
from connector.report.build import first_judgments
from connector.rubric import Dimension, Rubric

__all__ = ["CONSENSUS_COLUMNS", "METHODS", "Method", "consensus_table", "lower_median"]

Method = Literal["majority", "dawid-skene"]
METHODS: tuple[Method, ...] = ("majority", "dawid-skene")
CONSENSUS_COLUMNS = (
    "item_id",
    "dimension",
    "label",
    "method",
    "confidence",
    "tied",
    "n_judgments",
    "votes",
    "soft_label",
    "adjudicated",
    "method_label",
)


_Estimate = tuple[
    npt.NDArray[np.intp], npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.float64]
]


def _per_value(values: Sequence[Any], table: npt.NDArray[Any], *, integral: bool) -> list[Any]:
    """One ``{value: number}`` dict per row of ``table`` (n_rows, q)."""
    keys = [str(v) for v in values]
    rows = table.astype(np.int64 if integral else np.float64).tolist()
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _estimate(
    method: Method,
    judgments: CodedJudgments,
    counts: npt.NDArray[np.float64],
    judged: npt.NDArray[np.intp],
    *,
    max_iter: int,
    tol: float,
) -> _Estimate:
    """(label code or -1, tie, confidence, soft label) of each judged item."""
    if method == "majority":
        vote = majority_vote(counts[judged])
        return vote.label, vote.tie, vote.confidence, vote.shares
    fit = dawid_skene(
        judgments.item,
        judgments.annotator,
        judgments.value,
        n_items=judgments.n_items,
        n_annotators=judgments.n_annotators,
        q=judgments.q,
        max_iter=max_iter,
        tol=tol,
    )
    return fit.label[judged], fit.tie[judged], fit.confidence[judged], fit.posterior[judged]


def _sides(dimension: Dimension) -> tuple[list[str], npt.NDArray[np.intp]]:
    """A signed scale's sides (``a``, ``0`` if the scale has it, ``b``) and each value's side
    code."""
    names = ["a", *(["0"] if dimension.non_decisive else []), "b"]
    side = [dimension.response_of(v) or "0" for v in dimension.values]
    return names, np.array([names.index(s) for s in side], dtype=np.intp)


def _by_side(
    judgments: CodedJudgments, side_of: npt.NDArray[np.intp], n_sides: int
) -> CodedJudgments:
    return dataclasses.replace(judgments, value=side_of[judgments.value], q=n_sides)


def lower_median(
    counts: npt.NDArray[np.float64], order: npt.NDArray[np.intp]
) -> npt.NDArray[np.intp]:
    """Per row of ``counts`` (n_rows, q), the value code of the median vote, the values taken
    in ``order`` (value codes, shape (q,)); with an even number of votes the one earlier in
    ``order`` (the ceil(n/2)-th vote); -1 on a row without votes."""
    label = np.full(len(counts), -1, dtype=np.intp)
    ordered = counts[:, order]
    n = ordered.sum(axis=1)
    for row in np.flatnonzero(n > 0):
        position = int(np.searchsorted(np.cumsum(ordered[row]), np.ceil(n[row] / 2)))
        label[row] = order[position]
    return label


def _side_median(
    counts: npt.NDArray[np.float64],
    side_of: npt.NDArray[np.intp],
    side: npt.NDArray[np.intp],
    values: Sequence[Any],
) -> npt.NDArray[np.intp]:
    """Per item, the code of the median vote among the votes on ``side`` (-1 where ``side`` is
    -1); with an even number of such votes, the one nearer 0."""
    nearness = np.argsort(np.abs(np.asarray(values, dtype=np.float64)), kind="stable").astype(
        np.intp
    )
    on_side = np.where(side_of[None, :] == side[:, None], counts, 0.0)
    on_side[side < 0] = 0.0
    return lower_median(on_side, nearness)


def consensus_table(
    frame: pd.DataFrame,
    rubric: Rubric,
    *,
    methods: Iterable[str] = METHODS,
    adjudications: Iterable[Adjudication] = (),
    max_iter: int = 100,
    tol: float = 1e-6,
    only: Collection[str] | None = None,
) -> pd.DataFrame:
    """The consensus label of every judged item per dimension and method.

    Args:
        frame: canonical judgments (see :mod:`connector.judgments`).
        rubric: each dimension's values.
        methods: any of :data:`METHODS`.
        adjudications: rulings; an item ruled on but never judged on that dimension gets a row
            too (``n_judgments`` 0).
        max_iter, tol: Dawid–Skene's stopping rule (:func:`.dawid_skene`).
        only: the dimensions to give rows for (a ranking's derived names, such as
            ``order_pairs``, or the ranking's name for its ordering); ``None``: all.

    Raises:
        OptionError: an unknown method.
        JudgmentTableError: a dimension not in the rubric, a value outside its dimension's
            values, or a bad or conflicting ruling (the message names where).
    """
    chosen: list[Method] = list(dict.fromkeys(choose("method", m, METHODS) for m in methods))
    rankings = [d for d in rubric.dimensions if d.kind == "ranking"]
    if rankings:
        view = scoring_view(frame, rubric)
        frame, rubric = view.frame, view.rubric
    rulings = resolve(adjudications, rubric)
    coded = first_judgments(frame, rubric) if len(frame) else None
    parts: list[pd.DataFrame] = []
    for dimension in rubric.dimensions:
        if only is not None and dimension.name not in only:
            continue
        values = list(dimension.values)
        q = len(values)
        labels = np.asarray([*values, None], dtype=object)  # code -1 → None
        judgments = coded.dimensions.get(dimension.name) if coded else None
        ruled = {
            item: value for (item, dim), (value, _) in rulings.items() if dim == dimension.name
        }
        if judgments is None and not ruled:
            continue
        if judgments is not None and coded is not None:
            counts = judgments.counts()
            judged = np.flatnonzero(counts.sum(axis=1) > 0).astype(np.intp)
            item_ids = [str(i) for i in coded.item_ids[judged]]
        else:
            counts, judged, item_ids = np.zeros((0, q)), np.zeros(0, dtype=np.intp), []
        unjudged = sorted(set(ruled) - set(item_ids))
        n_unjudged = len(unjudged)
        votes = np.vstack([counts[judged], np.zeros((n_unjudged, q))])
        soft_keys: list[Any] = values
        if dimension.signed:
            soft_keys, side_of = _sides(dimension)
        for method in chosen:
            if judgments is not None and dimension.signed:
                by_side = _by_side(judgments, side_of, len(soft_keys))
                side, tie, confidence, soft = _estimate(
                    method, by_side, by_side.counts(), judged, max_iter=max_iter, tol=tol
                )
                label = _side_median(counts[judged], side_of, side, values)
            elif judgments is not None:
                label, tie, confidence, soft = _estimate(
                    method, judgments, counts, judged, max_iter=max_iter, tol=tol
                )
            else:
                label, tie = np.zeros(0, dtype=np.intp), np.zeros(0, dtype=bool)
                confidence, soft = np.zeros(0), np.zeros((0, len(soft_keys)))
            method_label = np.r_[labels[label], np.full(n_unjudged, None, dtype=object)]
            part = pd.DataFrame(
                {
                    "item_id": pd.Series([*item_ids, *unjudged], dtype=object),
                    "dimension": dimension.name,
                    "label": pd.Series(method_label, dtype=object),
                    "method": method,
                    "confidence": np.r_[
                        np.where(tie, np.nan, confidence), np.full(n_unjudged, np.nan)
                    ],
                    "tied": np.r_[tie, np.zeros(n_unjudged, dtype=bool)],
                    "n_judgments": votes.sum(axis=1).astype(np.int64),
                    "votes": _per_value(values, votes, integral=True),
                    "soft_label": _per_value(soft_keys, soft, integral=False) + [None] * n_unjudged,
                    "adjudicated": False,
                    "method_label": pd.Series(method_label, dtype=object),
                }
            )
            if ruled:
                rows = np.flatnonzero(part["item_id"].isin(list(ruled)).to_numpy())
                ruling = pd.Series(
                    [ruled[i] for i in part["item_id"].iloc[rows]], index=rows, dtype=object
                )
                part.loc[rows, "label"] = ruling
                part.loc[rows, "adjudicated"] = True
                part.loc[rows, "confidence"] = np.nan
            parts.append(part)
    if coded is not None:
        parts += [ordering_rows(coded, d) for d in rankings if only is None or d.name in only]
        parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CONSENSUS_COLUMNS})
    return pd.concat(parts, ignore_index=True)[list(CONSENSUS_COLUMNS)]
