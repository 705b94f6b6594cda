"""``iaa-connector export FILE``: TRL rows read back with ``datasets`` and pandas and checked row
by row against the input table (majority, agreement and margin recomputed here with pandas),
the sidecar of non-decisive items, every filter's count, texts, KTO, chat and clear errors.

The synced-project tests on both real platforms are in tests/test_export_platforms.py, the
test that trains TRL's RewardTrainer on an export in tests/test_export_trl.py.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.consensus.export import ExportInput, ExportOptions, build_export
from connector.consensus.pairs import preference_row
from connector.consensus.texts import ItemText
from connector.errors import JudgmentTableError
from connector.judgments import load_judgments
from connector.report.build import ReportOptions, build_report
from connector.rubric import load_rubric, parse_rubric

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
V2 = REPO / "rubrics" / "rlhf-pairwise" / "v2.yaml"
VALUES = ("a", "b", "tie", "both_bad")

# A signed scale as HelpSteer2-Preference collects it (Wang et al. 2024, arXiv:2410.01257):
# -3 response_a much better … +3 response_b much better, 0 neither.
SIGNED = """\
id: signed-test
version: 1
changelog: A signed preference scale.
guidelines: Judge carefully.
dimensions:
  - name: preference
    question: Which response is better, and by how much?
    kind: preference
    signed: true
    values: [-3, -2, -1, 0, 1, 2, 3]
    level: interval
"""


def _table(seed: int = 7, n_items: int = 60) -> pd.DataFrame:
    """Judgments under rlhf-pairwise v2 with texts: 3-5 annotators per item, a strength
    rating with each decisive vote; some items unanimous, some split, some tied."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n_items):
        item = f"item-{i:03d}"
        leaning = rng.choice(VALUES, p=[0.45, 0.35, 0.12, 0.08])
        n = int(rng.integers(3, 6))
        for a in range(n):
            value = leaning if rng.random() < 0.7 else rng.choice(VALUES)
            base = {
                "item_id": item,
                "annotator": f"ann{a}",
                "prompt": f"Prompt {i}: which is better?",
                "response_a": f"Response A of {i}",
                "response_b": f"Response B of {i}",
                "batch": f"batch-{i % 3}",
                "display_left": "a" if (i + a) % 2 else "b",
                "rubric_version": "rlhf-pairwise@v2",
            }
            rows.append({**base, "dimension": "overall", "value": str(value)})
            if value in ("a", "b"):
                rows.append({**base, "dimension": "strength", "value": int(rng.integers(1, 4))})
    return pd.DataFrame(rows)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in frame.to_dict("records"))
    )
    return path


def _export(args: list[str]) -> Any:
    result = runner.invoke(app, ["export", *args])
    assert result.exit_code == 0, result.output
    return result


def _expected(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per item, recomputed here with pandas (not with the connector's code): majority label
    (None on a tied top count), its share, votes, agreement (Fleiss' P_i: the share of agreeing
    ordered pairs, identity weights on a nominal dimension) and the strength: the lower median
    of the strength votes of the annotators who chose the consensus response."""
    expected: dict[str, dict[str, Any]] = {}
    for item, group in frame.groupby("item_id"):
        overall = group.loc[group["dimension"] == "overall", "value"]
        counts = Counter(overall)
        top = max(counts.values())
        leaders = [v for v, c in counts.items() if c == top]
        n = len(overall)
        agreement = sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))
        label = leaders[0] if len(leaders) == 1 else None
        # the strength votes of the annotators who chose the consensus response, lower median
        agreeing = set(
            group.loc[(group["dimension"] == "overall") & (group["value"] == label)]["annotator"]
        )
        rated = group.loc[(group["dimension"] == "strength") & group["annotator"].isin(agreeing)]
        strengths = sorted(rated["value"])
        strength = float(strengths[(len(strengths) - 1) // 2]) if strengths else None
        first = group.iloc[0]
        expected[str(item)] = {
            "label": label,
            "confidence": top / n,
            "votes": {v: counts.get(v, 0) for v in VALUES},
            "agreement": round(agreement, 4),
            "strength": strength if label in ("a", "b") else None,
            "texts": (first["prompt"], first["response_a"], first["response_b"]),
            "batch": sorted(set(group["batch"])),
            "sides": set(group.loc[group["dimension"] == "overall", "display_left"]),
        }
    return expected


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_rows_match_the_input_table_row_by_row(tmp_path: Path, suffix: str) -> None:
    datasets = pytest.importorskip("datasets")
    frame = _table()
    source = _write(frame, tmp_path / "judgments.jsonl")
    out = tmp_path / f"pairs{suffix}"
    result = _export([str(source), "--rubric", str(V2), "--out", str(out)])
    expected = _expected(frame)

    kind = "json" if suffix == ".jsonl" else "parquet"
    rows = datasets.load_dataset(kind, data_files=str(out), split="train").to_list()
    by_pandas = (
        pd.read_json(out, lines=True, dtype=False) if kind == "json" else pd.read_parquet(out)
    )
    assert len(by_pandas) == len(rows)
    assert list(by_pandas["item_id"]) == [r["item_id"] for r in rows]
    assert list(by_pandas["chosen"]) == [r["chosen"] for r in rows]

    rubric = load_rubric(V2)
    decisive = {
        i for i, e in expected.items() if e["label"] in ("a", "b") and e["strength"] is not None
    }
    assert {r["item_id"] for r in rows} == decisive
    for row in rows:
        e = expected[row["item_id"]]
        prompt, response_a, response_b = e["texts"]
        chosen, rejected = (
            (response_a, response_b) if e["label"] == "a" else (response_b, response_a)
        )
        assert (row["prompt"], row["chosen"], row["rejected"]) == (prompt, chosen, rejected)
        assert row["chosen_response"] == e["label"] == row["consensus_label"]
        assert row["margin"] == e["strength"]
        assert row["margin_source"] == "strength"
        assert row["votes"] == e["votes"]
        assert row["n_votes"] == sum(e["votes"].values())
        assert row["agreement"] == pytest.approx(e["agreement"], abs=1e-9)
        assert row["confidence"] == pytest.approx(e["confidence"], abs=1e-12)
        assert row["batch"] == e["batch"]
        side = e["sides"]
        assert row["display_left"] == (next(iter(side)) if len(side) == 1 else "mixed")
        assert (row["rubric_id"], row["rubric_version"], row["rubric_hash"]) == (
            rubric.id,
            rubric.version,
            rubric.content_hash,
        )
        assert (row["method"], row["adjudicated"], row["task_ids"]) == ("majority", False, [])

    sidecar = out.with_name(f"pairs.non_decisive{suffix}")
    side_rows = datasets.load_dataset(kind, data_files=str(sidecar), split="train").to_list()
    undecided = {i for i, e in expected.items() if e["label"] not in ("a", "b")}
    assert {r["item_id"] for r in side_rows} == undecided
    for row in side_rows:
        e = expected[row["item_id"]]
        assert row["votes"] == e["votes"]
        assert row["reason"] == ("tied vote" if e["label"] is None else "non-decisive")
        assert row["consensus_label"] == e["label"]
        assert "chosen" not in row
        assert "rejected" not in row
    output = " ".join(result.output.split())
    assert f"wrote {len(rows)} pairs ({len(rows)} trl rows, margin from strength)" in output
    assert f"wrote {len(side_rows)} non-decisive items" in output
    assert str(sidecar) in output
    no_strength = len(expected) - len(undecided) - len(decisive)
    assert f"left out {no_strength} items: no strength consensus" in output


def test_margin_from_confidence_and_dawid_skene(tmp_path: Path) -> None:
    frame = _table(seed=3)
    source = _write(frame, tmp_path / "j.jsonl")
    out = tmp_path / "p.jsonl"
    _export([str(source), "--rubric", str(V2), "--out", str(out), "--margin", "confidence"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    expected = _expected(frame)
    assert {r["item_id"] for r in rows} == {
        i for i, e in expected.items() if e["label"] in ("a", "b")
    }
    for row in rows:
        assert row["margin_source"] == "confidence"
        assert row["margin"] == pytest.approx(expected[row["item_id"]]["confidence"])

    ds_out = tmp_path / "ds.jsonl"
    _export([str(source), "--rubric", str(V2), "--out", str(ds_out), "--method", "dawid-skene"])
    ds_rows = [json.loads(line) for line in ds_out.read_text().splitlines()]
    assert {r["method"] for r in ds_rows} == {"dawid-skene"}
    assert all(0.0 <= r["confidence"] <= 1.0 for r in ds_rows)


def test_a_signed_scale_gives_the_margin_by_its_magnitude(tmp_path: Path) -> None:
    rubric_path = tmp_path / "signed.yaml"
    rubric_path.write_text(SIGNED)
    votes = {
        "s1": [-3, -3, -2],  # response_a, strength 3
        "s2": [2, 2, 1],  # response_b, strength 2
        "s3": [0, 0, 1],  # tie: non-decisive
        "s4": [-1, 1, 2],  # response_b by 2 of 3; strength the median of 1, 2 nearer 0
        "s5": [-2, 3],  # one vote per side: a tied vote
    }
    rows = [
        {
            "item_id": item,
            "annotator": f"ann{k}",
            "dimension": "preference",
            "value": v,
            "prompt": f"P {item}",
            "response_a": f"A {item}",
            "response_b": f"B {item}",
        }
        for item, values in votes.items()
        for k, v in enumerate(values)
    ]
    source = _write(pd.DataFrame(rows), tmp_path / "signed.jsonl")
    out = tmp_path / "signed-pairs.jsonl"
    _export([str(source), "--rubric", str(rubric_path), "--out", str(out)])
    found = {r["item_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(found) == {"s1", "s2", "s4"}
    assert (found["s1"]["chosen"], found["s1"]["rejected"], found["s1"]["margin"]) == (
        "A s1",
        "B s1",
        3.0,
    )
    assert (found["s2"]["chosen"], found["s2"]["margin"]) == ("B s2", 2.0)
    assert (found["s4"]["chosen"], found["s4"]["margin"]) == ("B s4", 1.0)
    assert {r["margin_source"] for r in found.values()} == {"strength"}
    side = [
        json.loads(line)
        for line in out.with_name("signed-pairs.non_decisive.jsonl").read_text().splitlines()
    ]
    assert {r["item_id"]: r["reason"] for r in side} == {"s3": "non-decisive", "s5": "tied vote"}
    assert next(r for r in side if r["item_id"] == "s3")["votes"]["0"] == 2


def test_a_strength_rating_counts_only_the_annotators_who_chose_the_consensus_response(
    tmp_path: Path,
) -> None:
    """Issue 11 (strength margins): the margin is the lower median of the strength votes of
    the annotators whose preference is the consensus side; the other side's votes do not count."""
    votes = {  # (overall, strength or None) per annotator
        # a by 3 of 5; a's strengths 3, 3, 1: median 3 (all five votes' majority would be 1)
        "m1": [("a", 3), ("a", 3), ("a", 1), ("b", 1), ("b", 1)],
        # a by 2 of 3; a's strengths 3, 2: the lower median 2 (all votes 3, 2, 1 would tie)
        "m2": [("a", 3), ("a", 2), ("b", 1)],
        # b by 2 of 3, but only the annotator who chose a rated: no strength consensus
        "m3": [("b", None), ("b", None), ("a", 3)],
    }
    rows = []
    for item, answers in votes.items():
        for k, (overall, strength) in enumerate(answers):
            base = {
                "item_id": item,
                "annotator": f"ann{k}",
                "prompt": f"P {item}",
                "response_a": f"A {item}",
                "response_b": f"B {item}",
            }
            rows.append({**base, "dimension": "overall", "value": overall})
            if strength is not None:
                rows.append({**base, "dimension": "strength", "value": strength})
    source = _write(pd.DataFrame(rows), tmp_path / "strength.jsonl")
    out = tmp_path / "strength-pairs.jsonl"
    result = _export([str(source), "--rubric", str(V2), "--out", str(out)])
    found = {r["item_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert {i: (r["chosen_response"], r["margin"]) for i, r in found.items()} == {
        "m1": ("a", 3.0),
        "m2": ("a", 2.0),
    }
    assert "left out 1 items: no strength consensus" in " ".join(result.output.split())


def _gold_table() -> pd.DataFrame:
    """20 gold items answered right by ann0 and ann1 and wrong by ann2 (the lifecycle sends
    ann2 to retraining: 0/20), and three ordinary items where ann2's vote matters."""
    rows: list[dict[str, Any]] = []

    def add(item: str, values: list[str], gold: str | None = None) -> None:
        for a, value in enumerate(values):
            rows.append(
                {
                    "item_id": item,
                    "annotator": f"ann{a}",
                    "dimension": "overall",
                    "value": value,
                    "gold_value": gold,
                    "prompt": f"P {item}",
                    "response_a": f"A {item}",
                    "response_b": f"B {item}",
                }
            )

    for g in range(20):
        add(f"gold-{g:02d}", ["a", "a", "b"], gold="a")
    add("x-0", ["a", "b", "b"])  # b with ann2; a tied vote without
    add("x-1", ["a", "a", "b"])  # a either way (agreement 1/3 with ann2, 1 without)
    add("x-2", ["b", "b", "a"])  # b either way
    return pd.DataFrame(rows)


def test_flagged_annotators_votes_are_left_out_and_the_consensus_recomputed(
    tmp_path: Path,
) -> None:
    source = _write(_gold_table(), tmp_path / "gold.jsonl")
    out = tmp_path / "p.jsonl"
    result = _export(
        [str(source), "--rubric", str(V2), "--margin", "confidence", "--out", str(out)]
    )
    rows = {r["item_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"x-1", "x-2"}  # gold excluded, x-0 tied without ann2
    assert rows["x-1"]["votes"] == {"a": 2, "b": 0, "tie": 0, "both_bad": 0}
    assert rows["x-1"]["agreement"] == 1.0
    side = [
        json.loads(line) for line in out.with_name("p.non_decisive.jsonl").read_text().splitlines()
    ]
    assert [(r["item_id"], r["reason"]) for r in side] == [("x-0", "tied vote")]
    output = " ".join(result.output.split())
    assert "left out 23 judgments: flagged annotators' votes" in output
    assert "left out 20 items: gold items" in output
    card = out.with_name("p.card.md").read_text()
    assert "| retraining | 1 | no |" in card
    assert "| qualified | 2 | yes |" in card
    assert "status probation, retraining, suspended: ann2" in card

    kept = tmp_path / "kept.jsonl"
    _export(
        [
            str(source),
            "--rubric",
            str(V2),
            "--margin",
            "confidence",
            "--out",
            str(kept),
            "--keep-flagged",
        ]
    )
    with_ann2 = {r["item_id"]: r for r in map(json.loads, kept.read_text().splitlines())}
    assert with_ann2["x-0"]["chosen_response"] == "b"
    assert with_ann2["x-1"]["agreement"] == pytest.approx(1 / 3, abs=1e-4)

    gold = tmp_path / "gold-kept.jsonl"
    _export(
        [
            str(source),
            "--rubric",
            str(V2),
            "--margin",
            "confidence",
            "--out",
            str(gold),
            "--include-gold",
        ]
    )
    assert len(gold.read_text().splitlines()) == 22


def test_minimum_agreement_and_confidence_are_counted(tmp_path: Path) -> None:
    frame = _table(seed=11)
    source = _write(frame, tmp_path / "j.jsonl")
    expected = _expected(frame)
    out = tmp_path / "p.jsonl"
    args = [str(source), "--rubric", str(V2), "--margin", "confidence"]
    result = _export([*args, "--out", str(out), "--min-agreement", "0.5"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    decisive = [i for i, e in expected.items() if e["label"] in ("a", "b")]
    low = [i for i in decisive if expected[i]["agreement"] < 0.5]
    assert low, "the table must hold a decisive item below the minimum"
    assert {r["item_id"] for r in rows} == set(decisive) - set(low)
    assert f"left out {len(low)} items: agreement below minimum" in " ".join(result.output.split())

    out2 = tmp_path / "p2.jsonl"
    result = _export([*args, "--out", str(out2), "--min-confidence", "0.7"])
    rows = [json.loads(line) for line in out2.read_text().splitlines()]
    unsure = [i for i in decisive if expected[i]["confidence"] < 0.7]
    assert unsure
    assert {r["item_id"] for r in rows} == set(decisive) - set(unsure)
    assert f"left out {len(unsure)} items: confidence below minimum" in " ".join(
        result.output.split()
    )


def test_one_rubric_version_per_export(tmp_path: Path) -> None:
    frame = _table(seed=5, n_items=12)
    old = frame["item_id"].isin(["item-000", "item-001"])
    frame.loc[old, "rubric_version"] = "rlhf-pairwise@v1"
    source = _write(frame, tmp_path / "j.jsonl")
    out = tmp_path / "p.jsonl"
    result = _export([str(source), "--rubric", str(V2), "--out", str(out)])
    assert f"left out {int(old.sum())} judgments: other rubric version" in " ".join(
        result.output.split()
    )
    items = {json.loads(line)["item_id"] for line in out.read_text().splitlines()}
    assert not items & {"item-000", "item-001"}

    frame["rubric_version"] = "rlhf-pairwise@v1"
    _write(frame, source)
    failed = runner.invoke(app, ["export", str(source), "--rubric", str(V2), "--out", str(out)])
    assert failed.exit_code == 2
    assert "no judgment is under rubric rlhf-pairwise@v2" in " ".join(failed.output.split())
    assert "Traceback" not in failed.output


def test_missing_text_is_an_error_naming_the_items_or_a_counted_skip(tmp_path: Path) -> None:
    frame = _table(seed=2, n_items=20).drop(columns=["prompt", "response_a", "response_b"])
    source = _write(frame, tmp_path / "j.jsonl")
    out = tmp_path / "p.jsonl"
    args = [str(source), "--rubric", str(V2), "--out", str(out), "--margin", "confidence"]
    failed = runner.invoke(app, ["export", *args])
    assert failed.exit_code == 2
    message = " ".join(failed.output.split())
    assert "item(s) to export have no prompt or response text ('item-" in message
    assert "--items FILE keyed by item_id" in message
    assert "--skip-missing-text" in message

    skipped = _export([*args, "--skip-missing-text"])
    assert out.read_text() == ""
    assert "items: no text (--skip-missing-text)" in " ".join(skipped.output.split())

    items = tmp_path / "items.csv"
    ids = sorted(frame["item_id"].unique())
    pd.DataFrame(
        {
            "item_id": ids,
            "prompt": [f"p {i}" for i in ids],
            "response_a": [f"ra {i}" for i in ids],
            "response_b": [f"rb {i}" for i in ids],
        }
    ).to_csv(items, index=False)
    _export([*args, "--items", str(items)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows
    for row in rows:
        assert row["prompt"] == f"p {row['item_id']}"
        side = "ra" if row["chosen_response"] == "a" else "rb"
        assert row["chosen"] == f"{side} {row['item_id']}"


def test_kto_rows_and_chat_messages(tmp_path: Path) -> None:
    frame = _table(seed=9, n_items=20)
    source = _write(frame, tmp_path / "j.jsonl")
    pairs, kto = tmp_path / "pairs.jsonl", tmp_path / "kto.jsonl"
    args = [str(source), "--rubric", str(V2)]
    _export([*args, "--out", str(pairs), "--chat"])
    _export([*args, "--out", str(kto), "--format", "kto"])
    paired = [json.loads(line) for line in pairs.read_text().splitlines()]
    unpaired = [json.loads(line) for line in kto.read_text().splitlines()]
    assert len(unpaired) == 2 * len(paired)
    for pair, (good, bad) in zip(
        paired, zip(unpaired[::2], unpaired[1::2], strict=True), strict=True
    ):
        assert pair["prompt"] == [{"role": "user", "content": good["prompt"]}]
        assert pair["chosen"] == [{"role": "assistant", "content": good["completion"]}]
        assert pair["rejected"] == [{"role": "assistant", "content": bad["completion"]}]
        assert (good["label"], bad["label"]) == (True, False)
        assert good["item_id"] == bad["item_id"] == pair["item_id"]
        assert good["consensus_label"] == pair["consensus_label"]


def test_a_ruling_wins_and_its_confidence_margin_is_one(tmp_path: Path) -> None:
    frame = _table(seed=4, n_items=10)
    source = _write(frame, tmp_path / "j.jsonl")
    expected = _expected(frame)
    item = next(i for i, e in expected.items() if e["label"] in ("tie", "both_bad"))
    rulings = tmp_path / "rulings.csv"
    rulings.write_text(f"item_id,dimension,value\n{item},overall,b\n")
    out = tmp_path / "p.jsonl"
    _export(
        [
            str(source),
            "--rubric",
            str(V2),
            "--out",
            str(out),
            "--margin",
            "confidence",
            "--adjudicated",
            str(rulings),
            "--min-agreement",
            "0.99",
        ]
    )
    rows = {r["item_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows[item]["adjudicated"] is True
    assert rows[item]["chosen"] == expected[item]["texts"][2]
    assert (rows[item]["margin"], rows[item]["confidence"]) == (1.0, None)


def test_the_card_shows_the_reports_alpha_counts_and_changelog(tmp_path: Path) -> None:
    frame = _table(seed=7)
    source = _write(frame, tmp_path / "j.jsonl")
    out = tmp_path / "p.parquet"
    _export([str(source), "--rubric", str(V2), "--out", str(out)])
    card = out.with_name("p.card.md").read_text()
    rubric = load_rubric(V2)
    report = build_report(load_judgments(source).frame, rubric, options=ReportOptions())
    for name in ("overall", "strength"):
        alpha = report["dimensions"][name]["krippendorff_alpha"]
        low, high = alpha["ci95"]
        assert f"| {alpha['value']:.3f} | [{low:.3f}, {high:.3f}] |" in card
    rows = pd.read_parquet(out)
    assert f"`p.parquet`: {len(rows)} rows, one per pair ({len(rows)} pairs)" in card
    assert "version `2`" in card
    assert rubric.content_hash in card
    assert "Adds `both_bad` to overall" in card
    assert "| no strength consensus |" in card


def test_the_row_builder_is_a_function_of_texts_choice_and_provenance() -> None:
    text = ItemText(prompt="P", response_a="A", response_b="B")
    assert preference_row(text, "b", {"item_id": "i"}, chat=False) == {
        "prompt": "P",
        "chosen": "B",
        "rejected": "A",
        "item_id": "i",
    }
    with pytest.raises(ValueError, match="chosen must be 'a' or 'b'"):
        preference_row(text, "tie", {}, chat=False)


def test_a_rubric_with_several_preference_dimensions_needs_dimension() -> None:
    two = SIGNED + (
        "  - name: safety\n    question: Which is safer?\n    kind: preference\n"
        "    values: [a, b, tie]\n    non_decisive: [tie]\n    level: nominal\n"
    )
    rubric = parse_rubric(two)
    frame = pd.DataFrame(
        {"item_id": ["i"], "annotator": ["x"], "dimension": ["safety"], "value": ["a"]}
    )
    from connector.judgments import normalise

    given = ExportInput(frame=normalise(frame), rubric=rubric, texts={})
    with pytest.raises(JudgmentTableError, match="2 preference dimensions"):
        build_export(given)
    with pytest.raises(JudgmentTableError, match="no prompt or response text"):
        build_export(given, ExportOptions(dimension="safety"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--out", "x.csv"], "write the export to a file ending in .jsonl, .ndjson, .parquet"),
        (["--format", "dpo"], "format='dpo' is not one of 'trl', 'kto'"),
        (["--margin", "votes"], "margin='votes' is not one of 'strength', 'confidence'"),
        (["--dimension", "strength"], "a rating dimension names no better response"),
    ],
)
def test_bad_options_are_one_clear_line(tmp_path: Path, arguments: list[str], message: str) -> None:
    source = _write(_table(n_items=5), tmp_path / "j.jsonl")
    base = [str(source), "--rubric", str(V2), "--out", str(tmp_path / "p.jsonl")]
    if arguments[0] == "--out":
        base = base[:-2]
    result = runner.invoke(app, ["export", *base, *arguments])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_no_strength_to_take_a_margin_from_is_refused(tmp_path: Path) -> None:
    source = _write(_table(n_items=5), tmp_path / "j.jsonl")
    v1 = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
    frame = _table(n_items=5)
    frame = frame[(frame["dimension"] == "overall") & (frame["value"] != "both_bad")]
    frame = frame.assign(rubric_version="rlhf-pairwise@v1")
    _write(frame, source)
    result = runner.invoke(
        app,
        [
            "export",
            str(source),
            "--rubric",
            str(v1),
            "--out",
            str(tmp_path / "p.jsonl"),
            "--margin",
            "strength",
        ],
    )
    assert result.exit_code == 2
    assert "has no strength" in " ".join(result.output.split())


def test_a_dimension_outside_the_rubric_is_an_error(tmp_path: Path) -> None:
    frame = _table(n_items=5)
    frame.loc[frame["dimension"] == "strength", "dimension"] = "intensity"
    source = _write(frame, tmp_path / "j.jsonl")
    result = runner.invoke(
        app, ["export", str(source), "--rubric", str(V2), "--out", str(tmp_path / "p.jsonl")]
    )
    assert result.exit_code == 2
    assert "dimension(s) ['intensity'] are not in rubric rlhf-pairwise@v2" in " ".join(
        result.output.split()
    )
