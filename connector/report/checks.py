"""Checks of a judgments table before it is coded and scored: the one place that decides
which rows are exact duplicates, which labels differ only in case or spaces, and which
dimensions look misspelt or are missing; the report, the JSON/HTML/Markdown warnings and the
CLI's stderr all read :class:`CheckedInput`.

- An exact duplicate repeats an earlier row's item, annotator, dimension, value and
  ``submitted_at`` (an accidental double export). It is dropped and counted; it is not a
  re-test. Rows that repeat item, annotator, dimension and value with no ``submitted_at`` at all
  cannot be told from a re-test: they are kept, and a warning says so.
- Labels of one dimension that differ only in case or surrounding spaces (``A``/``a``,
  ``Tie``/`` tie``) would be separate categories: a warning names them; with
  ``normalise_labels`` each is read as the rubric's spelling (or, without a rubric, as the
  dimension's most frequent spelling).
- With a rubric that has a ranking dimension, its per-option rank rows (``<ranking>.<option>``,
  as platform export files write rankings) are read back as one ranking row each
  (:func:`connector.judgments.rankings.assemble_rankings`), with a warning saying how many.
- Without a rubric, a dimension whose name is close to another's and that has fewer judgments
  is named as a possible misspelling, and a dimension whose values are all orderings
  (``b>a=c``) is named as rankings read as unordered labels. With a rubric, a rubric dimension
  without judgments is named (it is left out of the report).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from connector.judgments.rankings import assemble_rankings
from connector.rubric import Rubric, Value

__all__ = [
    "CheckedInput",
    "RowPlaces",
    "check_input",
    "label_key",
]

_DUPLICATE_KEY = ("item_id", "annotator", "dimension", "value", "submitted_at")
_MAX_LISTED = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class RowPlaces:
    """Where each row of the table came from: ``source`` and the 1-based file ``lines`` (or
    ``None``: rows are then named by position, ``row 3``)."""

    source: str | None = None
    lines: Sequence[int] | None = None

    def name(self, row: int) -> str:
        """``source:line`` (else ``source: row N``, or ``row N`` without a source) of the row
        at original position ``row``."""
        if self.lines is not None and 0 <= row < len(self.lines):
            return f"{self.source or '<table>'}:{self.lines[row]}"
        return f"{self.source}: row {row + 1}" if self.source else f"row {row + 1}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedInput:
    """The table to score and what the checks found.

    Attributes:
        frame: the input without exact duplicates (labels normalised if asked). Its index is
            each row's position in the table as read, so :attr:`places` can name it.
        warnings: one sentence each, in the order found.
        exact_duplicates: rows dropped as exact duplicates.
        normalised_labels: judgment values rewritten by ``normalise_labels``.
        places: where the rows came from.
    """

    frame: pd.DataFrame
    warnings: tuple[str, ...] = ()
    exact_duplicates: int = 0
    normalised_labels: int = 0
    places: RowPlaces = RowPlaces()


def label_key(value: object) -> object:
    """What two labels that differ only in case or surrounding spaces have in common."""
    return value.strip().casefold() if isinstance(value, str) else value


def check_input(
    frame: pd.DataFrame,
    rubric: Rubric | None,
    *,
    normalise_labels: bool = False,
    places: RowPlaces | None = None,
) -> CheckedInput:
    """Run every check on a canonical judgments table (see the module docstring).

    ``frame`` keeps its index (the rows' positions as read, for :attr:`CheckedInput.places`).
    """
    places = places or RowPlaces()
    warnings: list[str] = []
    frame, dropped = _drop_exact_duplicates(frame, places, warnings)
    if rubric is not None:
        frame, assembled = assemble_rankings(
            frame, rubric, where=lambda label: places.name(int(label))
        )
        warnings += assembled
    frame, normalised = _labels(frame, rubric, normalise=normalise_labels, warnings=warnings)
    if rubric is None:
        _misspelt_dimensions(frame, places, warnings)
        _unread_rankings(frame, warnings)
    else:
        _missing_dimensions(frame, rubric, warnings)
    return CheckedInput(
        frame=frame,
        warnings=tuple(warnings),
        exact_duplicates=dropped,
        normalised_labels=normalised,
        places=places,
    )


def _drop_exact_duplicates(
    frame: pd.DataFrame, places: RowPlaces, warnings: list[str]
) -> tuple[pd.DataFrame, int]:
    # Only rows repeating an (item, annotator, dimension) can be duplicates: most tables have
    # few, so the full key (values as repr: 1 and '1' differ) is built for those rows alone.
    repeated = np.zeros(len(frame), dtype=bool)
    judged = frame.duplicated(subset=["item_id", "annotator", "dimension"], keep=False)
    if judged.any():
        candidates = np.flatnonzero(judged.to_numpy())
        key = frame.iloc[candidates][list(_DUPLICATE_KEY)].astype(object)
        key["value"] = key["value"].map(repr)
        repeated[candidates] = key.duplicated(keep="first").to_numpy()
    timed = frame["submitted_at"].notna().to_numpy()
    exact = repeated & timed
    untimed = repeated & ~timed
    if untimed.any():
        first = int(frame.index[np.flatnonzero(untimed)[0]])
        warnings.append(
            f"{int(untimed.sum())} row(s) repeat the item, annotator, dimension and value of an "
            f"earlier row and have no submitted_at, first at {places.name(first)}: a double "
            "export or a re-test cannot be told apart, so they are kept as re-tests; add "
            "submitted_at, or drop the copies if they are duplicates"
        )
    if not exact.any():
        return frame, 0
    count = int(exact.sum())
    first = int(frame.index[np.flatnonzero(exact)[0]])
    warnings.append(
        f"{count} exact duplicate row(s) dropped (same item, annotator, dimension, value and "
        f"submitted_at as an earlier row, as a repeated export makes), first at "
        f"{places.name(first)}; they are not re-tests"
    )
    return frame.loc[~exact], count


def _labels(
    frame: pd.DataFrame, rubric: Rubric | None, *, normalise: bool, warnings: list[str]
) -> tuple[pd.DataFrame, int]:
    rewrites: dict[str, dict[Value, Value]] = {}
    for name, values in frame.groupby("dimension", sort=True)["value"]:
        counts = Counter(v for v in values.tolist() if isinstance(v, str))
        spellings: dict[object, list[str]] = {}
        for label in counts:
            spellings.setdefault(label_key(label), []).append(label)
        variants = {k: sorted(v) for k, v in sorted(spellings.items(), key=_by_text) if len(v) > 1}
        canonical = _rubric_spellings(rubric, str(name))
        # a label spelt differently from the rubric's only value of that key is a variant too
        for key, written in spellings.items():
            wanted = canonical.get(key)
            if wanted is not None and written != [wanted] and key not in variants:
                variants[key] = sorted({*written, wanted})
        if not variants:
            continue
        shown = "; ".join(
            " / ".join(repr(v) for v in group) for group in list(variants.values())[:_MAX_LISTED]
        )
        more = f" and {len(variants) - _MAX_LISTED} more" if len(variants) > _MAX_LISTED else ""
        if not normalise:
            warnings.append(
                f"dimension {name!r}: labels that differ only in case or surrounding spaces "
                f"({shown}{more}) count as different categories (a preference dimension then "
                "becomes a plain choice); pass --normalise-labels to read each group as one label"
            )
            continue
        mapping: dict[Value, Value] = {}
        for key, group in variants.items():
            target = canonical.get(key) or max(group, key=lambda v: (counts[v], -group.index(v)))
            mapping.update({v: target for v in group if v != target})
        rewrites[str(name)] = mapping
        pairs = ", ".join(f"{old!r} as {new!r}" for old, new in list(mapping.items())[:5])
        warnings.append(f"dimension {name!r}: --normalise-labels reads {pairs}")
    if not rewrites:
        return frame, 0
    new_values = frame["value"].to_numpy(dtype=object).copy()
    dims = frame["dimension"].to_numpy(dtype=object)
    changed = 0
    for position, (dimension, value) in enumerate(zip(dims, new_values, strict=True)):
        rewrite = rewrites.get(str(dimension))
        if rewrite and isinstance(value, str) and value in rewrite:
            new_values[position] = rewrite[value]
            changed += 1
    out = frame.copy()
    out["value"] = pd.Series(new_values, index=frame.index, dtype=object)
    return out, changed


def _by_text(entry: tuple[object, list[str]]) -> str:
    return str(entry[0])


def _rubric_spellings(rubric: Rubric | None, name: str) -> dict[object, str]:
    """The rubric dimension's string values by :func:`label_key` (none without a rubric or
    such a dimension)."""
    if rubric is None:
        return {}
    try:
        dimension = rubric.dimension(name)
    except KeyError:
        return {}
    return {label_key(v): v for v in dimension.values if isinstance(v, str)}


_ORDERING = re.compile(r"^[^>=]+(?:[>=][^>=]+)*>[^>=]+(?:[>=][^>=]+)*$")


def _unread_rankings(frame: pd.DataFrame, warnings: list[str]) -> None:
    """Without a rubric, a dimension whose every value is an ordering (``b>a=c``) is read as
    unordered labels: say so, and what to give instead."""
    pairs = frame[["dimension", "value"]].drop_duplicates()
    for name, values in pairs.groupby("dimension", sort=True)["value"]:
        texts = [v for v in values if isinstance(v, str)]
        if texts and len(texts) == len(values) and all(_ORDERING.match(t) for t in texts):
            warnings.append(
                f"dimension {str(name)!r} holds orderings such as {texts[0]!r}: without a "
                "rubric they are scored as unordered labels; give --rubric with a ranking "
                "dimension (kind: ranking, values: the options) to score them as rankings"
            )


def _misspelt_dimensions(frame: pd.DataFrame, places: RowPlaces, warnings: list[str]) -> None:
    counts = frame["dimension"].value_counts()
    names = [str(n) for n in counts.index]
    for name in names:
        others = [n for n in names if n != name and counts[n] > counts[name]]
        close = difflib.get_close_matches(name, others, n=1, cutoff=0.8)
        if not close:
            continue
        first = int(frame.index[np.flatnonzero(frame["dimension"].to_numpy() == name)[0]])
        warnings.append(
            f"dimension {name!r} ({int(counts[name])} judgment(s), first at "
            f"{places.name(first)}) looks like a misspelling of {close[0]!r} "
            f"({int(counts[close[0]])} judgment(s)); it is scored as a dimension of its own: "
            "fix the name, or pass --rubric naming the dimensions"
        )


def _missing_dimensions(frame: pd.DataFrame, rubric: Rubric, warnings: list[str]) -> None:
    present = set(frame["dimension"].unique())
    missing = [d.name for d in rubric.dimensions if d.name not in present]
    if missing:
        warnings.append(
            f"rubric {rubric.ref} dimension(s) {', '.join(repr(n) for n in missing)} have no "
            f"judgments in this table and are left out of the report; dimensions found: "
            f"{', '.join(repr(str(n)) for n in sorted(present))}"
        )
