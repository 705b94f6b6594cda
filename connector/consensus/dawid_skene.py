r"""Dawid–Skene: EM over one confusion matrix per annotator (reliability-weighted consensus).

The model (Dawid & Skene 1979). Each item :math:`i` has a true value :math:`z_i` drawn from the
priors :math:`\pi_c = P(z_i = c)`; annotator :math:`w` answers :math:`k` on an item whose true
value is :math:`c` with probability :math:`e^w_{kc} = P(y_{iw} = k \mid z_i = c)` (column
:math:`c` of the annotator's error matrix sums to 1), independently of the other annotators.
EM alternates

- E-step: :math:`T_{ic} \propto \pi_c \prod_{w \in W_i} e^w_{y_{iw} c}` (normalised over
  :math:`c`), computed in log space, shifted by the row maximum before exponentiating;
- M-step: :math:`\pi_c = \frac{1}{I}\sum_i T_{ic}` and
  :math:`e^w_{kc} = n^w_{kc} / \sum_{k'} n^w_{k'c}` with
  :math:`n^w_{kc} = \sum_{i:\,y_{iw} = k} T_{ic}`.

Initialisation and numerical guards follow crowd-kit's ``DawidSkene`` (the independent
implementation the tests compare with): iteration 0 takes the majority-vote shares as
:math:`T`, then an M-step; counts :math:`n^w_{kc}` of the values :math:`k` an annotator gave are
clipped below at :math:`10^{-10}` before normalising (values an annotator never gave have no
row: they are never read); priors are clipped below at :math:`10^{-10}` inside the E-step.
Iteration :math:`t \ge 1` is one E-step from the parameters of iteration :math:`t-1`, then one
M-step.

Convergence: the E-step of iteration :math:`t` also gives the observed-data log-likelihood of
the parameters of iteration :math:`t-1`,
:math:`\ell = \sum_i \log \sum_c \pi_c \prod_w e^w_{y_{iw} c}`, which EM never decreases. EM
stops when :math:`\ell` per judgment grew by less than ``tol`` (default :math:`10^{-6}` nats)
from one iteration to the next, or after ``max_iter`` (default 100) iterations; the result says
which (``converged``, ``n_iter``). crowd-kit stops on a change of its evidence lower bound
below :math:`10^{-5}`; both stop on a plateau of the same EM sequence.

Only the values observed in the data take part (crowd-kit does the same): a value nobody gave
gets posterior 0.

References:
    A. P. Dawid and A. M. Skene (1979). Maximum Likelihood Estimation of Observer Error-Rates
    Using the EM Algorithm. Journal of the Royal Statistical Society, Series C (Applied
    Statistics) 28(1):20–28. doi:10.2307/2346806

>>> import numpy as np
>>> item = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
>>> annotator = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
>>> value = np.array([0, 0, 1, 1, 1, 0, 0, 1, 1])
>>> fit = dawid_skene(item, annotator, value, n_items=3, n_annotators=3, q=2, max_iter=1)
>>> (fit.posterior * 33).round(9)[0].tolist()  # item 0 after one iteration: 25/33, 8/33
[25.0, 8.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["EPS", "TIE_TOLERANCE", "DawidSkeneFit", "dawid_skene"]

IntArray: TypeAlias = npt.NDArray[np.intp]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

EPS = 1e-10
"""Lower clip of error-matrix counts and of priors (crowd-kit's ``_EPS``)."""
TIE_TOLERANCE = 1e-9
"""Two posteriors closer than this are a tie: the item gets no label."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DawidSkeneFit:
    """The result of :func:`dawid_skene`.

    Attributes:
        posterior: :math:`T`, shape (n_items, q); rows of items with no judgment are NaN.
        priors: :math:`\\pi`, shape (q,).
        errors: :math:`e`, shape (n_annotators, q, q), indexed ``[annotator, given, true]``;
            rows of values an annotator never gave are 0.
        label: the most probable value per item, shape (n_items,); ``-1`` on a tie (see
            :data:`TIE_TOLERANCE`) or with no judgment.
        tie: whether the two most probable values are tied, shape (n_items,).
        confidence: the posterior of the most probable value, shape (n_items,).
        log_likelihood: :math:`\\ell` per judgment at each iteration's E-step.
        n_iter: EM iterations run (0: the majority-vote initialisation only).
        converged: whether the stopping rule was met before ``max_iter``.
    """

    posterior: FloatArray
    priors: FloatArray
    errors: FloatArray
    label: IntArray
    tie: BoolArray
    confidence: FloatArray
    log_likelihood: tuple[float, ...]
    n_iter: int
    converged: bool


def _check(
    item: IntArray, annotator: IntArray, value: IntArray, n_items: int, n_annotators: int, q: int
) -> None:
    if not (item.shape == annotator.shape == value.shape) or item.ndim != 1:
        raise ValueError(
            f"item, annotator and value must be 1-D of one length, got shapes {item.shape}, "
            f"{annotator.shape}, {value.shape}"
        )
    for name, codes, bound in (
        ("item", item, n_items),
        ("annotator", annotator, n_annotators),
        ("value", value, q),
    ):
        if codes.size and (codes.min() < 0 or codes.max() >= bound):
            raise ValueError(f"{name} codes must lie in 0..{bound - 1}")


def dawid_skene(
    item: npt.ArrayLike,
    annotator: npt.ArrayLike,
    value: npt.ArrayLike,
    *,
    n_items: int,
    n_annotators: int,
    q: int,
    max_iter: int = 100,
    tol: float = 1e-6,
) -> DawidSkeneFit:
    """Fit the Dawid–Skene model by EM to integer-coded judgments.

    Args:
        item: item code of each judgment, shape (N,), in ``0..n_items-1``.
        annotator: annotator code, shape (N,), in ``0..n_annotators-1``.
        value: value code, shape (N,), in ``0..q-1``. At most one judgment per (item,
            annotator): a repeat would count twice.
        max_iter: most EM iterations (0 returns the initialisation).
        tol: stop when the log-likelihood per judgment grows by less than this.

    Raises:
        ValueError: arrays of different shapes, or a code out of range.
    """
    item_codes = np.asarray(item, dtype=np.intp)
    annotator_codes = np.asarray(annotator, dtype=np.intp)
    value_codes = np.asarray(value, dtype=np.intp)
    _check(item_codes, annotator_codes, value_codes, n_items, n_annotators, q)
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}")

    # Only items judged and values given take part; compact codes keep every array dense.
    judged = np.bincount(item_codes, minlength=n_items) > 0
    given = np.bincount(value_codes, minlength=q) > 0
    n, k = int(judged.sum()), int(given.sum())
    # judgments grouped by item (first_judgments gives them so: then nothing is copied)
    if item_codes.size and (item_codes[1:] < item_codes[:-1]).any():
        order = np.argsort(item_codes, kind="stable")
        item_codes, annotator_codes, value_codes = (
            item_codes[order],
            annotator_codes[order],
            value_codes[order],
        )
    it = item_codes if n == n_items else (np.cumsum(judged) - 1)[item_codes]
    an = annotator_codes
    va = value_codes if k == q else (np.cumsum(given) - 1)[value_codes]
    starts = np.flatnonzero(np.r_[True, it[1:] != it[:-1]]) if it.size else it
    per_item = np.diff(np.r_[starts, it.size]) if it.size else it

    # Posteriors are kept as (k, n): one contiguous row per true value, so that the per-item
    # normalisation works on whole rows and each M-step count is one bincount.
    key = an * k + va  # (annotator, given value) of each judgment
    gave = np.zeros(n_annotators * k, dtype=bool)
    gave[key] = True

    def m_step(posterior: FloatArray) -> tuple[FloatArray, FloatArray]:
        counts = np.empty((n_annotators * k, k))
        for c in range(k):
            counts[:, c] = np.bincount(
                key, weights=np.repeat(posterior[c], per_item), minlength=gave.size
            )
        clipped = np.where(gave[:, None], np.maximum(counts, EPS), 0.0).reshape(n_annotators, k, k)
        with np.errstate(invalid="ignore"):
            errors = clipped / clipped.sum(axis=1, keepdims=True)
        return posterior.mean(axis=1), errors

    def e_step(priors: FloatArray, errors: FloatArray) -> tuple[FloatArray, float]:
        # per true value c: the sum over each item's judgments of log e[w, given, c]
        with np.errstate(divide="ignore"):
            log_errors = np.ascontiguousarray(np.log(errors).reshape(-1, k).T)
        per_judgment = np.take(log_errors, key, axis=1)
        log_joint = np.empty((k, n))
        for c in range(k):
            log_joint[c] = np.bincount(it, weights=per_judgment[c], minlength=n)
        log_joint += np.log(np.maximum(priors, EPS))[:, None]
        top = log_joint.max(axis=0)
        log_joint -= top
        scaled = np.exp(log_joint, out=log_joint)
        total = scaled.sum(axis=0)
        log_likelihood = float((top + np.log(total)).sum()) / max(it.size, 1)
        scaled /= total
        return scaled, log_likelihood

    counts0 = np.bincount(va * n + it, minlength=k * n).reshape(k, n).astype(np.float64)
    posterior = counts0 / per_item if n else counts0
    priors, errors = m_step(posterior) if n else (np.zeros(k), np.zeros((n_annotators, k, k)))
    history: list[float] = []
    converged = False
    for _ in range(max_iter if n else 0):
        posterior, log_likelihood = e_step(priors, errors)
        priors, errors = m_step(posterior)
        history.append(log_likelihood)
        if len(history) >= 2 and history[-1] - history[-2] < tol:
            converged = True
            break

    full = np.full((n_items, q), np.nan)
    full_k = np.zeros((n, q))
    full_k[:, np.flatnonzero(given)] = posterior.T
    full[judged] = full_k
    full_priors = np.zeros(q)
    full_priors[given] = priors
    full_errors = np.zeros((n_annotators, q, q))
    full_errors[np.ix_(np.arange(n_annotators), given, given)] = errors
    label = np.full(n_items, -1, dtype=np.intp)
    tie = np.zeros(n_items, dtype=bool)
    confidence = np.full(n_items, np.nan)
    if n:
        ranked = np.sort(full_k, axis=1)
        top = ranked[:, -1]
        tied = ranked[:, -2] >= top - TIE_TOLERANCE if q > 1 else np.zeros(n, dtype=bool)
        label[judged] = np.where(tied, -1, full_k.argmax(axis=1))
        tie[judged] = tied
        confidence[judged] = top
    return DawidSkeneFit(
        posterior=full,
        priors=full_priors,
        errors=full_errors,
        label=label,
        tie=tie,
        confidence=confidence,
        log_likelihood=tuple(history),
        n_iter=len(history),
        converged=converged,
    )
