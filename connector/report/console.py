"""The summary printed by ``iaa-connector report INPUT`` when no output file is asked for.

One table row per dimension (the headline table of the HTML report), then the flagged
annotators, then one line per significant position or length bias. Text from the report is
printed as plain text, never parsed as Rich markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from connector.report import (
    DASH,
    RANKING_NOTE,
    TextTable,
    bias_notes,
    flagged_annotators,
    flagged_table,
    headline_table,
    lookup,
    plural,
    ranking_table,
)
from connector.report.program import program_tables

__all__ = ["SHOWN_FLAGGED", "print_summary"]

SHOWN_FLAGGED = 20
"""Flagged annotators printed; the rest are counted in one line."""


def print_summary(report: Mapping[str, Any], console: Console | None = None) -> None:
    """Print the headline table, flagged annotators and significant biases to ``console``."""
    console = console or Console()
    console.print(_title(report))
    headline = headline_table(report)
    wide = _rich_table(headline, alert_column="Flag")
    # Numbers and flags never wrap: when the table does not fit unwrapped (Rich would otherwise
    # cut no-wrap columns), print one column per dimension.
    if (
        Measurement.get(console, console.options.update_width(10_000), wide).maximum
        <= console.width
    ):
        console.print(wide)
    else:
        console.print(_transposed(headline))
    rankings = ranking_table(report)
    if rankings.rows:
        console.print()
        console.print(_rich_table(rankings, title="Rankings"))
        console.print(Text(RANKING_NOTE))
    flagged = flagged_annotators(report)
    if flagged:
        console.print()
        table = flagged_table(flagged[:SHOWN_FLAGGED])
        console.print(_rich_table(table, title="Flagged annotators"))
        if len(flagged) > SHOWN_FLAGGED:
            rest = plural(len(flagged) - SHOWN_FLAGGED, "more flagged annotator")
            console.print(Text(f"… and {rest}; the HTML and Markdown reports list them all."))
    for program in program_tables(report):
        console.print()
        console.print(_rich_table(program.table, title=program.title))
    notes = bias_notes(report)
    if notes:
        console.print()
    for note in notes:
        console.print(Text(note, style="yellow"))


def _title(report: Mapping[str, Any]) -> Text:
    summary = report.get("summary") or {}
    rubric = report.get("rubric")
    text = Text("Agreement report: ", style="bold")
    text.append(str(lookup(report, "source", "path") or DASH))
    text.append(
        f" — {summary.get('n_items', DASH)} items, {summary.get('n_judgments', DASH)} judgments, "
        f"{summary.get('n_annotators', DASH)} annotators"
    )
    if isinstance(rubric, Mapping):
        text.append(f" (rubric {rubric.get('id') or DASH} v{rubric.get('version') or DASH})")
    return text


def _rich_table(table: TextTable, *, title: str | None = None, alert_column: str = "") -> Table:
    """Numbers and the alert column never wrap (numbers' headers break before ``[``, ``(`` or
    ``or`` instead); other text wraps at spaces only."""
    rich_table = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        show_edge=False,
        padding=(0, 1, 0, 0),
    )
    for j, (column, numeric) in enumerate(zip(table.columns, table.numeric, strict=True)):
        if numeric:
            header = column.replace(" [", "\n[").replace(" (", "\n(").replace(" or ", "\nor ")
            rich_table.add_column(Text(header), justify="right", no_wrap=True)
        elif column == alert_column:
            longest = max(len(text) for text in [column, *(row[j] for row in table.rows)])
            rich_table.add_column(Text(column), no_wrap=True, min_width=longest)
        else:
            texts = [column, *(row[j] for row in table.rows)]
            longest_word = max(len(word) for text in texts for word in text.split() or [""])
            rich_table.add_column(Text(column), min_width=longest_word)
    alert_index = table.columns.index(alert_column) if alert_column in table.columns else -1
    for row in table.rows:
        rich_table.add_row(
            *(
                Text(cell, style=_flag_style(cell) if j == alert_index else "")
                for j, cell in enumerate(row)
            )
        )
    return rich_table


def _transposed(table: TextTable) -> Table:
    """The headline table for a narrow terminal: one column per dimension."""
    rich_table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0))
    rich_table.add_column(Text(table.columns[0]))
    for row in table.rows:
        rich_table.add_column(Text(row[0]), justify="right")
    for j, column in enumerate(table.columns[1:], start=1):
        rich_table.add_row(
            Text(column),
            *(
                Text(row[j], style=_flag_style(row[j]) if column == "Flag" else "")
                for row in table.rows
            ),
        )
    return rich_table


def _flag_style(flag: str) -> str:
    """Bold red for a verdict (``below target``), dim for anything less sure, none if empty."""
    if not flag:
        return ""
    return "bold red" if flag.startswith("below target") else "dim"
