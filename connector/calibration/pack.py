"""A calibration session's discussion pack, as Markdown and as one self-contained HTML file.

Per item: its rank, dimension, category, agreement and the confusion it belongs to; the
rubric's question and values for the dimension; the prompt and the responses (canonical order,
A then B); every judgment by a neutral label with its rationale where there is one; and a
blank line for the ruling. Then the rubric's guidelines, and how to record the rulings. Every
text from the data is escaped (HTML) or fenced (Markdown): a prompt cannot inject markup.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from connector.calibration.session import PackEntry
from connector.rubric import Rubric

__all__ = ["RULINGS_COLUMNS", "pack_html", "pack_markdown", "rulings_template"]

RULINGS_COLUMNS = ("item_id", "dimension", "value", "reason", "ruled_by")


def _figure(value: float) -> str:
    return f"{value:.2f}"


def _fence(text: str) -> str:
    """A Markdown code fence long enough that nothing inside can close it."""
    run, longest = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _record_hint(project: str, session_id: str) -> str:
    return (
        f"iaa-connector calibration-session {project} --session {session_id} "
        f"--rulings {session_id}-rulings.csv"
    )


def pack_markdown(
    entries: Sequence[PackEntry],
    rubric: Rubric,
    *,
    project: str,
    session_id: str,
    generated_at: datetime,
) -> str:
    lines = [
        f"# Calibration session {session_id}",
        "",
        f"Project `{project}`, rubric {rubric.ref}, {len(entries)} item(s), generated "
        f"{generated_at.isoformat(timespec='seconds')}. Most contentious first, spread over "
        "dimensions and categories; no gold item. Annotators are numbered per item. "
        "Every judgment's value is shown: for the lead, not for handing to annotators.",
        "",
    ]
    for rank, entry in enumerate(entries, start=1):
        item = entry.item
        lines += [
            f"## {rank}. `{item.item_key}` — {item.dimension}: {item.confusion}",
            "",
            f"- category: {item.category or '(none)'}",
            f"- agreement: {_figure(item.agreement)} over {item.n_judgments} judgments",
            f"- question: {entry.question}",
            f"- values: {', '.join(entry.values)}",
            "",
            "**Prompt**",
            "",
            _fence(entry.prompt),
            "",
            "**Response A**" if entry.response_b is not None else "**Response**",
            "",
            _fence(entry.response_a),
            "",
        ]
        if entry.response_b is not None:
            lines += ["**Response B**", "", _fence(entry.response_b), ""]
        lines += ["**Judgments**", ""]
        for shown in entry.judgments:
            rationale = f' — "{shown.rationale}"' if shown.rationale else ""
            lines.append(f"- {shown.label}: `{shown.value}`{rationale}")
        lines += ["", "**Ruling**: value ______ reason ______", ""]
    lines += [
        "## Guidelines",
        "",
        _fence(rubric.guidelines.strip() or "(the rubric has no guidelines)"),
        "",
        "## Recording the rulings",
        "",
        f"Fill `{session_id}-rulings.csv` (columns {', '.join(RULINGS_COLUMNS)}), then:",
        "",
        f"    {_record_hint(project, session_id)}",
        "",
    ]
    return "\n".join(lines)


_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1f}
h1{font-size:1.5rem}h2{font-size:1.15rem;border-top:1px solid #ddd;padding-top:1rem}
.meta{color:#555}.confusion{background:#fff3cd;padding:.1rem .4rem;border-radius:.3rem}
.pair{display:flex;gap:1rem}.pair>div{flex:1}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.6rem;border-radius:.3rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}
.ruling{border:1px dashed #999;padding:.6rem;margin-top:.6rem}
"""


def pack_html(
    entries: Sequence[PackEntry],
    rubric: Rubric,
    *,
    project: str,
    session_id: str,
    generated_at: datetime,
) -> str:
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Calibration session {e(session_id)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Calibration session {e(session_id)}</h1>",
        f'<p class="meta">Project <code>{e(project)}</code>, rubric {e(rubric.ref)}, '
        f"{len(entries)} item(s), generated {e(generated_at.isoformat(timespec='seconds'))}. "
        "Most contentious first, spread over dimensions and categories; no gold item. "
        "Annotators are numbered per item. Every judgment's value is shown: for the lead, "
        "not for handing to annotators.</p>",
    ]
    for rank, entry in enumerate(entries, start=1):
        item = entry.item
        parts += [
            f'<section id="item-{rank}">',
            f"<h2>{rank}. <code>{e(item.item_key)}</code> — {e(item.dimension)}: "
            f'<span class="confusion">{e(item.confusion)}</span></h2>',
            f'<p class="meta">category {e(item.category or "(none)")} · agreement '
            f"{_figure(item.agreement)} over {item.n_judgments} judgments</p>",
            f"<p><strong>{e(entry.question)}</strong><br>values: {e(', '.join(entry.values))}</p>",
            f"<h3>Prompt</h3><pre>{e(entry.prompt)}</pre>",
        ]
        if entry.response_b is not None:
            parts.append(
                f'<div class="pair"><div><h3>Response A</h3><pre>{e(entry.response_a)}</pre>'
                f"</div><div><h3>Response B</h3><pre>{e(entry.response_b)}</pre></div></div>"
            )
        else:
            parts.append(f"<h3>Response</h3><pre>{e(entry.response_a)}</pre>")
        rows = "".join(
            f"<tr><td>{e(j.label)}</td><td><code>{e(str(j.value))}</code></td>"
            f"<td>{e(j.rationale)}</td></tr>"
            for j in entry.judgments
        )
        parts += [
            "<h3>Judgments</h3>",
            f"<table><tr><th>annotator</th><th>value</th><th>rationale</th></tr>{rows}</table>",
            '<div class="ruling">Ruling: value ______ reason ______</div>',
            "</section>",
        ]
    parts += [
        "<h2>Guidelines</h2>",
        f"<pre>{e(rubric.guidelines.strip() or '(the rubric has no guidelines)')}</pre>",
        "<h2>Recording the rulings</h2>",
        f"<p>Fill <code>{e(session_id)}-rulings.csv</code> (columns "
        f"{e(', '.join(RULINGS_COLUMNS))}), then:</p>",
        f"<pre>{e(_record_hint(project, session_id))}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def rulings_template(entries: Sequence[PackEntry]) -> str:
    """A CSV with a header and one row per item (``item_id`` and ``dimension`` filled)."""
    lines = [",".join(RULINGS_COLUMNS)]
    for entry in entries:
        item_id = entry.item.item_key.replace('"', '""')
        dimension = entry.item.dimension.replace('"', '""')
        lines.append(f'"{item_id}","{dimension}",,,')
    return "\n".join(lines) + "\n"
