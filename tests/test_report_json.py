"""The report's JSON text (connector.report.json_text): the same content as ``json.dumps`` of
``jsonable(report)``, indented as a structure, one line per record in long lists."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from connector.cli import app
from connector.report.build import jsonable
from connector.report.json_text import report_json

EXAMPLE = "examples/mt-bench/judgments.jsonl"


def _same(text: str, value: object) -> None:
    expected = json.loads(json.dumps(jsonable(value), ensure_ascii=False))
    found = json.loads(text)
    assert found == expected
    assert json.dumps(found) == json.dumps(expected)  # same key order too


def test_awkward_values_read_back_as_jsonable_makes_them() -> None:
    value = {
        "nan": float("nan"),
        "inf": [1.0, float("inf"), -math.inf],
        "numpy": {"i": np.int64(3), "f": np.float64(0.25), "b": np.bool_(True)},
        "empty": {"d": {}, "l": [], "t": ()},
        "records": [{"a": "é", "n": np.float64("nan")}, {"a": "x\ny", "n": 1}],
        "matrix": [[1, 2], [3, 4]],
        "mixed": [{"deep": {"x": 1}}, 2, "s", None],
        "text": 'quote " and \\ and ✓',
    }
    text = report_json(value)
    _same(text, value)
    assert "NaN" not in text
    assert "Infinity" not in text
    assert text.endswith("}\n")


def test_cli_json_matches_the_report_and_lists_a_pair_per_line(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = CliRunner().invoke(app, ["report", EXAMPLE, "--json", str(out), "--resamples", "50"])
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8")
    report = json.loads(text)
    assert report["schema"] == "iaa-connector/report@1"
    lines = text.splitlines()
    assert lines[0] == "{"
    assert lines[1].startswith('  "schema": ')
    pairs = [p for listed in report["annotator_pairs"].values() for p in listed]
    assert pairs, "the example has annotator pairs"
    pair_lines = [line for line in lines if '"shared_items": ' in line]
    assert [json.loads(line.strip().rstrip(",")) for line in pair_lines] == pairs


def test_report_json_equals_json_dumps_of_the_built_report(tmp_path: Path) -> None:
    from connector.judgments import load_judgments
    from connector.report.build import ReportOptions, build_report
    from connector.rubric import default_rubric_for

    frame = load_judgments(Path(EXAMPLE)).frame
    observed = {str(n): sorted(set(g["value"].dropna())) for n, g in frame.groupby("dimension")}
    report = build_report(frame, default_rubric_for(observed), options=ReportOptions(resamples=20))
    _same(report_json(report), report)
