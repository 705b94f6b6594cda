"""Small inline SVG charts for the HTML report: pure functions from numbers to an SVG string.

- :func:`forest_plot` points with horizontal confidence intervals and dashed reference lines
- :func:`bar_chart`   horizontal bars with error bars and dashed reference lines
- :func:`heatmap`     a matrix of coloured cells with labels on both axes and a colour legend

Every chart has a fixed ``viewBox`` and no width or height, so it scales to its container; it
starts with a ``<title>`` (its accessible name) and every row or cell carries its own
``<title>`` (a hover tooltip). All text is XML-escaped; characters XML 1.0 forbids are dropped.
The caller formats the numbers shown as text (``Estimate.text``, ``cell_texts``) so that the
charts read exactly like the tables around them.

The ``<svg>`` carries no ``xmlns``: it is meant to be inlined in HTML, whose parser puts it in the
SVG namespace (and the report must contain no URL). Add the namespace to save one as a file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = [
    "LABEL_CHARS",
    "ROW_LABEL_CHARS",
    "Estimate",
    "ReferenceLine",
    "bar_chart",
    "forest_plot",
    "heatmap",
    "shortened",
    "text_width",
]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
INK = "#222"
MUTED = "#666"
GRID = "#ddd"
POINT = "#1f5fa8"
ALERT = "#c0392b"
MISSING = "#e4e4e4"
BLUES = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
"""Stops of the sequential colour scale, light (low) to dark (high)."""

LABEL_CHARS = 20
"""Heatmap axis labels longer than this are shortened with ``…`` (the tooltip has them whole)."""

ROW_LABEL_CHARS = 28
"""Row labels of forest plots and bar charts longer than this are shortened with ``…`` (the
row's tooltip has them whole; the HTML report lists them whole under the chart)."""

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """One row of a forest plot or bar chart: a value with an optional interval.

    ``text`` is printed right of the plot (e.g. ``"0.512 [0.440, 0.580]"``); ``note`` is added to
    the row's tooltip; ``alert`` draws the row in red.
    """

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    text: str = ""
    note: str = ""
    alert: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceLine:
    """A dashed vertical line at ``value``, labelled at the top (e.g. target alpha)."""

    value: float
    label: str


# --------------------------------------------------------------------------- primitives


def _esc(text: str) -> str:
    """``text`` safe inside an XML element or a double-quoted attribute."""
    return escape(_NOT_XML.sub("", text), quote=True)


def shortened(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with ``…`` (as the charts print long labels)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_short = shortened


_NARROW = frozenset("fijlrtI!|.,:;'` ()[]")
_WIDE = frozenset("mwMW@%")


def text_width(text: str, font_size: float = 12.0) -> float:
    """A generous estimate of the rendered width of ``text`` in px (no font metrics at hand).

    Per character, in em: narrow glyphs 0.34, ``m``/``w`` 0.95, other capitals 0.74, digits and
    other lower case 0.64, anything outside ASCII 1.0; wide sans-serif fonts (DejaVu Sans, the
    fallback of ``system-ui`` on Linux) fit within it.
    """
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += 0.34
        elif char in _WIDE:
            em += 0.95
        elif not char.isascii():
            em += 1.0
        elif char.isupper():
            em += 0.74
        else:
            em += 0.64
    return em * font_size


def _num(x: float) -> str:
    """A coordinate with at most 1 decimal."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, content: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{_esc(v)}"' for k, v in attrs.items())
    return f'<text x="{_num(x)}" y="{_num(y)}"{extra}>{_esc(content)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{_esc(v)}"' for k, v in attrs.items())
    return (
        f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
        f'stroke="{stroke}"{extra}/>'
    )


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg viewBox="0 0 {_num(width)} {_num(height)}" '
            f'width="100%" style="max-width: {_num(width)}px; height: auto" '
            f'role="img" font-family="{_esc(FONT)}" font-size="12" fill="{INK}">',
            f"<title>{_esc(title)}</title>",
            *body,
            "</svg>",
        ]
    )


def _ticks(low: float, high: float, *, max_intervals: int = 6) -> tuple[float, float, list[float]]:
    """A round domain covering ``[low, high]`` and its tick positions."""
    span = max(high - low, 1e-9)
    magnitude = 10 ** math.floor(math.log10(span))
    step = next(
        s * magnitude
        for s in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10)
        if span / (s * magnitude) <= max_intervals
    )
    start = math.floor(round(low / step, 9)) * step
    stop = math.ceil(round(high / step, 9)) * step
    count = round((stop - start) / step)
    return start, stop, [round(start + i * step, 10) for i in range(count + 1)]


def _plain(value: float) -> str:
    return f"{value:g}"


# --------------------------------------------------------------------------- interval charts


def forest_plot(
    estimates: Sequence[Estimate],
    *,
    title: str,
    reference_lines: Sequence[ReferenceLine] = (),
    domain: tuple[float, float] | None = None,
    tick_format: Callable[[float], str] = _plain,
) -> str:
    """Points with horizontal interval bars, one row per estimate, top to bottom.

    The x domain defaults to the smallest round range covering 0, 1, every interval and every
    reference line. A row whose value is None reads "not computable".
    """
    return _interval_chart(
        estimates,
        title=title,
        reference_lines=reference_lines,
        domain=domain,
        tick_format=tick_format,
        bars=False,
    )


def bar_chart(
    estimates: Sequence[Estimate],
    *,
    title: str,
    reference_lines: Sequence[ReferenceLine] = (),
    domain: tuple[float, float] | None = (0.0, 1.0),
    tick_format: Callable[[float], str] = _plain,
) -> str:
    """Horizontal bars from the left edge of ``domain`` to each value, with error bars."""
    return _interval_chart(
        estimates,
        title=title,
        reference_lines=reference_lines,
        domain=domain,
        tick_format=tick_format,
        bars=True,
    )


def _interval_chart(
    estimates: Sequence[Estimate],
    *,
    title: str,
    reference_lines: Sequence[ReferenceLine],
    domain: tuple[float, float] | None,
    tick_format: Callable[[float], str],
    bars: bool,
) -> str:
    labels = [_short(e.label, ROW_LABEL_CHARS) for e in estimates]
    label_w = max(120.0, 16.0 + max((text_width(s) for s in labels), default=0.0))
    text_w = max(120.0, 18.0 + max((text_width(e.text) for e in estimates), default=0.0))
    plot_w, row_h = 390.0, 24.0
    width = label_w + plot_w + text_w
    top = 14.0 + 14.0 * len(reference_lines)
    x0, x1 = label_w, width - text_w
    height = top + row_h * max(len(estimates), 1) + 34.0
    bottom = height - 34.0

    if domain is None:
        points = [0.0, 1.0, *(r.value for r in reference_lines)]
        for e in estimates:
            points.extend(v for v in (e.value, e.low, e.high) if v is not None and math.isfinite(v))
        lo, hi, ticks = _ticks(min(points), max(points))
    else:
        lo, hi = domain
        ticks = _ticks(lo, hi)[2]
        ticks = [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]

    def x(value: float) -> float:
        clipped = min(max(value, lo), hi)
        return x0 + (clipped - lo) / (hi - lo) * (x1 - x0)

    body = []
    for i in range(len(estimates)):
        if i % 2 == 0:
            body.append(
                f'<rect x="0" y="{_num(top + i * row_h)}" width="{_num(width)}" '
                f'height="{_num(row_h)}" fill="#f6f7f9"/>'
            )
    for t in ticks:
        body.append(_line(x(t), top, x(t), bottom, GRID))
        body.append(_text(x(t), bottom + 16, tick_format(t), text_anchor="middle", fill=MUTED))
    if lo < 0 < hi:
        body.append(_line(x(0), top, x(0), bottom, "#999"))
    body.append(_line(x0, bottom, x1, bottom, "#999"))

    for i, ref in enumerate(sorted(reference_lines, key=lambda r: r.value)):
        body.append(_line(x(ref.value), top - 4, x(ref.value), bottom, INK, stroke_dasharray="5 4"))
        body.append(
            f"<g><title>{_esc(ref.label)}</title>"
            + _text(x(ref.value) + 4, 11 + 14 * i, ref.label, fill=INK, font_size="11")
            + "</g>"
        )

    for i, (estimate, label) in enumerate(zip(estimates, labels, strict=True)):
        y = top + i * row_h + row_h / 2
        body.append(_interval_row(estimate, label, y, x, x0, x1, bars))
    return _svg(width, height, title, body)


def _interval_row(
    e: Estimate,
    label: str,
    y: float,
    x: Callable[[float], float],
    x0: float,
    x1: float,
    bars: bool,
) -> str:
    colour = ALERT if e.alert else POINT
    tooltip = e.label + (f": {e.text}" if e.text else "") + (f" — {e.note}" if e.note else "")
    parts = [f"<g><title>{_esc(tooltip)}</title>"]
    parts.append(_text(x0 - 8, y + 4, label, text_anchor="end"))
    if e.value is None or not math.isfinite(e.value):
        parts.append(_text(x0 + 6, y + 4, "not computable", fill=MUTED, font_style="italic"))
    else:
        if bars:
            parts.append(
                f'<rect x="{_num(x0)}" y="{_num(y - 7)}" width="{_num(max(x(e.value) - x0, 0))}" '
                f'height="14" fill="{colour}" fill-opacity="0.35"/>'
            )
        if e.low is not None and e.high is not None:
            lx, hx = x(e.low), x(e.high)
            parts.append(_line(lx, y, hx, y, colour, stroke_width="2"))
            parts.append(_line(lx, y - 5, lx, y + 5, colour, stroke_width="2"))
            parts.append(_line(hx, y - 5, hx, y + 5, colour, stroke_width="2"))
        if not bars:
            parts.append(
                f'<circle cx="{_num(x(e.value))}" cy="{_num(y)}" r="4.5" fill="{colour}"/>'
            )
    parts.append(_text(x1 + 10, y + 4, e.text, fill=ALERT if e.alert else INK))
    parts.append("</g>")
    return "".join(parts)


# --------------------------------------------------------------------------- heatmap


def _colour(fraction: float) -> str:
    """The sequential scale at ``fraction`` in [0, 1], as ``#rrggbb``."""
    fraction = min(max(fraction, 0.0), 1.0) * (len(BLUES) - 1)
    i = min(int(fraction), len(BLUES) - 2)
    t = fraction - i
    a, b = BLUES[i], BLUES[i + 1]
    channels = (
        round(int(a[k : k + 2], 16) * (1 - t) + int(b[k : k + 2], 16) * t) for k in (1, 3, 5)
    )
    return "#" + "".join(f"{c:02x}" for c in channels)


def _is_dark(hex_colour: str) -> bool:
    r, g, b = (int(hex_colour[k : k + 2], 16) / 255 for k in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5


def heatmap(
    values: Sequence[Sequence[float | None]],
    *,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    title: str,
    domain: tuple[float, float] | None = None,
    cell_texts: Sequence[Sequence[str]] | None = None,
    cell_titles: Sequence[Sequence[str]] | None = None,
    legend_format: Callable[[float], str] = _plain,
    legend_title: str = "",
    show_values: bool | None = None,
) -> str:
    """A matrix of coloured cells (``values``, shape ``(len(row_labels), len(column_labels))``).

    Each cell is one ``<rect class="cell">``; None draws a grey cell. ``cell_texts`` are printed
    in the cells when ``show_values`` (default: when the matrix is at most 12 × 12);
    ``cell_titles`` become the cells' tooltips. ``domain`` defaults to the values' min and max.

    Raises:
        ValueError: when ``values`` does not have one row per row label and one column per
            column label.
    """
    n_rows, n_cols = len(row_labels), len(column_labels)
    if len(values) != n_rows or any(len(row) != n_cols for row in values):
        raise ValueError(
            f"heatmap values must have shape ({n_rows}, {n_cols}) to match the labels; "
            f"got {len(values)} rows of lengths {sorted({len(r) for r in values})}"
        )
    present = [v for row in values for v in row if v is not None and math.isfinite(v)]
    lo, hi = domain or ((min(present), max(present)) if present else (0.0, 1.0))
    if show_values is None:
        show_values = max(n_rows, n_cols) <= 12

    cell = min(max(560.0 / max(n_rows, n_cols, 1), 18.0), 56.0)
    shown_columns = [_short(label, LABEL_CHARS) for label in column_labels]
    row_w = max((text_width(_short(s, LABEL_CHARS)) for s in row_labels), default=0.0)
    col_w = max((text_width(s) for s in shown_columns), default=0.0)
    # Labels that fit their column stay level (centred above it); longer ones start 6 px above
    # the grid at the column's centre and run up (-90°, dense columns) or up and to the right
    # (-45°): the margins hold the longest one.
    level = col_w <= cell - 4
    upright = not level and cell < 24
    slant = 0.0 if level else 1.0 if upright else math.sqrt(0.5)
    left = 12.0 + row_w + 6.0
    top = 10.0 + 6.0 + (12.0 if level else col_w * slant + (0.0 if upright else 9.0))
    grid_w, grid_h = cell * n_cols, cell * n_rows
    legend_x = left + grid_w + 24
    labels_right = left + grid_w - cell / 2 + 4 + (0.0 if upright else col_w * slant + 4)
    width = max(legend_x + 90.0, labels_right + 8.0)
    height = max(top + grid_h + 14.0, top + 190.0)

    body = []
    for j, (label, shown) in enumerate(zip(column_labels, shown_columns, strict=True)):
        x, y = left + (j + 0.5) * cell + (0 if level else 4), top - 6
        placement = (
            'text-anchor="middle"'
            if level
            else f'transform="rotate({-90 if upright else -45} {_num(x)} {_num(y)})"'
        )
        body.append(
            f'<g><title>{_esc(label)}</title><text class="column-label" x="{_num(x)}" '
            f'y="{_num(y)}" {placement}>{_esc(shown)}</text></g>'
        )
    for i, label in enumerate(row_labels):
        cy = top + (i + 0.5) * cell
        body.append(
            f"<g><title>{_esc(label)}</title>"
            + _text(left - 6, cy + 4, _short(label, LABEL_CHARS), text_anchor="end")
            + "</g>"
        )
    font = min(12.0, cell / 3.2)
    for i in range(n_rows):
        for j in range(n_cols):
            body.append(
                _cell(
                    values[i][j],
                    left + j * cell,
                    top + i * cell,
                    cell,
                    lo,
                    hi,
                    text=cell_texts[i][j] if cell_texts is not None and show_values else "",
                    tooltip=cell_titles[i][j] if cell_titles is not None else "",
                    font=font,
                )
            )
    body.append(
        f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(grid_w)}" '
        f'height="{_num(grid_h)}" fill="none" stroke="#999"/>'
    )
    body.extend(_legend(legend_x, top, lo, hi, legend_format, legend_title))
    return _svg(width, height, title, body)


def _cell(
    value: float | None,
    x: float,
    y: float,
    size: float,
    lo: float,
    hi: float,
    *,
    text: str,
    tooltip: str,
    font: float,
) -> str:
    if value is None or not math.isfinite(value):
        fill = MISSING
    else:
        fill = _colour((value - lo) / (hi - lo) if hi > lo else 1.0)
    title = f"<title>{_esc(tooltip)}</title>" if tooltip else ""
    rect = (
        f'<rect class="cell" x="{_num(x)}" y="{_num(y)}" width="{_num(size)}" '
        f'height="{_num(size)}" fill="{fill}" stroke="#fff" stroke-width="1">{title}</rect>'
    )
    if not text:
        return rect
    label = _text(
        x + size / 2,
        y + size / 2 + font / 3,
        text,
        text_anchor="middle",
        font_size=_num(font),
        fill="#fff" if _is_dark(fill) else INK,
        pointer_events="none",
    )
    return rect + label


def _legend(
    x: float, y: float, lo: float, hi: float, fmt: Callable[[float], str], title: str
) -> list[str]:
    steps, step_h = 10, 15.0
    parts = [_text(x, y - 4, title, font_size="11", fill=MUTED)] if title else []
    for k in range(steps):
        fraction = 1 - (k + 0.5) / steps
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y + k * step_h)}" width="14" '
            f'height="{_num(step_h)}" fill="{_colour(fraction)}"/>'
        )
    parts.append(
        f'<rect x="{_num(x)}" y="{_num(y)}" width="14" height="{_num(steps * step_h)}" '
        f'fill="none" stroke="#999"/>'
    )
    parts.append(_text(x + 20, y + 9, fmt(hi), font_size="11"))
    parts.append(_text(x + 20, y + steps * step_h, fmt(lo), font_size="11"))
    parts.append(
        f'<rect x="{_num(x)}" y="{_num(y + steps * step_h + 10)}" width="14" height="14" '
        f'fill="{MISSING}"/>'
    )
    parts.append(_text(x + 20, y + steps * step_h + 21, "no data", font_size="11"))
    return parts
