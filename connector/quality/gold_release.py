"""When reports may show an annotator's gold figures: released in steps nobody can diff.

Label Studio lets annotators edit their answers and a webhook makes a sync run seconds later:
a report that showed live gold accuracy would let anyone who reads it change one answer, reload,
and learn whether that item is gold and what its answer is. So reports show each annotator's
gold figures as last *released*, and a release happens only

- at the first sync of a new release period (``gold_release_hours``, default 24: periods are
  counted from the Unix epoch, so their boundaries do not depend on anyone's answers), and
- when the annotator has at least ``gold_release_every`` (default 10) more gold judgments than
  the figures last released counted.

A changed answer therefore surfaces only together with at least ``every`` new gold judgments
whose correctness the annotator does not know, and never at a moment their answer chose. The
annotator lifecycle (:mod:`connector.quality.lifecycle`) always decides on live figures; only what
reports show waits. A new annotator's figures are first released one period after they appear.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from datetime import datetime
from typing import Any

from connector.store import GoldRelease

__all__ = ["apply_gold_release", "gold_judgments", "release_due"]


def _period(moment: datetime, hours: float) -> int:
    return math.floor(moment.timestamp() / (hours * 3600.0))


def gold_judgments(entry: Mapping[str, Any]) -> int:
    """An annotator's gold judgments over every dimension, from a report's annotator entry."""
    total = 0
    for section in (entry.get("dimensions") or {}).values():
        gold = (section or {}).get("gold") or {}
        total += int(gold.get("n") or 0)
    return total


def release_due(
    release: GoldRelease | None, live: int, now: datetime, *, every: int, hours: float
) -> bool:
    """Whether an annotator's gold figures may be released now (see the module docstring)."""
    if release is None:
        return False  # first seen now: a placeholder is stored, the first release waits
    new_period = _period(now, hours) > _period(release.released_at, hours)
    return new_period and live - release.gold_judgments >= every


def apply_gold_release(
    report: MutableMapping[str, Any],
    released: Mapping[str, GoldRelease],
    now: datetime,
    *,
    every: int,
    hours: float,
) -> list[GoldRelease]:
    """Replace each annotator's live gold figures in ``report`` by the released ones; return the
    releases to store (new ones, and placeholders for annotators seen for the first time)."""
    stored: list[GoldRelease] = []
    for entry in report.get("annotators") or []:
        name = str(entry["annotator"])
        live = gold_judgments(entry)
        release = released.get(name)
        if release is None:
            release = GoldRelease(annotator=name, released_at=now, gold_judgments=0, figures={})
            stored.append(release)
        elif release_due(release, live, now, every=every, hours=hours):
            figures = {
                str(dim): section.get("gold")
                for dim, section in (entry.get("dimensions") or {}).items()
                if section and section.get("gold")
            }
            release = GoldRelease(
                annotator=name, released_at=now, gold_judgments=live, figures=figures
            )
            stored.append(release)
        for dim, section in (entry.get("dimensions") or {}).items():
            if section is not None:
                section["gold"] = release.figures.get(str(dim))
        entry["gold_release"] = {
            "released_at": release.released_at.isoformat() if release.figures else None,
            "gold_judgments": release.gold_judgments,
            "every": every,
            "hours": hours,
        }
    return stored
