"""Calibration sessions (connector.calibration.session, .pack): which items a pack holds, what
it shows, and the lead's rulings recorded (and made gold under a new rubric version).

The pack's HTML was opened in headless Chromium by hand (tests/chromium.py) and looked at;
test_the_pack_renders_in_chromium keeps that check.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from memory_platform import MemoryPlatform
from typer.testing import CliRunner

from connector.calibration.session import confusion_of, contentious_items, session_change
from connector.cli import app
from connector.config import load_config
from connector.judgments import COLUMNS
from connector.report.build import build_report, item_agreements
from connector.rubric import load_rubric
from connector.store import ItemRow, JudgmentRow, Ruling, Store, TaskMapping
from connector.sync import sync_project

REPO = Path(__file__).resolve().parents[1]
V1 = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
V2 = REPO / "rubrics" / "rlhf-pairwise" / "v2.yaml"
RUBRIC_V2 = load_rubric(V2, check_layout=False)
ANNOTATORS = ("ann1@x", "ann2@x", "ann3@x")


def _frame(rows: list[tuple[str, str, str, object, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["item_id", "annotator", "dimension", "value", "category"])
    for column in COLUMNS:
        if column not in frame:
            frame[column] = None
    frame["submitted_at"] = pd.NaT
    for column in ("lead_time_s", "length_a", "length_b"):
        frame[column] = np.nan
    return frame[list(COLUMNS)]


def _votes(item: str, dimension: str, values: tuple[object, ...], category: str) -> list[tuple]:
    return [(item, a, dimension, v, category) for a, v in zip(ANNOTATORS, values, strict=True)]


def test_contentious_items_are_spread_over_dimensions_and_categories() -> None:
    frame = _frame(
        _votes("c1", "overall", ("a", "b", "tie"), "code")  # 0
        + _votes("c2", "overall", ("a", "b", "tie"), "code")  # 0
        + _votes("c3", "overall", ("a", "a", "b"), "code")  # 1/3
        + _votes("m1", "overall", ("a", "a", "b"), "math")  # 1/3
        + _votes("m2", "overall", ("a", "a", "a"), "math")  # 1
        + _votes("m2", "strength", (1, 3, 3), "math")
        + _votes("g1", "overall", ("a", "b", "tie"), "code")  # 0, but gold
    )
    figures = item_agreements(frame, RUBRIC_V2)
    chosen = contentious_items(figures, frame, RUBRIC_V2, size=3, exclude={"g1"})
    assert next(c.item_key for c in chosen) == "c1"  # the lowest agreement first
    # one per (dimension, category) group before any group gives a second item
    assert {(c.dimension, c.category) for c in chosen} == {
        ("overall", "code"),
        ("overall", "math"),
        ("strength", "math"),
    }
    everything = contentious_items(figures, frame, RUBRIC_V2, size=20, exclude={"g1"})
    assert [c.item_key for c in everything].count("m2") == 1  # an item appears once
    assert "g1" not in {c.item_key for c in everything}
    assert {c.item_key for c in everything} == {"c1", "c2", "c3", "m1", "m2"}
    by_item = {c.item_key: c for c in everything}
    assert by_item["c1"].confusion == "a vs b vs tie"
    assert by_item["m1"].confusion == "a vs b"
    assert by_item["c1"].agreement == 0.0
    assert by_item["c1"].n_judgments == 3


def test_the_confusion_names_the_two_most_chosen_values_in_rubric_order() -> None:
    overall = RUBRIC_V2.dimension("overall")
    assert confusion_of(["tie", "a", "a", "tie", "b"], overall) == "a vs tie"
    assert confusion_of(["a", "a", "a"], overall) == "a"
    assert confusion_of([], overall) == ""


class World:
    """A project synced from the in-memory platform under rubric v1, with a CLI config."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        gold = tmp_path / "gold.jsonl"
        gold.write_text(
            json.dumps(
                {
                    "item_key": "g0",
                    "prompt": "p",
                    "response_a": "x",
                    "response_b": "y",
                    "answers": {"overall": "a"},
                }
            )
            + "\n"
        )
        self.path = tmp_path / "iaa.toml"
        self.write_config(V1, gold_authors='["lead@x"]')
        self.store = Store.open(load_config(self.path).store_url)
        platform = MemoryPlatform()
        votes = {"split": ("a", "b", "tie"), "two-one": ("a", "a", "tie"), "g0": ("a", "b", "b")}
        for item, values in votes.items():
            for annotator, value in zip(ANNOTATORS, values, strict=True):
                platform.annotate(f"t-{item}", item, annotator=annotator, value=value)
        config = load_config(self.path)
        sync_project(config, "p", store=self.store, platform=platform, write_back=False)
        self.store.upsert_items(
            "p",
            [
                ItemRow(
                    item_key="split",
                    category="code",
                    payload={
                        "prompt": "Is <script>alert(1)</script> safe?",
                        "response_a": "No.",
                        "response_b": "```\nyes\n```",
                    },
                )
            ],
        )

    def write_config(self, rubric: Path, gold_authors: str) -> None:
        self.path.write_text(
            f'[store]\nurl = "sqlite:///{self.tmp_path / "iaa.db"}"\n'
            f'[reports]\ndir = "{self.tmp_path / "reports"}"\n'
            '[[platforms]]\nname = "mem"\nkind = "label-studio"\nurl = "http://127.0.0.1:9"\n'
            'token_env = "UNUSED"\n[[projects]]\nkey = "p"\nplatform = "mem"\n'
            f'project_id = 1\nrubric = "{rubric}"\ngold = "{self.tmp_path / "gold.jsonl"}"\n'
            f"gold_authors = {gold_authors}\n"
        )

    def cli(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, [*args, "--config", str(self.path)])
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result.output

    def rulings_file(self, rows: list[dict[str, str]]) -> Path:
        path = self.tmp_path / "rulings.csv"
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=["item_id", "dimension", "value", "reason", "ruled_by"]
        )
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(buffer.getvalue())
        return path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    try:
        yield w
    finally:
        w.store.close()


def test_the_pack_shows_each_item_its_judgments_and_the_rubric(world: World) -> None:
    out = world.tmp_path / "pack"
    said = world.cli(
        "calibration-session", "p", "--size", "20", "--out", str(out), "--session", "s1"
    )
    assert "session s1: 2 item(s)" in said  # split and two-one; g0 is gold
    markdown = (out / "s1.md").read_text()
    page = (out / "s1.html").read_text()
    for text in (markdown, page):
        assert "split" in text
        assert "two-one" in text
        assert "g0" not in text
        assert "for the lead, not for handing to annotators" in " ".join(text.split())
        assert "a vs b vs tie" in text  # split's confusion
        assert "Annotator 1" in text
        assert "Annotator 3" in text
        assert not any(a in text for a in ANNOTATORS)
        assert "Which response is better overall" in text  # the dimension's question
        assert "Use *Tie* sparingly" in text  # the rubric's guidelines
        assert "--rulings s1-rulings.csv" in text
    assert "<script>alert(1)</script>" not in page  # escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "````text\n```\nyes\n```\n````" in markdown  # a fence the response cannot close
    assert markdown.index("split") < markdown.index("two-one")  # agreement 0 before 1/3
    template = list(csv.DictReader(io.StringIO((out / "s1-rulings.csv").read_text())))
    assert [(r["item_id"], r["dimension"], r["value"]) for r in template] == [
        ("split", "overall", ""),
        ("two-one", "overall", ""),
    ]


def test_the_pack_renders_in_chromium(world: World) -> None:
    chromium = pytest.importorskip("chromium")
    if chromium.chromium_binary() is None:
        pytest.skip("no Chromium on this machine")
    out = world.tmp_path / "pack"
    world.cli("calibration-session", "p", "--out", str(out), "--session", "s1")
    with chromium.Chromium() as browser:
        text = browser.open((out / "s1.html").as_uri(), wait_for=("Recording the rulings",))
        browser.screenshot(world.tmp_path / "pack.png")
    assert "1. split — overall: a vs b vs tie" in text
    assert "Is <script>alert(1)</script> safe?" in text  # shown as text, not run


def test_session_rulings_are_recorded_and_win_in_the_consensus(world: World) -> None:
    rulings = world.rulings_file(
        [{"item_id": "split", "dimension": "overall", "value": "a", "reason": "A is safe",
          "ruled_by": "lead@x"}]
    )  # fmt: skip
    said = world.cli("calibration-session", "p", "--session", "s1", "--rulings", str(rulings))
    assert "session s1: 1 ruling(s) recorded" in said
    [ruling] = world.store.ruling_log("p")
    assert (ruling.source, ruling.source_ref, ruling.ruled_by) == ("calibration", "s1", "lead@x")
    assert ruling.reason == "A is safe"
    assert world.store.gold_for("p").keys() == {("g0", "overall")}  # not gold without the flag
    table = world.cli("consensus", "p", "--method", "majority")
    rows = {r["item_id"]: r for r in csv.DictReader(io.StringIO(table))}
    assert rows["split"]["label"] == "a"
    assert rows["split"]["adjudicated"] == "True"
    log = world.cli("adjudication", "log", "p", "--format", "jsonl")
    assert json.loads(log)["source"] == "calibration"


def test_a_ruling_without_a_reason_or_on_gold_is_refused(world: World) -> None:
    rulings = world.rulings_file(
        [{"item_id": "split", "dimension": "overall", "value": "a", "reason": "",
          "ruled_by": "lead@x"}]
    )  # fmt: skip
    said = world.cli(
        "calibration-session", "p", "--session", "s1", "--rulings", str(rulings), code=2
    )
    assert "rulings.csv:2: empty or missing ['reason']" in said
    rulings = world.rulings_file(
        [{"item_id": "g0", "dimension": "overall", "value": "b", "reason": "r",
          "ruled_by": "lead@x"}]
    )  # fmt: skip
    said = world.cli(
        "calibration-session", "p", "--session", "s1", "--rulings", str(rulings), code=2
    )
    assert "item 'g0' is a gold item" in said
    assert world.cli("calibration-session", "p", "--rulings", str(rulings), code=2)
    assert world.store.ruling_log("p") == []


def test_rulings_become_gold_only_under_a_new_rubric_version(world: World) -> None:
    rulings = world.rulings_file(
        [
            {"item_id": "split", "dimension": "overall", "value": "a", "reason": "A is safe",
             "ruled_by": "lead@x"},
            {"item_id": "two-one", "dimension": "overall", "value": "a", "reason": "clear",
             "ruled_by": "someone@x"},
        ]
    )  # fmt: skip
    args = ("calibration-session", "p", "--session", "s1", "--rulings", str(rulings))
    refused = world.cli(*args, "--make-gold", code=2)
    assert "judged under rlhf-pairwise@v1, the project's current rubric" in refused
    assert world.store.ruling_log("p") == []
    world.write_config(V2, gold_authors='["lead@x"]')  # the session's outcome: version 2
    said = world.cli(*args, "--make-gold")
    assert "split overall: gold: new gold answer from lead@x" in said
    assert "two-one overall: not gold: a calibration ruling by someone@x" in said
    gold = world.store.gold_for("p")
    assert gold[("split", "overall")].source == "adjudicated"
    assert gold[("split", "overall")].set_by == "lead@x"
    assert ("two-one", "overall") not in gold
    logged = [(c.item_key, c.accepted) for c in world.store.gold_log("p") if c.item_key != "g0"]
    assert sorted(logged) == [("split", True), ("two-one", False)]
    again = world.cli(*args, "--make-gold")  # the same decisions are logged once
    assert "gold:" not in again
    assert len(world.store.ruling_log("p")) == 2


BEFORE = (("a", "b", "tie"), ("a", "a", "b"), ("b", "tie", "b"))


def _after(i: int) -> tuple[str, ...]:
    """After the session: unanimous (a, b, tie in turn) but for two items with one dissent."""
    value = ("a", "b", "tie")[i % 3]
    return (value, value, "tie" if value != "tie" else "a") if i in (0, 5) else (value,) * 3


def _session_world(world: World) -> None:
    """Twelve items ruled in session s1: split votes before, re-annotated in batch after-s1
    with mostly unanimous votes."""
    judgments, tasks = [], []
    for i in range(12):
        item = f"s{i}"
        for batch, votes in ((None, BEFORE[i % 3]), ("after-s1", _after(i))):
            task = f"t-{item}-{batch or 'first'}"
            tasks.append(TaskMapping(platform_task_id=task, item_key=item, batch_id=batch))
            judgments += [
                JudgmentRow(
                    platform_annotation_id=f"{task}-{annotator}",
                    dimension="overall",
                    item_key=item,
                    annotator=annotator,
                    value=value,
                    platform_task_id=task,
                    submitted_at=datetime(2026, 12, 1 if batch is None else 3, tzinfo=UTC),
                )
                for annotator, value in zip(ANNOTATORS, votes, strict=True)
            ]
    world.store.map_tasks("p", tasks)
    world.store.apply_judgments("p", judgments)
    world.store.record_rulings(
        "p",
        [
            Ruling(
                item_key=f"s{i}",
                dimension="overall",
                value="a",
                reason="r",
                ruled_by="lead@x",
                ruled_at=datetime(2026, 12, 2, tzinfo=UTC),
                source="calibration",
                source_ref="s1",
            )
            for i in range(12)
        ],
    )


def _alpha(votes: list[tuple[str, ...]]) -> float:
    """Nominal alpha by the krippendorff package (an independent implementation)."""
    codes = {"a": 0, "b": 1, "tie": 2}
    data = np.array([[codes[v[k]] for v in votes] for k in range(3)], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def test_agreement_before_and_after_re_annotation_with_intervals(world: World) -> None:
    _session_world(world)
    frame = world.store.judgments_frame("p")
    rubric = load_rubric(V1, check_layout=False)
    items = {f"s{i}" for i in range(12)}
    [change] = session_change(frame, rubric, items=items, batch="after-s1", summarise=build_report)
    assert change.dimension == "overall"
    assert change.n_items == 12
    before = [BEFORE[i % 3] for i in range(12)]
    after = [_after(i) for i in range(12)]
    assert change.before["value"] == pytest.approx(_alpha(before), abs=1e-4)
    assert change.after["value"] == pytest.approx(_alpha(after), abs=1e-4)
    low, high = change.before["ci95"]
    assert low <= change.before["value"] <= high
    low, high = change.after["ci95"]
    assert low <= change.after["value"] <= high
    assert change.change == pytest.approx(change.after["value"] - change.before["value"])
    assert change.after["value"] > 0.7 > 0 > change.before["value"]
    said = world.cli("calibration-session", "p", "--session", "s1", "--compare-batch", "after-s1")
    assert said.startswith("overall: 12 item(s); alpha before ")
    assert f"change {change.change:+.3f}" in said
    missing = world.cli(
        "calibration-session", "p", "--session", "s1", "--compare-batch", "nope", code=2
    )
    assert "batch 'nope' holds no judgment of the session's 12 ruled item(s)" in missing
    unknown = world.cli(
        "calibration-session", "p", "--session", "s9", "--compare-batch", "after-s1", code=2
    )
    assert "session 's9' has no rulings recorded" in unknown
