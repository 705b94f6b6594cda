"""connector.platforms.argilla.parse, offline, on answers recorded from a real argilla-server
2.8.0 (tests/data/recorded/README.md says how): the records page a pull reads (with responses),
the same without responses (what a push and a write-back read), the users list.

The recorded dataset offers more than rubric rlhf-pairwise v2 allows (``overall`` also
``unsure``, ``strength`` 1..5, and a ``tone`` question), as a dataset edited by hand might. By
the record's ``external_id`` ``t-recorded-X``:

- a: annotator1 submitted (a, 2); annotator2 submitted tie, then changed it to (b, 3) a second
  later; annotator3 saved a draft;
- b: annotator1 discarded; annotator2 submitted (unsure, 5, tone rude): all outside the rubric;
- c: annotator3 submitted (a, 1), annotator1 (both_bad); shown with response b first;
- d: no response.

Malformed payloads are the recorded ones with one thing broken.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.platforms.argilla import parse
from connector.platforms.base import PayloadError, PlatformError, PullPage, parse_timestamp
from connector.rubric import load_rubric

REPO = Path(__file__).resolve().parents[1]
RECORDED = REPO / "tests" / "data" / "recorded" / "argilla"
RUBRIC = load_rubric(REPO / "rubrics" / "rlhf-pairwise" / "v2.yaml")


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


PAGE = recorded("records_page.json")
USERS = parse.user_names(recorded("users.json"))


def records(payload: Any = PAGE) -> list[dict[str, Any]]:
    """A fresh copy of the recorded records, to break one thing in."""
    return copy.deepcopy(parse.record_list(payload))


def by_key(listed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["external_id"].removeprefix("t-recorded-"): r for r in listed}


KEYS = {name: record["id"] for name, record in by_key(records()).items()}


def response(name: str, user: str, listed: list[dict[str, Any]]) -> dict[str, Any]:
    """The response of ``user`` (a username) on record ``name`` in ``listed``."""
    ids = {username: ident for ident, username in USERS.items()}
    [found] = [r for r in by_key(listed)[name]["responses"] if r["user_id"] == ids[user]]
    return found


def pull(
    listed: list[dict[str, Any]] | None = None,
    *,
    since: datetime | None = None,
    display_left: dict[str, str] | None = None,
) -> PullPage:
    return parse.parse_records(
        records() if listed is None else listed,
        RUBRIC,
        since=since,
        display_left={KEYS["c"]: "b"} if display_left is None else display_left,
        users=USERS,
    )


def judgments(page: PullPage) -> dict[tuple[str, str, str], Any]:
    return {
        (name, j.annotator, j.dimension): j.value
        for j in page.judgments
        for name, ident in KEYS.items()
        if ident == j.task_id
    }


def test_the_recordings_come_from_argilla_server_2_8_0() -> None:
    assert recorded("version.json")["version"] == "2.8.0"
    assert set(KEYS) == set("abcd")
    assert sorted(USERS.values()) == ["annotator1", "annotator2", "annotator3", "owner"]


def test_a_recorded_page_becomes_judgments_quarantine_and_skips() -> None:
    page = pull()
    assert judgments(page) == {
        ("a", "annotator1", "overall"): "a",
        ("a", "annotator1", "strength"): 2,
        ("a", "annotator2", "overall"): "b",  # changed from tie: the latest version
        ("a", "annotator2", "strength"): 3,
        ("c", "annotator3", "overall"): "b",  # "a" was shown first: response b
        ("c", "annotator3", "strength"): 1,
        ("c", "annotator1", "overall"): "both_bad",
    }
    assert page.skipped == 2  # annotator3's draft on a, annotator1's discard on b
    assert page.cursor is None  # the adapter decides which page moves the cursor
    assert [t.task_id for t in page.tasks] == [r["id"] for r in records()]


def test_drafts_and_discarded_responses_are_counted_not_live() -> None:
    listed = records()
    seen = {t.task_id: t for t in pull(listed).tasks}
    draft = response("a", "annotator3", listed)
    discarded = response("b", "annotator1", listed)
    assert (draft["status"], discarded["status"]) == ("draft", "discarded")
    assert draft["id"] not in seen[KEYS["a"]].annotation_ids
    assert seen[KEYS["b"]].annotation_ids == (response("b", "annotator2", listed)["id"],)
    assert seen[KEYS["d"]].annotation_ids == ()


def test_every_judgment_keeps_its_response_id_and_times() -> None:
    listed = records()
    changed = response("a", "annotator2", listed)
    [overall] = [
        j
        for j in pull(listed).judgments
        if j.annotation_id == changed["id"] and j.dimension == "overall"
    ]
    assert overall.task_id == KEYS["a"]
    assert overall.submitted_at == parse_timestamp(changed["inserted_at"])
    assert overall.updated_at == parse_timestamp(changed["updated_at"])
    assert overall.updated_at > overall.submitted_at  # type: ignore[operator]
    assert overall.updated_at.tzinfo == UTC  # Argilla's naive times are UTC
    assert overall.lead_time_s is None


def test_answers_outside_the_rubric_are_quarantined_one_by_one() -> None:
    page = pull()
    outside = response("b", "annotator2", records())
    found = [q for q in page.quarantined if q.task_id == KEYS["b"]]
    assert {q.annotation_id for q in found} == {outside["id"]}
    assert sorted((q.reason, dict(q.raw)) for q in found) == [
        (
            "question 'tone' is not a dimension of rubric rlhf-pairwise@v2",
            {"question": "tone", "value": "rude"},
        ),
        (
            "value 'unsure' for 'overall' is not one of ['a', 'b', 'tie', 'both_bad']",
            {"question": "overall", "value": "unsure"},
        ),
        (
            "value 5 for 'strength' is not one of [1, 2, 3]",
            {"question": "strength", "value": 5},
        ),
    ]
    assert [q.task_id for q in page.quarantined] == [KEYS["b"]] * 3
    # the quarantined response is still submitted: live, so nothing of it counts as withdrawn
    assert outside["id"] in {t.task_id: t for t in page.tasks}[KEYS["b"]].annotation_ids


def test_the_display_side_maps_a_and_b_back() -> None:
    shown_b_first = judgments(pull(display_left={KEYS["c"]: "b"}))
    shown_a_first = judgments(pull(display_left={}))
    assert shown_b_first["c", "annotator3", "overall"] == "b"
    assert shown_a_first["c", "annotator3", "overall"] == "a"
    assert shown_b_first["c", "annotator1", "overall"] == "both_bad"  # not a side: unchanged
    assert shown_b_first["c", "annotator3", "strength"] == 1
    assert {t.task_id: t for t in pull().tasks}[KEYS["c"]].display_left == "b"


def test_the_watermark_skips_responses_unchanged_since_but_keeps_them_live() -> None:
    listed = records()
    first = response("a", "annotator1", listed)
    changed = response("a", "annotator2", listed)
    since = parse_timestamp(first["updated_at"])  # annotator2's change came later
    page = pull(listed, since=since)
    assert {j.annotation_id for j in page.judgments if j.task_id == KEYS["a"]} == {changed["id"]}
    assert first["id"] in {t.task_id: t for t in page.tasks}[KEYS["a"]].annotation_ids
    latest = max(parse_timestamp(r["updated_at"]) for r in listed for r in r["responses"])
    quiet = pull(listed, since=latest)
    assert quiet.judgments == ()
    assert quiet.quarantined == ()
    assert quiet.skipped == 2
    assert {a for t in quiet.tasks for a in t.annotation_ids} == parse.submitted_response_ids(
        listed
    )


def test_item_keys_come_from_the_external_id_or_the_record_id() -> None:
    listed = records()
    updated = by_key(listed)["a"]["updated_at"]
    by_key(listed)["d"]["external_id"] = None
    seen = {t.task_id: t for t in pull(listed).tasks}
    assert seen[KEYS["a"]].item_key == "t-recorded-a"
    assert seen[KEYS["d"]].item_key == f"argilla-record-{KEYS['d']}"
    assert seen[KEYS["a"]].updated_at == parse_timestamp(updated)


def test_unknown_users_are_named_by_their_id() -> None:
    listed = records()
    response("c", "annotator3", listed)["user_id"] = "00000000-0000-0000-0000-000000000000"
    names = {j.annotator for j in pull(listed).judgments if j.task_id == KEYS["c"]}
    assert names == {"00000000-0000-0000-0000-000000000000", "annotator1"}


def test_an_empty_page() -> None:
    assert parse.parse_records([], RUBRIC, since=None, display_left={}, users={}) == PullPage(
        tasks=(), judgments=(), quarantined=(), skipped=0, cursor=None
    )


# -- the other readers -----------------------------------------------------------------------


def test_submitted_response_ids_are_the_live_ones() -> None:
    listed = records()
    expected = {
        r["id"] for record in listed for r in record["responses"] if r["status"] == "submitted"
    }
    assert parse.submitted_response_ids(listed) == expected
    assert len(expected) == 5


def test_external_ids_and_metadata_from_the_records_without_responses() -> None:
    plain = parse.record_list(recorded("records_without_responses.json"))
    assert "responses" not in plain[0]
    assert parse.external_ids(plain) == {f"t-recorded-{name}": i for name, i in KEYS.items()}
    ident, metadata = parse.record_state(plain[0])
    assert (ident, metadata) == (plain[0]["id"], {})  # recorded metadata is null
    kept = {"id": "r1", "metadata": {"category": "code"}}
    _, copied = parse.record_state(kept)
    copied["iaa_agreement_overall"] = 1.0
    assert kept["metadata"] == {"category": "code"}


def test_response_user_ids_are_those_of_submitted_responses() -> None:
    listed = records()
    ids = {username: ident for ident, username in USERS.items()}
    assert parse.response_user_ids(listed) == {
        ids["annotator1"],
        ids["annotator2"],
        ids["annotator3"],
    }
    assert parse.response_user_ids([None, {"responses": "x"}, {"responses": [1]}]) == set()


def test_dataset_activity() -> None:
    assert parse.dataset_activity({"last_activity_at": "2026-12-03T17:27:26.124093"}) == datetime(
        2026, 12, 3, 17, 27, 26, 124093, tzinfo=UTC
    )
    assert parse.dataset_activity({}) is None  # not said: the pull reads everything


# -- payload surprises -----------------------------------------------------------------------


PAGE_ERRORS: dict[str, tuple[Callable[[list[dict[str, Any]]], object], str | None, str]] = {
    "record is not an object": (
        lambda listed: listed.append([]),
        None,
        "a record is not an object (got list)",
    ),
    "record without id": (
        lambda listed: by_key(listed)["a"].pop("id"),
        None,
        "a record has no id (got None)",
    ),
    "record id of a wrong type": (
        lambda listed: by_key(listed)["a"].update(id=17),
        None,
        "a record has no id (got 17)",
    ),
    "record updated_at missing": (
        lambda listed: by_key(listed)["a"].pop("updated_at"),
        "a",
        "updated_at is not a timestamp (got None)",
    ),
    "record updated_at unreadable": (
        lambda listed: by_key(listed)["a"].update(updated_at="soon"),
        "a",
        "updated_at is not a timestamp (got 'soon')",
    ),
    "responses not a list": (
        lambda listed: by_key(listed)["a"].update(responses={"id": "x"}),
        "a",
        "responses is not a list (got dict)",
    ),
    "metadata not an object": (
        lambda listed: by_key(listed)["a"].update(metadata=["x"]),
        "a",
        "metadata is not an object (got list)",
    ),
    "response not an object": (
        lambda listed: by_key(listed)["a"]["responses"].append("submitted"),
        "a",
        "response 4 of the record is not an object (got str)",
    ),
    "response without id": (
        lambda listed: by_key(listed)["a"]["responses"][0].pop("id"),
        "a",
        "response 1 of the record has no id (got None); it can be neither quarantined nor told "
        "apart from a deleted one",
    ),
}


@pytest.mark.parametrize("case", sorted(PAGE_ERRORS))
def test_a_surprise_in_a_record_is_an_error_for_the_page(case: str) -> None:
    change, name, reason = PAGE_ERRORS[case]
    listed = records()
    change(listed)
    with pytest.raises(PayloadError) as caught:
        pull(listed)
    error = caught.value
    assert isinstance(error, PlatformError)
    assert error.platform == "argilla"
    assert not error.transient
    assert error.reason == reason
    assert error.task_id == (KEYS[name] if name else None)
    assert error.annotation_id is None
    where = f"task {KEYS[name]}: " if name else ""
    assert str(error) == f"argilla: {where}{reason}"


QUARANTINED: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "status missing": (lambda r: r.pop("status"), "status is not a string (got None)"),
    "status of a wrong type": (
        lambda r: r.update(status=1),
        "status is not a string (got 1)",
    ),
    "user_id missing": (
        lambda r: r.pop("user_id"),
        "user_id names no user (got None): whose judgment is unknown",
    ),
    "values not an object": (
        lambda r: r.update(values=["a"]),
        "values is not an object (got list)",
    ),
    "inserted_at unreadable": (
        lambda r: r.update(inserted_at="now"),
        "inserted_at is not a timestamp (got 'now')",
    ),
    "updated_at of a wrong type": (
        lambda r: r.update(updated_at=None),
        "updated_at is not a timestamp (got None)",
    ),
}


@pytest.mark.parametrize("case", sorted(QUARANTINED))
def test_a_surprise_in_one_response_quarantines_it_and_the_record_goes_on(case: str) -> None:
    change, reason = QUARANTINED[case]
    listed = records()
    broken = response("c", "annotator3", listed)
    change(broken)
    page = pull(listed)
    [held] = [q for q in page.quarantined if q.task_id == KEYS["c"]]
    assert (held.annotation_id, held.reason) == (broken["id"], reason)
    assert held.raw == broken
    assert judgments(page)["c", "annotator1", "overall"] == "both_bad"
    assert ("c", "annotator3", "overall") not in judgments(page)
    # kept live: a surprise is not a withdrawal
    assert broken["id"] in {t.task_id: t for t in page.tasks}[KEYS["c"]].annotation_ids
    assert len(page.judgments) == len(pull().judgments) - 2


def test_a_submitted_response_without_values_has_no_judgment() -> None:
    listed = records()
    empty = response("c", "annotator3", listed)
    empty["values"] = None
    page = pull(listed)
    assert not [j for j in page.judgments if j.annotation_id == empty["id"]]
    assert not [q for q in page.quarantined if q.annotation_id == empty["id"]]


def test_an_answer_that_is_not_an_object_is_read_as_its_value() -> None:
    listed = records()
    response("c", "annotator3", listed)["values"]["overall"] = "a"  # {"value": "a"} in 2.8
    assert judgments(pull(listed))["c", "annotator3", "overall"] == "b"


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: parse.record_list([]), r"the answer holds no list of items \(got null\)"),
        (lambda: parse.record_list({"items": None}), "the answer holds no list of items"),
        (lambda: parse.user_names({"detail": "x"}), "the users answer holds no list of items"),
        (lambda: parse.user_names({"items": [{"id": "u1"}]}), "a user has no id or username"),
        (lambda: parse.external_ids([{"external_id": "k"}]), "a record has no id"),
        (
            lambda: parse.submitted_response_ids([{"id": "r", "responses": [{}]}]),
            "response 1 of the record has no id",
        ),
        (
            lambda: parse.dataset_activity({"last_activity_at": 5}),
            "last_activity_at is not a timestamp",
        ),
        (
            lambda: parse.dataset_activity({"last_activity_at": "later"}),
            "last_activity_at is not a timestamp",
        ),
    ],
)
def test_surprises_in_the_other_answers_are_payload_errors(
    call: Callable[[], object], reason: str
) -> None:
    with pytest.raises(PayloadError, match=reason) as caught:
        call()
    assert caught.value.platform == "argilla"


def test_times_of_the_recordings_are_naive_utc() -> None:
    """argilla-server 2.8 sends times without an offset; they are UTC."""
    stamp = records()[0]["updated_at"]
    assert "+" not in stamp
    assert not stamp.endswith("Z")
    assert parse_timestamp(stamp) - datetime.fromisoformat(stamp).replace(tzinfo=UTC) == timedelta(
        0
    )
