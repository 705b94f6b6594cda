"""The command line, driven through Typer's runner: reports, rubric validation, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli import app

runner = CliRunner()
EXAMPLE = "examples/mt-bench/judgments.jsonl"


def test_report_writes_json_markdown_and_html(tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = runner.invoke(
        app,
        [
            "report", EXAMPLE, "--rubric", "rubrics/mt-bench/v1.yaml", "--resamples", "200",
            "--json", f"{out}.json", "--md", f"{out}.md", "--html", f"{out}.html",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(Path(f"{out}.json").read_text())
    assert report["rubric"]["id"] == "mt-bench"
    assert report["options"]["bootstrap_resamples"] == 200
    overall = report["dimensions"]["overall"]
    assert overall["percent_agreement_decisive"]["value"] == pytest.approx(0.82, abs=0.005)
    assert "overall" in Path(f"{out}.md").read_text()
    html = Path(f"{out}.html").read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "<svg" in html
    assert f"wrote HTML report to {out}.html" in result.output


def test_report_without_rubric_prints_a_summary_table() -> None:
    result = runner.invoke(app, ["report", EXAMPLE, "--resamples", "50"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "overall" in result.output
    assert "0.477" in result.output  # Krippendorff's alpha of the example, all judges


def test_report_with_a_value_outside_the_rubric_fails_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"item_id": "i", "annotator": "x", "dimension": "overall", "value": "maybe"}\n')
    result = runner.invoke(app, ["report", str(bad), "--rubric", "rubrics/mt-bench/v1.yaml"])
    assert result.exit_code == 2
    assert "dimension 'overall' has value 'maybe', which is not one of ['a', 'b', 'tie']" in (
        " ".join(result.output.split())
    )
    assert "Traceback" not in result.output


def test_report_on_a_missing_file_is_a_usage_error() -> None:
    result = runner.invoke(app, ["report", "no/such/file.jsonl"])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_rubric_validate_ok_and_error(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["rubric", "validate", "rubrics/rlhf-pairwise/v2.yaml"])
    assert ok.exit_code == 0
    assert ok.output.startswith(
        "ok rubrics/rlhf-pairwise/v2.yaml: rlhf-pairwise v2, 2 dimension(s)"
    )
    broken = tmp_path / "x" / "v2.yaml"
    broken.parent.mkdir()
    text = Path("rubrics/rlhf-pairwise/v2.yaml").read_text().replace("id: rlhf-pairwise", "id: x")
    broken.write_text(text.replace("level: ordinal", "level: ordnial"))
    guidelines = Path("rubrics/rlhf-pairwise/guidelines-v2.md")
    (broken.parent / guidelines.name).write_text(guidelines.read_text())
    bad = runner.invoke(app, ["rubric", "validate", str(broken)])
    assert bad.exit_code == 1
    message = " ".join(bad.output.split())
    assert f"{broken}:" in message
    assert (
        "dimension 'strength': level 'ordnial' is not one of nominal, ordinal, interval, ratio"
        in (message)
    )


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("iaa-connector ")


def test_annotators_table_shows_status_and_evidence(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from connector.config import EXAMPLE
    from connector.store import StatusDecision, Store

    rubrics = tmp_path / "rubrics" / "rlhf-pairwise"
    rubrics.mkdir(parents=True)
    for name in ("v2.yaml", "guidelines-v2.md"):
        (rubrics / name).write_text((Path("rubrics/rlhf-pairwise") / name).read_text())
    config = tmp_path / "iaa.toml"
    config.write_text(EXAMPLE)
    with Store.open(f"sqlite:///{tmp_path / 'iaa-connector.db'}") as store:
        store.record_decisions(
            "pairwise",
            [
                StatusDecision(
                    annotator="ann-1",
                    rubric_id="rlhf-pairwise",
                    status="retraining",
                    decided_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
                    evidence={
                        "gold_judgments": 25,
                        "gold_correct": 15,
                        "gold_accuracy": 0.6,
                        "wilson": [0.44, 0.74],
                        "reason": "upper bound below the retrain threshold",
                        "decided_by": ["safety"],
                    },
                )
            ],
        )
    result = runner.invoke(app, ["annotators", "pairwise", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "ann-1" in result.output
    assert "retraining" in result.output
    assert "15/25" in result.output
    assert "60.0% [44.0%, 74.0%]" in result.output
    assert "2026-01-02 03:04" in result.output
    assert "Decided by" in result.output
    assert "safety" in result.output.split("Decided by", 1)[1]
