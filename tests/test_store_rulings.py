"""The adjudication queue and the rulings in the store (connector.store.rulings), on SQLite and
on PostgreSQL (``-m postgres``): queued once, rulings upserted by their source, the ruling in
force, values keeping their type, rows checked on construction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_store import store, store_url  # noqa: F401  (fixtures)

from connector.errors import OptionError
from connector.store import QueuedItem, Ruling, Store, StoreRowError

T = datetime(2026, 12, 2, 10, tzinfo=UTC)


def _queued(item: str, dimension: str = "overall") -> QueuedItem:
    return QueuedItem(
        item_key=item, dimension=dimension, task_key=f"adj-{item}-{dimension}", agreement=0.25,
        n_judgments=3,
    )  # fmt: skip


def _ruling(item: str, value: str | int, *, ref: str = "r1", at: datetime = T) -> Ruling:
    return Ruling(
        item_key=item, dimension="overall", value=value, reason="why", ruled_by="lead@x",
        ruled_at=at, source="adjudication", source_ref=ref,
    )  # fmt: skip


def test_an_item_and_dimension_is_queued_once(store: Store) -> None:  # noqa: F811
    assert store.queue_adjudications("p", [_queued("i1"), _queued("i2")]) == [
        "adj-i1-overall",
        "adj-i2-overall",
    ]
    assert store.queue_adjudications("p", [_queued("i1"), _queued("i1", "strength")]) == [
        "adj-i1-strength"
    ]
    assert store.queue_adjudications("other", [_queued("i1")]) == ["adj-i1-overall"]
    queued = store.adjudication_queue("p")
    assert [(q.item_key, q.dimension) for q in queued] == [
        ("i1", "overall"),
        ("i2", "overall"),
        ("i1", "strength"),
    ]
    assert all(q.platform_task_id is None and q.queued_at is not None for q in queued)
    store.record_adjudication_tasks("p", {"adj-i1-overall": "41"})
    by_key = {q.task_key: q for q in store.adjudication_queue("p")}
    assert by_key["adj-i1-overall"].platform_task_id == "41"
    assert by_key["adj-i2-overall"].platform_task_id is None
    assert by_key["adj-i1-overall"].agreement == 0.25


def test_rulings_are_upserted_by_source_and_the_latest_is_in_force(store: Store) -> None:  # noqa: F811
    later = datetime(2026, 12, 2, 12, tzinfo=UTC)
    store.record_rulings("p", [_ruling("i1", "a"), _ruling("i2", 4)])
    store.record_rulings("p", [_ruling("i1", "b")])  # the same answer, edited
    assert [(r.item_key, r.value) for r in store.ruling_log("p")] == [("i1", "b"), ("i2", 4)]
    assert isinstance(store.ruling_log("p")[1].value, int)  # a value keeps its type
    store.record_rulings("p", [_ruling("i1", "tie", ref="r2", at=later)])
    assert len(store.ruling_log("p")) == 3
    current = store.current_rulings("p")
    assert current[("i1", "overall")].value == "tie"
    assert current[("i1", "overall")].ruled_at == later
    assert store.ruling_log("other") == []


def test_a_ruling_row_is_checked() -> None:
    with pytest.raises(StoreRowError, match="ruling reason must be a non-empty string"):
        Ruling(
            item_key="i", dimension="d", value="a", reason=" ", ruled_by="x", ruled_at=T,
            source="adjudication", source_ref="1",
        )  # fmt: skip
    with pytest.raises(OptionError, match="source"):
        Ruling(
            item_key="i", dimension="d", value="a", reason="r", ruled_by="x", ruled_at=T,
            source="vote", source_ref="1",
        )  # fmt: skip
    with pytest.raises(StoreRowError, match="ruling value must be a string or a number"):
        Ruling(
            item_key="i", dimension="d", value=True, reason="r", ruled_by="x", ruled_at=T,
            source="adjudication", source_ref="1",
        )  # fmt: skip
