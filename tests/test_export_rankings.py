"""``iaa-connector export FILE`` on a ranking dimension: one chosen/rejected row per implied
pair whose consensus is decisive, checked row by row against the pairs recomputed here from the
ranking strings (plain Python, not the connector's code), texts from ``response_<option>``
columns or ``--items``, tied pairs to the sidecar, clear errors.

The synced-project tests on both real platforms are in tests/test_export_platforms.py.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from connector.cli import app

RANKING = Path(__file__).parent / "data" / "rubrics" / "ranking.yaml"
OPTIONS = "abcd"
runner = CliRunner()


def _rankings(seed: int = 5, n_items: int = 30) -> dict[str, list[str]]:
    """Random rankings of four options, some with ties, 2-5 annotators per item."""
    rng = np.random.default_rng(seed)
    found: dict[str, list[str]] = {}
    for i in range(n_items):
        values = []
        for _ in range(int(rng.integers(2, 6))):
            order = list(rng.permutation(list(OPTIONS)))
            text = order[0]
            for option in order[1:]:
                text += ("=" if rng.random() < 0.2 else ">") + option
            values.append(text)
        found[f"r-{i:02d}"] = values
    return found


def _position(ranking: str) -> dict[str, int]:
    return {o: tier for tier, part in enumerate(ranking.split(">")) for o in part.split("=")}


def _expected(rankings: dict[str, list[str]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Per (item, x, y): the votes first/second/tie, the majority (None on a tied top count),
    its share and the agreement (Fleiss' P_i: agreeing ordered pairs of votes)."""
    expected = {}
    for item, values in rankings.items():
        for x, y in itertools.combinations(OPTIONS, 2):
            votes: Counter[str] = Counter()
            for value in values:
                p = _position(value)
                votes["first" if p[x] < p[y] else "second" if p[x] > p[y] else "tie"] += 1
            top = max(votes.values())
            leaders = [v for v, c in votes.items() if c == top]
            n = len(values)
            expected[(item, x, y)] = {
                "votes": {v: votes.get(v, 0) for v in ("first", "second", "tie")},
                "label": leaders[0] if len(leaders) == 1 else None,
                "confidence": top / n,
                "agreement": sum(c * (c - 1) for c in votes.values()) / (n * (n - 1)),
            }
    return expected


def _write(rankings: dict[str, list[str]], path: Path, *, texts: bool = True) -> Path:
    with path.open("w") as handle:
        for item, values in rankings.items():
            for k, value in enumerate(values):
                row: dict[str, Any] = {
                    "item_id": item,
                    "annotator": f"ann{k}",
                    "dimension": "order",
                    "value": value,
                    "batch": "b-1",
                }
                if texts:
                    row |= {"prompt": f"Prompt {item}"} | {
                        f"response_{o}": f"Answer {o} of {item}" for o in OPTIONS
                    }
                handle.write(json.dumps(row) + "\n")
    return path


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_decisive_implied_pair_is_a_row_matching_the_rankings(tmp_path: Path) -> None:
    rankings = _rankings()
    source = _write(rankings, tmp_path / "rankings.jsonl")
    out = tmp_path / "pairs.jsonl"
    result = runner.invoke(
        app, ["export", str(source), "--rubric", str(RANKING), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    expected = _expected(rankings)
    rows = _read(out)
    decisive = {k for k, e in expected.items() if e["label"] in ("first", "second")}
    assert {(r["item_id"], *r["pair"]) for r in rows} == decisive
    for row in rows:
        item, (x, y) = row["item_id"], row["pair"]
        e = expected[(item, x, y)]
        chosen, rejected = (x, y) if e["label"] == "first" else (y, x)
        assert row["chosen_response"] == chosen
        assert (row["prompt"], row["chosen"], row["rejected"]) == (
            f"Prompt {item}",
            f"Answer {chosen} of {item}",
            f"Answer {rejected} of {item}",
        )
        assert row["pair_item"] == f"{item} ({x} vs {y})"
        assert row["votes"] == e["votes"]
        assert row["n_votes"] == len(rankings[item])
        assert row["consensus_label"] == e["label"]
        assert row["confidence"] == pytest.approx(e["confidence"])
        assert row["agreement"] == pytest.approx(e["agreement"], abs=1e-4)
        assert (row["margin_source"], row["margin"]) == ("confidence", row["confidence"])
        assert (row["dimension"], row["batch"], row["display_left"]) == ("order", ["b-1"], None)
    side = _read(tmp_path / "pairs.non_decisive.jsonl")
    assert {(r["item_id"], *r["pair"]) for r in side} == set(expected) - decisive
    for row in side:
        e = expected[(row["item_id"], *row["pair"])]
        assert row["votes"] == e["votes"]
        assert row["reason"] == ("tied vote" if e["label"] is None else "non-decisive")
        assert "chosen" not in row
    card = " ".join((tmp_path / "pairs.card.md").read_text().split())
    assert f"{len(side)} pairs whose consensus names no better response" in card
    assert "(a ranking: one pair per pair of its options" in card
    output = " ".join(result.output.split())
    assert f"wrote {len(rows)} pairs" in output
    assert f"left out {len(side)} pairs: non-decisive consensus (to the sidecar)" in output


def test_texts_from_an_items_file_and_a_clear_error_without_them(tmp_path: Path) -> None:
    rankings = {"r-0": ["b>a>c>d", "b>a>d>c"]}
    source = _write(rankings, tmp_path / "rankings.jsonl", texts=False)
    out = tmp_path / "pairs.jsonl"
    args = ["export", str(source), "--rubric", str(RANKING), "--out", str(out)]
    failed = runner.invoke(app, args)
    assert failed.exit_code == 2
    message = " ".join(failed.output.split())
    assert "5 item(s) to export have no prompt or response text" in message
    assert "'r-0 (a vs b)'" in message
    assert "response_<option>" in message
    items = tmp_path / "items.jsonl"
    items.write_text(
        json.dumps({"item_id": "r-0", "prompt": "P"} | {f"response_{o}": o * 3 for o in OPTIONS})
        + "\n"
    )
    result = runner.invoke(app, [*args, "--items", str(items)])
    assert result.exit_code == 0, result.output
    rows = _read(out)
    # a vs b, a vs c, a vs d, b vs c, b vs d decisive; c vs d split one each way
    assert [(r["chosen"], r["rejected"]) for r in rows] == [
        ("bbb", "aaa"),
        ("aaa", "ccc"),
        ("aaa", "ddd"),
        ("bbb", "ccc"),
        ("bbb", "ddd"),
    ]


def test_a_ranking_has_no_strength_margin(tmp_path: Path) -> None:
    source = _write({"r-0": ["a>b>c>d"]}, tmp_path / "rankings.jsonl")
    result = runner.invoke(
        app,
        [
            "export",
            str(source),
            "--rubric",
            str(RANKING),
            "--out",
            str(tmp_path / "p.jsonl"),
            "--margin",
            "strength",
        ],
    )
    assert result.exit_code == 2
    assert "ranking 'order' has no strength of preference; use --margin confidence" in (
        " ".join(result.output.split())
    )


def test_a_ruling_on_a_pair_decides_it_and_kto_writes_two_rows_per_pair(tmp_path: Path) -> None:
    rankings = {"r-0": ["b>a>c>d", "b>a>d>c"]}  # c vs d: one each way, a tied vote
    source = _write(rankings, tmp_path / "rankings.jsonl")
    rulings = tmp_path / "rulings.jsonl"
    rulings.write_text(
        json.dumps({"item_id": "r-0 (c vs d)", "dimension": "order_pairs", "value": "second"})
        + "\n"
    )
    out = tmp_path / "kto.jsonl"
    result = runner.invoke(
        app,
        [
            "export",
            str(source),
            "--rubric",
            str(RANKING),
            "--out",
            str(out),
            "--format",
            "kto",
            "--adjudicated",
            str(rulings),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = _read(out)
    assert len(rows) == 2 * 6
    ruled = [r for r in rows if r["pair"] == ["c", "d"]]
    assert [(r["completion"], r["label"]) for r in ruled] == [
        ("Answer d of r-0", True),
        ("Answer c of r-0", False),
    ]
    assert all(r["adjudicated"] and r["margin"] == 1.0 for r in ruled)
    assert _read(tmp_path / "kto.non_decisive.jsonl") == []


def test_an_argilla_export_files_per_option_ranks_are_read_as_rankings(tmp_path: Path) -> None:
    """The offline report's input: an Argilla export writes a ranking as one rank per option
    (``order.a`` …); consensus and export read them back as rankings, as the report does."""
    answers = {"u1": "2134", "u2": "2134"}  # ranks of a, b, c, d: b>a>c>d
    records = [
        {
            "id": "rec-0",
            "external_id": "r-0",
            "fields": {"prompt": "p"},
            "metadata": {},
            "responses": {
                "order": [
                    {
                        "value": [
                            {"value": o, "rank": int(r)}
                            for o, r in zip(OPTIONS, answers[u], strict=True)
                        ],
                        "user_id": u,
                        "status": "submitted",
                    }
                    for u in answers
                ]
            },
        }
    ]
    path = tmp_path / "argilla.json"
    path.write_text(json.dumps(records))
    consensus = tmp_path / "consensus.jsonl"
    result = runner.invoke(
        app, ["consensus", str(path), "--rubric", str(RANKING), "--out", str(consensus)]
    )
    assert result.exit_code == 0, result.output
    assert "8 per-option rank(s) of ranking 'order'" in " ".join(result.output.split())
    ordering = [r for r in _read(consensus) if r["dimension"] == "order"]
    assert [(r["label"], r["n_judgments"]) for r in ordering] == [("b>a>c>d", 2)]

    item_id = ordering[0]["item_id"]
    items = tmp_path / "items.jsonl"
    items.write_text(
        json.dumps({"item_id": item_id, "prompt": "P"} | {f"response_{o}": o for o in OPTIONS})
        + "\n"
    )
    out = tmp_path / "pairs.jsonl"
    result = runner.invoke(
        app,
        ["export", str(path), "--rubric", str(RANKING), "--out", str(out), "--items", str(items)],
    )
    assert result.exit_code == 0, result.output
    assert [(r["chosen"], r["rejected"]) for r in _read(out)] == [
        ("b", "a"),
        ("a", "c"),
        ("a", "d"),
        ("b", "c"),
        ("b", "d"),
        ("c", "d"),
    ]
