"""Judgments of several rubric versions in one report: each coded under its own version.

:func:`split_by_version` takes a judgments table whose ``rubric_version`` column names several
versions (a project's store after a move to a new version; a file with that column) and splits
it: the current version's figures (the report's headline) cover its own judgments and an other
version's judgments of a dimension whose meaning is unchanged
(:func:`connector.rubric.versions.pooled_dimensions`, the one rule); every other version's
judgments are scored apart, under that version, by :func:`version_sections`
(``other_rubric_versions`` of the report). No judgment is dropped and none is coded with a
version it was not made under. A project's stored judgments are read split by
:func:`connector.calibration.versions.current_judgments`.

Rows whose ``rubric_version`` is empty or names no version given (a file's own labels such as
``v1``) stay with the current version, as before versions were split.

Gold answers are kept per item and dimension name, not per version. The current version scores
its judgments against them; a stored answer that is not one of the current dimension's values
(an answer of the old meaning, e.g. a value the new version removed) is left out of scoring,
and a warning says how many. The other versions' sections report agreement only (no gold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from connector.report.build import ReportOptions, build_report
from connector.rubric import Rubric
from connector.rubric.versions import pooled_dimensions

__all__ = [
    "VersionPart",
    "VersionSplit",
    "split_by_version",
    "version_sections",
]

#: What ``other_rubric_versions.<n>.dimensions.<name>`` keeps of a dimension's report section.
_KEPT = (
    "kind",
    "level",
    "target_alpha",
    "n_items",
    "n_judgments",
    "n_annotators",
    "krippendorff_alpha",
    "percent_agreement",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionPart:
    """One other version's judgments (every dimension of it) and the dimensions of it whose
    judgments also count in the current version's figures."""

    rubric: Rubric
    frame: pd.DataFrame
    pooled: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionSplit:
    """``current``: the rows the current version scores (its own and the pooled ones);
    ``others``: each other version present, oldest given first; ``n_rows``: the rows split."""

    current: pd.DataFrame
    others: tuple[VersionPart, ...]
    warnings: tuple[str, ...] = ()
    n_rows: int = 0


def split_by_version(
    frame: pd.DataFrame, current: Rubric, versions: Sequence[Rubric]
) -> VersionSplit:
    """Split a canonical judgments table by the rubric version of each row (its
    ``rubric_version``, matched against each version's :attr:`Rubric.ref`)."""
    labels = frame["rubric_version"].astype(object)
    others = [v for v in versions if v.content_hash != current.content_hash]
    keep = ~labels.isin([v.ref for v in others]).to_numpy()
    parts = []
    for version in others:
        rows = (labels == version.ref).to_numpy()
        if not rows.any():
            continue
        pooled = pooled_dimensions(version, current)
        keep |= rows & frame["dimension"].isin(pooled).to_numpy()
        part = frame[rows].assign(gold_value=None)
        parts.append(VersionPart(rubric=version, frame=part, pooled=pooled))
    current_rows, warnings = _without_foreign_gold(frame[keep], current)
    return VersionSplit(
        current=current_rows, others=tuple(parts), warnings=warnings, n_rows=len(frame)
    )


def _without_foreign_gold(
    frame: pd.DataFrame, rubric: Rubric
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``frame`` without the gold answers that are not values of their dimension in
    ``rubric``, and a warning per dimension that had any."""
    if "gold_value" not in frame.columns or frame["gold_value"].isna().all():
        return frame, ()
    gold = frame["gold_value"].astype(object)
    foreign = pd.Series(False, index=frame.index)
    warnings = []
    for dimension in rubric.dimensions:
        if dimension.kind == "ranking":
            continue  # a ranking's gold is read by its scoring view
        rows = (frame["dimension"] == dimension.name) & gold.notna()
        outside = rows & ~gold.isin(list(dimension.values))
        if outside.any():
            foreign |= outside
            found = sorted({repr(v) for v in gold[outside]})
            items = frame.loc[outside, "item_id"].astype(str).unique()
            warnings.append(
                f"{int(outside.sum())} judgment(s) of dimension {dimension.name!r} on "
                f"{len(items)} gold item(s) (e.g. {', '.join(sorted(items)[:3])}) are not "
                f"scored against gold: the stored gold answer ({', '.join(found)}) is not one "
                f"of {list(dimension.values)} in rubric {rubric.ref} (an answer of an earlier "
                "version); give these items answers under this version in the gold file"
            )
    if not foreign.any():
        return frame, ()
    return frame.assign(gold_value=gold.mask(foreign, None)), tuple(warnings)


def version_sections(split: VersionSplit, *, options: ReportOptions) -> list[dict[str, Any]]:
    """``other_rubric_versions``: per other version, its judgments scored under it (alpha per
    dimension with its interval, as the headline computes it); ``pooled`` marks a dimension
    whose judgments also count in the current version's figures."""
    sections = []
    for part in split.others:
        report = build_report(part.frame.reset_index(drop=True), part.rubric, options=options)
        rubric = part.rubric
        sections.append(
            {
                "rubric": {
                    "id": rubric.id,
                    "version": rubric.version,
                    "content_hash": rubric.content_hash,
                },
                "n_judgments": len(part.frame),
                "n_items": int(part.frame["item_id"].nunique()),
                "n_annotators": int(part.frame["annotator"].nunique()),
                "pooled_dimensions": list(part.pooled),
                "dimensions": {
                    name: {
                        **{key: section[key] for key in _KEPT},
                        "pooled": name in part.pooled,
                    }
                    for name, section in report["dimensions"].items()
                },
                "warnings": report["warnings"],
            }
        )
    return sections
