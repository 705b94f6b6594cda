"""Expert and crowd tiers: groups (one rule, read by the configuration and by ``--groups``),
each non-expert annotator against the expert consensus (agreement with its Wilson interval and
n, kappa), agreement per annotator per category, in every renderer and in a sync's report only
where per-annotator figures go."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint
from test_retests import SIMPLE
from test_sync import GOOD, LEAD, World, _items, _push
from typer.testing import CliRunner

from connector.cli import app
from connector.config import ConfigError, load_config
from connector.groups import GroupsError, check_groups
from connector.judgments import normalise
from connector.report.build import ReportOptions, build_report
from connector.report.console import print_summary
from connector.report.html import render_html
from connector.report.markdown import render_markdown
from connector.report.tiers import load_groups

GROUPS = {"expert": ["e1", "e2", "e3"], "crowd": ["c1", "c2"]}
# item → (category, e1, e2, e3, c1, c2); None = not judged
TABLE = {
    "i0": ("code", "a", "a", "b", "a", "b"),
    "i1": ("code", "b", "b", "b", "b", "b"),
    "i2": ("code", "a", "b", "tie", "a", "a"),  # the experts tie: no consensus
    "i3": ("math", "tie", "tie", "a", "tie", "a"),
    "i4": ("math", "a", "a", None, "b", None),
    "i5": ("math", None, None, None, "a", "a"),  # no expert judgment
}
NAMES = ("e1", "e2", "e3", "c1", "c2")


def _frame() -> pd.DataFrame:
    rows = [
        {"item_id": item, "annotator": who, "dimension": "overall", "value": value,
         "category": values[0]}
        for item, values in TABLE.items()
        for who, value in zip(NAMES, values[1:], strict=True)
        if value is not None
    ]  # fmt: skip
    return normalise(pd.DataFrame(rows))


def _report(groups: dict[str, list[str]] | None = GROUPS) -> dict[str, object]:
    options = ReportOptions(resamples=0, min_shared_items=1)
    return json.loads(json.dumps(build_report(_frame(), SIMPLE, options=options, groups=groups)))


def test_crowd_against_the_expert_consensus_by_hand_and_cross_checked() -> None:
    report = _report()
    tiers = report["tiers"]
    assert tiers["dimensions"]["overall"] == {
        "n_expert_items": 5, "n_consensus_items": 4, "n_expert_ties": 1,
    }  # fmt: skip
    people = {a["annotator"]: a for a in report["annotators"]}
    assert people["c1"]["group"] == "crowd"
    assert people["e1"]["group"] == "expert"
    consensus = {"i0": "a", "i1": "b", "i3": "tie", "i4": "a"}
    for crowd, column in (("c1", 4), ("c2", 5)):
        shared = [i for i in consensus if TABLE[i][column] is not None]
        mine = [TABLE[i][column] for i in shared]
        theirs = [consensus[i] for i in shared]
        agree = sum(m == t for m, t in zip(mine, theirs, strict=True))
        figure = people[crowd]["dimensions"]["overall"]["expert_consensus"]
        assert figure["n"] == len(shared)
        assert figure["agreement"] == pytest.approx(agree / len(shared))
        low, high = proportion_confint(agree, len(shared), alpha=0.05, method="wilson")
        assert figure["ci95"] == [pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4)]
        expected = cohen_kappa_score(mine, theirs, labels=["a", "b", "tie"])
        assert figure["cohen_kappa"] == pytest.approx(expected)
    # c1: i0 a=a, i1 b=b, i3 tie=tie, i4 b≠a → 3 of 4
    assert people["c1"]["dimensions"]["overall"]["expert_consensus"]["n"] == 4
    assert people["e1"]["dimensions"]["overall"]["expert_consensus"] is None  # the reference


def test_agreement_per_annotator_per_category_by_hand() -> None:
    people = {a["annotator"]: a for a in _report()["annotators"]}
    by_category = {e["key"]: e for e in people["c1"]["dimensions"]["overall"]["by_category"]}
    # code: i0 (c1 a vs a, a, b, b: 2 of 4), i1 (b vs b×4: 4 of 4), i2 (a vs a, b, tie, a: 2/4)
    assert by_category["code"]["n_pairs"] == 12
    assert by_category["code"]["percent_agreement"] == pytest.approx(8 / 12)
    # math: i3 (tie vs tie, tie, a, a: 2/4), i4 (b vs a, a: 0/2), i5 (a vs a: 1/1)
    assert by_category["math"]["n_pairs"] == 7
    assert by_category["math"]["percent_agreement"] == pytest.approx(3 / 7)


def test_without_groups_there_is_no_tier_figure() -> None:
    report = _report(groups=None)
    assert report["tiers"] is None
    assert "group" not in report["annotators"][0]
    assert "expert_consensus" not in report["annotators"][0]["dimensions"]["overall"]


def test_groups_without_experts_give_categories_only() -> None:
    report = _report(groups={"crowd": ["c1", "c2"], "ghosts": ["nobody"]})
    assert report["tiers"]["members_without_judgments"] == ["nobody"]
    people = {a["annotator"]: a for a in report["annotators"]}
    assert people["c1"]["dimensions"]["overall"]["expert_consensus"] is None
    assert people["c1"]["dimensions"]["overall"]["by_category"]


def test_every_renderer_shows_the_tiers(capsys: pytest.CaptureFixture[str]) -> None:
    report = _report()
    markdown = render_markdown(report)
    assert "## Expert and crowd tiers" in markdown
    assert "| c1 | crowd | overall | 4 | 75.0% [30.1%, 95.4%] | κ " in markdown
    assert "## Agreement per annotator and category" in markdown
    assert "| c1 | crowd | overall | code | 12 | 66.7% |" in markdown
    html = render_html(report)
    assert '<section id="tiers">' in html
    assert '<section id="by-category">' in html
    from rich.console import Console

    print_summary(report, Console(width=220, force_terminal=False))
    out = capsys.readouterr().out
    assert "Expert and crowd tiers" in out
    assert "Agreement per annotator and category" in out


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"expert": ["a"], "crowd": ["a", "b"]}, "annotator 'a' is in groups 'expert' and 'crowd'"),
        ({"expert": []}, "group 'expert' has no annotator"),
        ({"expert": "a"}, "group 'expert' must be a list of annotator names, not 'a'"),
        ({"expert": [""]}, "group 'expert' must be a list of annotator names"),
    ],
)
def test_groups_that_cannot_be_used_are_refused(groups: dict[str, object], message: str) -> None:
    with pytest.raises(GroupsError, match=message):
        check_groups(groups, where="here")  # type: ignore[arg-type]


def test_a_groups_file_and_its_errors_name_the_file(tmp_path: Path) -> None:
    good = tmp_path / "groups.toml"
    good.write_text('expert = ["e1", "e2"]\ncrowd = ["c1"]\n')
    assert load_groups(good) == {"expert": ("e1", "e2"), "crowd": ("c1",)}
    bad = tmp_path / "bad.toml"
    bad.write_text('expert = ["e1"\n')
    with pytest.raises(GroupsError, match=f"{bad}: invalid TOML"):
        load_groups(bad)
    with pytest.raises(GroupsError, match="cannot read the groups file"):
        load_groups(tmp_path / "missing.toml")


def test_the_configuration_reads_groups_and_names_the_key(tmp_path: Path) -> None:
    rubric = Path(__file__).resolve().parents[1] / "rubrics" / "rlhf-pairwise" / "v1.yaml"
    base = (
        '[[platforms]]\nname = "ls"\nkind = "label-studio"\nurl = "http://127.0.0.1:9"\n'
        f'token_env = "T"\n[[projects]]\nkey = "p"\nplatform = "ls"\nproject_id = 1\n'
        f'rubric = "{rubric}"\n'
    )
    path = tmp_path / "iaa.toml"
    path.write_text(base + 'groups = {expert = ["e1"], crowd = ["c1", "c2"]}\n')
    assert load_config(path).project("p").groups == {"expert": ("e1",), "crowd": ("c1", "c2")}
    path.write_text(base + 'groups = {expert = ["e1"], crowd = ["e1"]}\n')
    with pytest.raises(ConfigError, match=r"projects\[0\]\.groups: annotator 'e1' is in groups"):
        load_config(path)
    path.write_text(base + 'groups = ["e1"]\n')
    with pytest.raises(ConfigError, match=r"projects\[0\]\.groups: must be a table of lists"):
        load_config(path)


def test_cli_report_with_groups_on_mt_bench(tmp_path: Path) -> None:
    """MT-Bench's human judgments: the graduate-student experts as the expert tier, the paper's
    authors as the crowd; each author's agreement with the experts' consensus recomputed with
    pandas from the same file."""
    examples = Path(__file__).resolve().parents[1] / "examples" / "mt-bench"
    frame = pd.read_json(examples / "judgments.jsonl", lines=True)
    experts = sorted(a for a in frame["annotator"].unique() if a.startswith("expert_"))
    authors = sorted(a for a in frame["annotator"].unique() if a.startswith("author_"))
    groups = tmp_path / "groups.toml"
    groups.write_text(f"expert = {json.dumps(experts)}\ncrowd = {json.dumps(authors)}\n")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "report", str(examples / "judgments.jsonl"), "--rubric", "rubrics/mt-bench/v1.yaml",
            "--resamples", "0", "--groups", str(groups), "--json", str(out),
            "--md", str(tmp_path / "r.md"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    first = frame.drop_duplicates(["item_id", "annotator", "dimension"])
    by_expert = first[first["annotator"].isin(experts)]
    counts = by_expert.groupby(["item_id", "value"]).size().unstack(fill_value=0)
    top = counts.max(axis=1)
    single = counts.eq(top, axis=0).sum(axis=1) == 1
    consensus = counts.idxmax(axis=1)[single]
    people = {a["annotator"]: a for a in report["annotators"]}
    checked = 0
    for author in authors:
        mine = first[(first["annotator"] == author) & first["item_id"].isin(consensus.index)]
        if mine.empty:
            continue
        agree = (mine["value"].to_numpy() == consensus[mine["item_id"]].to_numpy()).mean()
        figure = people[author]["dimensions"]["overall"]["expert_consensus"]
        assert figure["n"] == len(mine)
        assert figure["agreement"] == pytest.approx(agree)
        checked += 1
    assert checked >= 3
    assert report["tiers"]["dimensions"]["overall"]["n_expert_ties"] == int((~single).sum())
    assert "## Expert and crowd tiers" in (tmp_path / "r.md").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text('expert = ["a"]\ncrowd = ["a"]\n')
    refused = CliRunner().invoke(
        app, ["report", str(examples / "judgments.jsonl"), "--groups", str(bad)]
    )
    assert refused.exit_code != 0
    assert "annotator 'a' is in groups 'expert' and 'crowd'" in " ".join(refused.output.split())
    assert "Traceback" not in refused.output


def test_a_sync_reports_tiers_and_the_platform_gets_none(tmp_path: Path) -> None:
    world = World(
        tmp_path, gold_items=25, toml=f'groups = {{expert = ["{GOOD}"], crowd = ["{LEAD}"]}}\n'
    )
    try:
        _push(world, _items("x", 6))
        for task, m in world.store.task_mappings("p").items():
            if m.item_key.startswith("x"):
                world.platform.annotate(task, m.item_key, annotator=GOOD, value="a")
                lead = "b" if m.item_key == "x0" else "a"
                world.platform.annotate(task, m.item_key, annotator=LEAD, value=lead)
        world.sync()
        report = json.loads((tmp_path / "reports" / "p" / "latest.json").read_text())
        people = {a["annotator"]: a for a in report["annotators"]}
        figure = people[LEAD]["dimensions"]["overall"]["expert_consensus"]
        assert (figure["n"], figure["agreement"]) == (6, pytest.approx(5 / 6))
        assert all(LEAD not in json.dumps(r) for r in world.platform.reports)
        assert all("tiers" not in json.dumps(r) for r in world.platform.reports)
    finally:
        world.store.close()


def test_an_annotator_in_no_group_is_compared_with_the_experts() -> None:
    report = _report(groups={"expert": ["e1", "e2", "e3"]})
    people = {a["annotator"]: a for a in report["annotators"]}
    assert people["c1"]["group"] is None
    assert people["c1"]["dimensions"]["overall"]["expert_consensus"]["n"] == 4
    assert np.isfinite(people["c2"]["dimensions"]["overall"]["expert_consensus"]["agreement"])
