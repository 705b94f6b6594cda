"""The Markdown report: the tables of the HTML report, without plots, as GitHub-flavoured Markdown.

Free text from the report (annotator names, categories, paths) is escaped so that it can neither
break a table (``|``), nor start emphasis, code or a link, nor inject HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from connector.report import (
    BREAKDOWNS,
    DASH,
    RANKING_NOTE,
    TextTable,
    annotator_table,
    bias_notes,
    breakdown_table,
    category_label,
    dimension_facts,
    dimensions_of,
    flag_rules,
    flagged_annotators,
    flagged_table,
    fmt_coef,
    fmt_count,
    fmt_percent,
    headline_table,
    interval_kind,
    kappa_name,
    lookup,
    number,
    ranking_table,
    sorted_by_alpha,
)
from connector.report.program import program_tables

__all__ = ["LOWEST_PAIRS", "render_markdown"]

LOWEST_PAIRS = 10
"""How many annotator pairs the "lowest agreement" table lists per dimension."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*~|])")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report (``iaa-connector/report@1`` dict) as GitHub-flavoured Markdown."""
    blocks = [*_header(report), *_overview(report)]
    for name, dim in dimensions_of(report):
        blocks.extend(_dimension(report, name, dim))
    blocks.append("## Annotators")
    for name, _ in dimensions_of(report):
        blocks.append(f"### {_md(name)}")
        blocks.append(_table(annotator_table(report, name)))
    for program in program_tables(report):
        blocks += [f"## {_md(program.title)}", _md(program.note), _table(program.table)]
    return "\n\n".join(blocks) + "\n"


def _md(text: object) -> str:
    """``text`` as literal inline Markdown on one line.

    HTML special characters become entities; backslash, backtick, ``*``, ``~`` and ``|`` are
    backslash-escaped, and so are ``_`` at a word boundary and brackets that could form a link
    (``](`` or ``][``). Intervals such as ``[0.44, 0.58]`` and names such as ``expert_1`` stay
    readable in the raw file.
    """
    flat = " ".join(str(text).split())
    literal = _MARKDOWN_SPECIAL.sub(r"\\\1", escape(flat, quote=False))
    literal = _EMPHASIS_UNDERSCORE.sub(r"\\_", literal)
    if "](" in flat or "][" in flat:
        literal = literal.replace("[", r"\[").replace("]", r"\]")
    return literal


def _table(table: TextTable) -> str:
    header = "| " + " | ".join(_md(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---:" if numeric else "---" for numeric in table.numeric) + "|"
    rows = ["| " + " | ".join(_md(cell) or " " for cell in row) + " |" for row in table.rows]
    return "\n".join([header, rule, *rows])


def _bullets(pairs: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"- **{_md(label)}:** {value}" for label, value in pairs)


def _header(report: Mapping[str, Any]) -> list[str]:
    source = report.get("source") or {}
    rubric = report.get("rubric")
    options = report.get("options") or {}
    summary = report.get("summary") or {}
    if isinstance(rubric, Mapping):
        rubric_text = (
            f"{_md(rubric.get('id') or DASH)}, version {_md(rubric.get('version') or DASH)}, "
            f"{_md(rubric.get('content_hash') or DASH)}"
        )
    else:
        rubric_text = DASH
    confidence = number(options.get("confidence"))
    facts = [
        (
            "Source",
            f"{_md(source.get('path') or DASH)} ({_md(source.get('format') or DASH)}, "
            f"{fmt_count(source.get('rows'))} rows)",
        ),
        ("Rubric", rubric_text),
        ("Generated", _md(report.get("generated_at") or DASH)),
        (
            "Options",
            f"{fmt_count(options.get('bootstrap_resamples'))} bootstrap resamples, "
            f"seed {_md(options.get('seed', DASH))}, "
            f"{DASH if confidence is None else f'{100 * confidence:g}%'} "
            f"{interval_kind(report)} intervals, "
            f"annotator pairs need at least {fmt_count(options.get('min_shared_items'))} "
            "shared items",
        ),
        (
            "Summary",
            f"{fmt_count(summary.get('n_items'))} items, "
            f"{fmt_count(summary.get('n_judgments'))} judgments, "
            f"{fmt_count(summary.get('n_annotators'))} annotators, "
            f"{fmt_count(summary.get('n_dimensions'))} dimensions",
        ),
        ("Schema", _md(report.get("schema") or DASH)),
    ]
    return ["# Inter-annotator agreement report", _bullets(facts)]


def _overview(report: Mapping[str, Any]) -> list[str]:
    blocks = [
        "## Overview",
        _table(headline_table(report)),
        "α: Krippendorff's alpha at the dimension's level of measurement; κ: Fleiss' kappa, or "
        "weighted κ where the Weights column names weights; AC1: Gwet's AC1, or AC2 (AC1 with "
        f"those weights); intervals are 95% {interval_kind(report)} intervals.",
    ]
    rankings = ranking_table(report)
    if rankings.rows:
        blocks += ["## Rankings", _table(rankings), _md(RANKING_NOTE)]
    blocks += [
        "## Flagged annotators",
    ]
    flagged = flagged_annotators(report)
    if flagged:
        blocks.append(_md(flag_rules()))
        blocks.append(_table(flagged_table(flagged)))
    else:
        blocks.append("No annotator is flagged.")
    notes = bias_notes(report)
    if notes:
        blocks.append("## Biases")
        blocks.append("\n".join(f"- {_md(note)}" for note in notes))
    warnings = report.get("warnings") or []
    if warnings:
        blocks.append("## Input warnings")
        blocks.append("\n".join(f"- {_md(str(warning))}" for warning in warnings))
    return blocks


def _dimension(report: Mapping[str, Any], name: str, dim: Mapping[str, Any]) -> list[str]:
    blocks = [
        f"## Dimension: {_md(name)}",
        _bullets((label, _md(value)) for label, value in dimension_facts(dim)),
    ]
    pairs = _lowest_pairs(report, name)
    if pairs.rows:
        blocks += [f"### Lowest-agreement annotator pairs (up to {LOWEST_PAIRS})", _table(pairs)]
    blocks += _confusion(dim)
    by_category = [e for e in dim.get("by_category") or () if isinstance(e, Mapping)]
    if by_category:
        blocks.append("### Agreement by category (lowest α first)")
        blocks.append(_table(breakdown_table(sorted_by_alpha(by_category), key_title="Category")))
    for key, what, key_title in BREAKDOWNS:
        entries = [e for e in dim.get(key) or () if isinstance(e, Mapping)]
        if len(entries) > 1:
            blocks.append(f"### Agreement by {what}")
            blocks.append(_table(breakdown_table(entries, key_title=key_title)))
    return blocks


def _lowest_pairs(report: Mapping[str, Any], dimension: str) -> TextTable:
    pairs = [
        p for p in lookup(report, "annotator_pairs", dimension) or () if isinstance(p, Mapping)
    ]
    known = [p for p in pairs if number(p.get("percent_agreement")) is not None]
    known.sort(key=lambda p: (number(p.get("percent_agreement")), str(p.get("a")), str(p.get("b"))))
    return TextTable(
        columns=(
            "Annotator",
            "Annotator",
            "Shared items",
            "% agreement",
            f"Cohen {kappa_name(lookup(report, 'dimensions', dimension) or {})}",
        ),
        rows=tuple(
            (
                str(p.get("a")),
                str(p.get("b")),
                fmt_count(p.get("shared_items")),
                fmt_percent(p.get("percent_agreement")),
                fmt_coef(p.get("cohen_kappa")),
            )
            for p in known[:LOWEST_PAIRS]
        ),
        numeric=(False, False, True, True, True),
    )


def _confusion(dim: Mapping[str, Any]) -> list[str]:
    confusion = dim.get("confusion")
    if not isinstance(confusion, Mapping) or not confusion.get("matrix"):
        return []
    labels = [category_label(c) for c in confusion.get("categories") or ()]
    matrix: Sequence[Sequence[object]] = confusion["matrix"]
    blocks = [
        "### Coincidence matrix",
        _table(
            TextTable(
                columns=("", *labels),
                rows=tuple(
                    (label, *(fmt_count(v) for v in row))
                    for label, row in zip(labels, matrix, strict=True)
                ),
                numeric=(False, *(True for _ in labels)),
            )
        ),
    ]
    top = [p for p in confusion.get("top_pairs") or () if isinstance(p, Mapping)]
    if top:
        blocks.append("### Top confusions")
        blocks.append(
            _table(
                TextTable(
                    columns=("Value", "Confused with", "Pairs", "Share of all pairs"),
                    rows=tuple(
                        (
                            category_label(p.get("a")),
                            category_label(p.get("b")),
                            fmt_count(p.get("count")),
                            fmt_percent(p.get("share")),
                        )
                        for p in top
                    ),
                    numeric=(False, False, True, True),
                )
            )
        )
    return blocks
