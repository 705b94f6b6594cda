"""The rubric model: :class:`Rubric` and its dimensions, thresholds and calibration policy,
with the canonical JSON its content hash is taken of.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "KINDS",
    "LEVELS",
    "BatchSize",
    "Calibration",
    "Dimension",
    "Kind",
    "Level",
    "Rubric",
    "Thresholds",
    "Value",
    "signed_text",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
Kind = Literal["preference", "rating", "ranking", "choice"]
Value = str | int | float

LEVELS: tuple[Level, ...] = get_args(Level)
KINDS: tuple[Kind, ...] = get_args(Kind)

_RESPONSES = ("a", "b")


@dataclass(frozen=True, slots=True, kw_only=True)
class Dimension:
    """One question of a rubric.

    ``values`` are ordered as the rubric lists them (the order matters for ordinal levels);
    ``non_decisive`` (preference dimensions only) lists values that prefer neither response.
    ``first`` and ``second`` (preference dimensions only) are the values that mean response_a
    and response_b; ``None`` means the default ``a`` and ``b`` (see :attr:`responses`).
    ``gating`` False marks a dimension whose gold results are reported but never decide an
    annotator's status (:mod:`connector.quality.lifecycle`); ``gating_reason`` says why (a
    non-gating dimension must give one).

    ``signed`` (preference dimensions only) marks a signed preference scale such as -3 … +3
    (HelpSteer2-Preference's: -3 "response_a is much better" … +3 "response_b is much better"):
    a negative value prefers response_a, a positive one response_b, ``0`` neither (it is then
    the only non-decisive value), and the magnitude is the preference's strength
    (:meth:`strength_of`). Its level is ordinal or interval.
    """

    name: str
    question: str
    kind: Kind
    values: tuple[Value, ...]
    level: Level
    non_decisive: tuple[Value, ...] = ()
    target_alpha: float | None = None
    first: Value | None = None
    second: Value | None = None
    gating: bool = True
    gating_reason: str | None = None
    signed: bool = False

    @property
    def responses(self) -> tuple[Value, Value]:
        """The values meaning response_a and response_b (``a`` and ``b`` unless the rubric
        names others, e.g. ``1``/``2`` or ``model_a``/``model_b``)."""
        return (
            _RESPONSES[0] if self.first is None else self.first,
            _RESPONSES[1] if self.second is None else self.second,
        )

    def response_of(self, value: object) -> str | None:
        """``"a"`` or ``"b"`` for a preference dimension's value naming response_a or
        response_b; ``None`` for any other value or dimension kind. On a signed scale the sign
        decides (negative: ``"a"``, positive: ``"b"``, zero: ``None``)."""
        if self.kind != "preference":
            return None
        if self.signed:
            number = _number(value)
            if number is None or number == 0:
                return None
            return "a" if number < 0 else "b"
        first, second = self.responses
        if value == first:
            return "a"
        if value == second:
            return "b"
        return None

    def value_for(self, response: str) -> Value:
        """The dimension's value that names ``response`` (``"a"`` or ``"b"``); a signed scale
        has several (see :meth:`mirrored`), so asking it is a ``ValueError``."""
        if self.signed:
            raise ValueError(
                f"dimension {self.name!r} is a signed scale: several values name each response"
            )
        return self.responses[_RESPONSES.index(response)]

    def mirrored(self, value: Value) -> Value:
        """``value`` as it reads with response_a and response_b swapped: the other response's
        value (``-value`` on a signed scale); a non-decisive value, or any value of another
        kind, is unchanged. Undoes a display order that showed response_b first."""
        response = self.response_of(value)
        if response is None:
            return value
        if self.signed:
            return -value  # type: ignore[operator]  # response_of saw a number
        return self.value_for("b" if response == "a" else "a")

    def strength_of(self, value: object) -> float | None:
        """A signed scale's strength of preference, ``abs(value)`` (0 for a tie); ``None`` on
        any other dimension."""
        number = _number(value) if self.signed else None
        return None if number is None else abs(number)

    @property
    def decisive_values(self) -> tuple[Value, ...]:
        """The values that express a preference (all values for non-preference dimensions)."""
        return tuple(v for v in self.values if v not in self.non_decisive)


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Quality thresholds: gold accuracy to qualify / to be sent to retraining, target alpha.

    A parsed rubric guarantees ``0.01 <= retrain_gold_accuracy <= qualify_gold_accuracy - 0.01``
    and ``qualify_gold_accuracy <= 0.99`` (what the gold drift chart needs, see
    :func:`connector.quality.streams.gold_design`), ``0 < target_alpha <= 1`` and
    ``min_gold_judgments >= 1``.
    """

    qualify_gold_accuracy: float = 0.85
    retrain_gold_accuracy: float = 0.80
    target_alpha: float = 0.80
    min_gold_judgments: int = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchSize:
    """Inclusive bounds on the number of items in a validation batch."""

    min: int = 50
    max: int = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """Calibration policy: how much of each batch is gold and re-test, and how batches look."""

    gold_share: float = 0.10
    retest_share: float = 0.05
    retest_delay_hours: int = 72
    validation_batch_size: BatchSize = BatchSize()
    annotators_per_item: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Rubric:
    """A validated, immutable rubric version."""

    id: str
    version: str
    changelog: str
    guidelines: str
    dimensions: tuple[Dimension, ...]
    thresholds: Thresholds = Thresholds()
    calibration: Calibration = Calibration()
    content_hash: str = ""
    path: str | None = None

    @property
    def ref(self) -> str:
        """``"<id>@v<version>"``, the short name used in tags and reports."""
        return f"{self.id}@v{self.version}"

    def dimension(self, name: str) -> Dimension:
        """The dimension called ``name``; ``KeyError`` listing the rubric's dimensions if none."""
        for dimension in self.dimensions:
            if dimension.name == name:
                return dimension
        names = ", ".join(d.name for d in self.dimensions)
        raise KeyError(f"rubric {self.ref} has no dimension {name!r}; its dimensions are {names}")

    @property
    def gating_dimensions(self) -> tuple[str, ...]:
        """Names of the dimensions whose gold results decide an annotator's status."""
        return tuple(d.name for d in self.dimensions if d.gating)

    def gates(self, name: str) -> bool:
        """Whether dimension ``name`` decides statuses; a name the rubric lacks gates (its gold
        is evidence like any other, and is never silently left out)."""
        return all(d.gating for d in self.dimensions if d.name == name)

    def target_alpha_for(self, name: str) -> float:
        """The dimension's own ``target_alpha`` if it sets one, else the rubric threshold."""
        own = self.dimension(name).target_alpha
        return self.thresholds.target_alpha if own is None else own

    def canonical_json(self) -> str:
        """The rubric's content as canonical JSON (sorted keys, no path, no hash)."""
        content = dataclasses.asdict(self)
        del content["content_hash"], content["path"]
        for dimension in content["dimensions"]:
            # The default a/b coding is left out, so rubrics written before first/second
            # existed keep their content hash.
            for key in ("first", "second", "gating_reason"):
                if dimension[key] is None:
                    del dimension[key]
            # Likewise a gating dimension (the default) leaves ``gating`` out, and an unsigned
            # one ``signed``.
            if dimension["gating"] is True:
                del dimension["gating"]
            if dimension["signed"] is False:
                del dimension["signed"]
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_STRENGTH_WORDS = {
    1: ("better",),
    2: ("slightly better", "much better"),
    3: ("slightly better", "better", "much better"),
}


def signed_text(dimension: Dimension, value: Value, *, first: str, second: str) -> str:
    """The option text of a signed scale's ``value`` on a form that shows ``first`` (e.g.
    "Left response") for the negative side and ``second`` for the positive side: ``"Left
    response is much better"`` for -3 on a -3 … 3 scale, ``"About the same"`` for 0. Scales
    with more than three steps a side say the step (``"better (4 of 5)"``).

    Raises:
        ValueError: ``dimension`` is not signed, or ``value`` is not one of its values.
    """
    number = _number(value)
    if not dimension.signed or number is None or value not in dimension.values:
        raise ValueError(
            f"{value!r} is not a value of a signed scale (dimension {dimension.name!r})"
        )
    if number == 0:
        return "About the same"
    steps = sorted({abs(v) for v in dimension.values if _number(v)})  # type: ignore[arg-type]
    rank = steps.index(abs(number)) + 1
    words = _STRENGTH_WORDS.get(len(steps))
    strength = words[rank - 1] if words else f"better ({rank} of {len(steps)})"
    return f"{first if number < 0 else second} is {strength}"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _with_hash(rubric: Rubric) -> Rubric:
    digest = hashlib.sha256(rubric.canonical_json().encode("utf-8")).hexdigest()
    return dataclasses.replace(rubric, content_hash=f"sha256:{digest}")
