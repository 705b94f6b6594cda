"""Syncing across rubric versions (connector.report.versions, connector.rubric.versions), through
the in-memory platform: judgments synced under v1, the configuration moved to v2 (a dimension
renamed, one removed, one re-valued, one unchanged), synced again. Before the split by version
the second sync failed ("dimension(s) ['helpfulness', 'safety'] are not in rubric vt version
'2'") and every later one with it.

The real-server proof is tests/test_sync_versions_labelstudio.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
import pytest
from test_sync import World
from typer.testing import CliRunner

from connector.cli import app
from connector.config import load_config
from connector.errors import JudgmentTableError
from connector.judgments import COLUMNS, with_canonical_dtypes
from connector.report.build import ReportOptions, build_report
from connector.report.versions import split_by_version
from connector.rubric import load_rubric
from connector.rubric.versions import pooled_dimensions, same_meaning
from connector.store import GoldAnswer

ANNOTATORS = ("ann1@x", "ann2@x", "ann3@x")

OVERALL = (
    "  - name: overall\n    question: Which response is better?\n    kind: preference\n"
    "    values: [a, b, tie]\n    non_decisive: [tie]\n    level: nominal\n"
)
HELP_QUESTION = "How helpful is the preferred response? (1 = not at all, 5 = fully)"


def _rating(name: str, question: str, values: str, level: str = "ordinal") -> str:
    return (
        f"  - name: {name}\n    question: {question}\n    kind: rating\n"
        f"    values: {values}\n    level: {level}\n"
    )


V1_DIMENSIONS = (
    OVERALL
    + _rating("helpfulness", HELP_QUESTION, "[1, 2, 3, 4, 5]")
    + _rating("safety", "Is the preferred response safe?", "[safe, unsafe]", "nominal")
    + _rating("tone", "What is the tone of the responses?", "[formal, casual]", "nominal")
)
# v2: overall unchanged; helpfulness renamed to helpful (same question and scale); safety
# removed; tone re-valued (casual becomes informal, and a third value).
V2_DIMENSIONS = (
    OVERALL
    + _rating("helpful", HELP_QUESTION, "[1, 2, 3, 4, 5]")
    + _rating("tone", "What is the tone of the responses?", "[formal, informal, mixed]", "nominal")
)


def rubric_file(tmp_path: Path, version: int, dimensions: str) -> Path:
    path = tmp_path / "rubrics" / "vt" / f"v{version}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"id: vt\nversion: {version}\nchangelog: version {version}\n"
        f"guidelines: Judge the responses (v{version}).\ndimensions:\n{dimensions}"
        "thresholds:\n  target_alpha: 0.80\n  min_gold_judgments: 4\n"
        "calibration:\n  gold_share: 0.0\n  retest_share: 0.0\n  retest_delay_hours: 1\n"
        "  validation_batch_size: {min: 10, max: 30}\n  annotators_per_item: 3\n"
    )
    return path


def _v1_answer(rng: random.Random, truth: int) -> dict[str, Any]:
    """An answer near the item's truth (index ``truth``), off at random now and then."""
    off = rng.random() < 0.25
    return {
        "overall": "ab"[truth % 2] if not off else "tie",
        "helpfulness": min(5, 1 + truth % 5 + (1 if off else 0)),
        "safety": "safe" if (truth % 3 or off) else "unsafe",
        "tone": ("formal", "casual")[truth % 2 if not off else 1 - truth % 2],
    }


def _v2_answer(rng: random.Random, truth: int) -> dict[str, Any]:
    off = rng.random() < 0.25
    return {
        "overall": "ab"[truth % 2] if not off else "tie",
        "helpful": min(5, 1 + truth % 5 + (1 if off else 0)),
        "tone": ("formal", "informal", "mixed")[(truth + (1 if off else 0)) % 3],
    }


def _judge(world: World, prefix: str, answer: Any, n: int, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(n):
        for annotator in ANNOTATORS:
            world.platform.annotate(
                f"t-{prefix}{i}", f"{prefix}{i}", annotator=annotator, value=answer(rng, i)
            )


def _move_to(world: World, old: Path, new: Path) -> None:
    """Point the project's configuration at another rubric file, as a team does."""
    path = world.config.path
    path.write_text(path.read_text().replace(str(old), str(new)))
    world.config = load_config(path)


def _alpha(values: Sequence[Mapping[str, Any]], dimension: str, level: str, domain: Any) -> float:
    """Krippendorff's alpha by the ``krippendorff`` package (an independent implementation):
    one unit per item, one coder per annotator."""
    items = sorted({v["item"] for v in values})
    table = np.full((len(ANNOTATORS), len(items)), np.nan)
    codes = {value: k for k, value in enumerate(domain)}
    for v in values:
        if v["dimension"] == dimension:
            table[ANNOTATORS.index(v["annotator"]), items.index(v["item"])] = codes[v["value"]]
    return float(
        krippendorff.alpha(
            reliability_data=table,
            level_of_measurement=level,
            value_domain=list(range(len(domain))),
        )
    )


@pytest.fixture
def moved(tmp_path: Path) -> Any:
    v1 = rubric_file(tmp_path, 1, V1_DIMENSIONS)
    v2 = rubric_file(tmp_path, 2, V2_DIMENSIONS)
    world = World(tmp_path, rubric=v1)
    try:
        yield world, v1, v2
    finally:
        world.store.close()


def _stored(world: World) -> list[dict[str, Any]]:
    frame = world.store.judgments_frame("p")
    return [
        {
            "item": row.item_id,
            "annotator": row.annotator,
            "dimension": row.dimension,
            "value": row.value,
            "version": row.rubric_version,
        }
        for row in frame.itertuples()
    ]


def test_a_sync_after_a_move_to_a_new_version_reports_each_version(moved: Any) -> None:
    world, v1, v2 = moved
    _judge(world, "i", _v1_answer, 12, seed=1)
    first = world.sync()
    assert set(first.alpha) == {"overall", "helpfulness", "safety", "tone"}
    _move_to(world, v1, v2)
    _judge(world, "j", _v2_answer, 12, seed=2)
    second = world.sync()  # failed before: the v1 judgments were coded with v2
    assert set(second.alpha) == {"overall", "helpful", "tone"}
    stored = _stored(world)
    assert {s["version"] for s in stored} == {"vt@v1", "vt@v2"}
    # each stored judgment keeps the version it was synced under
    assert {s["version"] for s in stored if s["item"].startswith("i")} == {"vt@v1"}

    report = json.loads((world.config.reports_dir / "p" / "latest.json").read_text())
    assert report["rubric"]["version"] == "2"
    dims = report["dimensions"]
    # overall is unchanged: its v1 and v2 judgments are scored together (24 items)
    assert dims["overall"]["n_judgments"] == 72
    assert {s["key"] for s in dims["overall"]["by_rubric_version"]} == {"vt@v1", "vt@v2"}
    # helpful (renamed) and tone (re-valued) hold the v2 judgments only
    assert dims["helpful"]["n_judgments"] == dims["tone"]["n_judgments"] == 36
    assert "helpfulness" not in dims
    assert "safety" not in dims
    [older] = report["other_rubric_versions"]
    assert older["rubric"]["version"] == "1"
    assert older["n_judgments"] == 4 * 36
    assert older["pooled_dimensions"] == ["overall"]
    assert {n: d["pooled"] for n, d in older["dimensions"].items()} == {
        "overall": True,
        "helpfulness": False,
        "safety": False,
        "tone": False,
    }
    # the figures equal the krippendorff package's, each over its own version's judgments
    v1_rows = [s for s in stored if s["version"] == "vt@v1"]
    v2_rows = [s for s in stored if s["version"] == "vt@v2"]
    for name, level, domain in (
        ("helpfulness", "ordinal", [1, 2, 3, 4, 5]),
        ("safety", "nominal", ["safe", "unsafe"]),
        ("tone", "nominal", ["formal", "casual"]),
        ("overall", "nominal", ["a", "b", "tie"]),
    ):
        expected = _alpha(v1_rows, name, level, domain)
        assert older["dimensions"][name]["krippendorff_alpha"]["value"] == pytest.approx(expected)
    assert dims["tone"]["krippendorff_alpha"]["value"] == pytest.approx(
        _alpha(v2_rows, "tone", "nominal", ["formal", "informal", "mixed"])
    )
    assert dims["overall"]["krippendorff_alpha"]["value"] == pytest.approx(
        _alpha(stored, "overall", "nominal", ["a", "b", "tie"])
    )
    assert second.alpha["helpful"] == pytest.approx(
        _alpha(v2_rows, "helpful", "ordinal", [1, 2, 3, 4, 5])
    )

    # the summary written into the platform: the headline, then the older version apart
    summary = world.platform.description
    assert "rubric vt@v2" in summary.splitlines()[0]
    assert "Judgments under rubric vt@v1 (144), scored under that version:" in summary
    assert "  safety: alpha" in summary
    assert "also counted above (unchanged dimension)" in summary
    [public] = world.platform.reports[-1]["other_rubric_versions"]
    assert set(public) == {"rubric", "n_judgments", "n_items", "dimensions"}
    assert set(public["dimensions"]["helpfulness"]) == {
        "kind",
        "level",
        "target_alpha",
        "n_items",
        "n_judgments",
        "n_annotators",
        "krippendorff_alpha",
        "percent_agreement",
        "pooled",
    }
    assert not any(a in json.dumps(public) for a in ANNOTATORS)
    # a third sync changes nothing and still succeeds
    third = world.sync()
    assert third.alpha == second.alpha

    # the other surfaces that read the project under its configured rubric read the same
    # split: consensus over the configured version's dimensions, no failure on v1's
    out = world.tmp_path / "consensus.csv"
    done = CliRunner().invoke(
        app, ["consensus", "p", "--out", str(out), "-c", str(world.config.path)]
    )
    assert done.exit_code == 0, done.output
    consensus = pd.read_csv(out)
    assert set(consensus["dimension"]) == {"overall", "helpful", "tone"}
    assert consensus["item_id"][consensus["dimension"] == "overall"].nunique() == 24
    assert set(consensus["item_id"][consensus["dimension"] == "tone"].str[0]) == {"j"}


def test_gold_across_versions_scores_the_current_meaning_only(moved: Any) -> None:
    """Gold answers are per item and dimension name. A gold answer of the old meaning (a
    value the new version lacks) is left out of scoring with a warning; the judgments of a
    removed or renamed dimension never reach the lifecycle; nothing crashes."""
    world, v1, v2 = moved
    world.store.set_gold(
        "p",
        [
            GoldAnswer(item_key=f"g{i}", dimension=dimension, value=value, set_by="lead@x")
            for i in range(6)
            for dimension, value in (("overall", "a"), ("tone", "casual"), ("safety", "safe"))
        ],
    )
    _judge(world, "g", _v1_answer, 6, seed=3)
    world.sync()
    _move_to(world, v1, v2)
    _judge(world, "h", _v2_answer, 6, seed=4)
    world.sync()
    report = json.loads((world.config.reports_dir / "p" / "latest.json").read_text())
    # the v1 tone judgments of g0..g5 are v1's, scored apart: no warning yet
    assert not any("'casual'" in w for w in report["warnings"])
    # a v2 judgment of g0's tone meets the v1 gold answer 'casual', not a v2 value
    world.platform.annotate("t-g0-v2", "g0", annotator="ann4@x", value={"tone": "formal"})
    world.sync()
    report = json.loads((world.config.reports_dir / "p" / "latest.json").read_text())
    [warning] = [w for w in report["warnings"] if "'casual'" in w]
    assert warning.startswith("1 judgment(s) of dimension 'tone' on 1 gold item(s) (e.g. g0)")
    assert "is not one of ['formal', 'informal', 'mixed'] in rubric vt@v2" in warning
    # what the lifecycle scores: overall's v1 gold judgments (unchanged meaning), no safety,
    # no tone gold
    v2 = load_rubric(v2, check_layout=False)
    v1 = load_rubric(v1, check_layout=False)
    split = split_by_version(world.store.judgments_frame("p"), v2, [v1, v2])
    with_gold = split.current[split.current["gold_value"].notna()]
    assert set(with_gold["dimension"]) == {"overall"}
    assert len(with_gold) == 18  # 6 gold items x 3 annotators, judged under v1
    assert "safety" not in set(split.current["dimension"])


def test_same_meaning_is_the_one_rule(tmp_path: Path) -> None:
    v1 = load_rubric(rubric_file(tmp_path, 1, V1_DIMENSIONS), check_layout=False)
    v2 = load_rubric(rubric_file(tmp_path, 2, V2_DIMENSIONS), check_layout=False)
    assert pooled_dimensions(v1, v2) == ("overall",)
    assert same_meaning(v1.dimension("overall"), v2.dimension("overall"))
    assert not same_meaning(v1.dimension("tone"), v2.dimension("tone"))  # values differ
    # a renamed dimension is a different dimension, whatever its scale
    assert not same_meaning(v1.dimension("helpfulness"), v2.dimension("helpful"))
    # a target or gating change keeps the meaning; a question change does not
    d = v1.dimension("overall")
    assert same_meaning(d, replace(d, target_alpha=0.5, gating=False, gating_reason="pilot"))
    assert not same_meaning(d, replace(d, question="Which response is safer?"))
    assert not same_meaning(d, replace(d, level="ordinal"))


def test_without_the_split_old_judgments_cannot_be_coded(tmp_path: Path) -> None:
    """What the sync did before (the defect): the v1 judgments coded with v2 fail; split,
    they are coded under their own version."""
    v1 = load_rubric(rubric_file(tmp_path, 1, V1_DIMENSIONS), check_layout=False)
    v2 = load_rubric(rubric_file(tmp_path, 2, V2_DIMENSIONS), check_layout=False)
    rows = [
        dict.fromkeys(COLUMNS)
        | {"item_id": f"i{i}", "annotator": a, "dimension": "safety", "value": "safe"}
        | {"rubric_version": "vt@v1"}
        for i in range(3)
        for a in ANNOTATORS
    ]
    frame = with_canonical_dtypes(pd.DataFrame.from_records(rows, columns=list(COLUMNS)))
    with pytest.raises(JudgmentTableError, match=r"\['safety'\] are not in rubric 'vt'"):
        build_report(frame, v2, options=ReportOptions(resamples=0))
    split = split_by_version(frame, v2, [v1, v2])
    assert split.current.empty
    assert split.n_rows == 9
    [part] = split.others
    assert part.rubric.ref == "vt@v1"
    assert len(part.frame) == 9


def test_the_first_sync_after_the_move_reports_the_old_version_apart(tmp_path: Path) -> None:
    """Before anyone judged under the new version (nothing of v1 kept its meaning): the
    headline is empty, the v1 judgments are reported apart, the sync succeeds."""
    v1 = rubric_file(tmp_path, 1, V1_DIMENSIONS)
    v2 = rubric_file(tmp_path, 2, _rating("harm", "Harmful?", "[harmful, harmless]", "nominal"))
    world = World(tmp_path, rubric=v1)
    try:
        _judge(world, "i", _v1_answer, 5, seed=1)
        world.sync()
        _move_to(world, v1, v2)
        result = world.sync()
        assert result.alpha == {}
        lines = world.platform.description.splitlines()
        assert lines[1] == "Judgments under rubric vt@v1 (60), scored under that version:"
        assert [line.split(":")[0] for line in lines[2:]] == [
            "  overall",
            "  helpfulness",
            "  safety",
            "  tone",
        ]
    finally:
        world.store.close()


def _versions_table(tmp_path: Path) -> Path:
    """A judgments file whose rubric_version column holds vt@v1 and vt@v2 rows."""
    lines = ["item_id,annotator,dimension,value,rubric_version"]
    for prefix, answer, ref, seed in (("i", _v1_answer, "vt@v1", 1), ("j", _v2_answer, "vt@v2", 2)):
        rng = random.Random(seed)
        for i in range(10):
            for annotator in ANNOTATORS:
                for dimension, value in answer(rng, i).items():
                    lines.append(f"{prefix}{i},{annotator},{dimension},{value},{ref}")
    path = tmp_path / "judgments.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_offline_report_scores_each_version_under_its_own_rubric(tmp_path: Path) -> None:
    v1 = rubric_file(tmp_path, 1, V1_DIMENSIONS)
    v2 = rubric_file(tmp_path, 2, V2_DIMENSIONS)
    table = _versions_table(tmp_path)
    base = ["report", str(table), "--rubric", str(v2), "--resamples", "0"]
    # one rubric for two versions: a clear error naming the versions and the option
    failed = CliRunner().invoke(app, base, env={"COLUMNS": "300"})
    assert failed.exit_code == 2
    text = " ".join(failed.output.split())
    assert "dimension(s) ['helpfulness', 'safety'] are not in rubric 'vt' version '2'" in text
    assert "the rubric_version column names 2 versions (vt@v1, vt@v2)" in text
    assert "--version-rubric FILE per other version" in text
    assert "Traceback" not in failed.output
    # with the other version's rubric: the same split as a sync
    out, md, html = tmp_path / "report.json", tmp_path / "report.md", tmp_path / "report.html"
    done = CliRunner().invoke(
        app,
        [
            *base,
            "--version-rubric",
            str(v1),
            "--json",
            str(out),
            "--md",
            str(md),
            "--html",
            str(html),
        ],
    )
    assert done.exit_code == 0, done.output
    report = json.loads(out.read_text())
    # every renderer shows the other version's figures
    text = md.read_text()
    assert "## Other rubric versions" in text
    safety = report["other_rubric_versions"][0]["dimensions"]["safety"]
    older_alpha = safety["krippendorff_alpha"]["value"]
    assert f"| vt@v1 | safety | {older_alpha:.3f}" in text
    assert "| vt@v1 | overall |" in text
    assert 'id="rubric-versions"' in html.read_text()
    assert report["source"]["rows"] == 10 * 3 * 4 + 10 * 3 * 3
    assert report["dimensions"]["overall"]["n_judgments"] == 60
    assert report["dimensions"]["tone"]["n_judgments"] == 30
    [older] = report["other_rubric_versions"]
    assert older["pooled_dimensions"] == ["overall"]
    assert set(older["dimensions"]) == {"overall", "helpfulness", "safety", "tone"}
    frame = pd.read_csv(table)
    rows = [
        {"item": r.item_id, "annotator": r.annotator, "dimension": r.dimension, "value": r.value}
        for r in frame[frame["rubric_version"] == "vt@v1"].itertuples()
    ]
    assert older["dimensions"]["safety"]["krippendorff_alpha"]["value"] == pytest.approx(
        _alpha(rows, "safety", "nominal", ["safe", "unsafe"])
    )
    # a version file the column does not name
    v3 = rubric_file(tmp_path, 3, V2_DIMENSIONS)
    wrong = CliRunner().invoke(app, [*base, "--version-rubric", str(v3)], env={"COLUMNS": "300"})
    assert wrong.exit_code == 2
    assert "rubric vt@v3 names no version of the table's rubric_version column" in " ".join(
        wrong.output.split()
    )
    # without --rubric
    alone = CliRunner().invoke(
        app, ["report", str(table), "--version-rubric", str(v1)], env={"COLUMNS": "300"}
    )
    assert alone.exit_code == 2
    assert "--version-rubric needs --rubric" in alone.output


def test_one_rubric_over_several_versions_warns(tmp_path: Path) -> None:
    """Versions whose dimensions all fit the one rubric are scored with it, as before, and a
    warning says so."""
    v2 = rubric_file(tmp_path, 2, V1_DIMENSIONS)
    table = _versions_table(tmp_path)
    rows = [line for line in table.read_text().splitlines() if ",vt@v2" not in line]
    table.write_text("\n".join([*rows, *(r.replace("vt@v1", "vt@v0") for r in rows[1:])]) + "\n")
    result = CliRunner().invoke(
        app,
        ["report", str(table), "--rubric", str(v2), "--resamples", "0"],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 0, result.output
    assert "every judgment is scored with rubric vt@v2: give --version-rubric FILE" in " ".join(
        result.output.split()
    )


def test_rows_of_no_given_version_stay_with_the_current_one(tmp_path: Path) -> None:
    """An empty rubric_version, or a label naming no version given (a file's own 'v1'), is the
    current version's, as before the split; the split keeps each row's index (file lines)."""
    v1 = load_rubric(rubric_file(tmp_path, 1, V1_DIMENSIONS), check_layout=False)
    v2 = load_rubric(rubric_file(tmp_path, 2, V2_DIMENSIONS), check_layout=False)
    labels = [None, "v1", "vt@v2", "vt@v1", "vt@v1"]
    dimensions = ["overall", "overall", "tone", "overall", "safety"]
    rows = [
        dict.fromkeys(COLUMNS)
        | {"item_id": f"i{k}", "annotator": "x", "dimension": d, "value": "a"}
        | {"rubric_version": label}
        for k, (label, d) in enumerate(zip(labels, dimensions, strict=True))
    ]
    frame = with_canonical_dtypes(pd.DataFrame.from_records(rows, columns=list(COLUMNS)))
    frame.index = pd.Index([10, 11, 12, 13, 14])
    split = split_by_version(frame, v2, [v1])
    # the v1 overall row is pooled (unchanged meaning); the v1 safety row is v1's alone
    assert list(split.current.index) == [10, 11, 12, 13]
    [part] = split.others
    assert list(part.frame.index) == [13, 14]
    assert part.pooled == ("overall",)
