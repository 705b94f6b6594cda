"""Issue 10, looks: what screenshots of real reports showed, checked on the SVG and HTML.

- short confusion-matrix column labels stay level (no rotate()), long ones still turn;
- the agreement heatmap's colour scale is fixed at 0-100%, not stretched to the data;
- labels a chart shortens are given in full (tooltip and caption);
- a handful of items gives no bootstrap interval (no ``1.000 [1.000, 1.000]``);
- only an interval wholly below the target is painted red.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from connector.judgments import normalise
from connector.metrics.agreement import MIN_INTERVAL_ITEMS, summarise_agreement
from connector.report import fmt_coef_ci, target_flag, target_verdict
from connector.report.build import ReportOptions, build_report
from connector.report.html import AGREEMENT_SCALE, render_html
from connector.report.sections import alpha_estimate
from connector.report.svg import ROW_LABEL_CHARS, Estimate, forest_plot, heatmap
from connector.rubric import Dimension, Rubric

FIXTURE = Path(__file__).parent / "data" / "report_example.json"
SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
PREFERENCE = Dimension(
    name="overall",
    question="Which is better?",
    kind="preference",
    values=("a", "b", "tie"),
    level="nominal",
    non_decisive=("tie",),
)
RUBRIC = Rubric(id="looks", version="1", changelog="", guidelines="", dimensions=(PREFERENCE,))


@pytest.fixture
def report() -> dict[str, Any]:
    with FIXTURE.open(encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


def _svg_titled(page: str, title: str) -> str:
    [found] = [s for s in SVG.findall(page) if f"<title>{title}</title>" in s]
    return found


def test_short_column_labels_are_not_rotated() -> None:
    svg = heatmap(
        [[1.0, 2.0, 3.0]] * 3,
        row_labels=["a", "b", "tie"],
        column_labels=["a", "b", "tie"],
        title="t",
    )
    labels = re.findall(r'<text class="column-label"[^>]*>', svg)
    assert len(labels) == 3
    assert not any("rotate(" in label for label in labels)
    assert all('text-anchor="middle"' in label for label in labels)


def test_long_column_labels_still_turn() -> None:
    names = ["annotator_with_a_long_name", "another_long_annotator_name"]
    svg = heatmap([[None, 0.5], [0.5, None]], row_labels=names, column_labels=names, title="t")
    labels = re.findall(r'<text class="column-label"[^>]*>', svg)
    assert all("rotate(-45" in label for label in labels)


def test_confusion_matrix_of_the_report_has_level_labels(report: dict[str, Any]) -> None:
    svg = _svg_titled(render_html(report), "Coincidence matrix, overall")
    assert "rotate(" not in svg


def test_agreement_heatmap_colour_scale_is_fixed(report: dict[str, Any]) -> None:
    assert AGREEMENT_SCALE == (0.0, 1.0)
    svg = _svg_titled(render_html(report), "Percent agreement between annotators, overall")
    # the legend reads 0% to 100% whatever the data's range
    assert re.search(r">100%</text>", svg)
    assert re.search(r">0%</text>", svg)
    # 90% and 95% get nearly the same colour on a 0-1 scale, very different on a 0.9-0.95 one
    close = heatmap([[0.9, 0.95]], row_labels=["x"], column_labels=["y", "z"], title="s",
                    domain=AGREEMENT_SCALE)  # fmt: skip
    fills = re.findall(r'class="cell"[^>]*fill="(#[0-9a-f]{6})"', close)
    stretched = heatmap([[0.9, 0.95]], row_labels=["x"], column_labels=["y", "z"], title="s")
    far = re.findall(r'class="cell"[^>]*fill="(#[0-9a-f]{6})"', stretched)

    def gap(pair: list[str]) -> int:
        a, b = (np.array([int(c[k : k + 2], 16) for k in (1, 3, 5)]) for c in pair)
        return int(np.abs(a - b).sum())

    assert gap(fills) < gap(far) / 4


def test_shortened_row_labels_are_given_in_full() -> None:
    long = "batch-2026-11-23-vendor-acme-rerun-after-guideline-fix"
    svg = forest_plot([Estimate(label=long, value=0.5, low=0.4, high=0.6, text="0.5")], title="t")
    assert f"<title>{long}: 0.5</title>" in svg  # tooltip has it whole
    assert long[: ROW_LABEL_CHARS - 1] + "…" in svg


def test_report_caption_lists_long_batch_labels_in_full() -> None:
    long = "batch-2026-11-23-vendor-acme-rerun-after-guideline-fix"
    rows = []
    for i in range(24):
        for who, value in (("ann", "a"), ("bob", "a" if i % 3 else "b")):
            batch = long if i < 12 else "b2"
            rows.append(
                {"item_id": f"i{i}", "annotator": who, "dimension": "overall", "value": value,
                 "batch": batch}
            )  # fmt: skip
    report = build_report(normalise(pd.DataFrame(rows)), RUBRIC, options=ReportOptions())
    page = render_html(report)
    caption = page.split("Krippendorff&#x27;s alpha by batch", 1)[1].split("</figcaption>")[0]
    assert f"= “{long}”" in caption


def test_a_handful_of_items_gives_no_interval() -> None:
    counts = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])  # 3 items in perfect agreement
    summary = summarise_agreement(
        counts, categories=["a", "b"], level="nominal", weights=np.eye(2), resamples=200
    )
    assert summary.krippendorff_alpha.value == pytest.approx(1.0)
    assert all(math.isnan(x) for x in summary.krippendorff_alpha.ci95)
    assert (
        summary.interval_note
        == f"3 pairable items: an interval needs at least {MIN_INTERVAL_ITEMS}"
    )
    many = summarise_agreement(
        np.array([[2.0, 0.0], [0.0, 2.0]] * 6),
        categories=["a", "b"],
        level="nominal",
        weights=np.eye(2),
        resamples=200,
    )
    assert many.interval_note is None
    assert many.krippendorff_alpha.ci95 == (1.0, 1.0)


def test_small_category_shows_no_interval_and_no_verdict() -> None:
    rows = []
    for i in range(30):
        category = "tiny" if i < 3 else "big"
        for who in ("ann", "bob"):
            value = ("b" if i == 1 else "a") if i < 3 else ("a" if who == "ann" or i % 2 else "b")
            rows.append(
                {"item_id": f"i{i}", "annotator": who, "dimension": "overall", "value": value,
                 "category": category}
            )  # fmt: skip
    report = build_report(normalise(pd.DataFrame(rows)), RUBRIC, options=ReportOptions())
    tiny = next(e for e in report["dimensions"]["overall"]["by_category"] if e["key"] == "tiny")
    assert tiny["krippendorff_alpha"]["ci95"] is None
    assert tiny["krippendorff_alpha"]["no_interval"].startswith("3 pairable items")
    assert fmt_coef_ci(tiny["krippendorff_alpha"]) == "1.000 (no interval)"
    page = render_html(report)
    assert "1.000 [1.000, 1.000]" not in page
    assert "1.000 (no interval)" in page


def test_only_an_interval_wholly_below_target_is_red() -> None:
    wide = {"value": 0.55, "ci95": [0.07, 1.0]}
    sure = {"value": 0.55, "ci95": [0.40, 0.70]}
    assert target_verdict(wide, 0.8) == "uncertain"
    assert target_verdict(sure, 0.8) == "below"
    assert target_verdict({"value": 0.9, "ci95": [0.8, 1.0]}, 0.8) == "met"
    assert target_verdict({"value": 0.5, "ci95": None}, 0.8) == "below"  # no bootstrap at all
    assert target_verdict({"value": 0.5, "ci95": None, "no_interval": "3 items"}, 0.8) == (
        "uncertain"
    )
    assert not alpha_estimate("c", wide, target=0.8, note="").alert
    assert alpha_estimate("c", sure, target=0.8, note="").alert
    svg = forest_plot([alpha_estimate("c", wide, target=0.8, note="")], title="t")
    assert "#c0392b" not in svg  # no red anywhere in that row
    assert target_flag({"krippendorff_alpha": wide, "target_alpha": 0.8}) == (
        "interval reaches target 0.800"
    )
    assert target_flag({"krippendorff_alpha": sure, "target_alpha": 0.8}) == ("below target 0.800")


def test_numbers_break_before_their_interval_only(report: dict[str, Any]) -> None:
    page = render_html(report)
    assert '<span class="nb">0.512</span> <span class="nb">[0.441, 0.583]</span>' in page
    assert ".nb { white-space: nowrap; }" in page
    assert "@media (max-width: 900px)" in page


def test_console_paints_only_verdicts_red(report: dict[str, Any]) -> None:
    from rich.console import Console

    from connector.report.console import print_summary

    report["dimensions"]["helpfulness"]["target_alpha"] = 0.74  # 0.702 [0.648, 0.751]
    console = Console(record=True, width=240, force_terminal=True, color_system="standard")
    print_summary(report, console)
    text = console.export_text(styles=True)
    assert "\x1b[1;31mbelow target 0.800" in text  # overall: the whole interval below
    assert "\x1b[2minterval reaches target 0.740" in text  # helpfulness: not a verdict
