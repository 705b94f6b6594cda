"""Expert and crowd tiers: each annotator against the expert consensus, and agreement per
annotator per prompt category.

The configuration (or ``iaa-connector report --groups FILE``) names annotator groups, e.g.
``expert`` and ``crowd``. Per dimension, over each annotator's first judgment of an item (the
report's coding rule):

- the **expert consensus** of an item is the single most frequent value among the judgments of
  the ``expert`` group (the rule of the leave-one-out majority,
  :func:`connector.metrics.annotator.leave_one_out`); items where the experts tie have none and
  are counted (``n_expert_ties``). Every annotator outside the expert group is scored against it
  on the items both judged, exactly as against gold (:func:`connector.metrics.annotator.
  gold_scores`: share agreeing with its 95 % Wilson interval, n, Cohen's kappa with the
  dimension's weights). Experts are the reference and get no such figure.
- **per category**: each annotator's agreement with their co-annotators on the items of one
  prompt category (:func:`connector.metrics.annotator.peer_agreement` on that category's items:
  pairs, share agreeing, kappa), so a lead sees who is reliable on which domain. No interval:
  the pairs of one item are not independent.

These are per-annotator figures: they go into the full reports only (never to the platform,
:mod:`connector.report.public`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from connector.groups import REFERENCE_GROUP, GroupsError, check_groups
from connector.metrics.annotator import gold_scores, peer_agreement
from connector.metrics.judgments import CodedJudgments

__all__ = [
    "REFERENCE_GROUP",
    "GroupsError",
    "check_groups",
    "load_groups",
    "tier_figures",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]


def load_groups(path: Path) -> dict[str, tuple[str, ...]]:
    """Read a groups file: TOML, one list per group (``expert = ["ann1", "ann2"]``).

    Raises:
        GroupsError: unreadable file, invalid TOML, or groups :func:`check_groups` refuses.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GroupsError(f"{path}: cannot read the groups file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise GroupsError(
            f'{path}: invalid TOML: {exc}; write one list per group, e.g. expert = ["ann1", "ann2"]'
        ) from None
    if "groups" in raw and isinstance(raw["groups"], dict):
        raw = raw["groups"]
    return check_groups(raw, where=str(path))


def _consensus(expert: CodedJudgments) -> tuple[IntArray, int, int]:
    """Per item, the experts' single most frequent value (``-1`` for none); items with an
    expert judgment, and those where experts tie."""
    counts = expert.counts()
    top = counts.max(axis=1) if counts.size else np.zeros(expert.n_items)
    judged = top > 0
    single = judged & ((counts == top[:, None]).sum(axis=1) == 1)
    consensus = np.where(single, counts.argmax(axis=1), -1).astype(np.intp)
    return consensus, int(judged.sum()), int((judged & ~single).sum())


def _subset(
    j: CodedJudgments, keep: npt.NDArray[np.bool_], gold: IntArray | None = None
) -> CodedJudgments:
    return CodedJudgments(
        item=j.item[keep],
        annotator=j.annotator[keep],
        value=j.value[keep],
        gold=j.gold[keep] if gold is None else gold,
        n_items=j.n_items,
        n_annotators=j.n_annotators,
        q=j.q,
    )


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def tier_figures(
    j: CodedJudgments,
    w: FloatArray,
    annotators: Sequence[str],
    item_category: npt.NDArray[np.object_],
    groups: Mapping[str, Collection[str]],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """One dimension's tier figures: its ``tiers.dimensions.<name>`` entry and, per annotator
    with judgments, ``{"expert_consensus": ..., "by_category": [...]}``.

    Args:
        j: the dimension's first judgments.
        w: its agreement weights, shape (q, q).
        annotators: the name of each annotator code.
        item_category: the category of each item code (None for none).
        groups: annotator groups (:func:`check_groups`).
    """
    experts = set(groups.get(REFERENCE_GROUP, ()))
    is_expert = np.array([name in experts for name in annotators], dtype=bool)
    by_expert = is_expert[j.annotator] if len(j.annotator) else np.zeros(0, dtype=bool)
    consensus, n_reference, n_ties = _consensus(_subset(j, by_expert))
    crowd = ~by_expert
    scores = gold_scores(_subset(j, crowd, gold=consensus[j.item[crowd]]), w)
    section = {
        "n_expert_items": n_reference,
        "n_consensus_items": int((consensus >= 0).sum()),
        "n_expert_ties": n_ties,
    }
    labels, codes = _category_codes(item_category)
    per_category = []
    for c in range(len(labels)):
        peers = peer_agreement(_subset(j, codes[j.item] == c), w)
        per_category.append(peers)
    figures: dict[str, dict[str, Any]] = {}
    judged = np.bincount(j.annotator, minlength=j.n_annotators)
    for a in np.flatnonzero(judged).tolist():
        expert_entry = None
        if experts and not is_expert[a] and scores.n[a]:
            expert_entry = {
                "n": int(scores.n[a]),
                "agreement": _num(scores.accuracy[a]),
                "ci95": [_num(scores.ci_low[a]), _num(scores.ci_high[a])],
                "cohen_kappa": _num(scores.kappa[a]),
            }
        figures[annotators[a]] = {
            "expert_consensus": expert_entry,
            "by_category": [
                {
                    "key": label,
                    "n_pairs": int(peers.n_pairs[a]),
                    "percent_agreement": _num(peers.agreement[a]),
                    "cohen_kappa": _num(peers.kappa[a]),
                }
                for label, peers in zip(labels, per_category, strict=True)
                if peers.n_pairs[a]
            ],
        }
    return section, figures


def _category_codes(item_category: npt.NDArray[np.object_]) -> tuple[list[Any], IntArray]:
    """Sorted category labels and each item's code (``-1`` for none)."""
    codes, labels = pd.factorize(pd.Series(item_category, dtype=object), sort=True)
    listed = [label.item() if isinstance(label, np.generic) else label for label in labels]
    return listed, np.asarray(codes, dtype=np.intp)
