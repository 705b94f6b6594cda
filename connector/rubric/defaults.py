"""A rubric for a judgments table given without one, inferred from the values it holds."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from connector.errors import ConnectorError, RubricError
from connector.rubric.model import (
    LEVELS,
    Dimension,
    Kind,
    Level,
    Rubric,
    Value,
    _with_hash,
)
from connector.rubric.yaml_source import did_you_mean

__all__ = [
    "KNOWN_RESPONSE_PAIRS",
    "Coding",
    "CodingError",
    "adhoc_rubric",
    "default_rubric_for",
]

#: Value pairs read as (response_a, response_b) of a preference dimension without a rubric:
#: a dimension whose decisive values (those not non-decisive) are exactly one of these pairs.
KNOWN_RESPONSE_PAIRS: tuple[tuple[Value, Value], ...] = (
    ("a", "b"),
    ("A", "B"),
    (1, 2),
    ("model_a", "model_b"),
    ("response_a", "response_b"),
    ("left", "right"),
)


class CodingError(ConnectorError, ValueError):
    """Coding options (``--level``, ``--categories``, ``--responses``, ``--non-decisive``) do
    not fit the table's dimensions or values."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Coding:
    """How to code a table given without a rubric (the ``report`` command's coding options).

    Attributes:
        non_decisive: values (as written, e.g. ``"0"``, ``"tie"``) that prefer neither response,
            in any dimension where they occur.
        levels: level of measurement per dimension (default nominal).
        categories: every value of a dimension, in order (as written); values nobody chose
            still count for the weights of ordinal, interval and ratio levels.
        responses: per dimension, the values (as written) naming response_a and response_b.
    """

    non_decisive: tuple[str, ...] = ("tie",)
    levels: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    responses: Mapping[str, tuple[str, str]] = field(default_factory=dict)


# --- rubric for a table given without one --------------------------------------------------


def default_rubric_for(
    dimensions: Mapping[str, Iterable[object]], *, non_decisive: Iterable[Value] = ("tie",)
) -> Rubric:
    """An in-memory rubric (id ``adhoc``, version ``0``) for a table given without a rubric;
    :func:`adhoc_rubric` with only ``non_decisive`` set, without its warnings.

    Raises:
        RubricError: no dimensions, a dimension without values, or a value that is not a
            string or number.
    """
    coding = Coding(non_decisive=tuple(_text(v) for v in non_decisive))
    return adhoc_rubric(dimensions, coding)[0]


def adhoc_rubric(
    dimensions: Mapping[str, Iterable[object]], coding: Coding | None = None
) -> tuple[Rubric, list[str]]:
    """An in-memory rubric (id ``adhoc``, version ``0``) for a table given without a rubric,
    and warnings about how it was inferred.

    Each dimension's values are ``coding.categories`` if given, else its observed values sorted
    (numbers before labels; missing values skipped). Its level is ``coding.levels`` (default
    nominal). It is a preference dimension when ``coding.responses`` names its two response
    values, or when its values other than ``coding.non_decisive`` are one of
    :data:`KNOWN_RESPONSE_PAIRS` (``a``/``b``: or one of them; ``1``/``2``: only beside a
    non-decisive value); then the non-decisive values it shows are marked. Otherwise a
    dimension of numbers is a rating and anything else a choice. Warnings: a dimension of three
    or more numbers scored as nominal (suggesting ``--level``); a non-decisive value in a
    dimension whose other values name no two responses (suggesting ``--responses``).

    Raises:
        RubricError: no dimensions, a dimension without values, or a value that is not a
            string or number.
        CodingError: an option names a dimension the table does not have, a level that does
            not exist or does not fit the values, or response values the dimension lacks.
    """
    if not dimensions:
        raise RubricError("default_rubric_for needs at least one dimension")
    coding = coding or Coding()
    observed = {name: _observed_values(name, values) for name, values in dimensions.items()}
    for option, named in (
        ("--level", coding.levels),
        ("--categories", coding.categories),
        ("--responses", coding.responses),
    ):
        for name in named:
            if name not in observed:
                raise CodingError(
                    f"{option} {name}=...: the table has no dimension {name!r}"
                    f"{did_you_mean(name, list(observed))}; its dimensions are "
                    f"{', '.join(observed)}"
                )
    built: list[Dimension] = []
    warnings: list[str] = []
    for name, seen in observed.items():
        dimension, said = _adhoc_dimension(name, seen, coding)
        built.append(dimension)
        warnings.extend(said)
    rubric = _with_hash(
        Rubric(
            id="adhoc",
            version="0",
            changelog="Built from the observed values of a table given without a rubric.",
            guidelines="Ad-hoc rubric: values as observed or given, levels nominal or given.\n",
            dimensions=tuple(built),
        )
    )
    return rubric, warnings


def _adhoc_dimension(
    name: str, seen: tuple[Value, ...], coding: Coding
) -> tuple[Dimension, list[str]]:
    numeric = all(not isinstance(v, str) for v in seen)
    values = seen
    if name in coding.categories:
        values = _as_values(name, "--categories", coding.categories[name], numeric)
        if len(set(values)) != len(values):
            raise CodingError(f"--categories {name}=...: a value is listed twice")
    level = _level(name, coding.levels.get(name, "nominal"))
    if level != "nominal" and not numeric and name not in coding.categories:
        raise CodingError(
            f"--level {name}={level}: the values of {name!r} are labels "
            f"({', '.join(map(str, values))}); give their order with --categories "
            f"{name}=FIRST,SECOND,..."
        )
    if level in ("interval", "ratio") and not numeric:
        raise CodingError(
            f"--level {name}={level} needs numeric values; {name!r} has labels (use ordinal)"
        )
    if level == "ratio" and any(v <= 0 for v in values if not isinstance(v, str)):
        raise CodingError(
            f"--level {name}=ratio needs positive values; {name!r} has 0 or negative values "
            "(use interval)"
        )
    wanted = set(coding.non_decisive)
    present = tuple(v for v in values if _text(v) in wanted)
    decisive = [v for v in values if v not in present]
    folded = {w.strip().casefold(): w for w in wanted}
    near = [
        (v, folded[_text(v).strip().casefold()])
        for v in decisive
        if _text(v).strip().casefold() in folded
    ]
    responses: tuple[Value, Value] | None = None
    if name in coding.responses:
        responses = _pair(name, coding.responses[name], values, numeric)
        others = [v for v in decisive if v not in responses]
        if others:
            raise CodingError(
                f"--responses {name}=...: value(s) {', '.join(map(repr, others))} of {name!r} "
                "are neither response; mark them with --non-decisive VALUE"
            )
    else:
        for pair in KNOWN_RESPONSE_PAIRS:
            # 1/2 alone may be a two-point rating: numbers are responses only beside a
            # non-decisive value (1/2/0 votes with --non-decisive 0). a/b may show one side
            # only (everyone preferred a); the other pairs must show both.
            numbers = not isinstance(pair[0], str)
            if pair == ("a", "b"):
                fits = bool(decisive) and set(decisive) <= set(pair)
            else:
                fits = set(decisive) == set(pair) and (bool(present) or not numbers)
            if fits:
                responses = pair
                break
    warnings: list[str] = [
        f"dimension {name!r}: value {value!r} differs from the non-decisive {given!r} only in "
        f"case or spaces and is not read as non-decisive; pass --non-decisive {_text(value)}"
        for value, given in near
    ]
    kind: Kind = "choice"
    if responses is not None:
        kind = "preference"
    elif numeric:
        kind = "rating"
    if responses is None and present:
        warnings.append(
            f"dimension {name!r}: {', '.join(map(repr, present))} marked non-decisive, but its "
            f"other values ({', '.join(map(repr, decisive))}) do not name two responses, so "
            f"it is scored as a plain {kind}; pass --responses {name}=FIRST,SECOND to score it "
            "as a preference (decisive agreement, tie rate, position bias)"
        )
    if kind != "preference" and numeric and level == "nominal" and len(values) >= 3:
        shown = ",".join(map(_text, values))
        votes = ""
        if len(values) == 3 and {1, 2} <= set(values):
            other = _text(next(v for v in values if v not in (1, 2)))
            votes = (
                f"; if they are votes for response 1 or 2, pass --non-decisive {other} for the "
                "value preferring neither"
            )
        warnings.append(
            f"dimension {name!r}: its values {', '.join(map(_text, values))} are numbers scored "
            f"as nominal (every disagreement counts the same); if they are a scale, pass "
            f"--level {name}=ordinal (or interval), and --categories {name}={shown} with any "
            f"value nobody chose{votes}"
        )
    first, second = responses if responses is not None else (None, None)
    if (first, second) == ("a", "b"):
        first = second = None
    dimension = Dimension(
        name=name,
        question=f"{name} (no rubric given; values as observed)",
        kind=kind,
        values=values,
        level=level,
        non_decisive=present if kind == "preference" else (),
        first=first,
        second=second,
    )
    return dimension, warnings


def _level(name: str, word: str) -> Level:
    for level in LEVELS:
        if word == level:
            return level
    raise CodingError(
        f"--level {name}={word}: {word!r} is not one of {', '.join(LEVELS)}"
        f"{did_you_mean(word, LEVELS)}"
    )


def _as_values(name: str, option: str, texts: Iterable[str], numeric: bool) -> tuple[Value, ...]:
    values: list[Value] = []
    for text in texts:
        if not numeric:
            values.append(text)
            continue
        number = _number(text)
        if number is None:
            raise CodingError(
                f"{option} {name}=...: {text!r} is not a number, but the values of {name!r} "
                "are numbers"
            )
        values.append(number)
    return tuple(values)


def _pair(
    name: str, texts: tuple[str, str], values: tuple[Value, ...], numeric: bool
) -> tuple[Value, Value]:
    first, second = _as_values(name, "--responses", texts, numeric)
    for value in (first, second):
        if value not in values:
            raise CodingError(
                f"--responses {name}={texts[0]},{texts[1]}: {value!r} is not a value of "
                f"{name!r} ({', '.join(map(repr, values))})"
            )
    if first == second:
        raise CodingError(f"--responses {name}=...: the two responses need two different values")
    return first, second


def _number(text: str) -> int | float | None:
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        number = float(stripped)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _text(value: object) -> str:
    """A value as written on a command line (``1`` for 1 and 1.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
