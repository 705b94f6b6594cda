"""Issue 10: weighted figures are named as weighted (AC2, weighted κ, which weights) in every
renderer; unweighted ones keep their plain names. Fixture: ``data/report_example.json`` (overall
is nominal, unweighted; helpfulness is ordinal, linear weights over ranks)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from connector.report import annotator_table, coefficient_names, dimension_facts, headline_table
from connector.report.console import print_summary
from connector.report.html import render_html
from connector.report.markdown import render_markdown
from connector.report.public import public_report

FIXTURE = Path(__file__).parent / "data" / "report_example.json"


@pytest.fixture
def report() -> dict[str, Any]:
    with FIXTURE.open(encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


def test_coefficient_names_follow_the_weights(report: dict[str, Any]) -> None:
    assert coefficient_names(report["dimensions"]["overall"]) == ("Fleiss' κ", "Gwet's AC1")
    assert coefficient_names(report["dimensions"]["helpfulness"]) == (
        "weighted κ (linear over ranks)",
        "Gwet's AC2 (linear over ranks)",
    )
    interval = {"weights": "quadratic", "weight_distances": "values"}
    assert coefficient_names(interval)[1] == "Gwet's AC2 (quadratic over values)"


def test_headline_names_the_weights_of_each_row(report: dict[str, Any]) -> None:
    table = headline_table(report)
    weights = table.columns.index("Weights")
    assert {row[0]: row[weights] for row in table.rows} == {
        "overall": "none",
        "helpfulness": "linear over ranks",
    }
    assert "Fleiss κ [95% CI]" not in table.columns  # no bare kappa title over weighted values
    assert "AC1 or AC2 [95% CI]" in table.columns


def test_dimension_facts_name_the_weighted_figures(report: dict[str, Any]) -> None:
    facts = dict(dimension_facts(report["dimensions"]["helpfulness"]))
    assert facts["Weights"] == "linear over ranks"
    assert facts["weighted κ (linear over ranks)"] == "0.412 [0.360, 0.466]"
    assert facts["Gwet's AC2 (linear over ranks)"] == "0.455 [0.401, 0.508]"
    plain = dict(dimension_facts(report["dimensions"]["overall"]))
    assert plain["Fleiss' κ"] == "0.507 [0.436, 0.579]"
    assert plain["Gwet's AC1"] == "0.561 [0.494, 0.627]"


def test_annotator_kappas_say_weighted_where_they_are(report: dict[str, Any]) -> None:
    assert "Peer weighted κ" in annotator_table(report, "helpfulness").columns
    assert "Intra-annotator weighted κ" in annotator_table(report, "helpfulness").columns
    assert "Peer κ" in annotator_table(report, "overall").columns


def test_every_renderer_labels_the_weighted_figures(report: dict[str, Any]) -> None:
    page = html.unescape(re.sub(r"<[^>]+>", " ", render_html(report)))
    markdown = render_markdown(report).replace("\\", "")
    console = Console(record=True, width=200)
    print_summary(report, console)
    text = console.export_text()
    for name, output in (("html", page), ("markdown", markdown)):
        assert "Gwet's AC2 (linear over ranks)" in output, name
        assert "weighted κ (linear over ranks)" in output, name
        assert "AC2 (AC1 with those weights)" in output, name
    assert "linear over ranks" in text
    assert "or AC2" in text


def test_the_public_report_keeps_the_weights(report: dict[str, Any]) -> None:
    public = public_report(report)["dimensions"]["helpfulness"]
    assert (public["weights"], public["weight_distances"]) == ("linear", "ranks")
