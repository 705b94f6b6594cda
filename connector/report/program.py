"""The calibration program's tables, shared by every renderer: re-tests per annotator (and,
later in this module, re-annotation rounds and expert/crowd tiers).

Each is a :class:`ProgramTable` (a title, a sentence saying what the figures are, a
:class:`~connector.report._format.TextTable`), read from the report dict only; the HTML,
Markdown and console renderers print every table :func:`program_tables` returns, so a new
table reaches every renderer at once. Per-annotator tables go only into these full reports,
never to the platform (see docs/security.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.report._format import (
    DASH,
    TextTable,
    annotators_of,
    category_label,
    dimensions_of,
    fmt_coef,
    fmt_coef_ci,
    fmt_count,
    fmt_interval,
    fmt_percent,
    fmt_percent_ci,
    kappa_name,
    lookup,
    number,
)

__all__ = [
    "ProgramTable",
    "program_tables",
    "reannotation_table",
    "retest_table",
    "tier_tables",
    "versions_table",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramTable:
    """One table of the calibration program: ``anchor`` is its HTML id."""

    anchor: str
    title: str
    note: str
    table: TextTable


def program_tables(report: Mapping[str, Any]) -> list[ProgramTable]:
    """Every calibration-program table the report has data for, in display order."""
    tables = [
        versions_table(report),
        retest_table(report),
        reannotation_table(report),
        *tier_tables(report),
    ]
    return [t for t in tables if t is not None]


def versions_table(report: Mapping[str, Any]) -> ProgramTable | None:
    """The judgments of other rubric versions, scored under their own version
    (``other_rubric_versions``, :mod:`connector.report.versions`); None when there are none."""
    others = report.get("other_rubric_versions") or []
    rows = [
        (
            f"{lookup(part, 'rubric', 'id')}@v{lookup(part, 'rubric', 'version')}",
            str(name),
            fmt_coef_ci(lookup(dim, "krippendorff_alpha")),
            fmt_count(lookup(dim, "n_items")),
            fmt_count(lookup(dim, "n_judgments")),
            "yes" if lookup(dim, "pooled") else "no",
        )
        for part in others
        for name, dim in (lookup(part, "dimensions") or {}).items()
    ]
    if not rows:
        return None
    return ProgramTable(
        anchor="rubric-versions",
        title="Other rubric versions",
        note="Judgments made under another rubric version than the report's, each scored under "
        "its own version. 'Also above' marks a dimension whose meaning is unchanged (same "
        "question, values and level): its judgments also count in the figures above.",
        table=TextTable(
            columns=("Version", "Dimension", "alpha [95% CI]", "Items", "Judgments", "Also above"),
            rows=tuple(rows),
            numeric=(False, False, True, True, True, False),
        ),
    )


def _kappa_ci(entry: object) -> str:
    """``0.600 [0.200, 0.900]`` from an entry with ``cohen_kappa`` and ``ci95``."""
    value = lookup(entry, "cohen_kappa")
    if number(value) is None:
        return DASH
    interval = fmt_interval(lookup(entry, "ci95"))
    return fmt_coef(value) if interval == DASH else f"{fmt_coef(value)} {interval}"


def retest_table(report: Mapping[str, Any]) -> ProgramTable | None:
    """Per annotator and dimension: re-test pairs, their agreement and kappa with its interval;
    with the store's copies known, the copies each annotator judged and how many were re-tests
    of their own first judgment. None when the report has no re-test pair and no copy."""
    copies = {
        str(entry.get("annotator")): entry.get("retest_copies")
        for entry in report.get("annotators", [])
    }
    known_copies = report.get("retest_copies") is not None
    rows = []
    for dimension, section in dimensions_of(report):
        kappa = kappa_name(section)
        for name, figures in annotators_of(report, dimension):
            intra = figures.get("intra")
            reach = copies.get(name)
            if not isinstance(intra, Mapping) and not isinstance(reach, Mapping):
                continue
            rows.append(
                (
                    name,
                    dimension,
                    fmt_count(lookup(intra, "n_pairs") if isinstance(intra, Mapping) else 0),
                    fmt_percent(lookup(intra, "percent_agreement")),
                    f"{kappa} {_kappa_ci(intra)}" if isinstance(intra, Mapping) else DASH,
                    *(
                        (
                            fmt_count(lookup(reach, "n_judged") or 0),
                            fmt_count(lookup(reach, "n_same_annotator") or 0),
                        )
                        if known_copies
                        else ()
                    ),
                )
            )
    if not rows:
        return None
    columns = [
        ("Annotator", False),
        ("Dimension", False),
        ("Re-test pairs", True),
        ("Agreement", True),
        ("Intra-annotator κ [95% CI]", True),
    ]
    if known_copies:
        columns += [("Re-test copies judged", True), ("Of them re-tests of own judgment", True)]
    overall = report.get("retest_copies")
    reach_text = ""
    if isinstance(overall, Mapping):
        reach_text = (
            f" Re-test copies pushed: {fmt_count(overall.get('n_copies'))}; judged: "
            f"{fmt_count(overall.get('n_judged'))}, of which "
            f"{fmt_count(overall.get('n_same_annotator'))} "
            f"({fmt_percent(overall.get('share_same_annotator'))}) reached the annotator who "
            "judged the original (copies reach whoever picks them; the others count as first "
            "judgments)."
        )
    note = (
        "An annotator's first and second judgment of the same item (the first counts for "
        "inter-annotator agreement). κ is Cohen's kappa of the pairs, with the dimension's "
        "weights (weighted κ on ordinal and interval dimensions); its interval resamples the "
        "pairs." + reach_text
    )
    return ProgramTable(
        anchor="retests",
        title="Re-tests (intra-annotator consistency)",
        note=note,
        table=_table(columns, rows),
    )


def _arrow(before: object, after: object) -> str:
    return f"{fmt_percent(before)} → {fmt_percent(after)}"


def reannotation_table(report: Mapping[str, Any]) -> ProgramTable | None:
    """Per dimension, the re-annotated items' alpha and mean item agreement before and after
    their new judgments. None when no item was pushed again (or a report of a file)."""
    section = report.get("reannotation")
    if not isinstance(section, Mapping):
        return None
    rows = []
    for name, entry in (section.get("dimensions") or {}).items():
        before, after = entry.get("before"), entry.get("after")
        rows.append(
            (
                str(name),
                fmt_count(lookup(after, "n_items")),
                f"{fmt_count(lookup(before, 'n_judgments'))} → "
                f"{fmt_count(lookup(after, 'n_judgments'))}",
                fmt_coef_ci(lookup(before, "krippendorff_alpha")),
                fmt_coef_ci(lookup(after, "krippendorff_alpha")),
                _arrow(lookup(before, "mean_item_agreement"), lookup(after, "mean_item_agreement")),
            )
        )
    columns = [
        ("Dimension", False),
        ("Items", True),
        ("Judgments before → after", True),
        ("α before [95% CI]", True),
        ("α after [95% CI]", True),
        ("Mean item agreement before → after", True),
    ]
    note = (
        f"{fmt_count(section.get('n_items'))} low-agreement item(s) pushed again for more "
        f"annotators; {fmt_count(section.get('n_items_rejudged'))} got new judgments "
        f"({fmt_count(section.get('n_new_judgments'))} in all). Before: every judgment but "
        "those in the new copies; after: all of them (each annotator's first judgment). The "
        "items were chosen for low agreement, so part of a rise is regression to the mean."
    )
    return ProgramTable(
        anchor="reannotation",
        title="Re-annotation of low-agreement items",
        note=note,
        table=_table(columns, rows),
    )


def _table(columns: Sequence[tuple[str, bool]], rows: Sequence[tuple[str, ...]]) -> TextTable:
    return TextTable(
        columns=tuple(c for c, _ in columns),
        rows=tuple(rows),
        numeric=tuple(n for _, n in columns),
    )


def tier_tables(report: Mapping[str, Any]) -> list[ProgramTable]:
    """With annotator groups: each non-expert annotator against the expert consensus, and every
    annotator's agreement per prompt category. Empty without groups."""
    tiers = report.get("tiers")
    if not isinstance(tiers, Mapping):
        return []
    group = {str(e.get("annotator")): e.get("group") for e in report.get("annotators", [])}
    expert_rows: list[tuple[str, ...]] = []
    category_rows: list[tuple[str, ...]] = []
    for dimension, section in dimensions_of(report):
        kappa = kappa_name(section)
        for name, figures in annotators_of(report, dimension):
            tier = str(group.get(name) or DASH)
            consensus = figures.get("expert_consensus")
            if isinstance(consensus, Mapping):
                expert_rows.append(
                    (
                        name,
                        tier,
                        dimension,
                        fmt_count(consensus.get("n")),
                        fmt_percent_ci(consensus.get("agreement"), consensus.get("ci95")),
                        f"{kappa} {fmt_coef(consensus.get('cohen_kappa'))}",
                    )
                )
            for entry in figures.get("by_category") or ():
                category_rows.append(
                    (
                        name,
                        tier,
                        dimension,
                        category_label(entry.get("key")),
                        fmt_count(entry.get("n_pairs")),
                        fmt_percent(entry.get("percent_agreement")),
                        f"{kappa} {fmt_coef(entry.get('cohen_kappa'))}",
                    )
                )
    reference = str(tiers.get("reference_group") or DASH)
    counts = "; ".join(
        f"{name}: consensus on {fmt_count(entry.get('n_consensus_items'))} of "
        f"{fmt_count(entry.get('n_expert_items'))} items the experts judged "
        f"({fmt_count(entry.get('n_expert_ties'))} tied)"
        for name, entry in (tiers.get("dimensions") or {}).items()
    )
    groups = ", ".join(
        f"{name} ({fmt_count(len(members))})"
        for name, members in (tiers.get("groups") or {}).items()
    )
    missing = tiers.get("members_without_judgments") or []
    missing_text = (
        f" Group members without a judgment here: {', '.join(map(str, missing))}."
        if missing
        else ""
    )
    tables = [
        ProgramTable(
            anchor="tiers",
            title="Expert and crowd tiers",
            note=(
                f"Groups: {groups}. Every annotator outside the {reference!r} group against the "
                "expert consensus (the experts' single most frequent value of an item; none "
                "where they tie), on the items both judged: share agreeing with its 95% Wilson "
                f"interval, and kappa. {counts or 'No expert judgment.'}.{missing_text}"
            ),
            table=_table(
                [
                    ("Annotator", False),
                    ("Group", False),
                    ("Dimension", False),
                    ("Items with expert consensus", True),
                    ("Agreement with experts [95% CI]", True),
                    ("κ vs experts", True),
                ],
                expert_rows,
            ),
        )
    ]
    if category_rows:
        tables.append(
            ProgramTable(
                anchor="by-category",
                title="Agreement per annotator and category",
                note=(
                    "Each annotator's agreement with their co-annotators on the items of one "
                    "prompt category (pairs of judgments of the same item; no interval: the "
                    "pairs of one item are not independent)."
                ),
                table=_table(
                    [
                        ("Annotator", False),
                        ("Group", False),
                        ("Dimension", False),
                        ("Category", False),
                        ("Pairs", True),
                        ("Agreement", True),
                        ("κ", True),
                    ],
                    category_rows,
                ),
            )
        )
    return tables
