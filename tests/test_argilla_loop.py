"""The connector's loop against a real Argilla server: the same sync code as for Label Studio.

Several annotators (their own API keys) submit, update, discard and delete responses; gold
scoring; an idempotent calibration push; the report in the dataset metadata and the per-record
property; a malformed response quarantined; the webhook registered and its signature verified.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from argilla_server import ArgillaServer

from connector.calibration.batch import plan_batch
from connector.calibration.item import Item
from connector.calibration.push import push_batch, task_key_secret
from connector.config import Config, load_config
from connector.platforms.argilla.adapter import Argilla
from connector.platforms.argilla.settings import agreement_property
from connector.platforms.base import TaskAgreement
from connector.rubric import Dimension, load_rubric
from connector.store import Store
from connector.sync import sync_project

AGREEMENT_PROPERTY = agreement_property("overall")
pytestmark = pytest.mark.argilla

REPO = Path(__file__).resolve().parents[1]
RUBRIC_PATH = REPO / "rubrics" / "rlhf-pairwise" / "v1.yaml"
RUBRIC = load_rubric(RUBRIC_PATH)
TOKEN_ENV = "IAA_TEST_ARGILLA_KEY"


def _headers(key: str) -> dict[str, str]:
    return {"X-Argilla-Api-Key": key}


def _items(n: int) -> list[Item]:
    return [
        Item(
            item_key=f"x-{i}",
            prompt=f"Question {i}?",
            response_a=f"Answer A to {i}.",
            response_b=f"Answer B to {i}, longer.",
            category="test",
            answers={},
        )
        for i in range(n)
    ]


class Loop:
    """One test's dataset, configuration, store and adapter, and helpers to act as annotators."""

    def __init__(
        self,
        server: ArgillaServer,
        tmp_path: Path,
        *,
        gold: str = "",
        extra: bool = False,
        rubric_path: Path = RUBRIC_PATH,
    ):
        self.server = server
        self.rubric = load_rubric(rubric_path, check_layout=False)
        self.platform = Argilla(server.url, server.owner_api_key, retries=0)
        workspaces = requests.get(
            f"{server.url}/api/v1/me/workspaces", headers=_headers(server.owner_api_key), timeout=30
        ).json()["items"]
        workspace = next(w for w in workspaces if w["name"] == "iaa")
        rubric = self.rubric
        if extra:  # a question the rubric does not know: its answers must be quarantined
            tone = Dimension(
                name="tone", question="Tone?", kind="choice", values=("ok", "rude"), level="nominal"
            )
            rubric = replace(self.rubric, dimensions=(*self.rubric.dimensions, tone))
        self.dataset_id = self.platform.create_dataset(
            f"t-{uuid.uuid4().hex[:10]}", workspace_id=str(workspace["id"]), rubric=rubric
        )
        config = tmp_path / "iaa.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path / "iaa.db"}"\n'
            f'[reports]\ndir = "{tmp_path / "reports"}"\n'
            f'[[platforms]]\nname = "ar"\nkind = "argilla"\nurl = "{server.url}"\n'
            f'token_env = "{TOKEN_ENV}"\n[[projects]]\nkey = "p"\nplatform = "ar"\n'
            f'project_id = "{self.dataset_id}"\nrubric = "{rubric_path}"\noverlap_seconds = 2\n'
            + (f'gold = "{gold}"\n' if gold else "")
        )
        os.environ[TOKEN_ENV] = server.owner_api_key
        self.config: Config = load_config(config)
        self.store = Store.open(self.config.store_url)

    def push(self, items: list[Item]) -> Any:
        plan = plan_batch(
            project_key="p",
            rubric=self.rubric,
            kind="production",
            items=items,
            key_secret=task_key_secret(self.store),
        )
        return push_batch(plan, self.config.project("p"), store=self.store, platform=self.platform)

    def records(self) -> list[dict[str, Any]]:
        payload = requests.get(
            f"{self.server.url}/api/v1/datasets/{self.dataset_id}/records",
            params={"include": "responses", "limit": 1000},
            headers=_headers(self.server.owner_api_key),
            timeout=30,
        ).json()
        items: list[dict[str, Any]] = payload["items"]
        return items

    def respond(
        self, key: str, record_id: str, values: dict[str, Any], status: str = "submitted"
    ) -> str:
        response = requests.post(
            f"{self.server.url}/api/v1/records/{record_id}/responses",
            json={"values": {k: {"value": v} for k, v in values.items()}, "status": status},
            headers=_headers(key),
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["id"])

    def shown_for(self, value: str, record_id: str) -> str:
        """The label an annotator picks for canonical ``value`` on this record."""
        side = self.store.task_mappings("p")[record_id].display_left or "a"
        if value not in ("a", "b") or side == "a":
            return value
        return "b" if value == "a" else "a"

    def sync(self, **kwargs: Any) -> Any:
        return sync_project(self.config, "p", store=self.store, platform=self.platform, **kwargs)


@pytest.fixture
def loop(argilla: ArgillaServer, tmp_path: Path) -> Iterator[Loop]:
    project = Loop(argilla, tmp_path)
    try:
        yield project
    finally:
        project.store.close()


def test_settings_come_from_the_rubric_and_are_checked(loop: Loop) -> None:
    loop.platform.check_project(loop.dataset_id, RUBRIC)
    v2 = load_rubric(REPO / "rubrics" / "rlhf-pairwise" / "v2.yaml")
    with pytest.raises(
        Exception, match=r"question 'overall' offers \['a', 'b', 'tie'\], but rubric"
    ):
        loop.platform.check_project(loop.dataset_id, v2)
    dataset = requests.get(
        f"{loop.server.url}/api/v1/datasets/{loop.dataset_id}",
        headers=_headers(loop.server.owner_api_key),
        timeout=30,
    ).json()
    assert dataset["distribution"] == {"strategy": "overlap", "min_submitted": 3}


def test_push_is_idempotent_and_gold_is_invisible(loop: Loop) -> None:
    first = loop.push(_items(6))
    assert first.created == first.n_tasks == 6
    assert loop.push(_items(6)).created == 0
    records = loop.records()
    assert len(records) == 6
    for record in records:
        assert set(record["fields"]) == {"prompt", "response_a", "response_b"}
        assert not record.get("metadata")
        assert record["external_id"].startswith("t-")
        assert "x-" not in record["external_id"]


def test_submit_update_discard_delete_and_gold(argilla: ArgillaServer, tmp_path: Path) -> None:
    items = _items(21)
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text(
        "".join(
            f'{{"item_key": "{i.item_key}", "prompt": "p", "response_a": "x", '
            f'"response_b": "y", "answers": {{"overall": "a"}}}}\n'
            for i in items
        )
    )
    loop = Loop(argilla, tmp_path, gold=str(gold_file))
    try:
        loop.push(items)
        good, careless, third = argilla.annotator_api_keys[:3]
        ids: dict[str, list[str]] = {"third": []}
        for record in loop.records():
            rid = str(record["id"])
            loop.respond(good, rid, {"overall": loop.shown_for("a", rid)})
            loop.respond(careless, rid, {"overall": loop.shown_for("b", rid)})
            ids["third"].append(loop.respond(third, rid, {"overall": "tie"}, status="draft"))
        first = loop.sync()
        assert (first.created, first.skipped) == (42, 21)  # drafts are counted, not judged
        status = {c.annotator: c.status for c in first.status_changes}
        assert status == {"annotator1": "qualified", "annotator2": "retraining"}

        # the third annotator submits two drafts, discards one; the careless one is corrected
        key = argilla.annotator_api_keys[2]
        for response_id in ids["third"][:2]:
            requests.put(
                f"{argilla.url}/api/v1/responses/{response_id}",
                json={"values": {"overall": {"value": "tie"}}, "status": "submitted"},
                headers=_headers(key),
                timeout=30,
            ).raise_for_status()
        requests.put(
            f"{argilla.url}/api/v1/responses/{ids['third'][2]}",
            json={"values": {"overall": {"value": "tie"}}, "status": "discarded"},
            headers=_headers(key),
            timeout=30,
        ).raise_for_status()
        second = loop.sync()
        assert (second.created, second.skipped) == (2, 19)

        # a submitted response deleted on the platform is recorded as deleted
        requests.delete(
            f"{argilla.url}/api/v1/responses/{ids['third'][0]}", headers=_headers(key), timeout=30
        ).raise_for_status()
        third_sync = loop.sync()
        assert third_sync.deleted == 1
        frame = loop.store.judgments_frame("p")
        assert (frame["annotator"] == "annotator3").sum() == 1
        assert set(frame[frame["annotator"] == "annotator1"]["value"]) == {"a"}
    finally:
        loop.store.close()


def test_report_in_dataset_metadata_and_hidden_record_property(loop: Loop) -> None:
    loop.push(_items(2))
    for record in loop.records():
        for key in loop.server.annotator_api_keys[:2]:
            loop.respond(key, str(record["id"]), {"overall": "a"})
    loop.sync()
    dataset = requests.get(
        f"{loop.server.url}/api/v1/datasets/{loop.dataset_id}",
        headers=_headers(loop.server.owner_api_key),
        timeout=30,
    ).json()
    stored = dataset["metadata"]["iaa_connector"]
    assert stored["report"]["dimensions"]["overall"]["n_judgments"] == 4
    assert "overall: alpha" in stored["summary"]
    # what an annotator of the workspace reads with their own key: nothing per annotator
    seen_by_annotator = requests.get(
        f"{loop.server.url}/api/v1/datasets/{loop.dataset_id}",
        headers=_headers(loop.server.annotator_api_keys[0]),
        timeout=30,
    )
    text = seen_by_annotator.text
    assert seen_by_annotator.status_code == 200
    public = seen_by_annotator.json()["metadata"]["iaa_connector"]["report"]
    assert set(public) == {"schema", "generated_at", "rubric", "summary", "dimensions"}
    assert "gold" not in json.dumps(seen_by_annotator.json()["metadata"])
    assert all(str(name) not in text for name in loop.store.judgments_frame("p")["annotator"])
    for record in loop.records():
        assert record["metadata"] == {AGREEMENT_PROPERTY: 1.0}
    properties = requests.get(
        f"{loop.server.url}/api/v1/me/datasets/{loop.dataset_id}/metadata-properties",
        headers=_headers(loop.server.owner_api_key),
        timeout=30,
    ).json()["items"]
    [prop] = [p for p in properties if p["name"] == AGREEMENT_PROPERTY]
    assert prop["visible_for_annotators"] is False
    # annotators do not see it
    seen = requests.get(
        f"{loop.server.url}/api/v1/me/datasets/{loop.dataset_id}/metadata-properties",
        headers=_headers(loop.server.annotator_api_keys[0]),
        timeout=30,
    ).json()["items"]
    assert AGREEMENT_PROPERTY not in {p["name"] for p in seen}


def test_a_changed_dataset_report_waits_out_the_interval(loop: Loop) -> None:
    """Each dataset PATCH costs argilla-server a job over every record: the dataset report is
    rewritten at most once per interval; the per-record agreement is written every sync."""

    def stored_report() -> dict[str, Any]:
        dataset = requests.get(
            f"{loop.server.url}/api/v1/datasets/{loop.dataset_id}",
            headers=_headers(loop.server.owner_api_key),
            timeout=30,
        ).json()
        report: dict[str, Any] = dataset["metadata"]["iaa_connector"]["report"]
        return report

    loop.push(_items(2))
    first, second = (str(r["id"]) for r in loop.records())
    keys = loop.server.annotator_api_keys
    for key in keys[:2]:
        loop.respond(key, first, {"overall": "a"})
    loop.sync()  # the first report is written at once
    assert stored_report()["dimensions"]["overall"]["n_judgments"] == 2
    loop.respond(keys[0], second, {"overall": "a"})
    loop.respond(keys[1], second, {"overall": "b"})
    loop.sync()
    assert stored_report()["dimensions"]["overall"]["n_judgments"] == 2  # held back
    agreement = {str(r["id"]): r["metadata"].get(AGREEMENT_PROPERTY) for r in loop.records()}
    assert agreement == {first: 1.0, second: 0.0}  # written regardless
    loop.platform.report_interval_s = 0.0
    loop.respond(keys[2], first, {"overall": "b"})  # first: 1.0 → 1/3, a stored value changes
    loop.sync()
    assert stored_report()["dimensions"]["overall"]["n_judgments"] == 5
    agreement = {str(r["id"]): r["metadata"].get(AGREEMENT_PROPERTY) for r in loop.records()}
    assert agreement == {first: pytest.approx(1 / 3, abs=1e-4), second: 0.0}  # 4 decimals
    loop.respond(keys[2], second, {"overall": "b"})
    loop.sync()  # rewritten again: metadata that is already there is replaced, not kept
    assert stored_report()["dimensions"]["overall"]["n_judgments"] == 6


def test_a_fresh_adapter_keeps_a_records_other_metadata(loop: Loop) -> None:
    """A run whose pull found nothing new has read no record: the per-record write must still
    keep metadata it does not own (a bulk record write replaces the whole dict)."""
    loop.push(_items(1))
    [record] = loop.records()
    requests.post(  # a property of the dataset's owner, not the connector's
        f"{loop.server.url}/api/v1/datasets/{loop.dataset_id}/metadata-properties",
        json={
            "name": "source",
            "title": "Source",
            "settings": {"type": "terms", "values": ["crawl-7"]},
            "visible_for_annotators": True,
        },
        headers=_headers(loop.server.owner_api_key),
        timeout=30,
    ).raise_for_status()
    requests.patch(
        f"{loop.server.url}/api/v1/records/{record['id']}",
        json={"metadata": {"source": "crawl-7"}},
        headers=_headers(loop.server.owner_api_key),
        timeout=30,
    ).raise_for_status()
    fresh = Argilla(loop.server.url, loop.server.owner_api_key, retries=0)
    fresh.write_report(
        loop.dataset_id,
        summary="s",
        tasks=[
            TaskAgreement(
                task_id=str(record["id"]),
                agreement={"overall": 0.5},
                n_judgments={"overall": 2},
            )
        ],
        column=False,
    )
    [written] = loop.records()
    assert written["metadata"] == {"source": "crawl-7", AGREEMENT_PROPERTY: 0.5}


def test_malformed_response_is_quarantined(argilla: ArgillaServer, tmp_path: Path) -> None:
    loop = Loop(argilla, tmp_path, extra=True)
    try:
        loop.push(_items(1))
        [record] = loop.records()
        response = loop.respond(
            argilla.annotator_api_keys[0], str(record["id"]), {"overall": "a", "tone": "rude"}
        )
        result = loop.sync()
        assert (result.created, result.quarantined) == (1, 1)
        [quarantined] = loop.store.quarantined("p")
        assert quarantined.platform_annotation_id == response
        assert quarantined.platform_task_id == str(record["id"])
        assert quarantined.reason == "question 'tone' is not a dimension of rubric rlhf-pairwise@v1"
        assert loop.sync().quarantined == 0  # a re-pull does not quarantine twice
    finally:
        loop.store.close()


def test_nothing_new_reads_nothing(loop: Loop) -> None:
    loop.push(_items(1))
    [record] = loop.records()
    for key in loop.server.annotator_api_keys[:2]:
        loop.respond(key, str(record["id"]), {"overall": "a"})
    assert loop.sync().created == 2  # and writes the record's agreement back
    time.sleep(5)  # past the 2 s overlap and the cursor's 1 s margin
    own_write = loop.sync()  # the record's metadata moved last_activity_at: read, no new work
    assert (own_write.created, own_write.updated, own_write.deleted) == (0, 0, 0)
    time.sleep(5)
    quiet = loop.sync()
    assert (quiet.tasks_seen, quiet.created, quiet.updated) == (0, 0, 0)


VOTES_RUBRIC = Path(__file__).parent / "data" / "rubrics" / "votes.yaml"


def test_a_rubric_coding_votes_1_2_0_drives_the_sync_and_its_report(
    argilla: ArgillaServer, tmp_path: Path
) -> None:
    """Issue 10: a preference coded 1/2/0 by the rubric's first/second/non_decisive: the
    dataset offers '1'/'2'/'0' ('Response A/B is better'), answers are mapped back through the
    display side and stored as 1/2/0, and the synced report has decisive agreement and
    position bias."""
    import json

    rubric_path = VOTES_RUBRIC
    loop = Loop(argilla, tmp_path, rubric_path=rubric_path)
    try:
        loop.platform.check_project(loop.dataset_id, loop.rubric)
        loop.push(_items(6))
        first, second, third = argilla.annotator_api_keys[:3]
        shown_left = []
        for record in loop.records():
            rid = str(record["id"])
            side = loop.store.task_mappings("p")[rid].display_left or "a"
            shown_left.append(side)
            loop.respond(first, rid, {"overall": "1" if side == "a" else "2"})  # response_a
            loop.respond(second, rid, {"overall": "1"})  # always the first shown
            loop.respond(third, rid, {"overall": "0"})  # always a tie
        result = loop.sync()
        assert (result.created, result.quarantined) == (18, 0)
        frame = loop.store.judgments_frame("p")
        by_annotator = frame.groupby("annotator")["value"].apply(sorted).to_dict()
        assert by_annotator["annotator1"] == [1] * 6
        assert by_annotator["annotator3"] == [0] * 6
        assert by_annotator["annotator2"] == sorted(1 if s == "a" else 2 for s in shown_left)
        assert result.report_path is not None
        report = json.loads(result.report_path.with_suffix(".json").read_text())
        section = report["dimensions"]["overall"]
        assert (section["kind"], section["non_decisive"]) == ("preference", [0])
        agree = shown_left.count("a")
        assert section["percent_agreement_decisive"] == {"value": agree / 6, "n_pairs": 6}
        if 0 < agree < 6:
            assert section["position_bias"]["n"] == 12
            assert section["position_bias"]["left_share"] == (6 + agree) / 12
        else:  # every record showed the same response left (2 in 64): not measurable
            assert section["position_bias"]["measurable"] is False
    finally:
        loop.store.close()


SIGNED_RUBRIC = Path(__file__).parent / "data" / "rubrics" / "signed.yaml"


def test_a_signed_scale_judged_first_or_second_comes_back_with_the_right_sign(
    argilla: ArgillaServer, tmp_path: Path
) -> None:
    """Issue 11: the dataset offers a -3 … 3 scale as labels '-3' … '3' relative to what is
    shown ('-3' = the response shown first is much better); the sync stores canonical values,
    mirroring where response_b was shown first."""
    loop = Loop(argilla, tmp_path, rubric_path=SIGNED_RUBRIC)
    try:
        loop.platform.check_project(loop.dataset_id, loop.rubric)
        loop.push(_items(6))
        first, second = argilla.annotator_api_keys[:2]
        shown_first = []
        for record in loop.records():
            rid = str(record["id"])
            side = loop.store.task_mappings("p")[rid].display_left or "a"
            shown_first.append(side)
            # first: response_a much better, whichever was shown first
            loop.respond(first, rid, {"preference": "-3" if side == "a" else "3"})
            loop.respond(second, rid, {"preference": "-1"})  # the first shown, slightly
        result = loop.sync()
        assert (result.created, result.quarantined) == (12, 0)
        frame = loop.store.judgments_frame("p")
        values = frame.groupby("annotator")["value"].apply(sorted).to_dict()
        assert values["annotator1"] == [-3] * 6
        assert values["annotator2"] == sorted(-1 if s == "a" else 1 for s in shown_first)
    finally:
        loop.store.close()


def test_the_pairwise_dimensions_rubric_makes_a_dataset_whose_four_answers_sync(
    argilla: ArgillaServer, tmp_path: Path
) -> None:
    """Issue 11: a dataset created from the shipped rubrics/pairwise-dimensions/v1.yaml passes
    its check and a response to its four questions comes back as four judgments."""
    loop = Loop(argilla, tmp_path, rubric_path=REPO / "rubrics/pairwise-dimensions/v1.yaml")
    try:
        loop.platform.check_project(loop.dataset_id, loop.rubric)
        loop.push(_items(2))
        key = argilla.annotator_api_keys[0]
        answers = {"accuracy": "a", "helpfulness": "b", "safety": "tie", "tone": "a"}
        for record in loop.records():
            rid = str(record["id"])
            loop.respond(key, rid, {k: loop.shown_for(v, rid) for k, v in answers.items()})
        result = loop.sync()
        assert (result.created, result.quarantined) == (8, 0)
        frame = loop.store.judgments_frame("p")
        assert sorted(zip(frame["dimension"], frame["value"], strict=True)) == sorted(
            list(answers.items()) * 2
        )
    finally:
        loop.store.close()


RANKING_RUBRIC = Path(__file__).parent / "data" / "rubrics" / "ranking.yaml"


def test_a_ranking_judged_in_argilla_is_pulled_scored_and_its_pairs_appear(
    argilla: ArgillaServer, tmp_path: Path
) -> None:
    """Issue 11: a dataset created from a ranking rubric asks a RankingQuestion over fields
    response_a … response_d; answers (ties included) come back as 'b>a=c>d' judgments, and the
    synced report scores each option's rank, the implied pairs (6 per item) and Kendall's W."""
    loop = Loop(argilla, tmp_path, rubric_path=RANKING_RUBRIC)
    try:
        loop.platform.check_project(loop.dataset_id, loop.rubric)
        created = requests.post(
            f"{argilla.url}/api/v1/datasets/{loop.dataset_id}/records/bulk",
            json={
                "items": [
                    {
                        "external_id": f"r-{i}",
                        "fields": {
                            "prompt": f"Question {i}?",
                            **{f"response_{o}": f"Answer {o} to {i}." for o in "abcd"},
                        },
                    }
                    for i in range(3)
                ]
            },
            headers=_headers(argilla.owner_api_key),
            timeout=60,
        )
        assert created.status_code in (200, 201), created.text
        first, second = argilla.annotator_api_keys[:2]

        def ranks(order: str) -> list[dict[str, Any]]:
            return [{"value": o, "rank": r} for o, r in zip("abcd", order, strict=True)]

        for record in loop.records():
            rid = str(record["id"])
            loop.respond(first, rid, {"order": ranks("2134")})  # b > a > c > d
            loop.respond(second, rid, {"order": ranks("2124")})  # b > a = c > d
        result = loop.sync()
        assert (result.created, result.quarantined) == (6, 0)
        frame = loop.store.judgments_frame("p")
        values = frame.groupby("annotator")["value"].apply(sorted).to_dict()
        assert values == {"annotator1": ["b>a>c>d"] * 3, "annotator2": ["b>a=c>d"] * 3}
        assert result.report_path is not None
        report = json.loads(result.report_path.with_suffix(".json").read_text())
        pairs = report["dimensions"]["order_pairs"]
        assert (pairs["n_items"], pairs["n_judgments"]) == (18, 36)
        assert pairs["percent_agreement"]["value"] == 15 / 18  # a vs c: first against tie
        w = report["rankings"]["order"]["kendall_w"]
        assert (w["n_items"], w["n_rankings"], w["n_undefined"]) == (3, 6, 0)
    finally:
        loop.store.close()
