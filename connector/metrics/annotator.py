"""Per-annotator figures: agreement with each peer, with the majority of the others, with gold.

Every figure is computed for all annotators at once from integer codes: contingency tables are
``bincount``s over ``annotator · q² + x · q + y`` and kappas are vectorised over annotators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics.cohen import kappa_from_tables
from connector.metrics.judgments import CodedJudgments, group_pairs
from connector.metrics.stats import Z95, wilson_interval

__all__ = [
    "GoldScores",
    "LeaveOneOut",
    "PeerAgreement",
    "PeerComparison",
    "gold_scores",
    "leave_one_out",
    "non_decisive_rates",
    "peer_agreement",
    "peer_comparison",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]
BoolArray: TypeAlias = npt.NDArray[np.bool_]


def _tables(group: IntArray, x: IntArray, y: IntArray, n_groups: int, q: int) -> FloatArray:
    """Contingency tables of (x, y) per group, shape (n_groups, q, q)."""
    flat = np.bincount((group * q + x) * q + y, minlength=n_groups * q * q)
    return np.asarray(flat.reshape(n_groups, q, q), dtype=np.float64)


def _distinct_keys(
    key: npt.NDArray[np.int64], bound: int
) -> tuple[npt.NDArray[np.int64], IntArray]:
    """``np.unique(key, return_inverse=True)`` for keys in ``0..bound-1``: by counting when the
    range is not much larger than the keys (no sort), else by sorting."""
    if bound > max(4 * len(key), 1 << 16):
        keys, inverse = np.unique(key, return_inverse=True)
        return keys, inverse.reshape(-1).astype(np.intp)
    seen = np.bincount(key, minlength=bound) > 0
    rank = np.cumsum(seen) - 1
    return np.flatnonzero(seen).astype(np.int64), rank[key].astype(np.intp)


def _share(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(den > 0, num / np.where(den > 0, den, 1), np.nan))


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerAgreement:
    """Agreement between co-annotators of the same items.

    Per pair of annotators (``first < second``, arrays of shape (P,)): items both judged, share
    of them with the same value, and Cohen's kappa. Per annotator (shape (A,)): pairs with any
    peer, the share that agree, and the kappa of the annotator's values against their peers'.
    """

    first: IntArray
    second: IntArray
    shared_items: IntArray
    pair_agreement: FloatArray
    pair_kappa: FloatArray
    n_pairs: IntArray
    agreement: FloatArray
    kappa: FloatArray


def peer_agreement(judgments: CodedJudgments, w: FloatArray) -> PeerAgreement:
    """Pairwise agreement with every co-annotator, and pooled per annotator.

    Args:
        judgments: one dimension's judgments, one per (item, annotator).
        w: agreement weights for the kappas, shape (q, q).
    """
    j, q, n_ann = judgments, judgments.q, judgments.n_annotators
    x, y = group_pairs(j.item)
    a, b = j.annotator[x], j.annotator[y]
    va, vb = j.value[x], j.value[y]
    swap = a > b
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    va, vb = np.where(swap, vb, va), np.where(swap, va, vb)
    keys, pair_index = _distinct_keys(a.astype(np.int64) * n_ann + b, n_ann * n_ann)
    tables = _tables(pair_index, va, vb, len(keys), q)
    shared = tables.sum(axis=(1, 2))
    agreeing = np.trace(tables, axis1=1, axis2=2)
    own = np.concatenate([a, b])
    mine, theirs = np.concatenate([va, vb]), np.concatenate([vb, va])
    per_annotator = _tables(own, mine, theirs, n_ann, q)
    totals = per_annotator.sum(axis=(1, 2))
    return PeerAgreement(
        first=(keys // n_ann).astype(np.intp),
        second=(keys % n_ann).astype(np.intp),
        shared_items=shared.astype(np.intp),
        pair_agreement=_share(agreeing, shared),
        pair_kappa=kappa_from_tables(tables, w),
        n_pairs=totals.astype(np.intp),
        agreement=_share(np.trace(per_annotator, axis1=1, axis2=2), totals),
        kappa=kappa_from_tables(per_annotator, w),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaveOneOut:
    """Each annotator against the plurality of the *other* annotators of the same item (their
    single most frequent value).

    Items where the others have no single most frequent value (a tie between values, or no
    other judgment) are left out. Arrays of shape (A,).
    """

    n_items: IntArray
    agreement: FloatArray
    kappa: FloatArray


def leave_one_out(judgments: CodedJudgments, w: FloatArray) -> LeaveOneOut:
    """Agreement of each annotator with the leave-one-out majority, and its Cohen's kappa."""
    j, q = judgments, judgments.q
    others = j.counts()[j.item]
    others[np.arange(len(j.value)), j.value] -= 1.0
    top = others.max(axis=1)
    has_majority = (top > 0) & ((others == top[:, None]).sum(axis=1) == 1)
    majority = others.argmax(axis=1)
    keep = np.flatnonzero(has_majority)
    tables = _tables(j.annotator[keep], j.value[keep], majority[keep], j.n_annotators, q)
    n = tables.sum(axis=(1, 2))
    return LeaveOneOut(
        n_items=n.astype(np.intp),
        agreement=_share(np.trace(tables, axis1=1, axis2=2), n),
        kappa=kappa_from_tables(tables, w),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldScores:
    """Each annotator against the gold value of seeded gold items. Arrays of shape (A,).

    ``ci_low``/``ci_high`` bound the accuracy with a 95% Wilson interval; verdicts should be
    taken on the interval, not the point estimate.
    """

    n: IntArray
    correct: IntArray
    accuracy: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    kappa: FloatArray


def gold_scores(judgments: CodedJudgments, w: FloatArray) -> GoldScores:
    """Accuracy (with Wilson interval) and Cohen's kappa of each annotator against gold."""
    j = judgments
    keep = np.flatnonzero(j.gold >= 0)
    tables = _tables(j.annotator[keep], j.value[keep], j.gold[keep], j.n_annotators, j.q)
    n = tables.sum(axis=(1, 2))
    correct = np.trace(tables, axis1=1, axis2=2)
    bounds = np.array([wilson_interval(c, t) for c, t in zip(correct, n, strict=True)])
    bounds = bounds.reshape(len(n), 2)
    return GoldScores(
        n=n.astype(np.intp),
        correct=correct.astype(np.intp),
        accuracy=_share(correct, n),
        ci_low=bounds[:, 0],
        ci_high=bounds[:, 1],
        kappa=kappa_from_tables(tables, w),
    )


def non_decisive_rates(judgments: CodedJudgments, non_decisive: BoolArray) -> FloatArray:
    """Share of each annotator's judgments that are non-decisive (e.g. ``tie``), shape (A,).

    Args:
        non_decisive: which value codes are non-decisive, shape (q,).
    """
    j = judgments
    total = np.bincount(j.annotator, minlength=j.n_annotators).astype(np.float64)
    flags = non_decisive[j.value].astype(np.float64)
    hits = np.bincount(j.annotator, weights=flags, minlength=j.n_annotators).astype(np.float64)
    return _share(hits, total)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerComparison:
    """Each annotator's agreement with peers against the agreement among the *other* annotators
    on the same items: like with like, so that judging harder items is not held against anyone.

    For each judgment of annotator ``a`` on item ``i`` (value ``v``; ``n_i`` judgments, ``c_iv``
    of them ``v``): ``a``'s pairs ``n_i − 1``, agreeing ``c_iv − 1``; the reference ``e_i`` is the
    share of agreeing pairs among the other ``n_i − 1`` judgments of the item when there are at
    least two of them, else (one other) the share among pairs not involving ``a`` on the items of
    the same stratum (category); items with no other judgment, or no reference, are left out.

        agreement = Σ (c_iv − 1) / Σ (n_i − 1)
        reference = Σ (n_i − 1) e_i / Σ (n_i − 1)
        difference = agreement − reference

    ``ci_low``/``ci_high``: a 95% interval of ``difference`` from the item-clustered (sandwich)
    variance of the ratio, ``K/(K−1) Σ_i z_i²`` with ``z_i = (x_i − n_i e_i − d n_i) / N`` over
    the annotator's K items; the references are taken as known (their own sampling error is not
    included). NaN below two items. Arrays of shape (A,).
    """

    n_items: IntArray
    n_pairs: IntArray
    agreement: FloatArray
    reference: FloatArray
    difference: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


def peer_comparison(judgments: CodedJudgments, stratum: IntArray | None = None) -> PeerComparison:
    """Exact agreement of each annotator with peers vs. the others' agreement on the same items.

    Args:
        judgments: one dimension's judgments, one per (item, annotator).
        stratum: a stratum (e.g. category) code per item, shape (n_items,), ``-1`` for none
            (all such items form one stratum); None: one stratum for every item.
    """
    j, n_ann = judgments, judgments.n_annotators
    counts = j.counts()
    n_item = counts.sum(axis=1)
    same_pairs = (counts * (counts - 1.0) / 2.0).sum(axis=1)  # agreeing unordered pairs per item
    strata = np.zeros(j.n_items, dtype=np.intp) if stratum is None else stratum.copy()
    strata[strata < 0] = strata.max(initial=0) + 1
    n_strata = int(strata.max(initial=0)) + 1
    # Per judgment: the annotator's own pairs on its item, and the other judgments there.
    others = n_item[j.item] - 1.0
    agree = counts[j.item, j.value] - 1.0
    other_pairs = others * (others - 1.0) / 2.0
    other_agree = same_pairs[j.item] - agree
    # Stratum reference without the annotator: all pairs of the stratum minus the annotator's.
    s = strata[j.item]
    pairs_of_item = n_item * (n_item - 1.0) / 2.0
    stratum_pairs = np.bincount(strata, weights=pairs_of_item, minlength=n_strata)
    stratum_agree = np.bincount(strata, weights=same_pairs, minlength=n_strata)
    key = j.annotator.astype(np.int64) * n_strata + s
    own_pairs = np.bincount(key, weights=others, minlength=n_ann * n_strata)[key]
    own_agree = np.bincount(key, weights=agree, minlength=n_ann * n_strata)[key]
    rest_pairs = stratum_pairs[s] - own_pairs
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.where(
            others >= 2,
            other_agree / np.where(others >= 2, other_pairs, 1.0),
            (stratum_agree[s] - own_agree) / np.where(rest_pairs > 0, rest_pairs, 1.0),
        )
    keep = (others >= 1) & ((others >= 2) | (rest_pairs > 0))
    a, n, x, e = j.annotator[keep], others[keep], agree[keep], e[keep]
    big_n = np.bincount(a, weights=n, minlength=n_ann).astype(np.float64)
    big_x = np.bincount(a, weights=x, minlength=n_ann).astype(np.float64)
    big_e = np.bincount(a, weights=n * e, minlength=n_ann).astype(np.float64)
    k = np.bincount(a, minlength=n_ann).astype(np.float64)
    agreement = _share(big_x, big_n)
    reference = _share(big_e, big_n)
    difference = agreement - reference
    d = np.nan_to_num(difference)[a]
    z = (x - n * e - d * n) / np.where(big_n[a] > 0, big_n[a], 1.0)
    sum_z2 = np.bincount(a, weights=z * z, minlength=n_ann)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = Z95 * np.sqrt(np.where(k >= 2, k / np.maximum(k - 1.0, 1.0) * sum_z2, np.nan))
    return PeerComparison(
        n_items=k.astype(np.intp),
        n_pairs=big_n.astype(np.intp),
        agreement=agreement,
        reference=reference,
        difference=difference,
        ci_low=difference - half,
        ci_high=difference + half,
    )
