"""When judgments made under one rubric version may be scored with another's (one owner).

A project that moves to a new rubric version keeps the judgments made under the old one. Each
judgment is coded under its own version; the current version's figures take an older version's
judgments of a dimension only when :func:`same_meaning` holds for that dimension in both
versions: the same name, question, kind, values (in order), level of measurement, non-decisive
values, response values and signedness. The dimension's target alpha and whether it gates an
annotator's status may differ (they judge the figure, they do not change what was asked). The
guideline text is not compared: a change of meaning is expected to show in the question or the
values; a team that changes only the guidelines of a dimension and wants the old judgments kept
apart renames it.
"""

from __future__ import annotations

from dataclasses import replace

from connector.rubric.model import Dimension, Rubric

__all__ = ["pooled_dimensions", "same_meaning"]


def same_meaning(old: Dimension, new: Dimension) -> bool:
    """True when a judgment of ``old`` means what a judgment of ``new`` means (see the module
    docstring for the rule)."""
    return _meaning(old) == _meaning(new)


def _meaning(dimension: Dimension) -> Dimension:
    """The dimension without what judges its figures (target alpha, gating)."""
    return replace(dimension, target_alpha=None, gating=True, gating_reason=None)


def pooled_dimensions(old: Rubric, current: Rubric) -> tuple[str, ...]:
    """The dimensions of ``old`` whose judgments count in ``current``'s figures (rubric order
    of ``old``): those ``current`` has under the same name with :func:`same_meaning`."""
    by_name = {d.name: d for d in current.dimensions}
    return tuple(
        d.name for d in old.dimensions if d.name in by_name and same_meaning(d, by_name[d.name])
    )
