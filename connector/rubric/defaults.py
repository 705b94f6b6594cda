"""A rubric for a judgments table given without one, inferred from the values it holds."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from connector.errors import RubricError
from connector.rubric.model import (
    _RESPONSES,
    Dimension,
    Kind,
    Rubric,
    Value,
    _with_hash,
)

__all__ = [
    "default_rubric_for",
]


# --- rubric for a table given without one --------------------------------------------------


def default_rubric_for(
    dimensions: Mapping[str, Iterable[object]], *, non_decisive: Iterable[Value] = ("tie",)
) -> Rubric:
    """An in-memory rubric (id ``adhoc``, version ``0``) for a table given without a rubric.

    Every dimension is nominal with its observed values sorted (numbers before labels); missing
    values (``None``, NaN) are skipped. A dimension whose values are ``a``, ``b`` and values of
    ``non_decisive`` is a preference dimension, with the non-decisive values it actually shows
    marked as such; a dimension of numbers is a rating; anything else is a choice.

    Raises:
        RubricError: no dimensions, a dimension without values, or a value that is not a
            string or number.
    """
    if not dimensions:
        raise RubricError("default_rubric_for needs at least one dimension")
    ignored = tuple(non_decisive)
    built: list[Dimension] = []
    for name, observed in dimensions.items():
        values = _observed_values(name, observed)
        present = tuple(v for v in ignored if v in values)
        decisive = [v for v in values if v not in present]
        is_preference = bool(decisive) and all(v in _RESPONSES for v in decisive)
        kind: Kind = "choice"
        if is_preference:
            kind = "preference"
        elif all(not isinstance(v, str) for v in values):
            kind = "rating"
        built.append(
            Dimension(
                name=name,
                question=f"{name} (no rubric given; values as observed)",
                kind=kind,
                values=values,
                level="nominal",
                non_decisive=present if is_preference else (),
            )
        )
    return _with_hash(
        Rubric(
            id="adhoc",
            version="0",
            changelog="Built from the observed values of a table given without a rubric.",
            guidelines="Ad-hoc rubric: every dimension is nominal, its values as observed.\n",
            dimensions=tuple(built),
        )
    )


def _observed_values(name: str, observed: Iterable[object]) -> tuple[Value, ...]:
    seen: set[Value] = set()
    for raw in observed:
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            continue
        value = _plain_value(raw)
        if value is None:
            raise RubricError(
                f"dimension '{name}': value {raw!r} ({type(raw).__name__}) is not a string or "
                "a number"
            )
        seen.add(value)
    if not seen:
        raise RubricError(f"dimension '{name}' has no observed values")
    numbers = sorted(v for v in seen if not isinstance(v, str))
    labels = sorted(v for v in seen if isinstance(v, str))
    return (*numbers, *labels)


def _plain_value(raw: object) -> Value | None:
    """``raw`` as a str, int or float (numpy scalars included); ``None`` if it is neither."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        return str(raw)
    if isinstance(raw, int):
        return int(raw)
    if isinstance(raw, float):
        return float(raw)
    item = getattr(raw, "item", None)
    if callable(item):
        plain = item()
        if isinstance(plain, str | int | float) and not isinstance(plain, bool):
            return plain
    return None
