"""Rendering of the JSON report to HTML, Markdown, the console summary and inline SVG.

The fixture ``data/report_example.json`` follows docs/report-schema.md: two dimensions
(``overall``: nominal preference with the non-decisive value ``tie``; ``helpfulness``: ordinal
1-5 rating), six annotators (``new_hire`` did not rate helpfulness), nulls where the schema allows
them (no gold for ``crowd_chen``, no lead time for ``expert_2``, no biases for ratings, an
undefined Cohen's kappa for ``crowd_ben`` written as null, a category whose alpha is not
computable) and one annotator pair below ``min_shared_items`` (``expert_2``/``new_hire``).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import connector.report
from connector.report import (
    DASH,
    PEER_MARGIN,
    PEER_MIN_PAIRS,
    annotator_table,
    flagged_annotators,
    fmt_coef,
    fmt_coef_ci,
    fmt_count,
    fmt_p,
    fmt_percent,
    fmt_percent_ci,
    interval_kind,
    number,
    peer_network,
)
from connector.report.console import print_summary
from connector.report.html import render_html
from connector.report.markdown import render_markdown
from connector.report.svg import (
    Estimate,
    ReferenceLine,
    bar_chart,
    forest_plot,
    heatmap,
    text_width,
)

FIXTURE = Path(__file__).parent / "data" / "report_example.json"
EVIL = "<script>alert(1)</script>"
SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


@pytest.fixture
def report() -> dict[str, Any]:
    with FIXTURE.open(encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


def renamed(report: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The report with every string equal to ``old`` replaced by ``new`` (names and keys)."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {(new if k == old else k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return new if value == old else value

    result: dict[str, Any] = walk(report)
    return result


def svgs(page: str) -> list[str]:
    return SVG.findall(page)


def svg_titled(page: str, title: str) -> str:
    found = [s for s in svgs(page) if f"<title>{title}</title>" in s]
    assert len(found) == 1, f"expected one SVG titled {title!r}, found {len(found)}"
    return found[0]


def console_text(report: dict[str, Any]) -> str:
    console = Console(record=True, width=160)
    print_summary(report, console)
    return console.export_text()


def markdown_table_after(markdown: str, heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading`` (split on unescaped ``|``)."""
    block = markdown.split(heading + "\n\n", 1)[1].split("\n\n", 1)[0]
    return [
        [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in block.splitlines()
    ]


def many_annotators(report: dict[str, Any], count: int) -> dict[str, Any]:
    """The fixture with ``count`` annotators on ``overall``; annotator_k has 100 + k judgments."""
    big = copy.deepcopy(report)
    template = report["annotators"][0]["dimensions"]["overall"]
    names = [f"annotator_{k:02d}" for k in range(count)]
    big["annotators"] = [
        {
            "annotator": name,
            "n_judgments": 100 + k,
            "n_items": 100 + k,
            "dimensions": {"overall": {**template, "n_judgments": 100 + k}},
        }
        for k, name in enumerate(names)
    ]
    big["annotator_pairs"] = {
        "overall": [
            {"a": a, "b": b, "shared_items": 9, "percent_agreement": 0.6, "cohen_kappa": 0.3}
            for a, b in itertools.combinations(names, 2)
        ],
        "helpfulness": [],
    }
    return big


def sparse_annotators(report: dict[str, Any]) -> dict[str, Any]:
    """``overall`` with 40 busy annotators (200+ judgments) in no listed pair, and two small
    components: hub_0 with spoke_0..2, and hub_1 - hub_2 with spoke_3..5 (7 listed pairs)."""
    sparse = copy.deepcopy(report)
    template = report["annotators"][0]["dimensions"]["overall"]
    people = [(f"busy_{k:02d}", 200 + k) for k in range(40)]
    people += [(f"hub_{k}", 50) for k in range(3)] + [(f"spoke_{k}", 20) for k in range(6)]
    sparse["annotators"] = [
        {
            "annotator": name,
            "n_judgments": n,
            "n_items": n,
            "dimensions": {"overall": {**template, "n_judgments": n}},
        }
        for name, n in people
    ]
    links = [("hub_0", f"spoke_{k}") for k in range(3)] + [("hub_1", "hub_2")]
    links += [("hub_1", "spoke_3"), ("hub_2", "spoke_4"), ("hub_2", "spoke_5")]
    sparse["annotator_pairs"] = {
        "overall": [
            {"a": a, "b": b, "shared_items": 6, "percent_agreement": 0.7, "cohen_kappa": 0.4}
            for a, b in links
        ],
        "helpfulness": [],
    }
    return sparse


# --------------------------------------------------------------------------- shared formatting


def test_formatters_use_fixed_decimals_and_a_dash_for_null() -> None:
    assert fmt_coef(0.5) == "0.500"
    assert fmt_coef(-0.0123) == "-0.012"
    assert fmt_percent(0.6636) == "66.4%"
    assert fmt_count(1689) == "1,689"
    assert fmt_count(118.5) == "118.5"
    assert fmt_p(0.00002) == "<0.001"
    assert fmt_p(0.0093) == "0.009"
    assert fmt_coef_ci({"value": 0.51, "ci95": [0.44, 0.58]}) == "0.510 [0.440, 0.580]"
    assert fmt_coef_ci({"value": 0.51, "ci95": None}) == "0.510"
    assert fmt_percent_ci(0.88, [0.7, 0.96]) == "88.0% [70.0%, 96.0%]"
    for missing in (None, math.nan, "0.5", True):
        assert number(missing) is None
        assert fmt_coef(missing) == DASH
        assert fmt_percent(missing) == DASH
    assert fmt_coef_ci({"value": math.nan, "ci95": [math.nan, math.nan]}) == DASH
    assert fmt_coef_ci(None) == DASH


# --------------------------------------------------------------------------- HTML


def test_html_shows_each_dimension_alpha_with_its_interval(report: dict[str, Any]) -> None:
    page = render_html(report)
    assert "0.512 [0.441, 0.583]" in page  # overall alpha
    assert "0.683 [0.601, 0.757]" in page  # overall alpha, decisive only
    assert "0.702 [0.648, 0.751]" in page  # helpfulness alpha
    assert "0.507 [0.436, 0.579]" in page  # overall Fleiss kappa
    assert "84.2%" in page  # overall % agreement, decisive
    forest = svg_titled(page, "Krippendorff&#x27;s alpha per dimension")
    assert "overall (decisive only)" in forest
    assert "target 0.800 (overall)" in forest
    assert "target 0.667 (helpfulness)" in forest
    assert forest.count("<circle") == 3


def test_html_header_names_source_rubric_and_counts(report: dict[str, Any]) -> None:
    page = render_html(report)
    assert "examples/mt-bench/judgments.jsonl" in page
    assert "mt-bench, version 2" in page
    assert report["rubric"]["content_hash"] in page
    assert "2026-11-23T20:00:00Z" in page
    assert "<b>970</b><span>judgments</span>" in page


def test_html_is_self_contained(report: dict[str, Any]) -> None:
    page = render_html(report)
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "<link" not in page
    assert "src=" not in page


def test_heatmap_has_n_by_n_cells_per_dimension(report: dict[str, Any]) -> None:
    page = render_html(report)
    overall = svg_titled(page, "Percent agreement between annotators, overall")
    helpfulness = svg_titled(page, "Percent agreement between annotators, helpfulness")
    assert overall.count('class="cell"') == 6 * 6
    assert helpfulness.count('class="cell"') == 5 * 5  # new_hire did not rate helpfulness
    assert "expert_1 × expert_2: 70.7% agreement, κ 0.542, 15 shared items" in overall
    assert "expert_2 × new_hire: too few shared items" in overall
    assert "Showing the 30 annotators" not in page


def test_heatmap_is_capped_at_30_annotators_with_most_pairs(report: dict[str, Any]) -> None:
    page = render_html(many_annotators(report, 40))  # every pair listed: ties go by judgments
    heat = svg_titled(page, "Percent agreement between annotators, overall")
    assert heat.count('class="cell"') == 30 * 30
    assert "Showing the 30 annotators with the most such pairs, of the 40 who have any." in page
    assert "annotator_39" in heat  # most judgments
    assert "annotator_09" not in heat  # among the 10 with fewest judgments


def test_heatmap_shows_annotators_with_listed_pairs_clustered(report: dict[str, Any]) -> None:
    # Like MT-Bench: the busiest annotators share few items, so they have no listed pair.
    sparse = sparse_annotators(report)
    network = peer_network(sparse, "overall", limit=30)
    assert set(network.shown) == {f"hub_{k}" for k in range(3)} | {f"spoke_{k}" for k in range(6)}
    assert network.n_connected == 9
    assert network.n_annotators == 49
    # the two components (hub_0 with its spokes; hub_1 - hub_2 with theirs) are contiguous
    first = {"hub_0", "spoke_0", "spoke_1", "spoke_2"}
    assert network.shown[0] == "hub_0"  # most pairs
    assert set(network.shown[:4]) == first
    assert set(network.shown[4:]) == {"hub_1", "hub_2", "spoke_3", "spoke_4", "spoke_5"}
    values, _, titles = network.matrix()
    assert sum(v is not None for row in values for v in row) == 2 * 7  # 7 listed pairs
    assert titles[0][1].startswith("hub_0 × ")

    page = render_html(sparse)
    heat = svg_titled(page, "Percent agreement between annotators, overall")
    assert heat.count('class="cell"') == 9 * 9
    assert "busy_" not in heat
    assert "Not shown: 40 annotators with fewer than 5 items shared with anyone." in page


def test_heatmap_without_listed_pairs_is_a_sentence(report: dict[str, Any]) -> None:
    sparse = sparse_annotators(report)
    sparse["annotator_pairs"]["overall"] = sparse["annotator_pairs"]["overall"][:0]
    page = render_html(sparse)
    assert "Percent agreement between annotators, overall" not in page
    assert "No two annotators share at least 5 items, so there is no agreement heatmap" in page
    sparse["annotator_pairs"]["overall"] = [
        {"a": "hub_0", "b": "hub_0", "shared_items": 9, "percent_agreement": 1.0}
    ]
    assert "so there is no agreement heatmap" in render_html(sparse)  # a self-pair links nobody


@pytest.mark.parametrize("count", [5, 40])
def test_heatmap_margins_hold_the_longest_labels(count: int) -> None:
    # 5 columns: labels at -45 degrees; 40 columns (narrow cells): upright labels.
    labels = [f"WWWWMMMMWWWW{k:02d}" if k == count - 1 else f"A{k}" for k in range(count)]
    chart = heatmap([[0.5] * count] * count, row_labels=labels, column_labels=labels, title="t")
    root = ET.fromstring(chart)
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    column_labels = [t for t in root.iter("text") if t.get("class") == "column-label"]
    assert len(column_labels) == count
    longest = text_width(labels[-1])
    for text in column_labels:
        x, y = float(text.get("x", "nan")), float(text.get("y", "nan"))
        angle = float(re.findall(r"rotate\((-?\d+)", text.get("transform", ""))[0])
        assert angle == (-45 if count == 5 else -90)
        run = text_width(text.text or "")
        dx, dy = run * math.cos(math.radians(angle)), run * math.sin(math.radians(angle))
        ascent = 12 * math.sqrt(0.5) if angle == -45 else 0.0  # a slanted glyph's top sticks up
        assert y + dy - ascent >= 0, text.text
        assert x + dx <= width, text.text
    first_cell = next(r for r in root.iter("rect") if r.get("class") == "cell")
    top, left = float(first_cell.get("y", "nan")), float(first_cell.get("x", "nan"))
    slant = math.sqrt(0.5) if count == 5 else 1.0
    assert top >= longest * slant  # the column labels sit above the grid
    assert left >= longest  # and the row labels left of it
    assert height > top + count * float(first_cell.get("width", "nan"))


def test_gold_chart_shows_only_annotators_with_gold_figures(report: dict[str, Any]) -> None:
    page = render_html(report)
    gold = svg_titled(page, "Gold accuracy per annotator, overall")
    assert "crowd_chen" not in gold  # gold is null
    assert "retrain 80.0%" in gold
    assert "qualify 85.0%" in gold
    assert "55.0% [34.2%, 74.2%]" in gold
    assert "No annotator has gold figures for this dimension." in page  # helpfulness


def test_confusion_matrix_and_breakdowns(report: dict[str, Any]) -> None:
    page = render_html(report)
    overall = svg_titled(page, "Coincidence matrix, overall")
    helpfulness = svg_titled(page, "Coincidence matrix, helpfulness")
    assert overall.count('class="cell"') == 3 * 3
    assert helpfulness.count('class="cell"') == 5 * 5
    assert "a × tie: 118.5 pairs (7.8% of all pairs)" in overall  # 118.5 / 1529
    by_category = svg_titled(page, "Krippendorff&#x27;s alpha by category, overall")
    assert "math &amp; &lt;logic&gt;" in by_category
    # by rubric version has 2 entries for overall and 1 for helpfulness: one plot only
    assert page.count("<h3>Agreement by rubric version</h3>") == 1
    assert page.count("<h3>Agreement by week of submission</h3>") == 1
    assert page.count("<h3>Agreement by batch</h3>") == 2


def test_html_categories_are_sorted_by_alpha_lowest_first(report: dict[str, Any]) -> None:
    page = render_html(report)
    plots = [s for s in svgs(page) if "alpha by category" in s]
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', plots[0])
    assert labels == ["writing", "math &amp; &lt;logic&gt;", "reasoning", "coding", "extraction"]
    assert "not computable" in plots[0]


def test_every_svg_is_well_formed_xml(report: dict[str, Any]) -> None:
    for candidate in (report, renamed(report, "new_hire", EVIL)):
        found = svgs(render_html(candidate))
        assert len(found) == 12  # 1 overview + 7 overall + 4 helpfulness
        for svg in found:
            root = ET.fromstring(svg)
            assert root.tag == "svg"
            assert root.get("viewBox")
            assert root[0].tag == "title"


def test_html_escapes_annotator_names_and_categories(report: dict[str, Any]) -> None:
    evil = renamed(renamed(report, "new_hire", EVIL), "coding", 'a"&<b>')
    page = render_html(evil)
    assert EVIL not in page
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'a"&<b>' not in page
    assert "a&quot;&amp;&lt;b&gt;" in page


def test_html_renders_null_and_nan_as_dash(report: dict[str, Any]) -> None:
    report["dimensions"]["helpfulness"]["fleiss_kappa"] = {"value": math.nan, "ci95": None}
    page = render_html(report)
    helpfulness_row = re.search(r"<tr><td>helpfulness</td>.*?</tr>", page)
    assert helpfulness_row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", helpfulness_row.group(0))
    assert cells[7] == DASH  # Fleiss kappa: NaN
    assert cells[10] == DASH  # % agreement decisive: no non-decisive values
    annotators = page.split('id="annotators"', 1)[1]
    crowd_chen = re.search(r"<tr><td[^>]*>crowd_chen</td>.*?</tr>", annotators)
    assert crowd_chen is not None
    assert re.findall(r"<td[^>]*>(.*?)</td>", crowd_chen.group(0))[2] == DASH  # gold: null
    assert "nan" not in page.lower().replace("nav", "")


# --------------------------------------------------------------------------- Markdown


def test_markdown_has_the_headline_table(report: dict[str, Any]) -> None:
    markdown = render_markdown(report)
    rows = markdown_table_after(markdown, "## Overview")
    assert rows[0][:3] == ["Dimension", "Level", "Weights"]
    assert rows[1][3] == "---:"
    assert rows[2][0] == "overall"
    assert rows[2][2] == "none"
    assert rows[2][6] == "0.512 [0.441, 0.583]"
    assert rows[2][11] == "below target 0.800"
    assert rows[3][2] == "linear over ranks"
    assert rows[3][6] == "0.702 [0.648, 0.751]"
    assert rows[3][10] == DASH
    assert "0.683 [0.601, 0.757]" in markdown  # decisive-only alpha, in the dimension facts


def test_markdown_renders_null_as_dash(report: dict[str, Any]) -> None:
    markdown = render_markdown(report)
    section = markdown.split("## Annotators", 1)[1]
    rows = markdown_table_after(section, "### helpfulness")
    crowd_ben = next(row for row in rows if row[0] == "crowd_ben")
    assert crowd_ben[4] == DASH  # peer kappa undefined (null)
    assert crowd_ben[6] == DASH  # non-decisive rate: helpfulness has no non-decisive values


def test_markdown_escapes_pipes_and_html(report: dict[str, Any]) -> None:
    evil = renamed(renamed(report, "new_hire", EVIL), "crowd_ana", "ana | [x](y) *b*")
    markdown = render_markdown(evil)
    assert "<script" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert r"ana \| \[x\](y) \*b\*" in markdown
    # every row of every table has as many cells as its header
    for table in re.findall(r"(?:^\|.*\n)+", markdown, flags=re.MULTILINE):
        widths = {len(re.split(r"(?<!\\)\|", line)) for line in table.splitlines()}
        assert len(widths) == 1, table


# --------------------------------------------------------------------------- console


def test_console_summary_lists_dimensions_flags_and_biases(report: dict[str, Any]) -> None:
    text = console_text(in_retraining(report, "new_hire"))
    assert "0.512 [0.441, 0.583]" in text
    assert "0.702 [0.648, 0.751]" in text
    assert "0.561 [0.494, 0.627]" in text  # overall AC1
    assert "below target" in text
    assert "Flagged annotators" in text
    assert "retraining: 11/20 gold judgments right" in " ".join(text.split())
    assert "55.4% vs 66.4% (−11.0 pp [−17.0, −5.0])" in text  # crowd_chen, with its interval
    assert "Position bias in overall: left option chosen 56.3% of 430 judgments (p = 0.009)." in (
        text
    )
    assert "Length bias in overall" in text
    assert "helpfulness" in text


def test_console_turns_the_headline_table_on_narrow_terminals(report: dict[str, Any]) -> None:
    console = Console(record=True, width=80)
    print_summary(report, console)
    text = console.export_text()
    assert "0.512 [0.441, 0.583]" in text
    assert "0.702 [0.648, 0.751]" in text
    assert any(line.startswith("Dimension") and "helpfulness" in line for line in text.splitlines())
    assert max(len(line) for line in text.splitlines()) <= 80


def test_console_prints_names_literally_and_null_as_dash(report: dict[str, Any]) -> None:
    text = console_text(renamed(report, "new_hire", "[bold]boss[/bold]"))
    assert "[bold]boss[/bold]" in text
    # 160 columns do not hold the headline unwrapped: one column per dimension, helpfulness last
    decisive = next(line for line in text.splitlines() if line.startswith("% agreement (decisive)"))
    assert decisive.split()[-1] == DASH  # no decisive agreement for a rating


def test_console_without_biases_or_flags_prints_no_note(report: dict[str, Any]) -> None:
    for dim in report["dimensions"].values():
        dim["position_bias"] = dim["length_bias"] = None
    report["annotators"] = []
    text = console_text(report)
    assert "bias" not in text.lower()
    assert "Flagged annotators" not in text


# --------------------------------------------------------------------------- SVG primitives


def test_svg_charts_escape_labels_and_parse() -> None:
    rows = [
        Estimate(label=EVIL, value=0.4, low=0.3, high=0.5, text="0.400 [0.300, 0.500]"),
        Estimate(label="a & b", value=None, text=DASH),
    ]
    lines = [ReferenceLine(value=0.8, label="target <0.8>")]
    for chart in (
        forest_plot(rows, title="t <1>", reference_lines=lines),
        bar_chart(rows, title="t <1>", reference_lines=lines),
        heatmap(
            [[0.5, None], [None, 1.0]],
            row_labels=[EVIL, "x"],
            column_labels=[EVIL, "x"],
            title="t <1>",
            cell_texts=[["50", ""], ["", "100"]],
            cell_titles=[[EVIL, "b"], ["c", "d"]],
        ),
    ):
        assert "<script" not in chart
        root = ET.fromstring(chart)
        assert root.findtext("title") == "t <1>"
        assert root.get("viewBox", "").startswith("0 0 ")


def test_svg_drops_characters_xml_forbids() -> None:
    chart = forest_plot([Estimate(label="bell\x07", value=0.5)], title="t\x00")
    ET.fromstring(chart)


def test_forest_plot_marks_missing_values_and_reference_lines() -> None:
    chart = forest_plot(
        [Estimate(label="x", value=None), Estimate(label="y", value=-0.3, low=-0.5, high=0.1)],
        title="alpha",
        reference_lines=[ReferenceLine(value=0.8, label="target")],
    )
    assert "not computable" in chart
    assert 'stroke-dasharray="5 4"' in chart
    assert ">-0.5<" in chart  # the domain widens to the lowest interval bound


def test_heatmap_shows_values_only_when_small() -> None:
    small = heatmap([[0.1]], row_labels=["a"], column_labels=["a"], title="t", cell_texts=[["42"]])
    assert ">42</text>" in small
    n = 13
    big = heatmap(
        [[0.5] * n] * n,
        row_labels=[f"r{i}" for i in range(n)],
        column_labels=[f"c{i}" for i in range(n)],
        title="t",
        cell_texts=[["42"] * n] * n,
    )
    assert ">42</text>" not in big
    assert big.count('class="cell"') == n * n


def test_heatmap_rejects_values_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"must have shape \(2, 2\).*got 1 rows of lengths \[2\]"):
        heatmap([[0.1, 0.2]], row_labels=["a", "b"], column_labels=["a", "b"], title="t")


# --------------------------------------------------------------------------- flags, overview


def flag_reasons(report: dict[str, Any]) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(f.dimension, f.annotator): f.reasons for f in flagged_annotators(report)}


NEW_HIRE_TIES = (  # 27 of 60 against the others' 23.8%: a tie excess (sections.non_decisive_excess)
    "answers non-decisive values in 45.0% of 60 judgments against 23.8% for the others "
    "(p = 0.00036)"
)

NEW_HIRE_REASON = (
    "11/20 gold judgments right (55.0%) (all gold judgments): the Wilson upper bound 72.0% is "
    "below 80.0%"
)


def in_retraining(report: dict[str, Any], *names: str) -> dict[str, Any]:
    """The report as a sync writes it: the lifecycle put ``names`` in retraining."""
    for entry in report["annotators"]:
        if entry["annotator"] in names:
            entry["status"], entry["status_reason"] = "retraining", NEW_HIRE_REASON
    return report


def test_low_peer_agreement_over_enough_pairs_is_flagged_with_its_pairs(
    report: dict[str, Any],
) -> None:
    reasons = flag_reasons(in_retraining(report, "new_hire"))
    # overall: the others agree 66.4% on the items crowd_chen and new_hire judged; they agree
    # 55.4% (240 pairs) and 40.6% (180), more than 10 points below, intervals wholly below 0
    assert reasons[("overall", "crowd_chen")] == (
        "agrees with peers less than the others do on the same items",
    )
    assert reasons[("overall", "new_hire")] == (
        "retraining: 11/20 gold judgments right (55.0%) (all gold judgments): the Wilson upper "
        "bound 72.0% is below 80.0%",
        "agrees with peers less than the others do on the same items",
        NEW_HIRE_TIES,
    )
    assert ("overall", "crowd_ben") not in reasons  # 59.3%: only 7.1 points below
    # helpfulness: the others agree 51.2%; its lowest, crowd_chen at 42.6%, is 8.6 points below
    assert not [key for key in reasons if key[0] == "helpfulness"]
    assert (PEER_MIN_PAIRS, PEER_MARGIN) == (20, 0.10)


def test_low_peer_agreement_over_few_pairs_is_not_flagged(report: dict[str, Any]) -> None:
    new_hire = next(a for a in report["annotators"] if a["annotator"] == "new_hire")
    crowd_chen = next(a for a in report["annotators"] if a["annotator"] == "crowd_chen")
    new_hire["dimensions"]["overall"]["peers"]["same_items"]["n_pairs"] = PEER_MIN_PAIRS - 1
    crowd_chen["dimensions"]["overall"]["peers"]["same_items"]["n_pairs"] = PEER_MIN_PAIRS
    reasons = flag_reasons(in_retraining(report, "new_hire"))
    assert reasons[("overall", "new_hire")] == (f"retraining: {NEW_HIRE_REASON}", NEW_HIRE_TIES)
    assert reasons[("overall", "crowd_chen")] == (
        "agrees with peers less than the others do on the same items",
    )


def test_renderers_name_the_interval_method(report: dict[str, Any]) -> None:
    """options.ci_method names the intervals; a report written before the key existed (this
    fixture) had percentile intervals and says only "bootstrap"."""
    assert "ci_method" not in report["options"]
    assert interval_kind(report) == "bootstrap"
    assert "95% bootstrap intervals" in render_markdown(report)
    bca = copy.deepcopy(report)
    bca["options"]["ci_method"] = "bca"
    assert interval_kind(bca) == "BCa bootstrap"
    assert "95% BCa bootstrap intervals" in render_markdown(bca)
    page = render_html(bca)
    assert "intervals are 95% BCa bootstrap intervals" in page
    assert "with its 95% BCa bootstrap interval" in page
    bca["options"]["ci_method"] = "percentile"
    assert interval_kind(bca) == "percentile bootstrap"


def test_an_interval_that_reaches_zero_is_not_a_flag(report: dict[str, Any]) -> None:
    crowd_chen = next(a for a in report["annotators"] if a["annotator"] == "crowd_chen")
    same = crowd_chen["dimensions"]["overall"]["peers"]["same_items"]
    same["ci95"] = [-0.25, 0.01]  # 11 points below, but the interval reaches above 0
    assert ("overall", "crowd_chen") not in flag_reasons(report)
    same["ci95"] = None  # no interval (a single item): no verdict either
    assert ("overall", "crowd_chen") not in flag_reasons(report)
    crowd_chen["dimensions"]["overall"]["peers"]["same_items"] = None  # no reference at all
    assert ("overall", "crowd_chen") not in flag_reasons(report)


def test_flagged_table_lists_peer_pairs_everywhere(report: dict[str, Any]) -> None:
    page = render_html(report)
    assert '<th class=num scope="col">Peer pairs</th>' in page
    assert "over at least 20 pairs" in page
    section = render_markdown(report).split("## Flagged annotators\n\n", 1)[1]
    rules, table = section.split("\n\n", 2)[:2]
    assert rules.startswith("Status probation, retraining, suspended (the annotator lifecycle")
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in table.splitlines()]
    assert rows[0][-2:] == [
        "Peer agreement vs others on the same items (difference [95% CI])",
        "Peer pairs",
    ]
    assert rows[2][-2:] == ["55.4% vs 66.4% (−11.0 pp [−17.0, −5.0])", "240"]  # crowd_chen


def test_html_folds_long_flag_lists(report: dict[str, Any]) -> None:
    big = many_annotators(report, 40)
    for annotator in big["annotators"]:
        annotator["dimensions"]["overall"]["gold"] = {
            "n": 40,
            "accuracy": 0.5,
            "ci95": [0.35, 0.65],
            "cohen_kappa": 0.1,
        }
    page = render_html(in_retraining(big, *(a["annotator"] for a in big["annotators"])))
    overview = page.split('id="overview"', 1)[1].split("</section>", 1)[0]
    assert "40 annotators flagged, most judgments first." in overview
    assert "<summary>20 more flagged annotators</summary>" in overview
    assert overview.count("retraining: 11/20 gold judgments right") == 40


def test_html_overview_puts_the_flag_on_the_dimension_name(report: dict[str, Any]) -> None:
    page = render_html(report)
    overview = page.split('id="overview"', 1)[1].split("</table>", 1)[0]
    assert '<table class="headline">' in overview
    assert ">Flag</th>" not in overview
    assert "α [95% CI]</th>" in overview
    assert '<td>overall<span class="badge">below target 0.800</span></td>' in overview
    assert "<td>helpfulness</td>" in overview  # alpha 0.702 meets its target 0.667


def test_gold_chart_is_lowest_first_and_capped(report: dict[str, Any]) -> None:
    page = render_html(report)
    gold = svg_titled(page, "Gold accuracy per annotator, overall")
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', gold)
    assert labels[0] == "new_hire"  # upper bound 74.2%, the only one below the retrain line
    big = many_annotators(report, 50)
    for k, annotator in enumerate(big["annotators"]):
        accuracy = 0.5 + k / 100
        annotator["dimensions"]["overall"]["gold"] = {
            "n": 40,
            "accuracy": accuracy,
            "ci95": [accuracy - 0.1, accuracy + 0.1],
            "cohen_kappa": 0.1,
        }
    page = render_html(big)
    gold = svg_titled(page, "Gold accuracy per annotator, overall")
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', gold)
    assert labels == [f"annotator_{k:02d}" for k in range(40)]
    assert "Showing the 40 lowest of 50 annotators with gold figures" in page


def test_public_names_are_complete_and_sorted() -> None:
    public = {
        name
        for name, value in vars(connector.report).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("connector.")
    }
    assert public <= set(connector.report.__all__)
    order = sorted(connector.report.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert connector.report.__all__ == order


def test_annotator_status_column_when_the_report_carries_statuses(report: dict[str, Any]) -> None:
    from connector.report.markdown import render_markdown

    assert "| Status |" not in render_markdown(report)
    first = report["annotators"][0]
    first["status"] = "probation"
    text = render_markdown(report)
    assert "Status" in text
    rows = [line for line in text.splitlines() if line.startswith(f"| {first['annotator']} | ")]
    assert any(line.startswith(f"| {first['annotator']} | probation |") for line in rows)


def test_unmeasurable_position_bias_says_why_in_every_renderer(report: dict[str, Any]) -> None:
    reason = "response a was on the left in all 430 judgments with a known display side"
    report["dimensions"]["overall"]["position_bias"] = {
        "n": 430,
        "left_share": None,
        "p_value": None,
        "measurable": False,
        "reason": reason,
    }
    new_hire = next(a for a in report["annotators"] if a["annotator"] == "new_hire")
    new_hire["dimensions"]["overall"]["position_bias"] = {
        "n": 30,
        "left_share": None,
        "p_value": None,
        "measurable": False,
        "reason": "saw a on the same side",
    }
    page = render_html(report)
    markdown = render_markdown(report)
    text = console_text(report)
    for output in (page, markdown):
        assert f"not measurable: {reason}" in output
        assert "Position bias in overall" not in output  # no significance note
    assert "Position bias in overall" not in text
    rows = {row[0]: row for row in annotator_table(report, "overall").rows}
    columns = annotator_table(report, "overall").columns
    assert rows["new_hire"][columns.index("Position bias p")] == "not measurable"
