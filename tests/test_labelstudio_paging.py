"""The Label Studio adapter's keyset paging against a small local server that answers the Data
Manager's task query the way Label Studio 1.23.2 does, and then some.

What the fake keeps from the real server (``label_studio/data_manager/managers.py``): filters
on ``filter:tasks:updated_at``/``created_at`` (Datetime, only ``%Y-%m-%dT%H:%M:%S.%fZ``) and
``filter:tasks:id`` (Number), an ``and``/``or`` conjunction of items each optionally ANDed with a
``child_filter``, ordering by the FIRST ordering column only (the rest are ignored), numbered
pages (404 past the end). What it makes worse on purpose: tasks that tie on the ordering column
come back in a different random order on every request (the real server promises no order for
them either), and a hook changes tasks between two requests. The real-server test of the same
defect is ``test_keyset_reads_each_task_once_when_pages_of_tasks_share_one_updated_at`` in
test_labelstudio_server.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from localhost import QuietHandler, serving

from connector.platforms.base import NewTask, PlatformError, PullPage
from connector.platforms.label_studio import adapter
from connector.platforms.label_studio.adapter import LabelStudio
from connector.rubric import load_rubric

RUBRIC = load_rubric(Path(__file__).resolve().parents[1] / "rubrics" / "rlhf-pairwise" / "v1.yaml")
FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
PAGE = 5
#: more task requests than any correct read of these small projects needs
REQUEST_LIMIT = 200


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class FakeLabelStudio:
    """Tasks of project 1, the task queries received, and a hook run before each answer."""

    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    queries: list[dict[str, Any]] = field(default_factory=list)
    imports: int = 0
    hook: Callable[[int], None] | None = None  # called with the query's number (1, 2, ...)
    ignore_filters: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def add(self, updated: datetime, *, created: datetime | None = None) -> int:
        task_id = len(self.tasks) + 1
        self.tasks[task_id] = {
            "id": task_id,
            "data": {"key": f"k{task_id}", "prompt": f"p{task_id}"},
            "meta": {},
            "annotations": [],
            "created_at": (created or updated).strftime(FORMAT),
            "updated_at": updated.strftime(FORMAT),
        }
        return task_id

    def touch(self, task_id: int, moment: datetime) -> None:
        """The task changes on the server: its updated_at moves to ``moment``."""
        self.tasks[task_id]["updated_at"] = moment.strftime(FORMAT)

    # -- the Data Manager's query, as far as the adapter may use it ---------------------------

    def answer(self, params: dict[str, str]) -> tuple[int, Any]:
        query = json.loads(params.get("query") or "{}")
        self.queries.append(query)
        if len(self.queries) > REQUEST_LIMIT:
            return 400, {"detail": f"more than {REQUEST_LIMIT} task queries: the read never ends"}
        if self.hook is not None:
            self.hook(len(self.queries))
        tasks = list(self.tasks.values())
        filters = query.get("filters")
        if filters and not self.ignore_filters:
            try:
                lines = [[item, item.get("child_filter")] for item in filters["items"]]
                tests = [
                    [self._test(f) for f in line if f is not None] for line in lines
                ]  # a line is its item AND its child
            except ValueError as exc:
                return 500, {"detail": str(exc)}
            join = any if filters["conjunction"] == "or" else all
            tasks = [
                t for t in tasks if not tests or join(all(c(t) for c in line) for line in tests)
            ]
        ordering = query.get("ordering") or []
        self.rng.shuffle(tasks)  # ties: a new order on every request
        if ordering:  # only the first column counts, as in apply_ordering()
            column = ordering[0]
            name = column.lstrip("-").removeprefix("tasks:")
            tasks.sort(key=lambda t: t[name], reverse=column.startswith("-"))
        else:
            tasks.sort(key=lambda t: t["id"])
        page, size = int(params.get("page", 1)), int(params.get("page_size", 30))
        chunk = tasks[(page - 1) * size : page * size]
        if page > 1 and not chunk:
            return 404, {"detail": "Invalid page."}
        return 200, {"tasks": [dict(t) for t in chunk], "total": len(tasks)}

    @staticmethod
    def _test(spec: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
        name = spec["filter"].removeprefix("filter:tasks:")
        kind, operator, value = spec["type"], spec["operator"], spec["value"]
        if kind == "Datetime" and name in ("updated_at", "created_at"):
            bound: Any = datetime.strptime(value, FORMAT)  # what Label Studio does (500 else)

            def read(t: dict[str, Any]) -> Any:
                return datetime.strptime(t[name], FORMAT)
        elif kind == "Number" and name == "id":
            bound = float(value)

            def read(t: dict[str, Any]) -> Any:
                return t["id"]
        else:
            raise ValueError(f"the fake does not know {spec}")
        compare = {
            "greater": lambda x: x > bound,
            "less": lambda x: x < bound,
            "equal": lambda x: x == bound,
            "greater_or_equal": lambda x: x >= bound,
            "less_or_equal": lambda x: x <= bound,
        }[operator]
        return lambda t: bool(compare(read(t)))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeLabelStudio, LabelStudio]]:
    server = FakeLabelStudio()

    class Handler(QuietHandler):
        def _send(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if url.path == "/api/tasks/":
                self._send(*server.answer(params))
            elif url.path == "/api/projects/1/":
                self._send(200, {"id": 1, "maximum_annotations": 0, "description": ""})
            elif url.path == "/api/users/":
                self._send(200, [])
            else:
                self._send(404, {"detail": "Not found."})

        def do_POST(self) -> None:
            server.imports += 1
            self._send(400, {"detail": "this test expects no import"})

    monkeypatch.setattr(adapter, "PAGE_SIZE", PAGE)
    with serving(Handler) as url:
        yield server, LabelStudio(url, "legacy-token", retries=0)


def pull(platform: LabelStudio, since: datetime) -> list[PullPage]:
    return list(platform.pull("1", RUBRIC, since=since, display_left={}))


def read_ids(pages: Sequence[PullPage]) -> list[int]:
    return [int(task.task_id) for page in pages for task in page.tasks]


def assert_cursors_are_safe(pages: Sequence[PullPage], updated: dict[int, datetime]) -> None:
    """A page's cursor may be stored once the page is: every task updated at or before it (and
    after ``since``) must have been read by then. ``updated`` is each task's final time."""
    read: set[int] = set()
    last = None
    for page in pages:
        read.update(int(t.task_id) for t in page.tasks)
        if page.cursor is None:
            continue
        behind = {i for i, moment in updated.items() if moment <= page.cursor} - read
        assert not behind, f"cursor {page.cursor} stored before tasks {sorted(behind)} were read"
        assert last is None or page.cursor >= last
        last = page.cursor


def test_more_than_a_page_of_tasks_sharing_one_updated_at_is_read_once(
    fake: tuple[FakeLabelStudio, LabelStudio],
) -> None:
    server, platform = fake
    ids = [server.add(at(1)) for _ in range(4 * PAGE + 3)]  # one bulk update stamped them all
    pages = pull(platform, at(0))
    assert sorted(read_ids(pages)) == ids  # each task once
    assert pages[-1].cursor == at(1)
    assert_cursors_are_safe(pages, dict.fromkeys(ids, at(1)))
    assert len(server.queries) <= 2 * (len(ids) // PAGE + 2)


def test_ties_across_a_page_boundary_are_each_read_once(
    fake: tuple[FakeLabelStudio, LabelStudio],
) -> None:
    server, platform = fake
    times = [at(1), at(2), at(3), *[at(4)] * (PAGE + 2), at(5), at(6), *[at(7)] * PAGE, at(8)]
    ids = [server.add(moment) for moment in times]
    pages = pull(platform, at(0))
    assert sorted(read_ids(pages)) == ids
    assert_cursors_are_safe(pages, dict(zip(ids, times, strict=True)))
    assert pages[-1].cursor == at(8)


def test_tasks_of_one_instant_that_fill_exactly_one_page(
    fake: tuple[FakeLabelStudio, LabelStudio],
) -> None:
    server, platform = fake
    ids = [server.add(at(1)) for _ in range(PAGE)]
    pages = pull(platform, at(0))
    assert sorted(read_ids(pages)) == ids
    assert pages[-1].cursor == at(1)


def test_a_task_updated_while_paging_moves_to_the_end_and_is_read_at_its_new_time(
    fake: tuple[FakeLabelStudio, LabelStudio],
) -> None:
    server, platform = fake
    ids = [server.add(at(1 + i // 3)) for i in range(4 * PAGE)]  # ties of 3 across pages
    final = {i: at(1 + (i - 1) // 3) for i in ids}

    def annotate_some(query: int) -> None:
        if query == 2:  # after the first page: one task already read, one not yet read
            for task_id in (ids[0], ids[-1]):
                server.touch(task_id, at(100))
                final[task_id] = at(100)
        if query == 4:  # inside a tie read
            server.touch(ids[PAGE + 1], at(101))
            final[ids[PAGE + 1]] = at(101)

    server.hook = annotate_some
    pages = pull(platform, at(0))
    read = read_ids(pages)
    assert set(read) == set(ids)  # nothing lost
    # each task at its final version exactly once; an earlier version only if read before it moved
    versions = [(int(t.task_id), t.updated_at) for page in pages for t in page.tasks]
    assert len(versions) == len(set(versions))
    assert {(i, final[i]) for i in ids} <= set(versions)
    assert len(read) - len(ids) <= 2
    assert pages[-1].cursor == at(101)
    assert_cursors_are_safe(pages, final)


def test_nothing_changed_is_one_empty_answer(fake: tuple[FakeLabelStudio, LabelStudio]) -> None:
    server, platform = fake
    for _ in range(3):
        server.add(at(1))
    assert pull(platform, at(2)) == []
    assert len(server.queries) == 1


def test_an_instant_emptied_before_its_tie_read_is_left_for_its_new_time(
    fake: tuple[FakeLabelStudio, LabelStudio],
) -> None:
    server, platform = fake
    early = [server.add(at(1)) for _ in range(2)]
    tied = [server.add(at(2)) for _ in range(PAGE)]
    final = {**dict.fromkeys(early, at(1)), **dict.fromkeys(tied, at(50))}

    def move_the_instant(query: int) -> None:
        if query == 2:  # between the first page and the read of its last instant
            for task_id in tied:
                server.touch(task_id, at(50))

    server.hook = move_the_instant
    pages = pull(platform, at(0))
    assert sorted(read_ids(pages)) == early + tied  # the tie read found nothing; no stop
    assert all(t.updated_at == final[int(t.task_id)] for p in pages for t in p.tasks)
    assert_cursors_are_safe(pages, final)


def test_a_server_that_ignores_the_keyset_filter_is_an_error_not_an_endless_read(
    fake: tuple[FakeLabelStudio, LabelStudio],
) -> None:
    server, platform = fake
    for second in range(2 * PAGE):
        server.add(at(1 + second))
    server.ignore_filters = True
    with pytest.raises(PlatformError, match="did not move past") as caught:
        pull(platform, at(0))
    assert caught.value.platform == "label-studio"
    assert not caught.value.transient
    assert len(server.queries) < 10


def test_create_tasks_finds_keys_among_more_than_a_page_created_in_one_instant(
    fake: tuple[FakeLabelStudio, LabelStudio],
) -> None:
    """The other reader of the same keyset: a push matching what a crashed push created."""
    server, platform = fake
    ids = [server.add(at(1), created=at(1)) for _ in range(3 * PAGE + 1)]
    wanted = [
        NewTask(key=f"k{i}", prompt="p", response_a="x", response_b="y", display_left="a")
        for i in ids
    ]
    assert platform.create_tasks("1", wanted, created_after=at(0)) == {f"k{i}": str(i) for i in ids}
    assert server.imports == 0
    assert {q["ordering"][0] for q in server.queries} <= {"tasks:created_at", "tasks:id"}
