"""``iaa-connector consensus PROJECT|FILE``, driven through Typer's runner: a judgments file, a
synced project read from a real SQLite store, rulings, output formats and clear errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, make_url, text
from typer.testing import CliRunner

from connector.cli import app
from connector.config import EXAMPLE
from connector.store import Store
from connector.store.rows import GoldAnswer, JudgmentRow

runner = CliRunner()
MT_BENCH = "examples/mt-bench/judgments.jsonl"


def test_a_file_gives_both_methods_for_every_judged_item(tmp_path: Path) -> None:
    out = tmp_path / "consensus.jsonl"
    result = runner.invoke(
        app, ["consensus", MT_BENCH, "--rubric", "rubrics/mt-bench/v1.yaml", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    judgments = pd.read_json(MT_BENCH, lines=True)
    n_items = judgments["item_id"].nunique()
    assert len(rows) == 2 * n_items
    assert {r["method"] for r in rows} == {"majority", "dawid-skene"}
    ties = sum(r["tied"] for r in rows)
    assert f"wrote {len(rows)} consensus rows ({ties} tied, 0 adjudicated) as jsonl" in (
        " ".join(result.output.split())
    )
    # every row's votes are the item's judgments (re-tests aside: one per annotator)
    first = judgments.drop_duplicates(["item_id", "annotator", "dimension"])
    counts = first.groupby("item_id").size()
    for r in rows:
        assert sum(r["votes"].values()) == r["n_judgments"] == counts[r["item_id"]]
        assert r["label"] is None if r["tied"] else r["label"] in ("a", "b", "tie")


def test_without_out_the_table_is_csv_on_standard_output() -> None:
    result = runner.invoke(app, ["consensus", MT_BENCH, "--method", "majority"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line]
    assert lines[0] == (
        "item_id,dimension,label,method,confidence,tied,n_judgments,votes,soft_label,"
        "adjudicated,method_label"
    )
    assert all(",majority," in line for line in lines[1:])


def test_an_adjudication_file_wins(tmp_path: Path) -> None:
    item = pd.read_json(MT_BENCH, lines=True)["item_id"].iloc[0]
    rulings = tmp_path / "rulings.csv"
    rulings.write_text(f"item_id,dimension,value\n{item},overall,tie\n")
    out = tmp_path / "c.csv"
    result = runner.invoke(
        app, ["consensus", MT_BENCH, "--adjudicated", str(rulings), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, keep_default_na=False)
    ruled = table[table["item_id"] == item]
    assert len(ruled) == 2
    assert (ruled["label"] == "tie").all()
    assert ruled["adjudicated"].all()
    assert (table["adjudicated"].sum()) == 2


def _project(tmp_path: Path, store_url: str | None = None) -> Path:
    rubrics = tmp_path / "rubrics" / "rlhf-pairwise"
    rubrics.mkdir(parents=True)
    for name in ("v2.yaml", "guidelines-v2.md"):
        (rubrics / name).write_text((Path("rubrics/rlhf-pairwise") / name).read_text())
    config = tmp_path / "iaa.toml"
    text = EXAMPLE
    if store_url is not None:
        default = 'url = "sqlite:///iaa-connector.db"'
        assert default in text
        text = text.replace(default, f"url = {json.dumps(store_url)}")
    config.write_text(text)
    return config


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store: a SQLite file in tmp_path, or a new schema of a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'iaa-connector.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"iaa_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _judgment(annotation: str, item: str, annotator: str, value: str) -> JudgmentRow:
    when = datetime(2026, 1, 2, tzinfo=UTC)
    return JudgmentRow(
        platform_annotation_id=annotation,
        dimension="overall",
        item_key=item,
        annotator=annotator,
        value=value,
        submitted_at=when,
        platform_updated_at=when,
    )


def test_a_project_reads_the_store_and_its_adjudicated_gold(tmp_path: Path, store_url: str) -> None:
    config = _project(tmp_path, store_url)
    with Store.open(store_url) as store:
        store.apply_judgments(
            "pairwise",
            [
                _judgment("1", "i1", "x", "a"),
                _judgment("2", "i1", "y", "a"),
                _judgment("3", "i1", "z", "b"),
                _judgment("4", "i2", "x", "b"),
                _judgment("5", "i2", "y", "both_bad"),
            ],
        )
        store.set_gold(
            "pairwise",
            [
                GoldAnswer(item_key="i2", dimension="overall", value="b", source="adjudicated",
                           set_by="lead@example.com"),
                # a gold-file answer is a test question, not a ruling: not used
                GoldAnswer(item_key="i1", dimension="overall", value="b", source="file"),
            ],
        )  # fmt: skip
    out = tmp_path / "c.parquet"
    result = runner.invoke(
        app, ["consensus", "pairwise", "-c", str(config), "--method", "majority", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out).set_index("item_id")
    assert table.loc["i1", "label"] == "a"
    assert not table.loc["i1", "adjudicated"]
    assert table.loc["i1", "confidence"] == pytest.approx(2 / 3)
    assert json.loads(table.loc["i1", "votes"]) == {"a": 2, "b": 1, "tie": 0, "both_bad": 0}
    assert table.loc["i2", "label"] == "b"
    assert table.loc["i2", "adjudicated"]
    assert table.loc["i2", "tied"]


def test_a_ruling_conflicting_with_the_store_fails_naming_both(tmp_path: Path) -> None:
    config = _project(tmp_path)
    with Store.open(f"sqlite:///{tmp_path / 'iaa-connector.db'}") as store:
        store.apply_judgments("pairwise", [_judgment("1", "i1", "x", "a")])
        store.set_gold(
            "pairwise",
            [GoldAnswer(item_key="i1", dimension="overall", value="a", source="adjudicated")],
        )
    rulings = tmp_path / "r.jsonl"
    rulings.write_text('{"item_id": "i1", "dimension": "overall", "value": "b"}\n')
    result = runner.invoke(
        app, ["consensus", "pairwise", "-c", str(config), "--adjudicated", str(rulings)]
    )
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "item 'i1' dimension 'overall' has two different rulings" in text
    assert f"({rulings}:1)" in text
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["consensus", "no/such.jsonl", "-c", "no/iaa.toml"], "no/such.jsonl: no such file, and "
         "no configuration no/iaa.toml to find a project of that name in (pass --config)"),
        (["consensus", MT_BENCH, "--out", "c.xlsx"], "--out c.xlsx: write the consensus table "
         "to a file ending in .csv, .jsonl, .ndjson, .parquet"),
        (["consensus", MT_BENCH, "--method", "vote"], "method='vote' is not one of 'majority', "
         "'dawid-skene'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_a_value_outside_the_rubric_names_the_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"item_id": "i", "annotator": "x", "dimension": "overall", "value": "a"}\n'
        '{"item_id": "i", "annotator": "y", "dimension": "overall", "value": "maybe"}\n'
    )
    result = runner.invoke(
        app, ["consensus", str(bad), "--rubric", "rubrics/rlhf-pairwise/v2.yaml"]
    )
    assert result.exit_code == 2
    assert (
        "row 2 (item 'i', annotator 'y'): dimension 'overall' has value 'maybe', which is not "
        "one of ['a', 'b', 'tie', 'both_bad']"
    ) in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_an_unknown_project_lists_the_configured_ones(tmp_path: Path) -> None:
    config = _project(tmp_path)
    result = runner.invoke(app, ["consensus", "pairwize", "-c", str(config)])
    assert result.exit_code == 2
    assert "no project named 'pairwize' (configured: pairwise)" in " ".join(result.output.split())


def test_a_name_both_file_and_project_is_ambiguous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pairwise").write_text(
        '{"item_id": "i", "annotator": "x", "dimension": "overall", "value": "a"}\n'
    )
    result = runner.invoke(app, ["consensus", "pairwise", "-c", str(config)])
    assert result.exit_code == 2
    assert (
        f"'pairwise' is both a file and a project of {config}; write ./pairwise for the file"
    ) in " ".join(result.output.split())


def test_file_options_with_a_project_are_refused(tmp_path: Path) -> None:
    config = _project(tmp_path)
    result = runner.invoke(
        app,
        ["consensus", "pairwise", "-c", str(config), "--rubric", "rubrics/mt-bench/v1.yaml"],
    )
    assert result.exit_code == 2
    assert (
        "--rubric: for a judgments FILE only; project 'pairwise' is read from the store with its "
        "configured rubric"
    ) in " ".join(result.output.split())
