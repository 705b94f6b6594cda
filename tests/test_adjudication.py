"""The adjudication queue and its rulings (connector.calibration.adjudication), driven through
the in-memory platform and an in-memory adjudication project.

The decisions: who is queued (below the threshold, per dimension, never gold), queued once,
what the senior sees (neutral labels, no account, no item key), which answers become rulings
(with who, when, why), that a ruling wins in the consensus and never counts as a judgment, and
the log. The real-server round trips are test_adjudication_labelstudio.py and
test_adjudication_argilla.py.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from memory_adjudication import MemoryAdjudication
from memory_platform import MemoryPlatform
from test_rubric import SIGNED
from typer.testing import CliRunner

from connector.calibration.adjudication import (
    AdjudicationError,
    PullResult,
    QueueResult,
    adjudication_candidates,
    pull_adjudications,
    queue_adjudications,
    ruling_log_text,
)
from connector.cli import app
from connector.config import ConfigError, load_config
from connector.consensus import consensus_table
from connector.consensus.adjudication import Adjudication, project_rulings
from connector.platforms.argilla.adjudication import (
    adjudication_questions,
    dimension_of_key,
)
from connector.platforms.argilla.adjudication import parse_rulings as argilla_rulings
from connector.platforms.label_studio.adjudication import (
    adjudication_label_config,
    check_adjudication_config,
)
from connector.platforms.label_studio.adjudication import parse_rulings as ls_rulings
from connector.report.build import build_report, item_agreements
from connector.rubric import load_rubric, parse_rubric
from connector.store import ItemRow, Store
from connector.sync import sync_project

REPO = Path(__file__).resolve().parents[1]
RUBRIC_PATH = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
RUBRIC = load_rubric(RUBRIC_PATH, check_layout=False)
ANNOTATORS = ("ann1@x", "ann2@x", "ann3@x")
# item → the three annotators' votes on overall (per-item agreement: Fleiss' P_i)
VOTES = {
    "agree": ("a", "a", "a"),  # 1.0
    "split": ("a", "b", "tie"),  # 0.0
    "two-one": ("a", "a", "b"),  # 1/3
    "g0": ("a", "b", "tie"),  # 0.0, but a gold item
}


class Desk:
    """A project on the in-memory platform with an in-memory adjudication project."""

    def __init__(self, tmp_path: Path, toml: str = "adjudication_project_id = 2\n") -> None:
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
        path = tmp_path / "iaa.toml"
        path.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path / "iaa.db"}"\n'
            f'[reports]\ndir = "{tmp_path / "reports"}"\n'
            '[[platforms]]\nname = "mem"\nkind = "label-studio"\nurl = "http://127.0.0.1:9"\n'
            'token_env = "UNUSED"\n[[projects]]\nkey = "p"\nplatform = "mem"\n'
            f'project_id = 1\nrubric = "{RUBRIC_PATH}"\ngold = "{gold}"\n' + toml
        )
        self.path = path
        self.config = load_config(path)
        self.project = self.config.project("p")
        self.store = Store.open(self.config.store_url)
        self.platform = MemoryPlatform()
        self.desk = MemoryAdjudication()
        for item, votes in VOTES.items():
            for annotator, vote in zip(ANNOTATORS, votes, strict=True):
                self.platform.annotate(f"t-{item}", item, annotator=annotator, value=vote)
        sync_project(self.config, "p", store=self.store, platform=self.platform, write_back=False)
        # as a push keeps them (after the sync: a sync's new task mapping clears a payload)
        self.store.upsert_items(
            "p",
            [
                ItemRow(
                    item_key="split",
                    category="code",
                    payload={"prompt": "Sort a list?", "response_a": "sorted()", "response_b": "x"},
                )
            ],
        )

    def queue(self, **options: Any) -> QueueResult:
        return queue_adjudications(
            self.project,
            RUBRIC,
            store=self.store,
            platform=self.desk,
            key_secret="secret",
            figures=item_agreements,
            **options,
        )

    def pull(self) -> PullResult:
        return pull_adjudications(self.project, RUBRIC, store=self.store, platform=self.desk)

    def key_of(self, item: str) -> str:
        [queued] = [q for q in self.store.adjudication_queue("p") if q.item_key == item]
        return queued.task_key


def _rulings(store: Store) -> list[Adjudication]:
    return project_rulings(store.current_rulings("p").values(), store.gold_for("p").values())


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    world = Desk(tmp_path)
    try:
        yield world
    finally:
        world.store.close()


def test_items_below_the_threshold_are_queued_once_and_gold_never(desk: Desk) -> None:
    first = desk.queue()
    queued = {q.item_key: q for q in desk.store.adjudication_queue("p")}
    assert set(queued) == {"split", "two-one"}  # below 0.5; g0 is gold, agree is 1.0
    assert queued["split"].agreement == 0.0
    assert queued["two-one"].agreement == pytest.approx(1 / 3, abs=1e-4)
    assert first.queued_now == 2
    assert first.gold_left_out == 1
    assert first.tasks_created == 2
    assert desk.desk.creates == 2
    again = desk.queue()
    assert again.queued_now == 0
    assert again.already_queued == 2
    assert again.tasks_created == 0
    assert desk.desk.creates == 2
    assert len(desk.store.adjudication_queue("p")) == 2
    assert desk.desk.prepared == ["2", "2"]


def test_the_threshold_and_the_dimension_choose_what_is_queued(desk: Desk) -> None:
    result = desk.queue(below=0.2, dimensions=("overall",))
    assert result.candidates == 1
    assert [q.item_key for q in desk.store.adjudication_queue("p")] == ["split"]
    with pytest.raises(AdjudicationError, match=r"\['helpfulness'\] are not in rubric"):
        desk.queue(dimensions=("helpfulness",))


def test_candidates_need_two_judgments(desk: Desk) -> None:
    frame = desk.store.judgments_frame("p")
    one = frame[(frame["item_id"] == "split") & (frame["annotator"] == "ann1@x")]
    figures = item_agreements(one, RUBRIC)
    assert adjudication_candidates(figures, RUBRIC, below=1.0) == []  # agreement undefined


def test_the_task_shows_neutral_labels_not_accounts_nor_the_item_key(desk: Desk) -> None:
    desk.queue()
    task = desk.desk.tasks[desk.key_of("split")]
    assert [(j.label, j.value) for j in task.judgments] == [
        ("Annotator 1", "a"),
        ("Annotator 2", "b"),
        ("Annotator 3", "tie"),
    ]
    assert task.prompt == "Sort a list?"
    assert task.response_a == "sorted()"
    assert task.question == RUBRIC.dimension("overall").question
    shown = repr(task)
    assert not any(a in shown for a in ANNOTATORS)
    assert "split" not in task.key
    assert task.key.startswith("adj-")
    assert task.key.endswith("-overall")
    other = desk.desk.tasks[desk.key_of("two-one")]
    assert other.prompt.startswith("(not kept by the connector")


def test_a_ruling_is_stored_with_who_when_why_and_wins_in_the_consensus(desk: Desk) -> None:
    desk.queue()
    before = desk.store.judgments_frame("p")
    desk.desk.rule(desk.key_of("split"), "b", "B answers the question; A sorts in place")
    result = desk.pull()
    assert result.recorded == 1
    assert result.problems == ()
    [ruling] = desk.store.ruling_log("p")
    assert (ruling.item_key, ruling.dimension, ruling.value) == ("split", "overall", "b")
    assert ruling.ruled_by == "senior@x"
    assert ruling.source == "adjudication"
    assert ruling.reason.startswith("B answers")
    assert ruling.ruled_at == desk.desk.clock
    table = consensus_table(before, RUBRIC, adjudications=_rulings(desk.store))
    row = table[(table["item_id"] == "split") & (table["method"] == "majority")].iloc[0]
    assert row["label"] == "b"
    assert bool(row["adjudicated"])
    assert bool(row["tied"])
    assert row["n_judgments"] == 3  # the ruling is not a vote


def test_a_ruling_is_never_a_judgment_in_agreement_figures(desk: Desk) -> None:
    desk.queue()
    before = desk.store.judgments_frame("p")
    report_before = build_report(before, RUBRIC)
    desk.desk.rule(desk.key_of("split"), "b", "reason", by="senior@x")
    desk.desk.rule(desk.key_of("two-one"), "a", "reason", by="senior@x")
    desk.pull()
    sync_project(desk.config, "p", store=desk.store, platform=desk.platform, write_back=False)
    after = desk.store.judgments_frame("p")
    assert len(after) == len(before)
    assert "senior@x" not in set(after["annotator"])
    report_after = build_report(after, RUBRIC)
    assert "senior@x" not in json.dumps(report_after)
    alpha = report_after["dimensions"]["overall"]["krippendorff_alpha"]["value"]
    assert alpha == report_before["dimensions"]["overall"]["krippendorff_alpha"]["value"]


def test_answers_that_cannot_be_rulings_are_reported_not_stored(desk: Desk) -> None:
    desk.queue()
    key = desk.key_of("split")
    desk.desk.rule(key, "b", "")  # no reason
    desk.desk.rule(key, "maybe", "unsure")  # not a value
    desk.desk.rule(key, "a", "wrong question", dimension="helpfulness")
    result = desk.pull()
    assert result.recorded == 0
    assert len(result.problems) == 3
    assert all(key in p and "not recorded" in p for p in result.problems)
    assert "no reason" in result.problems[0]
    assert desk.store.ruling_log("p") == []


def test_pulling_twice_records_a_ruling_once_and_an_edit_replaces_it(desk: Desk) -> None:
    desk.queue()
    key = desk.key_of("split")
    desk.desk.rule(key, "b", "first thought")
    desk.pull()
    desk.pull()
    assert len(desk.store.ruling_log("p")) == 1
    answer = desk.desk.answers[key][0]
    answer.value, answer.reason = "tie", "on reflection both fail"
    desk.pull()
    [ruling] = desk.store.ruling_log("p")
    assert (ruling.value, ruling.reason) == ("tie", "on reflection both fail")


def test_the_latest_of_two_rulings_is_in_force(desk: Desk) -> None:
    desk.queue()
    key = desk.key_of("split")
    desk.desk.rule(key, "b", "first senior", by="s1@x")
    desk.desk.rule(key, "a", "second senior, later", by="s2@x")
    desk.pull()
    assert [r.ruled_by for r in desk.store.ruling_log("p")] == ["s1@x", "s2@x"]
    [current] = desk.store.current_rulings("p").values()
    assert current.value == "a"


def test_the_log_as_csv_and_jsonl(desk: Desk) -> None:
    desk.queue()
    desk.desk.rule(desk.key_of("split"), "b", 'says "why", with a comma')
    desk.pull()
    rulings = desk.store.ruling_log("p")
    [row] = list(csv.DictReader(io.StringIO(ruling_log_text(rulings, format="csv"))))
    assert row["item_id"] == "split"
    assert row["value"] == "b"
    assert row["reason"] == 'says "why", with a comma'
    assert row["ruled_by"] == "senior@x"
    assert row["ruled_at"] == desk.desk.clock.isoformat()
    assert row["source"] == "adjudication"
    [line] = ruling_log_text(rulings, format="jsonl").splitlines()
    assert json.loads(line)["source_ref"] == row["source_ref"]
    with pytest.raises(AdjudicationError, match="csv or jsonl"):
        ruling_log_text(rulings, format="xlsx")


def test_the_log_command_writes_the_file(desk: Desk, tmp_path: Path) -> None:
    desk.queue()
    desk.desk.rule(desk.key_of("split"), "b", "why")
    desk.pull()
    out = tmp_path / "log.jsonl"
    args = ["adjudication", "log", "p", "--format", "jsonl", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--config", str(desk.path)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["value"] == "b"
    bad = CliRunner().invoke(app, [*args[:4], "xml", "--config", str(desk.path)])
    assert bad.exit_code == 2
    assert "csv or jsonl" in bad.output
    assert "Traceback" not in bad.output


def test_a_project_without_an_adjudication_project_is_told_what_to_set(tmp_path: Path) -> None:
    world = Desk(tmp_path, toml="")
    try:
        with pytest.raises(AdjudicationError, match="has no adjudication_project_id"):
            world.queue()
    finally:
        world.store.close()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("adjudication_project_id = 1\n", "is the project itself"),
        ("adjudication_project_id = true\n", "must be the platform's id"),
        (
            "adjudication_project_id = 2\nadjudication_below = 0\n",
            r"must be an agreement in \(0, 1\]",
        ),
        (
            'adjudication_project_id = 2\nadjudication_platform = "senior"\n',
            r"'senior' is not a configured platform \['mem'\]",
        ),
    ],
)
def test_configuration_errors_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "iaa.toml"
    path.write_text(
        '[[platforms]]\nname = "mem"\nkind = "label-studio"\nurl = "http://127.0.0.1:9"\n'
        'token_env = "UNUSED"\n[[projects]]\nkey = "p"\nplatform = "mem"\n'
        f'project_id = 1\nrubric = "{RUBRIC_PATH}"\n' + toml
    )
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(path)
    assert "projects[0].adjudication_" in str(raised.value)


def test_the_adjudication_project_may_not_be_another_configured_project(tmp_path: Path) -> None:
    path = tmp_path / "iaa.toml"
    project = '[[projects]]\nkey = "{k}"\nplatform = "mem"\nproject_id = {i}\nrubric = "{r}"\n'
    path.write_text(
        '[[platforms]]\nname = "mem"\nkind = "label-studio"\nurl = "http://127.0.0.1:9"\n'
        'token_env = "UNUSED"\n'
        + project.format(k="p", i=1, r=RUBRIC_PATH)
        + "adjudication_project_id = 3\n"
        + project.format(k="q", i=3, r=RUBRIC_PATH)
    )
    with pytest.raises(ConfigError, match="is project 'q''s own project"):
        load_config(path)


def test_the_adjudication_project_may_live_on_a_platform_of_its_own(tmp_path: Path) -> None:
    """A Label Studio Community organization shows all its projects to every member: the
    adjudication project goes on a server (platform) whose only members are the seniors."""
    path = tmp_path / "iaa.toml"
    platform = '[[platforms]]\nname = "{n}"\nkind = "label-studio"\nurl = "{u}"\ntoken_env = "T"\n'
    project = '[[projects]]\nkey = "{k}"\nplatform = "mem"\nproject_id = {i}\nrubric = "{r}"\n'
    path.write_text(
        platform.format(n="mem", u="http://127.0.0.1:9")
        + platform.format(n="senior", u="http://127.0.0.1:10")
        + project.format(k="p", i=1, r=RUBRIC_PATH)
        + 'adjudication_project_id = 3\nadjudication_platform = "senior"\n'
        + project.format(k="q", i=3, r=RUBRIC_PATH)  # id 3 on "mem" is another project
    )
    project_p = load_config(path).project("p")
    assert (project_p.adjudication_platform, project_p.adjudication_project_id) == ("senior", "3")
    assert load_config(path).project("q").adjudication_platform is None
    same = path.read_text().replace("adjudication_project_id = 3", "adjudication_project_id = 1")
    path.write_text(same)  # project 1 of another server is not the project itself
    assert load_config(path).project("p").adjudication_project_id == "1"


def test_answers_on_another_projects_tasks_are_counted_not_recorded(desk: Desk) -> None:
    desk.queue()
    foreign = "adj-0123456789abcdef0123-overall"
    desk.desk.tasks[foreign] = desk.desk.tasks[desk.key_of("split")]
    desk.desk.rule(foreign, "a", "ruled for another project")
    result = desk.pull()
    assert result.other_projects == 1
    assert result.recorded == 0
    assert result.problems == ()


# --- the platforms' adjudication forms and answers (pure: payloads in, rulings out) ---------


def test_the_forms_offer_every_value_of_a_signed_scale_distinctly() -> None:
    signed = parse_rubric(SIGNED)
    config = adjudication_label_config(signed)
    check_adjudication_config(config, signed, project="7")  # the generated form passes
    choices = ElementTree.fromstring(config).find(".//Choices[@name='ruling_preference']")
    assert choices is not None
    options = [(c.get("alias"), c.get("value")) for c in choices.iter("Choice")]
    assert [alias for alias, _ in options] == ["-3", "-2", "-1", "0", "1", "2", "3"]
    assert len({text for _, text in options}) == 7
    assert options[0][1] == "-3: Response A is better"
    [question] = [q for q in adjudication_questions(signed) if q["name"] == "ruling_preference"]
    texts = [o["text"] for o in question["settings"]["options"]]
    assert len(set(texts)) == 7
    assert texts[-1] == "3: Response B is better"


def test_label_studio_answers_become_rulings_with_their_types_and_problems() -> None:
    signed = parse_rubric(SIGNED)

    def annotation(ident: int, choice: str | None, reason: str) -> dict[str, object]:
        result: list[dict[str, object]] = []
        if choice is not None:
            result.append(
                {"from_name": "ruling_preference", "type": "choices",
                 "value": {"choices": [choice]}}
            )  # fmt: skip
        if reason:
            result.append({"from_name": "reason", "type": "textarea", "value": {"text": [reason]}})
        return {
            "id": ident, "completed_by": 5, "result": result,
            "updated_at": "2026-12-02T10:00:00.000000Z",
        }  # fmt: skip

    task = {
        "id": 3,
        "data": {"key": "adj-0123-preference", "dimension": "preference"},
        "annotations": [
            annotation(1, "-2", "A is clearly better"),
            annotation(2, None, "forgot the value"),
            annotation(3, "7", "off the scale"),
            annotation(4, "1", ""),
            {**annotation(5, "1", "skipped"), "was_cancelled": True},
        ],
    }
    other = {"id": 4, "data": {"prompt": "not a connector task"}, "annotations": []}
    found = ls_rulings([task, other], signed, users={5: "senior@x"})
    assert [(r.annotation_id, r.value) for r in found] == [
        ("1", -2), ("2", None), ("3", None), ("4", None)
    ]  # fmt: skip
    assert isinstance(found[0].value, int)
    assert found[0].ruled_by == "senior@x"
    assert found[0].reason == "A is clearly better"
    assert found[0].ruled_at == datetime(2026, 12, 2, 10, tzinfo=UTC)
    assert "no choice under 'ruling_preference'" in (found[1].problem or "")
    assert "choice ['7'] is not one of 'preference''s values" in (found[2].problem or "")
    assert "no reason given" in (found[3].problem or "")


def test_argilla_answers_become_rulings_submitted_only() -> None:
    signed = parse_rubric(SIGNED)

    def response(ident: str, status: str, value: object, reason: str) -> dict[str, object]:
        values = {"ruling_preference": {"value": value}, "reason": {"value": reason}}
        return {
            "id": ident, "status": status, "user_id": "u1", "values": values,
            "updated_at": "2026-12-02T10:00:00",
        }  # fmt: skip

    record = {
        "id": "r1",
        "external_id": "adj-0123-preference",
        "responses": [
            response("x1", "submitted", "3", "B much better"),
            response("x2", "draft", "1", "not yet"),
            response("x3", "submitted", "9", "off the scale"),
        ],
    }
    found = argilla_rulings(
        [record, {"id": "r2", "external_id": "t-1"}], signed, users={"u1": "lead"}
    )
    assert [(r.annotation_id, r.value, r.ruled_by) for r in found] == [
        ("x1", 3, "lead"), ("x3", None, "lead")
    ]  # fmt: skip
    assert "not one of 'preference''s values" in (found[1].problem or "")
    assert dimension_of_key("adj-0123-preference") == "preference"
    assert dimension_of_key("t-0123") is None
