"""How the report codes values (issue 10): levels and categories without a rubric, preference
values named by the rubric or the command line, labels that differ in case, misspelt or
missing dimensions, exact duplicates, values outside the rubric; driven through the CLI
(``report`` writes its JSON; warnings on stderr) and :func:`build_report`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.errors import JudgmentTableError
from connector.judgments import load_judgments
from connector.metrics import krippendorff_alpha
from connector.report.build import ReportOptions, build_report
from connector.report.checks import RowPlaces, check_input
from connector.rubric import Coding, CodingError, adhoc_rubric, parse_rubric

runner = CliRunner()

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability, section C: 4 observers x
# 12 units with missing values; published alpha nominal 0.743, ordinal 0.815, interval 0.849,
# ratio 0.797 (https://repository.upenn.edu/asc_papers/43). Rows: observers; columns: units.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = list(rows[0])
    lines = [",".join(columns)]
    lines += [",".join("" if r.get(c) is None else str(r[c]) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def krippendorff_table(tmp_path: Path) -> Path:
    rows = [
        {"item_id": f"u{unit}", "annotator": f"o{observer}", "dimension": "score", "value": v}
        for observer, values in enumerate(KRIPPENDORFF_2011)
        for unit, v in enumerate(values)
        if v is not None
    ]
    return write_csv(tmp_path / "scores.csv", rows)


def run_report(*args: str) -> tuple[dict[str, Any], str]:
    """Run ``report`` (no bootstrap) and return the JSON report and stderr."""
    out = Path(args[0]).with_suffix(".report.json")
    result = runner.invoke(app, ["report", *args, "--resamples", "0", "--json", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text()), result.stderr


def run_failing(*args: str) -> str:
    result = runner.invoke(app, ["report", *args, "--resamples", "0"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return " ".join(result.stderr.split())


# --- levels without a rubric ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "published"), [("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_level_flag_scores_a_dimension_at_that_level(
    tmp_path: Path, level: str, published: float
) -> None:
    report, stderr = run_report(str(krippendorff_table(tmp_path)), "--level", f"score={level}")
    alpha = report["dimensions"]["score"]["krippendorff_alpha"]["value"]
    assert alpha == pytest.approx(published, abs=5e-4)
    by_unit = [list(unit) for unit in zip(*KRIPPENDORFF_2011, strict=True)]
    assert alpha == pytest.approx(krippendorff_alpha(by_unit, level=level), abs=1e-12)
    assert report["dimensions"]["score"]["level"] == level
    assert "scored as nominal" not in stderr


def test_numbers_scored_as_nominal_are_named_with_the_flag_to_use(tmp_path: Path) -> None:
    report, stderr = run_report(str(krippendorff_table(tmp_path)))
    assert report["dimensions"]["score"]["krippendorff_alpha"]["value"] == pytest.approx(
        0.743, abs=5e-4
    )
    expected = (
        "dimension 'score': its values 1, 2, 3, 4, 5 are numbers scored as nominal (every "
        "disagreement counts the same); if they are a scale, pass --level score=ordinal (or "
        "interval), and --categories score=1,2,3,4,5 with any value nobody chose"
    )
    assert report["warnings"] == [expected]
    assert f"warning: {expected}" in " ".join(stderr.split())


def test_categories_add_values_nobody_chose(tmp_path: Path) -> None:
    table = str(krippendorff_table(tmp_path))
    report, _ = run_report(table, "--level", "score=ordinal", "--categories", "score=1,2,3,4,5,6,7")
    section = report["dimensions"]["score"]
    assert section["categories"] == [1, 2, 3, 4, 5, 6, 7]
    # Ordinal distances depend on the marginal counts only, and unused values have none:
    # alpha stays Krippendorff's 0.815. Interval distances do not change either.
    assert section["krippendorff_alpha"]["value"] == pytest.approx(0.815, abs=5e-4)


def test_categories_order_labels_for_an_ordinal_level(tmp_path: Path) -> None:
    words = {1: "poor", 2: "fair", 3: "good", 4: "great", 5: "superb"}
    rows = [
        {"item_id": f"u{u}", "annotator": f"o{o}", "dimension": "score", "value": words[v]}
        for o, values in enumerate(KRIPPENDORFF_2011)
        for u, v in enumerate(values)
        if v is not None
    ]
    table = str(write_csv(tmp_path / "words.csv", rows))
    message = run_failing(table, "--level", "score=ordinal")
    assert "--level score=ordinal: the values of 'score' are labels" in message
    assert "give their order with --categories score=FIRST,SECOND,..." in message
    report, _ = run_report(
        table, "--level", "score=ordinal", "--categories", "score=poor,fair,good,great,superb"
    )
    alpha = report["dimensions"]["score"]["krippendorff_alpha"]["value"]
    assert alpha == pytest.approx(0.815, abs=5e-4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--level", "scor=ordinal"],
            "--level scor=...: the table has no dimension 'scor'; did you mean 'score'?",
        ),
        (
            ["--level", "score=ordnial"],
            "--level score=ordnial: 'ordnial' is not one of nominal, ordinal, interval, ratio; "
            "did you mean 'ordinal'?",
        ),
        (["--level", "score"], "--level 'score': write DIMENSION=..., e.g. --level x=ordinal"),
        (
            ["--categories", "score=1,2,x"],
            "--categories score=...: 'x' is not a number, but the values of 'score' are numbers",
        ),
        (
            ["--rubric", "rubrics/mt-bench/v1.yaml", "--level", "score=ordinal"],
            "--level describe a table given without a rubric; with --rubric, say it in the "
            "rubric (level, values, first/second, non_decisive)",
        ),
    ],
)
def test_bad_coding_options_are_named(tmp_path: Path, args: list[str], message: str) -> None:
    assert message in run_failing(str(krippendorff_table(tmp_path)), *args)


def test_a_value_outside_the_categories_names_its_file_line(tmp_path: Path) -> None:
    table = str(krippendorff_table(tmp_path))
    message = run_failing(table, "--level", "score=ordinal", "--categories", "score=1,2,3,4")
    # the first 5 is unit 9 of observer 1: data row 19 of the CSV, line 20 after the header
    assert f"{table}:20 (item 'u9', annotator 'o1'): dimension 'score' has value 5" in message


# --- preference values named by the CLI and by a rubric -------------------------------------

VOTES = [  # (item, annotator, vote a/b/tie, display_left)
    ("i1", "x", "a", "a"), ("i1", "y", "a", "b"), ("i1", "z", "tie", "a"),
    ("i2", "x", "b", "b"), ("i2", "y", "b", "a"), ("i2", "z", "b", "b"),
    ("i3", "x", "a", "a"), ("i3", "y", "b", "b"), ("i3", "z", "tie", "a"),
    ("i4", "x", "tie", "b"), ("i4", "y", "tie", "a"), ("i4", "z", "a", "a"),
    ("i5", "x", "b", "a"), ("i5", "y", "b", "b"), ("i5", "z", "a", "b"),
    ("i6", "x", "a", "b"), ("i6", "y", "a", "a"), ("i6", "z", "a", "b"),
]  # fmt: skip


def assert_same_figures(found: dict[str, Any], expected: dict[str, Any]) -> None:
    """The pairwise figures of two reports' 'overall' sections agree (floats to 1e-12: the
    categories are coded in another order, so sums run in another order)."""
    for figure in FIGURES:
        assert _rounded(found["dimensions"]["overall"][figure]) == _rounded(
            expected["dimensions"]["overall"][figure]
        ), figure


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return round(value, 12) if isinstance(value, float) else value


def vote_rows(coding: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "item_id": item,
            "annotator": who,
            "dimension": "overall",
            "value": coding[vote],
            "display_left": left,
        }
        for item, who, vote, left in VOTES
    ]


FIGURES = (
    "n_judgments",
    "krippendorff_alpha",
    "fleiss_kappa",
    "gwet_ac1",
    "percent_agreement",
    "percent_agreement_decisive",
    "krippendorff_alpha_decisive",
    "position_bias",
)


def test_votes_coded_1_2_0_give_the_figures_of_a_b_tie(tmp_path: Path) -> None:
    plain = write_jsonl(tmp_path / "ab.jsonl", vote_rows({"a": "a", "b": "b", "tie": "tie"}))
    coded = write_csv(tmp_path / "votes.csv", vote_rows({"a": 1, "b": 2, "tie": 0}))
    expected, _ = run_report(str(plain))
    report, stderr = run_report(str(coded), "--non-decisive", "0")
    reference = expected["dimensions"]["overall"]
    section = report["dimensions"]["overall"]
    assert section["kind"] == reference["kind"] == "preference"
    assert section["non_decisive"] == [0]
    # cross-check: the krippendorff package (Castro 2017) on the same votes, observers x items
    import numpy as np
    from krippendorff import alpha as reference_alpha

    matrix = np.full((3, 6), np.nan)
    for item, who, vote, _ in VOTES:
        matrix["xyz".index(who), int(item[1:]) - 1] = {"a": 1, "b": 2, "tie": 0}[vote]
    assert section["krippendorff_alpha"]["value"] == pytest.approx(
        reference_alpha(reliability_data=matrix, level_of_measurement="nominal"), abs=1e-12
    )
    # the figures docs/report.md quotes for this table
    assert section["krippendorff_alpha"]["value"] == pytest.approx(0.264, abs=5e-4)
    assert section["percent_agreement_decisive"] == {"value": pytest.approx(8 / 11), "n_pairs": 11}
    assert section["position_bias"]["left_share"] == pytest.approx(8 / 14)
    assert reference["percent_agreement_decisive"]["n_pairs"] > 0
    assert reference["position_bias"]["n"] == 14
    assert_same_figures(report, expected)
    assert "warning" not in stderr


@pytest.mark.parametrize(
    "coding",
    [
        {"a": "A", "b": "B", "tie": "Tie"},
        {"a": "model_a", "b": "model_b", "tie": "tie"},
        {"a": "left", "b": "right", "tie": "equal"},
    ],
)
def test_other_response_names_are_read_as_a_preference(
    tmp_path: Path, coding: dict[str, str]
) -> None:
    plain = write_jsonl(tmp_path / "ab.jsonl", vote_rows({"a": "a", "b": "b", "tie": "tie"}))
    coded = write_jsonl(tmp_path / "named.jsonl", vote_rows(coding))
    expected, _ = run_report(str(plain))
    report, _ = run_report(str(coded), "--non-decisive", coding["tie"])
    assert_same_figures(report, expected)


def test_responses_flag_names_any_pair(tmp_path: Path) -> None:
    coding = {"a": "gpt", "b": "claude", "tie": "same"}
    plain = write_jsonl(tmp_path / "ab.jsonl", vote_rows({"a": "a", "b": "b", "tie": "tie"}))
    coded = write_jsonl(tmp_path / "named.jsonl", vote_rows(coding))
    expected, _ = run_report(str(plain))
    before, stderr = run_report(str(coded), "--non-decisive", "same")
    assert before["dimensions"]["overall"]["kind"] == "choice"
    assert "pass --responses overall=FIRST,SECOND to score it as a preference" in " ".join(
        stderr.split()
    )
    report, _ = run_report(
        str(coded), "--non-decisive", "same", "--responses", "overall=gpt,claude"
    )
    assert_same_figures(report, expected)


def test_a_rubric_with_first_second_drives_the_pairwise_figures(tmp_path: Path) -> None:
    rubric = tmp_path / "anywhere" / "votes.yaml"
    rubric.parent.mkdir()
    rubric.write_text(
        "id: votes\nversion: 1\nchangelog: coded votes\nguidelines: Pick one.\n"
        "dimensions:\n  - name: overall\n    question: Which is better?\n    kind: preference\n"
        "    values: [1, 2, 0]\n    first: 1\n    second: 2\n    non_decisive: [0]\n"
        "    level: nominal\n"
    )
    plain = write_jsonl(tmp_path / "ab.jsonl", vote_rows({"a": "a", "b": "b", "tie": "tie"}))
    coded = write_csv(tmp_path / "votes.csv", vote_rows({"a": 1, "b": 2, "tie": 0}))
    expected, _ = run_report(str(plain))
    report, _ = run_report(str(coded), "--rubric", str(rubric))
    assert_same_figures(report, expected)
    ok = runner.invoke(app, ["rubric", "validate", str(rubric)])
    assert ok.exit_code == 0, ok.output  # the same rule as report --rubric: any place
    strict = runner.invoke(app, ["rubric", "validate", "--layout", str(rubric)])
    assert strict.exit_code == 1
    assert "id 'votes' does not match its directory 'anywhere'" in " ".join(strict.stderr.split())


def test_a_string_value_matching_a_numeric_category_says_so(tmp_path: Path) -> None:
    rows = vote_rows({"a": 1, "b": 2, "tie": 0})
    rows[4]["value"] = "2"
    table = write_jsonl(tmp_path / "votes.jsonl", rows)
    rubric = tmp_path / "votes.yaml"
    rubric.write_text(
        "id: votes\nversion: 1\nchangelog: c\nguidelines: g\ndimensions:\n  - name: overall\n"
        "    question: q\n    kind: preference\n    values: [1, 2, 0]\n    first: 1\n"
        "    second: 2\n    non_decisive: [0]\n    level: nominal\n"
    )
    message = run_failing(str(table), "--rubric", str(rubric))
    assert (
        f"{table}:5 (item 'i2', annotator 'y'): dimension 'overall' has value '2', which is not "
        "one of [1, 2, 0] (1 such judgment(s)); the value is the string '2' but the dimension's "
        "values are numbers (2): write the numbers unquoted in the table, or quote the rubric's "
        "values"
    ) in message


# --- labels that differ only in case or spaces ----------------------------------------------


def test_case_variants_are_named_and_normalised_on_request(tmp_path: Path) -> None:
    rows = vote_rows({"a": "a", "b": "b", "tie": "tie"})
    for row in rows[::3]:
        row["value"] = {"a": "A", "b": "B ", "tie": "Tie"}[row["value"]]
    table = write_jsonl(tmp_path / "mixed.jsonl", rows)
    plain = write_jsonl(tmp_path / "ab.jsonl", vote_rows({"a": "a", "b": "b", "tie": "tie"}))
    report, stderr = run_report(str(table))
    assert report["dimensions"]["overall"]["kind"] == "choice"
    warning = (
        "dimension 'overall': labels that differ only in case or surrounding spaces ('A' / "
        "'a'; 'B ' / 'b'; 'Tie' / 'tie') count as different categories (a preference "
        "dimension then becomes a plain choice); pass --normalise-labels to read each group "
        "as one label"
    )
    assert warning in report["warnings"]
    assert warning in " ".join(stderr.split())
    fixed, _ = run_report(str(table), "--normalise-labels")
    expected, _ = run_report(str(plain))
    assert fixed["summary"]["n_normalised_labels"] == 6
    assert_same_figures(fixed, expected)


def test_normalise_labels_takes_the_rubric_spelling(tmp_path: Path) -> None:
    rows = vote_rows({"a": "A", "b": "B", "tie": "TIE"})
    table = write_jsonl(tmp_path / "upper.jsonl", rows)
    message = run_failing(str(table), "--rubric", "rubrics/rlhf-pairwise/v1.yaml")
    assert "it differs from 'a' only in case or surrounding spaces: pass --normalise-labels" in (
        message
    )
    report, _ = run_report(
        str(table), "--rubric", "rubrics/rlhf-pairwise/v1.yaml", "--normalise-labels"
    )
    assert report["summary"]["n_normalised_labels"] == len(rows)
    assert report["dimensions"]["overall"]["categories"] == ["a", "b", "tie"]


# --- misspelt and missing dimensions --------------------------------------------------------


def test_a_misspelt_dimension_is_named(tmp_path: Path) -> None:
    rows = vote_rows({"a": "a", "b": "b", "tie": "tie"})
    rows[7]["dimension"] = "overal"
    table = write_jsonl(tmp_path / "typo.jsonl", rows)
    report, stderr = run_report(str(table))
    warning = (
        f"dimension 'overal' (1 judgment(s), first at {table}:8) looks like a misspelling of "
        "'overall' (17 judgment(s)); it is scored as a dimension of its own: fix the name, or "
        "pass --rubric naming the dimensions"
    )
    assert warning in report["warnings"]
    assert warning in " ".join(stderr.split())


def test_a_rubric_dimension_without_data_is_named(tmp_path: Path) -> None:
    table = write_jsonl(tmp_path / "ab.jsonl", vote_rows({"a": "a", "b": "b", "tie": "tie"}))
    report, stderr = run_report(str(table), "--rubric", "rubrics/rlhf-pairwise/v2.yaml")
    warning = (
        "rubric rlhf-pairwise@v2 dimension(s) 'strength' have no judgments in this table and "
        "are left out of the report; dimensions found: 'overall'"
    )
    assert report["warnings"] == [warning]
    assert list(report["dimensions"]) == ["overall"]
    assert warning in " ".join(stderr.split())


# --- exact duplicates and true re-tests -----------------------------------------------------


def timed_rows() -> list[dict[str, Any]]:
    rows = vote_rows({"a": "a", "b": "b", "tie": "tie"})
    for minute, row in enumerate(rows):
        row["submitted_at"] = f"2024-05-01T12:{minute:02d}:00Z"
    return rows


def test_a_doubled_export_is_dropped_and_counted_not_read_as_retests(tmp_path: Path) -> None:
    rows = timed_rows()
    single = write_jsonl(tmp_path / "once.jsonl", rows)
    doubled = write_jsonl(tmp_path / "twice.jsonl", rows + rows)
    expected, _ = run_report(str(single))
    report, stderr = run_report(str(doubled))
    section = report["dimensions"]["overall"]
    assert report["summary"]["n_exact_duplicates_dropped"] == len(rows)
    assert report["summary"]["n_judgments"] == len(rows)
    assert section["n_retests"] == 0
    assert section["intra_annotator"] is None
    assert_same_figures(report, expected)
    warning = (
        f"18 exact duplicate row(s) dropped (same item, annotator, dimension, value and "
        f"submitted_at as an earlier row, as a repeated export makes), first at {doubled}:19; "
        "they are not re-tests"
    )
    assert warning in report["warnings"]
    assert warning in " ".join(stderr.split())


def test_a_true_retest_still_feeds_intra_annotator_figures(tmp_path: Path) -> None:
    rows = timed_rows()
    retests = [dict(row, submitted_at="2024-05-04T12:00:00Z") for row in rows[:6]]
    retests[0]["value"] = "b"  # x changed its mind on i1: 5 of 6 re-tests agree
    table = write_jsonl(tmp_path / "retest.jsonl", rows + rows[:6] + retests)
    report, _ = run_report(str(table))
    section = report["dimensions"]["overall"]
    assert report["summary"]["n_exact_duplicates_dropped"] == 6
    assert section["n_retests"] == 6
    assert section["intra_annotator"]["n_pairs"] == 6
    assert section["intra_annotator"]["percent_agreement"] == pytest.approx(5 / 6)


def test_untimed_repeats_are_kept_and_said_to_be_ambiguous(tmp_path: Path) -> None:
    rows = vote_rows({"a": "a", "b": "b", "tie": "tie"})
    table = write_jsonl(tmp_path / "untimed.jsonl", rows + rows[:2])
    report, _ = run_report(str(table))
    assert report["summary"]["n_exact_duplicates_dropped"] == 0
    assert report["dimensions"]["overall"]["n_retests"] == 2
    assert report["warnings"] == [
        f"2 row(s) repeat the item, annotator, dimension and value of an earlier row and have "
        f"no submitted_at, first at {table}:19: a double export or a re-test cannot be told "
        "apart, so they are kept as re-tests; add submitted_at, or drop the copies if they are "
        "duplicates"
    ]


def test_build_report_runs_the_checks_itself(tmp_path: Path) -> None:
    rows = timed_rows()
    table = load_judgments(write_jsonl(tmp_path / "twice.jsonl", rows + rows))
    rubric, said = adhoc_rubric({"overall": ["a", "b", "tie"]})
    assert said == []
    report = build_report(table.frame, rubric, options=ReportOptions(resamples=0))
    assert report["summary"]["n_exact_duplicates_dropped"] == len(rows)
    assert report["dimensions"]["overall"]["intra_annotator"] is None
    checked = check_input(table.frame, rubric, places=RowPlaces(source="t", lines=table.lines))
    assert checked.places.name(18) == "t:19"


def test_adhoc_rubric_rejects_responses_the_dimension_lacks() -> None:
    with pytest.raises(CodingError, match=r"--responses vote=1,3: 3 is not a value of 'vote'"):
        adhoc_rubric(
            {"vote": [0, 1, 2]}, Coding(non_decisive=("0",), responses={"vote": ("1", "3")})
        )
    rubric, _ = adhoc_rubric({"vote": [0, 1, 2]}, Coding(non_decisive=("0",)))
    assert rubric.dimension("vote").responses == (1, 2)
    two_point, _ = adhoc_rubric({"ok": [1, 2]})
    assert two_point.dimension("ok").kind == "rating"  # 1/2 alone may be a two-point scale


def test_value_outside_rubric_without_lines_names_the_row() -> None:
    import pandas as pd

    from connector.judgments import normalise

    frame = normalise(
        pd.DataFrame(
            [
                {"item_id": "i", "annotator": "x", "dimension": "overall", "value": "a"},
                {"item_id": "i", "annotator": "y", "dimension": "overall", "value": "maybe"},
            ]
        )
    )
    rubric = parse_rubric(
        "id: r\nversion: 1\nchangelog: c\nguidelines: g\ndimensions:\n  - name: overall\n"
        "    question: q\n    kind: preference\n    values: [a, b]\n    level: nominal\n"
    )
    with pytest.raises(JudgmentTableError, match=r"^row 2 \(item 'i', annotator 'y'\)"):
        build_report(frame, rubric, options=ReportOptions(resamples=0))


# --- rubric commands ------------------------------------------------------------------------


def test_rubric_validate_prints_every_error_with_its_line(tmp_path: Path) -> None:
    from test_rubric import FIVE_MISTAKES

    rubric = tmp_path / "draft.yaml"
    rubric.write_text(FIVE_MISTAKES)
    result = runner.invoke(app, ["rubric", "validate", str(rubric)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert [line.split(": ")[1] for line in errors] == [
        f"{rubric}:{n}" for n in (1, 10, 15, 18, 20, 21)
    ]


def test_rubric_new_writes_a_commented_rubric_that_validates_and_scores(tmp_path: Path) -> None:
    table = write_csv(tmp_path / "votes.csv", vote_rows({"a": 1, "b": 2, "tie": 0}))
    out = tmp_path / "votes" / "v1.yaml"
    result = runner.invoke(
        app, ["rubric", "new", str(table), "--id", "votes", "--non-decisive", "0", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "    first: 1  # the value meaning response_a\n" in text
    assert "    non_decisive: [0]  # values preferring neither response\n" in text
    assert "    # observed: 0 ×4, 1 ×8, 2 ×6\n" in text
    valid = runner.invoke(app, ["rubric", "validate", "--layout", str(out)])
    assert valid.exit_code == 0, valid.output
    plain = write_jsonl(tmp_path / "ab.jsonl", vote_rows({"a": "a", "b": "b", "tie": "tie"}))
    expected, _ = run_report(str(plain))
    report, _ = run_report(str(table), "--rubric", str(out))
    assert_same_figures(report, expected)
    again = runner.invoke(app, ["rubric", "new", str(table), "--id", "votes", "-o", str(out)])
    assert again.exit_code == 2
    assert "exists; pass --force to overwrite it" in again.stderr


def test_rubric_new_quotes_labels_yaml_would_misread(tmp_path: Path) -> None:
    rows = [
        {"item_id": f"i{n}", "annotator": who, "dimension": "safe", "value": value}
        for n, (who, value) in enumerate([("x", "yes"), ("y", "no"), ("x", "null"), ("y", "1")])
    ]
    table = write_jsonl(tmp_path / "labels.jsonl", rows)
    result = runner.invoke(app, ["rubric", "new", str(table), "--id", "safety"])
    assert result.exit_code == 0, result.output
    assert '    values: ["1", "no", "null", "yes"]\n' in result.stdout
    rubric = parse_rubric(result.stdout)
    assert rubric.dimension("safe").values == ("1", "no", "null", "yes")


def test_warnings_reach_the_markdown_and_html_reports(tmp_path: Path) -> None:
    rows = timed_rows()
    table = write_jsonl(tmp_path / "twice.jsonl", rows + rows)
    md, html = tmp_path / "r.md", tmp_path / "r.html"
    result = runner.invoke(
        app, ["report", str(table), "--resamples", "0", "--md", str(md), "--html", str(html)]
    )
    assert result.exit_code == 0, result.output
    assert "## Input warnings\n\n- 18 exact duplicate row(s) dropped" in md.read_text()
    assert '<h3>Input warnings</h3><ul class="notes"><li>18 exact duplicate row(s) dropped' in (
        html.read_text()
    )


def test_votes_read_without_non_decisive_get_the_hint(tmp_path: Path) -> None:
    coded = write_csv(tmp_path / "votes.csv", vote_rows({"a": 1, "b": 2, "tie": 0}))
    report, _ = run_report(str(coded))
    assert report["dimensions"]["overall"]["kind"] == "rating"
    assert report["warnings"][0].endswith(
        "if they are votes for response 1 or 2, pass --non-decisive 0 for the value preferring "
        "neither"
    )


def test_a_non_decisive_value_written_in_another_case_is_named(tmp_path: Path) -> None:
    coded = write_jsonl(tmp_path / "ab.jsonl", vote_rows({"a": "A", "b": "B", "tie": "Tie"}))
    report, _ = run_report(str(coded))
    assert report["dimensions"]["overall"]["kind"] == "choice"
    assert report["warnings"][0] == (
        "dimension 'overall': value 'Tie' differs from the non-decisive 'tie' only in case or "
        "spaces and is not read as non-decisive; pass --non-decisive Tie"
    )
    fixed, _ = run_report(str(coded), "--non-decisive", "Tie")
    assert fixed["dimensions"]["overall"]["kind"] == "preference"
    assert fixed["warnings"] == []


def test_a_preference_showing_one_side_only_stays_a_preference() -> None:
    rubric, _ = adhoc_rubric({"overall": ["a", "tie", "a"], "grade": ["A", "tie"]})
    assert rubric.dimension("overall").kind == "preference"
    assert rubric.dimension("overall").non_decisive == ("tie",)
    assert rubric.dimension("grade").kind == "choice"  # 'A' alone may be a grade
