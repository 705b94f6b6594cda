"""connector.platforms.label_studio.parse, offline, on answers recorded from a real Label Studio
1.23.2 (tests/data/recorded/README.md says how): the task list the incremental pull reads, the
export snapshot the full pull reads, the task-only list the push reads, the users list.

The recorded project (rubric rlhf-pairwise v2: ``overall`` left/right/tie/both_bad, ``strength``
1..3; ``maximum_annotations`` 2) holds, by the task's key ``t-recorded-X``:

- a: annotator1 (left, 2); annotator2 (tie, changed to right, 3); annotator1 again (right, 1);
  annotator3 (both_bad), one over the maximum;
- b: annotator1 skipped; annotator2 and the admin saved drafts; annotator3 answered outside the
  rubric (``maybe``, rating 5, and a ``tone`` control the rubric does not have);
- c: ground truth by the admin (left), and annotator2 (left, 2);
- d: annotator2 (left, 3), annotator3 (right, 1); shown with response b on the left;
- e: no annotation (``data.item_id`` is ``item-e``);
- f: ground truth by annotator1 (right), and annotator3 (right, 1).

Malformed payloads are the recorded ones with one thing broken.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.platforms.base import PayloadError, PlatformError, PullPage
from connector.platforms.label_studio import parse
from connector.rubric import load_rubric

REPO = Path(__file__).resolve().parents[1]
RECORDED = REPO / "tests" / "data" / "recorded" / "label_studio"
RUBRIC = load_rubric(REPO / "rubrics" / "rlhf-pairwise" / "v2.yaml")
ADMIN, FIRST, SECOND, THIRD = (
    "admin@iaa.local",
    "annotator1@iaa.local",
    "annotator2@iaa.local",
    "annotator3@iaa.local",
)


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


PAGE = recorded("tasks_page.json")
SNAPSHOT = recorded("export_snapshot.json")
USERS = parse.user_names(recorded("users.json"))


def tasks(payload: Any = PAGE) -> list[dict[str, Any]]:
    """A fresh copy of the recorded tasks, to break one thing in."""
    return copy.deepcopy(parse.task_list(payload))


def by_key(listed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {task["data"]["key"].removeprefix("t-recorded-"): task for task in listed}


KEYS = {name: str(task["id"]) for name, task in by_key(tasks()).items()}


def pull(
    listed: list[dict[str, Any]] | None = None,
    *,
    gold_authors: tuple[str, ...] = (ADMIN,),
    maximum: int = 2,
    display_left: dict[str, str] | None = None,
) -> PullPage:
    return parse.parse_tasks(
        tasks() if listed is None else listed,
        RUBRIC,
        display_left={KEYS["d"]: "b"} if display_left is None else display_left,
        maximum_annotations=maximum,
        gold_authors=gold_authors,
        users=USERS,
    )


def judgments(page: PullPage) -> dict[tuple[str, str], Any]:
    """(annotator, dimension) → value, per task key."""
    return {
        (name, j.annotator, j.dimension): j.value
        for j in page.judgments
        for name, ident in KEYS.items()
        if ident == j.task_id
    }


def annotation(name: str, position: int, listed: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``position``-th annotation (creation order) of task ``name`` in ``listed``."""
    found = sorted(by_key(listed)[name]["annotations"], key=lambda a: a["created_at"])
    chosen: dict[str, Any] = found[position]
    return chosen


# -- the recordings --------------------------------------------------------------------------


def test_the_recordings_come_from_label_studio_1_23_2() -> None:
    assert recorded("version.json")["label-studio-os-package"]["version"] == "1.23.2"
    assert set(KEYS) == set("abcdef")
    assert USERS == {1: ADMIN, 2: FIRST, 3: SECOND, 4: THIRD}


# -- what a page of recorded tasks becomes ---------------------------------------------------


def test_a_recorded_page_becomes_judgments_quarantine_skips_and_claims() -> None:
    page = pull()
    assert judgments(page) == {
        ("a", FIRST, "overall"): "a",
        ("a", FIRST, "strength"): 2,
        ("a", SECOND, "overall"): "b",  # changed from tie: the latest version
        ("a", SECOND, "strength"): 3,
        ("c", SECOND, "overall"): "a",
        ("c", SECOND, "strength"): 2,
        ("d", SECOND, "overall"): "b",  # "left" on a task showing b on the left
        ("d", SECOND, "strength"): 3,
        ("d", THIRD, "overall"): "a",
        ("d", THIRD, "strength"): 1,
        ("f", FIRST, "overall"): "b",  # an annotator's own ground truth stays a judgment
        ("f", THIRD, "overall"): "b",
        ("f", THIRD, "strength"): 1,
    }
    assert page.skipped == 1  # annotator1's skip of b; drafts are not annotations
    assert page.cursor == max(t.updated_at for t in page.tasks)
    assert [t.task_id for t in page.tasks] == [str(t["id"]) for t in tasks()]


def test_every_judgment_keeps_its_annotations_ids_times_and_lead_time() -> None:
    page = pull()
    raw = annotation("a", 1, tasks())  # annotator2's, updated after it was made
    [overall] = [
        j for j in page.judgments if j.annotation_id == str(raw["id"]) and j.dimension == "overall"
    ]
    assert overall.task_id == KEYS["a"]
    assert overall.submitted_at == datetime.fromisoformat(raw["created_at"])
    assert overall.updated_at == datetime.fromisoformat(raw["updated_at"])
    assert overall.updated_at > overall.submitted_at  # type: ignore[operator]
    assert overall.updated_at.tzinfo == UTC
    assert overall.lead_time_s == 4.5


def test_a_second_annotation_by_one_user_and_one_over_the_maximum_are_quarantined() -> None:
    page = pull()
    listed = tasks()
    second, over = annotation("a", 2, listed), annotation("a", 3, listed)
    found = {(q.task_id, q.annotation_id): q for q in page.quarantined if q.task_id == KEYS["a"]}
    assert set(found) == {(KEYS["a"], str(second["id"])), (KEYS["a"], str(over["id"]))}
    assert found[KEYS["a"], str(second["id"])].reason == (
        f"a second annotation by {FIRST} on task {KEYS['a']}"
    )
    assert found[KEYS["a"], str(over["id"])].reason == "over the project's maximum_annotations (2)"
    assert found[KEYS["a"], str(over["id"])].raw == over  # the whole annotation, to look at
    # without a maximum, only the duplicate is held back
    relaxed = pull(maximum=0)
    assert {q.annotation_id for q in relaxed.quarantined if q.task_id == KEYS["a"]} == {
        str(second["id"])
    }
    assert judgments(relaxed)["a", THIRD, "overall"] == "both_bad"


def test_results_outside_the_rubric_are_quarantined_one_by_one() -> None:
    page = pull()
    outside = annotation("b", 1, tasks())
    found = [q for q in page.quarantined if q.task_id == KEYS["b"]]
    assert {q.annotation_id for q in found} == {str(outside["id"])}
    assert sorted(q.reason for q in found) == [
        "choice 'maybe' for 'overall' is not one of ['left', 'right', 'tie', 'both_bad']",
        "control 'tone' is not a dimension of rubric rlhf-pairwise@v2",
        "rating 5 for 'strength' is not one of [1, 2, 3]",
    ]
    assert {q.raw["from_name"] for q in found} == {"overall", "strength", "tone"}
    assert not [j for j in page.judgments if j.task_id == KEYS["b"]]


def test_skips_are_counted_and_drafts_ignored() -> None:
    listed = by_key(tasks())
    # the task list shows the reader's own drafts (the admin's); the snapshot lists draft ids
    assert [d["user"] for d in listed["b"]["drafts"]] == [ADMIN]
    assert len(by_key(tasks(SNAPSHOT))["b"]["drafts"]) == 2
    page = pull([listed["b"]])
    assert page.skipped == 1
    [seen] = page.tasks
    skipped = annotation("b", 0, tasks())
    assert skipped["was_cancelled"] is True
    # the skip is a live annotation (not a deletion); no draft is one
    assert seen.annotation_ids == tuple(str(a["id"]) for a in listed["b"]["annotations"])
    assert {str(d["id"]) for d in listed["b"]["drafts"]}.isdisjoint(seen.annotation_ids)


def test_ground_truth_by_a_gold_author_is_a_ruling_only() -> None:
    page = pull(gold_authors=(ADMIN,))
    seen = {t.task_id: t for t in page.tasks}
    [claim] = seen[KEYS["c"]].ground_truth
    assert (claim.author, dict(claim.values)) == (ADMIN, {"overall": "a"})
    assert claim.annotation_id == str(annotation("c", 0, tasks())["id"])
    assert not [j for j in page.judgments if j.annotator == ADMIN]
    # the same annotation is the admin's judgment when the admin is not a gold author
    open_page = pull(gold_authors=())
    assert judgments(open_page)["c", ADMIN, "overall"] == "a"
    assert [c.author for c in {t.task_id: t for t in open_page.tasks}[KEYS["c"]].ground_truth] == [
        ADMIN
    ]


def test_ground_truth_by_someone_else_is_a_claim_and_a_judgment() -> None:
    page = pull(gold_authors=(ADMIN,))
    [claim] = {t.task_id: t for t in page.tasks}[KEYS["f"]].ground_truth
    assert (claim.author, dict(claim.values)) == (FIRST, {"overall": "b"})
    assert judgments(page)["f", FIRST, "overall"] == "b"
    # named a gold author, annotator1's ground truth is no longer also a judgment
    ruled = pull(gold_authors=(ADMIN, FIRST))
    assert ("f", FIRST, "overall") not in judgments(ruled)


def test_ground_truth_keeps_only_the_values_that_fit_the_rubric() -> None:
    listed = tasks()
    truth = annotation("f", 0, listed)
    truth["result"] += [
        "not an object",
        {"from_name": "tone", "type": "choices", "value": {"choices": ["ok"]}},
        {"from_name": "strength", "type": "rating", "value": {"rating": 9}},
    ]
    [claim] = {t.task_id: t for t in pull(listed).tasks}[KEYS["f"]].ground_truth
    assert dict(claim.values) == {"overall": "b"}


def test_the_display_side_maps_left_and_right_back_to_a_and_b() -> None:
    shown_b_left = judgments(pull(display_left={KEYS["d"]: "b"}))
    shown_a_left = judgments(pull(display_left={}))
    assert (shown_b_left["d", SECOND, "overall"], shown_b_left["d", THIRD, "overall"]) == ("b", "a")
    assert (shown_a_left["d", SECOND, "overall"], shown_a_left["d", THIRD, "overall"]) == ("a", "b")
    assert shown_b_left["d", SECOND, "strength"] == shown_a_left["d", SECOND, "strength"] == 3
    seen = {t.task_id: t for t in pull(display_left={KEYS["d"]: "b"}).tasks}
    assert seen[KEYS["d"]].display_left == "b"
    assert seen[KEYS["a"]].display_left is None


def test_item_keys_come_from_item_id_or_the_task_id() -> None:
    seen = {t.task_id: t for t in pull().tasks}
    assert seen[KEYS["e"]].item_key == "item-e"
    assert seen[KEYS["a"]].item_key == f"ls-task-{KEYS['a']}"
    assert seen[KEYS["e"]].annotation_ids == ()


def test_the_snapshot_and_the_task_list_give_the_same_judgments() -> None:
    from_list, from_snapshot = pull(), pull(tasks(SNAPSHOT))
    assert set(from_snapshot.judgments) == set(from_list.judgments)

    def held(page: PullPage) -> list[tuple[str, str, str]]:
        return sorted((q.task_id, q.annotation_id, q.reason) for q in page.quarantined)

    assert held(from_snapshot) == held(from_list)
    assert from_snapshot.skipped == from_list.skipped
    # the snapshot holds only annotated tasks
    assert {t.task_id for t in from_list.tasks} - {t.task_id for t in from_snapshot.tasks} == {
        KEYS["e"]
    }


def test_an_empty_page() -> None:
    page = parse.parse_tasks([], RUBRIC, display_left={}, users={})
    assert page == PullPage(tasks=(), judgments=(), quarantined=(), skipped=0, cursor=None)
    assert parse.task_list({"tasks": [], "total": 0}) == []


# -- the other readers -----------------------------------------------------------------------


def test_annotation_ids_are_every_annotation_of_the_snapshot() -> None:
    expected = {str(a["id"]) for t in SNAPSHOT for a in t["annotations"]}
    assert parse.annotation_ids(tasks(SNAPSHOT)) == expected
    assert len(expected) == 12


def test_task_keys_from_the_task_only_list() -> None:
    only = recorded("tasks_task_only.json")
    assert "annotations" not in only["tasks"][0]
    assert parse.task_keys(parse.task_list(only)) == {
        f"t-recorded-{name}": ident for name, ident in KEYS.items()
    }


def test_task_state_is_a_copy_of_meta_and_data() -> None:
    task = tasks()[0]
    ident, meta, data = parse.task_state(task)
    assert (ident, meta, data) == (str(task["id"]), task["meta"], task["data"])
    data["iaa_agreement"] = 1.0
    assert "iaa_agreement" not in task["data"]
    assert parse.task_state({"id": 5}) == ("5", {}, {})


def test_task_number_and_moment_of_a_recorded_task() -> None:
    task = tasks()[0]
    assert parse.task_number(task) == task["id"]
    assert parse.task_moment(task, "created_at") == datetime.fromisoformat(task["created_at"])


def test_completed_by_ids_are_the_users_to_name() -> None:
    listed = tasks()
    assert parse.completed_by_ids(listed) == {1, 2, 3, 4}
    assert parse.completed_by_ids([None, {"annotations": "x"}, {"annotations": [7, {}]}]) == set()


def test_user_names_from_a_list_or_a_page() -> None:
    users = recorded("users.json")
    assert parse.user_names({"results": users}) == USERS
    assert parse.user_names([{"id": 9, "email": ""}]) == {9: "9"}


def test_unknown_users_are_named_by_their_id_and_objects_by_their_email() -> None:
    listed = tasks()
    annotation("d", 0, listed)["completed_by"] = 99
    annotation("d", 1, listed)["completed_by"] = {"id": 4, "email": "someone@example.org"}
    names = {j.annotator for j in pull(listed).judgments if j.task_id == KEYS["d"]}
    assert names == {"99", "someone@example.org"}


# -- payload surprises -----------------------------------------------------------------------


def _break_task(name: str, change: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    listed = tasks()
    change(by_key(listed)[name])
    return listed


PAGE_ERRORS = {
    "task is not an object": (
        lambda listed: listed.append("task 9"),
        None,
        "a task is not an object (got str)",
    ),
    "task without id": (
        lambda listed: by_key(listed)["a"].pop("id"),
        None,
        "a task has no id (got None)",
    ),
    "task id of a wrong type": (
        lambda listed: by_key(listed)["a"].update(id=True),
        None,
        "a task has no id (got True)",
    ),
    "updated_at missing": (
        lambda listed: by_key(listed)["a"].pop("updated_at"),
        "a",
        "updated_at is not a timestamp (got None)",
    ),
    "updated_at unreadable": (
        lambda listed: by_key(listed)["a"].update(updated_at="last Tuesday"),
        "a",
        "updated_at is not a timestamp (got 'last Tuesday')",
    ),
    "annotations not a list": (
        lambda listed: by_key(listed)["a"].update(annotations={"id": 1}),
        "a",
        "annotations is not a list (got dict)",
    ),
    "data not an object": (
        lambda listed: by_key(listed)["a"].update(data="prompt"),
        "a",
        "data is not an object (got str)",
    ),
    "meta not an object": (
        lambda listed: by_key(listed)["a"].update(meta=[1]),
        "a",
        "meta is not an object (got list)",
    ),
    "annotation not an object": (
        lambda listed: by_key(listed)["a"]["annotations"].append(17),
        "a",
        "annotation 5 of the task is not an object (got int)",
    ),
    "annotation without id": (
        lambda listed: by_key(listed)["a"]["annotations"][1].pop("id"),
        "a",
        "annotation 2 of the task has no id (got None); it can be neither quarantined nor told "
        "apart from a deleted one",
    ),
}


@pytest.mark.parametrize("case", sorted(PAGE_ERRORS))
def test_a_surprise_in_a_task_is_an_error_for_the_page(case: str) -> None:
    change, name, reason = PAGE_ERRORS[case]
    listed = tasks()
    change(listed)
    with pytest.raises(PayloadError) as caught:
        pull(listed)
    error = caught.value
    assert isinstance(error, PlatformError)
    assert error.platform == "label-studio"
    assert not error.transient  # asking again gets the same answer
    assert error.reason == reason
    assert error.task_id == (KEYS[name] if name else None)
    assert error.annotation_id is None
    where = f"task {KEYS[name]}: " if name else ""
    assert str(error) == f"label-studio: {where}{reason}"


QUARANTINED = {
    "completed_by missing": (
        lambda a: a.pop("completed_by"),
        "completed_by names no user (got None): whose judgment is unknown",
    ),
    "completed_by of a wrong type": (
        lambda a: a.update(completed_by=True),
        "completed_by names no user (got True): whose judgment is unknown",
    ),
    "completed_by object naming nobody": (
        lambda a: a.update(completed_by={"first_name": "x"}),
        "completed_by names no user (got {'first_name': 'x'}): whose judgment is unknown",
    ),
    "result not a list": (
        lambda a: a.update(result={"from_name": "overall"}),
        "result is not a list (got dict)",
    ),
    "result missing": (lambda a: a.pop("result"), "result is not a list (got null)"),
    "created_at unreadable": (
        lambda a: a.update(created_at="yesterday"),
        "created_at is not a timestamp (got 'yesterday')",
    ),
    "updated_at of a wrong type": (
        lambda a: a.update(updated_at=1764780000),
        "updated_at is not a timestamp (got 1764780000)",
    ),
}


@pytest.mark.parametrize("case", sorted(QUARANTINED))
def test_a_surprise_in_one_annotation_quarantines_it_and_the_task_goes_on(case: str) -> None:
    change, reason = QUARANTINED[case]
    listed = tasks()
    broken = annotation("d", 0, listed)  # annotator2's; annotator3's stays good
    change(broken)
    page = pull(listed)
    [held] = [q for q in page.quarantined if q.task_id == KEYS["d"]]
    assert (held.annotation_id, held.reason) == (str(broken["id"]), reason)
    assert held.raw == broken
    assert judgments(page)["d", THIRD, "overall"] == "a"
    assert ("d", SECOND, "overall") not in judgments(page)
    assert str(broken["id"]) in {t.task_id: t for t in page.tasks}[KEYS["d"]].annotation_ids
    # the rest of the page is as it was
    assert len(page.judgments) == len(pull().judgments) - 2


def test_a_result_that_is_not_an_object_is_quarantined_alone() -> None:
    listed = tasks()
    broken = annotation("d", 0, listed)
    broken["result"].insert(0, ["overall", "left"])
    page = pull(listed)
    [held] = [q for q in page.quarantined if q.task_id == KEYS["d"]]
    assert (held.annotation_id, held.reason) == (
        str(broken["id"]),
        "result 1 is not an object (got list)",
    )
    assert held.raw == {"result": ["overall", "left"]}
    assert judgments(page)["d", SECOND, "overall"] == "b"  # its other results go on


def test_a_result_without_from_name_is_not_a_dimension() -> None:
    listed = tasks()
    annotation("d", 0, listed)["result"][0].pop("from_name")
    [held] = [q for q in pull(listed).quarantined if q.task_id == KEYS["d"]]
    assert held.reason == "control 'None' is not a dimension of rubric rlhf-pairwise@v2"


def test_a_cancelled_annotation_needs_no_author_or_result() -> None:
    listed = tasks()
    skipped = annotation("b", 0, listed)
    skipped.pop("completed_by")
    skipped["result"] = None
    page = pull(listed)
    assert page.skipped == 1
    assert str(skipped["id"]) not in {q.annotation_id for q in page.quarantined}


def test_an_annotation_without_times_takes_its_tasks_time_and_odd_lead_times_are_dropped() -> None:
    listed = tasks()
    bare = annotation("d", 0, listed)
    del bare["created_at"], bare["updated_at"]
    bare["lead_time"] = True
    [overall] = [
        j
        for j in pull(listed).judgments
        if j.annotation_id == str(bare["id"]) and j.dimension == "overall"
    ]
    assert overall.submitted_at is None
    assert overall.updated_at == datetime.fromisoformat(by_key(listed)["d"]["updated_at"])
    assert overall.lead_time_s is None


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: parse.task_list({"detail": "Invalid page."}), "the answer holds no list of tasks"),
        (lambda: parse.task_list(None), r"the answer holds no list of tasks \(got null\)"),
        (lambda: parse.user_names({"detail": "x"}), "the users answer is not a list"),
        (lambda: parse.user_names([{"email": "x@y"}]), "a user has no id"),
        (lambda: parse.task_number({"id": "abc"}), "id 'abc' is not a whole number"),
        (lambda: parse.annotation_ids([{"id": 1, "annotations": [{}]}]), "has no id"),
        (lambda: parse.task_keys([{"id": 1, "data": []}]), "data is not an object"),
    ],
)
def test_surprises_in_the_other_answers_are_payload_errors(
    call: Callable[[], object], reason: str
) -> None:
    with pytest.raises(PayloadError, match=reason) as caught:
        call()
    assert caught.value.platform == "label-studio"
