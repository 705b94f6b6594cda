"""The report shows the lifecycle's per-dimension decision (issue 12): the status names the
dimension that decided it, and the annotator is flagged on that dimension only."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from connector.judgments import normalise
from connector.report import flagged_annotators
from connector.report.build import ReportOptions, build_report
from connector.report.html import render_html
from connector.report.markdown import render_markdown
from connector.report.sections import gold_estimates
from connector.rubric import load_rubric, parse_rubric

RUBRIC = load_rubric("rubrics/response-quality/v1.yaml")  # qualify 0.85, retrain 0.80, min 20


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """40 gold items rated on helpfulness and safety (gold 4 on both) by three annotators:
    `good` is right everywhere, `unsafe` is right on helpfulness and on 20 of 40 safety items,
    `steady` is right everywhere but on one helpfulness item."""
    rows = []
    for k in range(40):
        for dimension in ("helpfulness", "safety"):
            for who in ("good", "unsafe", "steady"):
                wrong = (who == "unsafe" and dimension == "safety" and k % 2) or (
                    who == "steady" and dimension == "helpfulness" and k == 0
                )
                rows.append(
                    {
                        "item_id": f"g{k}",
                        "annotator": who,
                        "dimension": dimension,
                        "value": 2 if wrong else 4,
                        "gold_value": 4,
                    }
                )
    frame = normalise(pd.DataFrame(rows))
    return build_report(frame, RUBRIC, options=ReportOptions(resamples=0))


def test_report_carries_the_deciding_dimension(report: dict[str, Any]) -> None:
    entries = {e["annotator"]: e for e in report["annotators"]}
    unsafe = entries["unsafe"]
    assert unsafe["status"] == "retraining"
    assert unsafe["status_dimensions"] == ["safety"]
    assert unsafe["status_reason"].startswith(
        "safety: 20/40 gold judgments right (50.0%) (all gold judgments)"
    )
    assert entries["good"]["status"] == "qualified"
    assert entries["good"]["status_dimensions"] == ["helpfulness", "safety"]
    assert entries["steady"]["status"] == "qualified"


def test_flagged_on_the_deciding_dimension_only(report: dict[str, Any]) -> None:
    flagged = {(f.annotator, f.dimension): f.reasons for f in flagged_annotators(report)}
    assert set(flagged) == {("unsafe", "safety")}
    assert flagged["unsafe", "safety"][0].startswith("retraining: safety: 20/40 gold judgments")
    red = {e.label for e in gold_estimates(report, "safety") if e.alert}
    assert red == {"unsafe"}
    assert not [e for e in gold_estimates(report, "helpfulness") if e.alert]


def test_markdown_and_html_name_the_dimension(report: dict[str, Any]) -> None:
    markdown = render_markdown(report)
    assert "retraining: safety: 20/40 gold judgments right" in markdown
    html = " ".join(render_html(report).split())
    assert "retraining: safety: 20/40 gold judgments right" in html


def test_decisions_without_dimensions_flag_every_dimension(report: dict[str, Any]) -> None:
    # a status stored before decisions named their dimensions (no decided_by) flags the
    # annotator wherever they judged, as before
    legacy = {
        **report,
        "annotators": [
            {**e, "status_dimensions": []} if e["annotator"] == "unsafe" else e
            for e in report["annotators"]
        ],
    }
    flagged = {(f.annotator, f.dimension) for f in flagged_annotators(legacy)}
    assert flagged == {("unsafe", "helpfulness"), ("unsafe", "safety")}


def test_each_dimension_says_whether_it_decides_statuses(report: dict[str, Any]) -> None:
    assert report["dimensions"]["safety"]["gating"] is True
    assert "**Decides statuses:** yes" in " ".join(render_markdown(report).split())
    rubric = parse_rubric(
        """\
id: pairwise
version: 1
changelog: test
guidelines: Judge carefully.
dimensions:
  - name: overall
    question: Which response is better?
    kind: preference
    values: [a, b]
    level: nominal
  - name: strength
    question: How much better?
    kind: rating
    values: [1, 2, 3]
    level: ordinal
    gating: false
    gating_reason: margins are judgement calls
"""
    )
    rows = [
        {"item_id": f"g{k}", "annotator": who, "dimension": d, "value": v, "gold_value": g}
        for k in range(20)
        for who in ("x", "y")
        for d, v, g in (("overall", "a", "a"), ("strength", 1 + (k % 2), 2))
    ]
    built = build_report(normalise(pd.DataFrame(rows)), rubric, options=ReportOptions(resamples=0))
    strength = built["dimensions"]["strength"]
    assert (strength["gating"], strength["gating_reason"]) == (
        False,
        "margins are judgement calls",
    )
    text = " ".join(render_markdown(built).split())
    assert "**Decides statuses:** no (gating: false): margins are judgement calls" in text
    assert "margins are judgement calls" in render_html(built)
    # strength is half wrong but does not gate: both qualify on overall
    assert {e["annotator"]: e["status"] for e in built["annotators"]} == {
        "x": "qualified",
        "y": "qualified",
    }
