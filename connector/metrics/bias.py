"""Position and length bias of pairwise preferences, per annotator and overall.

Position bias: on decisive judgments whose display side is known, the share that picked the
response shown on the left; an unbiased annotator picks left half the time (exact binomial
test against 0.5). It is only measurable when the display sides were randomised: when response
``a`` was always on the left (or always on the right), picking left cannot be told apart from
picking ``a``, so :func:`unmeasurable_position` says why instead of a p-value.

Length bias: on decisive judgments of responses of different length, the
share that picked the longer one, overall tested against 0.5 and per annotator against the pool
(an annotator who prefers long answers more than everybody else, whatever the data's own lean).

References:
    Zheng, L. et al. (2023). Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena, §3.3
    (position and verbosity bias). NeurIPS Datasets and Benchmarks. arXiv:2306.05685
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from connector.metrics.stats import binomial_test

__all__ = ["ChoiceBias", "choice_bias", "constant_side", "unmeasurable_position"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]
BoolArray: TypeAlias = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceBias:
    """How often a side (left, or longer) was chosen.

    ``n``/``share``/``p_value`` pool every judgment (test against 0.5); the ``annotator_*``
    arrays, shape (A,), test each annotator against ``reference`` (0.5 for position, the pool's
    share for length).
    """

    n: int
    share: float
    p_value: float
    reference: float
    annotator_n: IntArray
    annotator_share: FloatArray
    annotator_p_value: FloatArray


def choice_bias(
    chose: BoolArray, annotator: IntArray, *, n_annotators: int, against_pool: bool
) -> ChoiceBias:
    """Share of judgments that chose the side in question, with exact binomial tests.

    Args:
        chose: whether each (decisive, eligible) judgment chose the side, shape (M,).
        annotator: annotator index of each judgment, shape (M,).
        against_pool: test each annotator against the pooled share instead of 0.5.
    """
    n = int(chose.size)
    hits = int(chose.sum())
    share = hits / n if n else float("nan")
    reference = share if against_pool and n else 0.5
    per_n = np.bincount(annotator, minlength=n_annotators)
    per_hits = np.bincount(annotator, weights=chose.astype(np.float64), minlength=n_annotators)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_share = np.where(per_n > 0, per_hits / np.maximum(per_n, 1), np.nan)
    per_p = np.array(
        [
            binomial_test(int(k), int(t), reference) if t else np.nan
            for k, t in zip(per_hits, per_n, strict=True)
        ],
        dtype=np.float64,
    )
    return ChoiceBias(
        n=n,
        share=share,
        p_value=binomial_test(hits, n, 0.5),
        reference=reference,
        annotator_n=per_n.astype(np.intp),
        annotator_share=np.asarray(per_share, dtype=np.float64),
        annotator_p_value=per_p,
    )


def unmeasurable_position(left_is_a: BoolArray) -> str | None:
    """Why position bias cannot be measured on these judgments, or None when it can.

    Args:
        left_is_a: for each decisive judgment with a known display side, whether response
            ``a`` was shown on the left, shape (M,).

    Returns:
        None when both responses were shown on the left at least once (sides randomised);
        otherwise the reason, in words.
    """
    if left_is_a.size == 0:
        return "no decisive judgment has a known display side"
    if left_is_a.all() or not left_is_a.any():
        side = "a" if left_is_a[0] else "b"
        return (
            f"response {side} was on the left in all {left_is_a.size} judgments with a known "
            f"display side, so choosing the left one cannot be told apart from choosing "
            f"{side}: position bias needs randomised display sides"
        )
    return None


def constant_side(left_is_a: BoolArray, annotator: IntArray, *, n_annotators: int) -> BoolArray:
    """Annotators who saw response ``a`` always on the same side (so their position bias is not
    measurable, :func:`unmeasurable_position`), shape (A,); False for annotators without any
    such judgment."""
    total = np.bincount(annotator, minlength=n_annotators)
    on_left = np.bincount(annotator, weights=left_is_a.astype(np.float64), minlength=n_annotators)
    return np.asarray((total > 0) & ((on_left == 0) | (on_left == total)), dtype=np.bool_)
