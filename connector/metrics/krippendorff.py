"""Krippendorff's alpha at every level of measurement, from per-unit value counts.

    alpha = 1 − D_o / D_e = 1 − (n − 1) · Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck

where ``o`` is the coincidence matrix of pairable values, ``n_c`` its margins and ``n`` the
number of pairable values. A unit ``u`` with counts ``n_u·`` and ``m_u ≥ 2`` values adds
``(n_u· n_u·ᵀ − diag(n_u·)) / (m_u − 1)`` to ``o``: coincidences are additive over units, so a
bootstrap is a weighted sum of per-unit matrices and one new judgment updates alpha in O(q²),
independent of the number of judgments (:class:`IncrementalAlpha`, which keeps the integer
sums ``Σ n_u n_uᵀ − diag(n_u)`` per unit size so that it never accumulates rounding).

References:
    Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
    Communication, University of Pennsylvania. https://repository.upenn.edu/asc_papers/43
    Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability
    measure for coding data. Communication Methods and Measures, 1(1), 77–89.
    https://doi.org/10.1080/19312450709336664
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from connector.errors import InsufficientDataError
from connector.metrics.table import Category, code_table, require_pairable, table_counts
from connector.metrics.weights import (
    Level,
    category_scores,
    difference_function,
    squared_differences,
)

__all__ = ["IncrementalAlpha", "alpha_from_coincidences", "coincidences", "krippendorff_alpha"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]


def unit_coincidences(counts: FloatArray) -> FloatArray:
    """Per-unit coincidence matrices, shape (U, q, q); zero for units with fewer than 2 values.

    Args:
        counts: per-unit value counts, shape (U, q).
    """
    m = counts.sum(axis=1)
    scale = np.where(m >= 2, 1.0 / np.maximum(m - 1, 1), 0.0)
    outer = counts[:, :, None] * counts[:, None, :]
    idx = np.arange(counts.shape[1])
    outer[:, idx, idx] -= counts
    return np.asarray(outer * scale[:, None, None], dtype=np.float64)


def coincidences(counts: FloatArray, weights: FloatArray | None = None) -> FloatArray:
    """The coincidence matrix ``o``, shape (q, q), of units weighted by ``weights`` (default 1).

    Args:
        counts: per-unit value counts, shape (U, q).
        weights: multiplicity of each unit, shape (U,) (a bootstrap draw, or pattern counts).
    """
    m = counts.sum(axis=1)
    scale = np.where(m >= 2, 1.0 / np.maximum(m - 1, 1), 0.0)
    if weights is not None:
        scale = scale * weights
    scaled = counts * scale[:, None]
    o = counts.T @ scaled
    o[np.diag_indices_from(o)] -= scaled.sum(axis=0)
    return np.asarray(o, dtype=np.float64)


def alpha_from_coincidences(o: FloatArray, level: Level, scores: FloatArray) -> FloatArray:
    """Alpha from coincidence matrices, vectorised over leading axes.

    Args:
        o: coincidence matrices, shape (..., q, q).
        level: the difference function.
        scores: numeric category scores, shape (q,) (used by interval and ratio).

    Returns:
        alpha, shape (...); NaN where the expected disagreement is 0 (no variation at all).
    """
    marginals = o.sum(axis=-1)
    n = marginals.sum(axis=-1)
    delta = squared_differences(level, scores, marginals)
    observed = (o * delta).sum(axis=(-2, -1))
    expected = (marginals[..., :, None] * marginals[..., None, :] * delta).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    return np.asarray(np.where(expected > 0, alpha, np.nan), dtype=np.float64)


def krippendorff_alpha(
    data: Any, *, level: str = "nominal", categories: Sequence[Category] | None = None
) -> float:
    """Krippendorff's alpha of a units × raters table.

    Args:
        data: units × raters table, shape (U, R): list of lists, ndarray or DataFrame; ``None``,
            ``NaN`` or ``pd.NA`` is a missing value. Units with fewer than two values are not
            pairable and contribute nothing.
        level: ``"nominal"``, ``"ordinal"``, ``"interval"`` or ``"ratio"``.
        categories: the declared ordered categories (labels may be strings or numbers). Needed
            for ordinal data whose labels don't sort naturally; interval and ratio use the
            category values as numbers.

    Returns:
        alpha in (−1, 1]; ``nan`` when the data show no variation at all (every pairable value
        the same, so D_e = 0 and alpha = 0/0).

    Raises:
        InsufficientDataError: no unit has two or more values.
        OptionError: ``level`` is not one of the four levels.
        ValueError: a value outside the declared categories; interval/ratio on labels.

    Examples:
        Krippendorff (2011), the 4 observers × 12 units example (rows are units here):

        >>> A = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
        >>> B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
        >>> C = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
        >>> D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
        >>> units = list(zip(A, B, C, D))
        >>> round(krippendorff_alpha(units, level="nominal"), 3)
        0.743
        >>> round(krippendorff_alpha(units, level="ordinal"), 3)
        0.815
        >>> round(krippendorff_alpha(units, level="interval"), 3)
        0.849
        >>> round(krippendorff_alpha(units, level="ratio"), 3)
        0.797
    """
    table = code_table(data, categories)
    chosen = difference_function(level, table.categories)
    counts = table_counts(table)
    require_pairable(counts, what="krippendorff_alpha")
    o = coincidences(counts)
    return float(alpha_from_coincidences(o, chosen, category_scores(table.categories)))


class IncrementalAlpha:
    """Krippendorff's alpha kept current as judgments arrive or are withdrawn.

    The state is integers only: each unit's value counts ``n_u``, shape (q,), and, for every
    unit size ``m`` (values on the unit), the sum ``S_m`` of ``n_u n_uᵀ − diag(n_u)`` over the
    units of that size, shape (q, q). The coincidence matrix is ``o = Σ_m S_m / (m − 1)``
    (``m ≥ 2``), formed only when :attr:`value` is read. So any sequence of :meth:`add` and
    :meth:`remove` leaves no rounding residue: the value is :func:`krippendorff_alpha` of the
    current judgments, NaN where it is NaN, :class:`InsufficientDataError` where it raises.

    Each :meth:`add` or :meth:`remove` costs O(q²) whatever the number of judgments already
    seen; :attr:`value` costs O(M q²), M the number of distinct unit sizes (at most the
    number of raters per unit).

    >>> acc = IncrementalAlpha(["a", "b"], level="nominal")
    >>> for unit, value in [(1, "a"), (1, "a"), (2, "b"), (2, "a"), (3, "b"), (3, "b")]:
    ...     acc.add(unit, value)
    >>> round(acc.value, 3)
    0.444

    Raises:
        OptionError: ``level`` is not one of the four levels.
        ValueError: repeated categories; interval/ratio on labels.
    """

    def __init__(self, categories: Sequence[Category], *, level: str = "nominal") -> None:
        self.categories = tuple(categories)
        if len(set(self.categories)) != len(self.categories):
            raise ValueError(f"categories repeat a label: {list(self.categories)}")
        self.level = difference_function(level, self.categories)
        self._index = {c: i for i, c in enumerate(self.categories)}
        self._scores = category_scores(self.categories)
        self._counts: dict[Hashable, IntArray] = {}  # unit → value counts, units with a value
        self._pairs: dict[int, IntArray] = {}  # m → S_m, for sizes m ≥ 2 that have units
        self._units_of_size: dict[int, int] = {}  # m → number of units with m values (m ≥ 2)

    def _code(self, value: Category) -> int:
        try:
            return self._index[value]
        except (KeyError, TypeError):
            raise ValueError(
                f"value {value!r} is not one of the categories {list(self.categories)}"
            ) from None

    def _move(self, counts: IntArray, sign: int) -> None:
        """Add (``sign`` = 1) or take away (-1) one unit with ``counts`` in ``S_m``."""
        m = int(counts.sum())
        if m < 2:
            return
        pairs = np.outer(counts, counts)
        pairs[np.diag_indices_from(pairs)] -= counts
        units = self._units_of_size.get(m, 0) + sign
        if units == 0:
            del self._pairs[m], self._units_of_size[m]
            return
        self._units_of_size[m] = units
        total = self._pairs.get(m)
        self._pairs[m] = sign * pairs if total is None else total + sign * pairs

    def _swap(self, unit: Hashable, code: int, delta: int) -> None:
        old = self._counts.get(unit)
        if old is None:
            old = np.zeros(len(self.categories), dtype=np.int64)
        if delta < 0 and old[code] < 1:
            raise KeyError(f"unit {unit!r} has no judgment {self.categories[code]!r} to remove")
        new = old.copy()
        new[code] += delta
        self._move(old, -1)
        self._move(new, +1)
        if new.any():
            self._counts[unit] = new
        else:
            del self._counts[unit]

    def add(self, unit: Hashable, value: Category) -> None:
        """Record one judgment ``value`` on ``unit``.

        Raises:
            ValueError: ``value`` is not one of the categories.
        """
        self._swap(unit, self._code(value), +1)

    def remove(self, unit: Hashable, value: Category) -> None:
        """Withdraw one judgment ``value`` from ``unit`` (e.g. a deleted annotation).

        Raises:
            ValueError: ``value`` is not one of the categories.
            KeyError: ``unit`` holds no judgment ``value``.
        """
        self._swap(unit, self._code(value), -1)

    @property
    def value(self) -> float:
        """Current alpha: NaN when the judgments show no variation at all.

        Raises:
            InsufficientDataError: no unit has two or more judgments (nothing is pairable).
        """
        if not self._pairs:
            raise InsufficientDataError(
                "krippendorff_alpha needs at least one unit with two or more ratings; "
                f"none of the {len(self._counts)} unit(s) has two (no pairable values)"
            )
        q = len(self.categories)
        o = np.zeros((q, q), dtype=np.float64)
        for m, pairs in sorted(self._pairs.items()):
            o += pairs / (m - 1.0)
        return float(alpha_from_coincidences(o, self.level, self._scores))
