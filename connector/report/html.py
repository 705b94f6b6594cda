"""The HTML report: one self-contained file (inline CSS and SVG, no script, no URL).

It reads top to bottom the way a data-quality lead works through a batch:

1. header: source, rubric, when, how much data, the options behind the intervals;
2. overview: the headline table per dimension, flagged annotators, significant biases, and a
   forest plot of Krippendorff's alpha per dimension against its target;
3. one section per dimension: the annotator × annotator agreement heatmap, gold accuracy per
   annotator, the coincidence (confusion) matrix and its top pairs, agreement by category and,
   when there is more than one, by rubric version, batch and week;
4. one table per dimension with every annotator's figures.

Everything taken from the report is escaped (annotator names and categories are free text).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from connector.report import (
    BREAKDOWNS,
    DASH,
    RANKING_NOTE,
    FlaggedAnnotator,
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
    gold_release_note,
    gold_thresholds,
    headline_table,
    interval_kind,
    lookup,
    number,
    peer_network,
    plural,
    ranking_table,
    sorted_by_alpha,
)
from connector.report.program import program_tables
from connector.report.sections import alpha_estimate, gold_estimates
from connector.report.svg import (
    LABEL_CHARS,
    ROW_LABEL_CHARS,
    ReferenceLine,
    bar_chart,
    forest_plot,
    heatmap,
    shortened,
)

__all__ = [
    "AGREEMENT_SCALE",
    "LONG_TABLE",
    "MAX_GOLD_ROWS",
    "MAX_HEATMAP_ANNOTATORS",
    "SHOWN_FLAGGED",
    "render_html",
]

MAX_HEATMAP_ANNOTATORS = 30
"""The agreement heatmap shows at most this many annotators (those with the most listed pairs,
see :func:`connector.report.sections.peer_network`)."""

MAX_GOLD_ROWS = 40
"""The gold accuracy chart shows at most this many annotators, lowest first."""

SHOWN_FLAGGED = 20
"""Flagged annotators listed in the overview; the rest are folded away under a summary line."""

LONG_TABLE = 30
"""A calibration-program table (re-tests, tiers, per category) with more rows than this is
folded under a ``<details>`` element."""

AGREEMENT_SCALE = (0.0, 1.0)
"""The colour scale of the agreement heatmap: always 0–100%, so that 90–95% looks close
together rather than stretched over the whole scale."""

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       sans-serif; color: #222; max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 8px; padding-top: 12px; border-top: 2px solid #e3e6ea; }
h3 { font-size: 16px; margin: 28px 0 6px; }
.subtitle { color: #555; margin: 0 0 16px; }
nav { margin: 8px 0 0; color: #555; }
nav a { margin-right: 14px; color: #1f5fa8; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.meta dt { color: #555; }
dl.meta dd { margin: 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       overflow-wrap: anywhere; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #e3e6ea; border-radius: 6px; padding: 8px 16px; min-width: 110px; }
.card b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
.card span { color: #555; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e6ea; text-align: left;
         vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
th.num { text-align: right; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.nb { white-space: nowrap; }
table.headline { font-size: 12.5px; }
table.headline th, table.headline td { padding: 4px 8px; }
.alert { color: #c0392b; font-weight: 600; }
.badge { display: block; width: max-content; margin-top: 3px; padding: 0 6px; font-size: 11.5px;
         font-weight: 600; color: #c0392b; background: #fdecea; border: 1px solid #f1b8b0;
         border-radius: 4px; }
.badge-muted { display: block; width: max-content; margin-top: 3px; font-size: 11.5px;
               color: #666; }
td.alert { white-space: nowrap; }
.muted { color: #666; }
figure { margin: 12px 0 20px; break-inside: avoid; }
figcaption { color: #555; font-size: 13px; max-width: 820px; margin-top: 4px; }
details { margin: 4px 0 16px; }
summary { cursor: pointer; color: #1f5fa8; }
ul.notes li { margin: 2px 0; }
@media (max-width: 900px) {
  body { padding: 16px 12px 48px; }
  table { font-size: 12px; }
  th, td, table.headline th, table.headline td { padding: 3px 5px; }
}
"""


def render_html(report: Mapping[str, Any]) -> str:
    """The report (``iaa-connector/report@1`` dict) as one self-contained HTML page."""
    dimensions = dimensions_of(report)
    sections = [
        _header(report, dimensions),
        _overview(report),
        *(
            _dimension_section(report, index, name, dim)
            for index, (name, dim) in enumerate(dimensions, start=1)
        ),
        _annotator_section(report, dimensions),
        *(
            f'<section id="{t.anchor}"><h2>{_esc(t.title)}</h2>'
            f"{_table(t.table) if len(t.table.rows) <= LONG_TABLE else _details(t.table)}"
            f'<p class="muted">{_esc(t.note)}</p></section>'
            for t in program_tables(report)
        ),
    ]
    title = f"Agreement report — {lookup(report, 'source', 'path') or 'judgments'}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            *sections,
            "</body>",
            "</html>",
            "",
        ]
    )


# --------------------------------------------------------------------------- building blocks


def _esc(value: object) -> str:
    return escape(str(value), quote=True)


def _table(
    table: TextTable,
    *,
    alert_cells: Iterable[tuple[int, int]] = (),
    cell_html: Mapping[tuple[int, int], str] | None = None,
    css_class: str = "",
) -> str:
    """A :class:`TextTable` as an HTML table; ``alert_cells`` are ``(row, column)`` in red and
    ``cell_html`` replaces a cell's escaped text with ready-made (escaped) HTML."""
    alerts = set(alert_cells)
    raw = cell_html or {}
    head = "".join(
        f'<th{" class=num" if numeric else ""} scope="col">{_esc(column)}</th>'
        for column, numeric in zip(table.columns, table.numeric, strict=True)
    )
    body = []
    for i, row in enumerate(table.rows):
        cells = []
        for j, (cell, numeric) in enumerate(zip(row, table.numeric, strict=True)):
            classes = " ".join(c for c, on in (("num", numeric), ("alert", (i, j) in alerts)) if on)
            attribute = f' class="{classes}"' if classes else ""
            content = raw.get((i, j)) or (_numeric_cell(cell) if numeric else _esc(cell))
            cells.append(f"<td{attribute}>{content}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    table_class = f' class="{css_class}"' if css_class else ""
    return (
        f'<div class="scroll"><table{table_class}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _numeric_cell(text: str) -> str:
    """A number cell that may break before its interval (``0.477`` / ``[0.428, 0.530]``) on a
    narrow screen, never inside the number or the interval."""
    head, bracket, tail = text.partition(" [")
    if not bracket:
        return _esc(text)
    return f'<span class="nb">{_esc(head)}</span> <span class="nb">[{_esc(tail)}</span>'


def _figure(svg: str, caption: str) -> str:
    """An SVG chart with an (already escaped) caption."""
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


def _full_labels(labels: Iterable[str], limit: int) -> str:
    """A caption sentence giving in full the labels a chart shortens (empty when none is)."""
    cut = sorted({label for label in labels if shortened(label, limit) != label})
    if not cut:
        return ""
    listed = "; ".join(f"“{shortened(label, limit)}” = “{label}”" for label in cut)
    return f" Shortened labels in full: {listed}."


def _percent_tick(value: float) -> str:
    return f"{100 * value:g}%"


# --------------------------------------------------------------------------- header, overview


def _header(report: Mapping[str, Any], dimensions: Sequence[tuple[str, Any]]) -> str:
    source = report.get("source") or {}
    rubric = report.get("rubric")
    options = report.get("options") or {}
    summary = report.get("summary") or {}
    if isinstance(rubric, Mapping):
        rubric_html = (
            f"{_esc(rubric.get('id') or DASH)}, version {_esc(rubric.get('version') or DASH)} "
            f"<code>{_esc(rubric.get('content_hash') or DASH)}</code>"
        )
    else:
        rubric_html = DASH
    confidence = number(options.get("confidence"))
    options_text = (
        f"{fmt_count(options.get('bootstrap_resamples'))} bootstrap resamples, "
        f"seed {_esc(options.get('seed', DASH))}, "
        f"{DASH if confidence is None else f'{100 * confidence:g}%'} "
        f"{interval_kind(report)} intervals, "
        f"annotator pairs need at least {fmt_count(options.get('min_shared_items'))} shared items"
    )
    meta = [
        (
            "Source",
            f"<code>{_esc(source.get('path') or DASH)}</code> "
            f"({_esc(source.get('format') or DASH)}, {fmt_count(source.get('rows'))} rows)",
        ),
        ("Rubric", rubric_html),
        ("Generated", _esc(report.get("generated_at") or DASH)),
        ("Options", _esc(options_text)),
        ("Schema", _esc(report.get("schema") or DASH)),
    ]
    cards = "".join(
        f'<div class="card"><b>{fmt_count(summary.get(key))}</b><span>{label}</span></div>'
        for key, label in (
            ("n_items", "items"),
            ("n_judgments", "judgments"),
            ("n_annotators", "annotators"),
            ("n_dimensions", "dimensions"),
        )
    )
    links = "".join(
        f'<a href="#dim-{i}">{_esc(name)}</a>' for i, (name, _) in enumerate(dimensions, start=1)
    )
    return (
        "<header><h1>Inter-annotator agreement report</h1>"
        f'<p class="subtitle">{_esc(source.get("path") or DASH)}</p>'
        f'<dl class="meta">{"".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)}</dl>'
        f'<div class="cards">{cards}</div>'
        f'<nav><a href="#overview">Overview</a>{links}<a href="#annotators">Annotators</a></nav>'
        "</header>"
    )


def _overview(report: Mapping[str, Any]) -> str:
    headline = headline_table(report)  # its last column is the flag: a badge on the name here
    table = TextTable(
        columns=headline.columns[:-1],
        rows=tuple(row[:-1] for row in headline.rows),
        numeric=headline.numeric[:-1],
    )
    names = {(i, 0): _esc(row[0]) + _flag_badge(row[-1]) for i, row in enumerate(headline.rows)}
    parts = [
        '<section id="overview"><h2>Overview</h2>',
        _table(table, cell_html=names, css_class="headline"),
        "<p class=\"muted\">α: Krippendorff's alpha at the dimension's level of measurement; "
        "κ: Fleiss' kappa, or weighted κ where the Weights column names weights; AC1: Gwet's "
        f"AC1, or AC2 (AC1 with those weights); intervals are 95% {interval_kind(report)} "
        "intervals. "
        "% agreement (decisive) leaves out non-decisive values such as ties.</p>",
        _alpha_forest(report),
    ]
    rankings = ranking_table(report)
    if rankings.rows:
        parts += [
            "<h3>Rankings</h3>",
            _table(rankings),
            f'<p class="muted">{_esc(RANKING_NOTE)}</p>',
        ]
    parts.append(_flagged(flagged_annotators(report)))
    notes = bias_notes(report)
    if notes:
        items = "".join(f"<li>{_esc(note)}</li>" for note in notes)
        parts.append(f'<h3>Biases</h3><ul class="notes">{items}</ul>')
    warnings = report.get("warnings") or []
    if warnings:
        items = "".join(f"<li>{_esc(str(warning))}</li>" for warning in warnings)
        parts.append(f'<h3>Input warnings</h3><ul class="notes">{items}</ul>')
    parts.append("</section>")
    return "".join(parts)


def _flag_badge(flag: str) -> str:
    """A red badge for a verdict (``below target``), muted text for anything less sure."""
    if not flag:
        return ""
    css = "badge" if flag.startswith("below target") else "badge-muted"
    return f'<span class="{css}">{_esc(flag)}</span>'


def _alpha_forest(report: Mapping[str, Any]) -> str:
    estimates = []
    targets: dict[float, list[str]] = {}
    for name, dim in dimensions_of(report):
        target = number(dim.get("target_alpha"))
        if target is not None:
            targets.setdefault(target, []).append(name)
        for suffix, key in (
            ("", "krippendorff_alpha"),
            (" (decisive only)", "krippendorff_alpha_decisive"),
        ):
            if key in dim:
                note = f"target {fmt_coef(target)}"
                estimates.append(
                    alpha_estimate(f"{name}{suffix}", dim[key], target=target, note=note)
                )
    if not estimates:
        return ""
    if len(targets) == 1:
        lines = [ReferenceLine(value=t, label=f"target {fmt_coef(t)}") for t in targets]
    else:
        lines = [
            ReferenceLine(value=t, label=f"target {fmt_coef(t)} ({', '.join(names)})")
            for t, names in targets.items()
        ]
    svg = forest_plot(estimates, title="Krippendorff's alpha per dimension", reference_lines=lines)
    full = _esc(_full_labels((e.label for e in estimates), ROW_LABEL_CHARS))
    return _figure(
        svg,
        f"Krippendorff's alpha per dimension with its 95% {interval_kind(report)} interval; the "
        "dashed line is "
        "the target. Red: the whole interval below target (an interval that reaches the target "
        "is not a verdict). “Decisive only” leaves out non-decisive values "
        "(ties) before computing alpha." + full,
    )


def _flagged(flagged: Sequence[FlaggedAnnotator]) -> str:
    if not flagged:
        return "<h3>Flagged annotators</h3><p>No annotator is flagged.</p>"
    parts = [
        "<h3>Flagged annotators</h3>",
        f'<p class="muted">{_esc(plural(len(flagged), "annotator"))} flagged, most judgments '
        f"first. {_esc(flag_rules())}</p>",
        _table(flagged_table(flagged[:SHOWN_FLAGGED])),
    ]
    rest = flagged[SHOWN_FLAGGED:]
    if rest:
        parts.append(
            f"<details><summary>{_esc(plural(len(rest), 'more flagged annotator'))}</summary>"
            f"{_table(flagged_table(rest))}</details>"
        )
    return "".join(parts)


# --------------------------------------------------------------------------- one dimension


def _dimension_section(
    report: Mapping[str, Any], index: int, name: str, dim: Mapping[str, Any]
) -> str:
    facts = "".join(
        f"<dt>{_esc(label)}</dt><dd>{_esc(value)}</dd>" for label, value in dimension_facts(dim)
    )
    return "".join(
        [
            f'<section id="dim-{index}"><h2>Dimension: {_esc(name)}</h2>',
            f'<dl class="meta">{facts}</dl>',
            "<h3>Agreement between annotators</h3>",
            _peer_heatmap(report, name),
            "<h3>Gold accuracy</h3>",
            _gold_chart(report, name),
            "<h3>Confusions</h3>",
            _confusion(name, dim),
            _breakdowns(name, dim),
            "</section>",
        ]
    )


def _peer_heatmap(report: Mapping[str, Any], dimension: str) -> str:
    network = peer_network(report, dimension, limit=MAX_HEATMAP_ANNOTATORS)
    minimum = fmt_count(lookup(report, "options", "min_shared_items"))
    if network.n_annotators < 2:
        return "<p>Fewer than two annotators judged this dimension.</p>"
    if len(network.shown) < 2:
        return (
            f"<p>No two annotators share at least {minimum} items, so there is no agreement "
            "heatmap; the annotator table below has each annotator&#x27;s agreement with peers.</p>"
        )
    values, texts, titles = network.matrix()
    names = list(network.shown)
    svg = heatmap(
        values,
        row_labels=names,
        column_labels=names,
        title=f"Percent agreement between annotators, {dimension}",
        domain=AGREEMENT_SCALE,
        cell_texts=texts,
        cell_titles=titles,
        legend_format=_percent_tick,
        legend_title="% agreement",
    )
    caption = (
        "Percent agreement on the items both annotators judged, on a fixed 0–100% colour scale; "
        "grey: the same annotator, or "
        f"fewer than {minimum} shared items. Annotators who share items sit next to each other. "
        f"Hover a cell for the shared items and Cohen's {network.kappa}."
    )
    if network.n_connected > len(names):
        caption += (
            f" Showing the {len(names)} annotators with the most such pairs, of the "
            f"{fmt_count(network.n_connected)} who have any."
        )
    left_out = network.n_annotators - network.n_connected
    if left_out:
        caption += (
            f" Not shown: {plural(left_out, 'annotator')} with fewer than {minimum} items "
            "shared with anyone."
        )
    caption += _full_labels(names, LABEL_CHARS)
    return _figure(svg, _esc(caption))


def _gold_chart(report: Mapping[str, Any], dimension: str) -> str:
    estimates = gold_estimates(report, dimension)
    note = gold_release_note(report)
    if not estimates:
        return f"<p>{_esc(note or 'No annotator has gold figures for this dimension.')}</p>"
    qualify, retrain = gold_thresholds(report)
    lines = [
        ReferenceLine(value=value, label=f"{label} {fmt_percent(value)}")
        for label, value in (("retrain", retrain), ("qualify", qualify))
        if value is not None
    ]
    svg = bar_chart(
        estimates[:MAX_GOLD_ROWS],
        title=f"Gold accuracy per annotator, {dimension}",
        reference_lines=lines,
        tick_format=_percent_tick,
    )
    caption = (
        "Share of gold items answered correctly, with its 95% Wilson interval, lowest upper "
        "bound first; the lines are the rubric's thresholds. Who is flagged is the annotator "
        "lifecycle's decision (see the overview)."
    )
    if len(estimates) > MAX_GOLD_ROWS:
        caption += (
            f" Showing the {MAX_GOLD_ROWS} lowest of {fmt_count(len(estimates))} annotators "
            "with gold figures; the annotator table below has them all."
        )
    caption += _full_labels((e.label for e in estimates[:MAX_GOLD_ROWS]), ROW_LABEL_CHARS)
    return _figure(svg, _esc(caption))


def _confusion(dimension: str, dim: Mapping[str, Any]) -> str:
    confusion = dim.get("confusion")
    if not isinstance(confusion, Mapping) or not confusion.get("matrix"):
        return "<p>No pairable judgments, so no confusion matrix.</p>"
    labels = [category_label(c) for c in confusion.get("categories") or ()]
    matrix = [[number(v) for v in row] for row in confusion["matrix"]]
    total = sum(v for row in matrix for v in row if v is not None)
    titles = [
        [
            f"{a} × {b}: {fmt_count(v)} pairs"
            + (f" ({fmt_percent(v / total)} of all pairs)" if v is not None and total else "")
            for b, v in zip(labels, row, strict=True)
        ]
        for a, row in zip(labels, matrix, strict=True)
    ]
    largest = max((v for row in matrix for v in row if v is not None), default=1.0)
    svg = heatmap(
        matrix,
        row_labels=labels,
        column_labels=labels,
        title=f"Coincidence matrix, {dimension}",
        domain=(0.0, largest or 1.0),
        cell_texts=[[fmt_count(v) for v in row] for row in matrix],
        cell_titles=titles,
        legend_format=fmt_count,
        legend_title="pairs",
    )
    caption = _esc(
        "Coincidence matrix (symmetric): how often two values given to the same item by "
        "different annotators fall in each pair of categories. The diagonal is agreement; "
        "off-diagonal cells are the confusions." + _full_labels(labels, LABEL_CHARS)
    )
    top = [p for p in confusion.get("top_pairs") or () if isinstance(p, Mapping)]
    table = TextTable(
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
    top_html = "<h3>Top confusions</h3>" + _table(table) if top else ""
    return _figure(svg, caption) + top_html


def _breakdowns(dimension: str, dim: Mapping[str, Any]) -> str:
    target = number(dim.get("target_alpha"))
    parts = []
    by_category = [e for e in dim.get("by_category") or () if isinstance(e, Mapping)]
    if by_category:
        ordered = sorted_by_alpha(by_category)
        parts.append("<h3>Agreement by category</h3>")
        parts.append(_breakdown_plot(dimension, ordered, "category", target, "lowest first"))
        parts.append(_details(breakdown_table(ordered, key_title="Category")))
    for key, what, key_title in BREAKDOWNS:
        entries = [e for e in dim.get(key) or () if isinstance(e, Mapping)]
        if len(entries) > 1:
            parts.append(f"<h3>Agreement by {_esc(what)}</h3>")
            parts.append(_breakdown_plot(dimension, entries, what, target, "in report order"))
            parts.append(_details(breakdown_table(entries, key_title=key_title)))
    return "".join(parts)


def _breakdown_plot(
    dimension: str,
    entries: Sequence[Mapping[str, Any]],
    what: str,
    target: float | None,
    order: str,
) -> str:
    estimates = [
        alpha_estimate(
            category_label(entry.get("key")),
            entry.get("krippendorff_alpha"),
            target=target,
            note=f"{plural(entry.get('n_items'), 'item')}, "
            f"{plural(entry.get('n_judgments'), 'judgment')}",
        )
        for entry in entries
    ]
    lines = (
        [] if target is None else [ReferenceLine(value=target, label=f"target {fmt_coef(target)}")]
    )
    svg = forest_plot(
        estimates, title=f"Krippendorff's alpha by {what}, {dimension}", reference_lines=lines
    )
    caption = (
        f"Krippendorff's alpha with its 95% interval per {what}, {order}. Red: the whole "
        "interval below target. No interval: fewer pairable items than an interval needs."
    ) + _full_labels((e.label for e in estimates), ROW_LABEL_CHARS)
    return _figure(svg, _esc(caption))


def _details(table: TextTable) -> str:
    return f"<details><summary>Table</summary>{_table(table)}</details>"


# --------------------------------------------------------------------------- annotators


def _annotator_section(report: Mapping[str, Any], dimensions: Sequence[tuple[str, Any]]) -> str:
    parts = ['<section id="annotators"><h2>Annotators</h2>']
    flagged = {(f.dimension, f.annotator) for f in flagged_annotators(report)}
    for name, _ in dimensions:
        table = annotator_table(report, name)
        alerts = [(i, 0) for i, row in enumerate(table.rows) if (name, row[0]) in flagged]
        parts.append(f"<h3>{_esc(name)}</h3>")
        parts.append(_table(table, alert_cells=alerts))
    parts.append(
        '<p class="muted">Peer agreement vs others on the same items: the annotator\'s '
        "agreement with the other annotators on shared items against the agreement among those "
        "others on the items this annotator judged, with the difference in percentage points "
        "and its 95% interval (the agreement alone where no such reference exists). Peer κ: "
        "against the other annotators on shared items. "
        "Bias p-values: tests of whether the annotator picks the left (position) or the longer "
        "(length) response more often than expected. Red: flagged (see the overview).</p>"
    )
    parts.append("</section>")
    return "".join(parts)
