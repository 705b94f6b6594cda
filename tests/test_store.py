"""Tests of connector.store: migrations, idempotent writes, the canonical judgments frame.

Every test runs on a SQLite file in ``tmp_path`` and again on PostgreSQL (marker ``postgres``),
each test in a schema of its own that is dropped afterwards. The PostgreSQL database is the one
``IAA_TEST_POSTGRES_URL`` names (e.g. ``postgresql+psycopg://iaa@127.0.0.1:5432/iaa_test``), or
else a throw-away cluster that ``deploy/postgres/start.sh`` starts for the session (fixture
``postgres_url`` in conftest.py). ``-m "not postgres"`` runs the SQLite half only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.exc import DataError

import connector.store as store_module
from connector.errors import ConnectorError, OptionError
from connector.judgments import COLUMNS
from connector.rubric import load_rubric
from connector.store import (
    ApplyCounts,
    Batch,
    BatchItemPlan,
    GoldAnswer,
    ItemRow,
    JudgmentRow,
    QuarantineRow,
    RunCounts,
    StatusDecision,
    Store,
    StoreError,
    StoreRowError,
    TaskMapping,
)
from connector.store.events import NewWebhookEvent
from connector.store.migrate import head_revision
from connector.store.schema import metadata

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "label-studio:7"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _postgres_schema(base: str) -> Iterator[str]:
    """``base`` with ``search_path`` set to a new, empty schema, dropped afterwards."""
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


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'iaa.db'}"
    else:
        # only now, so that a SQLite-only run (-m "not postgres") starts no server
        yield from _postgres_schema(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened


def judgment(
    annotation: str,
    value: str | int | float,
    *,
    dimension: str = "overall",
    item: str = "item-1",
    annotator: str = "ann-1",
    updated: datetime | None = T0,
    **more: object,
) -> JudgmentRow:
    return JudgmentRow(
        platform_annotation_id=annotation,
        dimension=dimension,
        item_key=item,
        annotator=annotator,
        value=value,
        platform_updated_at=updated,
        submitted_at=T0,
        **more,  # type: ignore[arg-type]
    )


def values(store: Store, *, include_deleted: bool = False) -> dict[tuple[str, str], object]:
    frame = store.judgments_frame(PROJECT, include_deleted=include_deleted)
    keys = zip(frame["annotator"].tolist(), frame["dimension"].tolist(), strict=True)
    return dict(zip(keys, frame["value"].tolist(), strict=True))


# --- package ----------------------------------------------------------------------------------


def test_all_is_complete_and_sorted() -> None:
    public = {
        name
        for name, value in vars(store_module).items()
        if not name.startswith("_")
        and not isinstance(value, type(store_module))
        and name != "annotations"
    }
    # ruff's RUF022 order, as elsewhere in the package: CONSTANTS, Classes, functions
    order = sorted(store_module.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert store_module.__all__ == order
    assert set(store_module.__all__) == public


def test_errors_are_connector_errors() -> None:
    assert issubclass(StoreError, ConnectorError)
    assert issubclass(StoreError, RuntimeError)
    assert issubclass(StoreRowError, ConnectorError)
    assert issubclass(StoreRowError, ValueError)


# --- opening and migrations -------------------------------------------------------------------


def test_migrations_create_the_schema_on_an_empty_database_and_are_idempotent(
    store_url: str,
) -> None:
    with Store.open(store_url) as first:
        assert first.schema_revision() == head_revision() == "0005"
        tables = set(inspect(first.engine).get_table_names())
    assert tables == {*metadata.tables, "alembic_version"}
    with Store.open(store_url) as second:  # opening again migrates nothing and loses nothing
        assert second.schema_revision() == "0005"
        assert second.apply_judgments(PROJECT, [judgment("1", "a")]) == ApplyCounts(created=1)
    with Store.open(store_url) as third:
        assert values(third) == {("ann-1", "overall"): "a"}


def test_migrated_schema_matches_the_schema_module(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_open_without_migrate_leaves_the_database_empty(store_url: str) -> None:
    with Store.open(store_url, migrate=False) as opened:
        assert opened.schema_revision() is None
        assert inspect(opened.engine).get_table_names() == []


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(store: Store) -> None:
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_open_rejects_an_invalid_url() -> None:
    with pytest.raises(StoreError, match=r"invalid database URL; expected e\.g\. sqlite:///"):
        Store.open("not a url")


def test_open_rejects_an_unsupported_database() -> None:
    with pytest.raises(StoreError, match=r"database 'mysql' is not supported; use sqlite:///"):
        Store.open("mysql://user:secret@localhost/db")


@pytest.mark.parametrize("where", ["proc", "under_a_file", "below_a_file"])
def test_open_names_a_sqlite_directory_it_cannot_create(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    directory = {
        "proc": Path("/proc/nope"),
        "under_a_file": blocker,
        "below_a_file": blocker / "sub",
    }[where]
    with pytest.raises(StoreError) as raised:
        Store.open(f"sqlite:///{directory}/x.db")
    message = str(raised.value)
    assert message.startswith(f"cannot create the directory {directory} for the SQLite database")
    assert "create it" in message
    assert raised.value.operation == "open"
    assert "\n" not in message


def test_open_never_shows_the_password() -> None:
    url = "postgresql+psycopg://iaa:s3cret-pw@127.0.0.1:1/iaa"
    with pytest.raises(StoreError) as caught:
        Store.open(url)
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "iaa:***@127.0.0.1:1/iaa" in message
    assert caught.value.url is not None
    assert "s3cret-pw" not in caught.value.url


def test_url_and_repr_hide_the_password(tmp_path: Path) -> None:
    store = Store(create_engine("postgresql+psycopg://iaa:s3cret-pw@localhost/iaa"))
    assert store.url == "postgresql+psycopg://iaa:***@localhost/iaa"
    assert "s3cret-pw" not in repr(store)


# --- judgments ----------------------------------------------------------------------------------


def test_applying_the_same_judgments_twice_creates_then_changes_nothing(store: Store) -> None:
    rows = [judgment("1", "a"), judgment("1", 4, dimension="helpfulness"), judgment("2", "b")]
    assert store.apply_judgments(PROJECT, rows) == ApplyCounts(created=3)
    assert store.apply_judgments(PROJECT, rows) == ApplyCounts(unchanged=3)
    assert len(store.judgments_frame(PROJECT)) == 3


def test_execute_many_stores_what_sqlalchemys_executemany_stores(store: Store) -> None:
    """The lean bulk path and ``connection.execute(statement, rows)`` write identical rows:
    None, naive and offset datetimes, JSON strings, numbers and objects, booleans, floats."""
    from sqlalchemy import select

    from connector.store.bulk import execute_many, upsert
    from connector.store.schema import judgments

    plus2 = timezone(timedelta(hours=2))
    values_: list[object] = ["a", 3, 2.5, {"b": [1, "x"], "a": None}, 'ü "q"']
    rows = [
        {
            "project_key": project,
            "platform_annotation_id": str(i),
            "dimension": "overall",
            "item_key": f"item-{i}",
            "platform_task_id": None if i % 2 else str(i),
            "annotator": "ann-1",
            "value": value,
            "rubric_hash": None,
            "submitted_at": [T0, T0.replace(tzinfo=None), T0.astimezone(plus2), None][i % 4],
            "platform_updated_at": None if i == 0 else T0 + timedelta(microseconds=i),
            "lead_time_s": None if i % 3 else i / 7,
            "display_left": [None, "a", "b"][i % 3],
            "is_retest": bool(i % 2),
            "deleted_at": None,
            "first_seen_at": T0,
            "updated_at": T0,
        }
        for project in ("lean", "sqlalchemy")
        for i, value in enumerate(values_)
    ]
    with store.engine.begin() as connection:
        key = ["project_key", "platform_annotation_id", "dimension"]
        statement = upsert(connection, judgments, key=key)
        execute_many(connection, statement, [r for r in rows if r["project_key"] == "lean"])
        connection.execute(statement, [r for r in rows if r["project_key"] == "sqlalchemy"])
        raw = connection.exec_driver_sql(
            "SELECT project_key, platform_annotation_id, value, submitted_at, "
            "platform_updated_at, lead_time_s, display_left, is_retest, first_seen_at "
            "FROM judgments ORDER BY platform_annotation_id"
        ).all()
        typed = connection.execute(select(judgments.c.value, judgments.c.submitted_at)).all()
    lean = [tuple(r[1:]) for r in raw if r[0] == "lean"]
    assert lean == [tuple(r[1:]) for r in raw if r[0] == "sqlalchemy"]
    assert len(lean) == len(values_)

    def canonical(value: object) -> str:
        return json.dumps(value, sort_keys=True)

    assert sorted(canonical(v) for v, _ in typed) == sorted(map(canonical, values_ + values_))
    broken = [rows[0], {k: v for k, v in rows[1].items() if k != "item_key"}]
    with store.engine.begin() as connection:
        statement = upsert(connection, judgments, key=key)
        with pytest.raises(ValueError, match="'item_key'"):
            execute_many(connection, statement, broken)


def test_a_newer_update_replaces_and_an_older_one_is_ignored(store: Store) -> None:
    store.apply_judgments(PROJECT, [judgment("1", "a")])
    later = T0 + timedelta(minutes=5)
    assert store.apply_judgments(PROJECT, [judgment("1", "b", updated=later)]) == ApplyCounts(
        updated=1
    )
    assert values(store) == {("ann-1", "overall"): "b"}
    older = [judgment("1", "tie", updated=T0 + timedelta(minutes=1))]
    assert store.apply_judgments(PROJECT, older) == ApplyCounts(unchanged=1)
    undated = [judgment("1", "tie", updated=None)]  # no timestamp is older than any
    assert store.apply_judgments(PROJECT, undated) == ApplyCounts(unchanged=1)
    assert values(store) == {("ann-1", "overall"): "b"}


def test_the_same_timestamp_with_another_value_replaces(store: Store) -> None:
    store.apply_judgments(PROJECT, [judgment("1", "a")])
    assert store.apply_judgments(PROJECT, [judgment("1", "b")]) == ApplyCounts(updated=1)
    assert values(store) == {("ann-1", "overall"): "b"}


def test_timestamps_compare_across_time_zones(store: Store) -> None:
    store.apply_judgments(PROJECT, [judgment("1", "a")])
    # 13:30 at UTC+2 is 11:30 UTC, older than T0 (12:00 UTC)
    older = T0.astimezone(timezone(timedelta(hours=2))) - timedelta(minutes=30)
    assert store.apply_judgments(PROJECT, [judgment("1", "b", updated=older)]) == ApplyCounts(
        unchanged=1
    )
    naive_newer = (T0 + timedelta(seconds=1)).replace(tzinfo=None)  # naive is UTC
    assert store.apply_judgments(PROJECT, [judgment("1", "b", updated=naive_newer)]) == ApplyCounts(
        updated=1
    )


def test_a_key_repeated_in_one_call_counts_once_and_the_newest_wins(store: Store) -> None:
    rows = [
        judgment("1", "b", updated=T0 + timedelta(minutes=1)),
        judgment("1", "a", updated=T0),
    ]
    assert store.apply_judgments(PROJECT, rows) == ApplyCounts(created=1)
    assert values(store) == {("ann-1", "overall"): "b"}


def test_projects_are_separate(store: Store) -> None:
    store.apply_judgments(PROJECT, [judgment("1", "a")])
    assert store.apply_judgments("argilla:other", [judgment("1", "a")]) == ApplyCounts(created=1)
    assert len(store.judgments_frame("argilla:other")) == 1
    assert store.judgments_frame("nobody").empty


def test_a_delete_is_recorded_and_left_out_of_the_frame(store: Store) -> None:
    store.apply_judgments(
        PROJECT,
        [
            judgment("1", "a"),
            judgment("1", 3, dimension="helpfulness"),
            judgment("2", "b", annotator="ann-2"),
        ],
    )
    assert store.mark_deleted(PROJECT, ["1"], T0 + timedelta(hours=1)) == 2
    assert store.mark_deleted(PROJECT, ["1"], T0 + timedelta(hours=2)) == 0
    assert values(store) == {("ann-2", "overall"): "b"}
    assert len(store.judgments_frame(PROJECT, include_deleted=True)) == 3
    # an older version of a deleted annotation leaves it deleted
    older = judgment("1", "a", updated=T0 - timedelta(minutes=1))
    assert store.apply_judgments(PROJECT, [older]) == ApplyCounts(unchanged=1)
    with store.engine.connect() as connection:
        deleted_at = (
            connection.execute(
                text("SELECT deleted_at FROM judgments WHERE platform_annotation_id = '1'")
            )
            .scalars()
            .all()
        )
    assert len(deleted_at) == 2
    assert all(moment is not None for moment in deleted_at)
    # pulled again as it was, it is on the platform: the deletion was seen in error
    assert store.apply_judgments(PROJECT, [judgment("1", "a")]) == ApplyCounts(updated=1)
    assert values(store) == {("ann-1", "overall"): "a", ("ann-2", "overall"): "b"}
    assert store.apply_judgments(PROJECT, [judgment("1", "a")]) == ApplyCounts(unchanged=1)
    # a newer version (an Argilla response submitted again after a withdrawal) comes back
    store.mark_deleted(PROJECT, ["1"])
    counts = store.apply_judgments(PROJECT, [judgment("1", "b", updated=T0 + timedelta(days=1))])
    assert counts == ApplyCounts(updated=1)
    assert values(store) == {("ann-1", "overall"): "b", ("ann-2", "overall"): "b"}


def test_bulk_judgments_apply_and_reapply(store: Store) -> None:
    dimensions = ("overall", "helpfulness", "harmlessness")
    rows = [
        JudgmentRow(
            platform_annotation_id=str(n // 3),
            dimension=dimensions[n % 3],
            item_key=f"item-{n // 9}",
            annotator=f"ann-{(n // 3) % 3}",
            value="a" if n % 3 == 0 else (n % 5) + 1,
            platform_updated_at=T0,
            submitted_at=T0,
            lead_time_s=12.5,
        )
        for n in range(15_000)
    ]
    assert store.apply_judgments(PROJECT, rows) == ApplyCounts(created=15_000)
    assert store.apply_judgments(PROJECT, rows) == ApplyCounts(unchanged=15_000)
    changed = [dataclasses.replace(r, platform_updated_at=T0 + timedelta(1)) for r in rows[:100]]
    assert store.apply_judgments(PROJECT, changed) == ApplyCounts(updated=100)
    frame = store.judgments_frame(PROJECT)
    assert len(frame) == 15_000
    assert frame["item_id"].nunique() == math.ceil(15_000 / 9)


# --- the canonical frame ------------------------------------------------------------------------


def test_judgments_frame_has_the_canonical_columns_and_joined_values(store: Store) -> None:
    rubric = load_rubric(ROOT / "rubrics" / "rlhf-pairwise" / "v2.yaml")
    assert store.save_rubric(rubric) is True
    assert store.save_rubric(rubric) is False
    store.upsert_items(
        PROJECT,
        [ItemRow(item_key="item-1", category="coding", response_lengths={"a": 120, "b": 80})],
    )
    store.map_tasks(
        PROJECT,
        [
            TaskMapping(
                platform_task_id="t1",
                item_key="item-1",
                kind="gold",
                batch_id="b-1",
                display_left="b",
            )
        ],
    )
    store.set_gold(PROJECT, [GoldAnswer(item_key="item-1", dimension="overall", value="a")])
    store.apply_judgments(
        PROJECT,
        [
            judgment(
                "1", "a", platform_task_id="t1", rubric_hash=rubric.content_hash, lead_time_s=30.0
            ),
            judgment("1", 4, dimension="helpfulness", platform_task_id="t1", display_left="a"),
            judgment("1", 2.5, dimension="score", platform_task_id="t1"),
            judgment("1", "4", dimension="label"),
        ],
    )
    frame = store.judgments_frame(PROJECT)
    assert tuple(frame.columns) == COLUMNS
    assert str(frame["submitted_at"].dtype) == "datetime64[ns, UTC]"
    rows = {r["dimension"]: r for r in frame.to_dict("records")}
    overall = rows["overall"]
    assert overall["item_id"] == "item-1"
    assert overall["annotator"] == "ann-1"
    assert overall["value"] == "a"
    assert overall["category"] == "coding"
    assert overall["submitted_at"] == pd.Timestamp(T0)
    assert overall["rubric_version"] == "rlhf-pairwise@v2"
    assert overall["batch"] == "b-1"
    assert overall["lead_time_s"] == pytest.approx(30.0)
    assert overall["display_left"] == "b"  # from the task
    assert overall["gold_value"] == "a"
    assert overall["length_a"] == pytest.approx(120.0)
    assert overall["length_b"] == pytest.approx(80.0)
    assert rows["helpfulness"]["display_left"] == "a"  # the judgment's own wins
    assert rows["helpfulness"]["gold_value"] is None
    # values keep their types: int, float and a string that looks like a number
    assert type(rows["helpfulness"]["value"]) is int
    assert rows["helpfulness"]["value"] == 4
    assert type(rows["score"]["value"]) is float
    assert rows["score"]["value"] == pytest.approx(2.5)
    assert rows["label"]["value"] == "4"
    assert rows["label"]["rubric_version"] is None
    assert rows["label"]["batch"] is None
    assert math.isnan(rows["label"]["lead_time_s"])


def test_judgments_frame_gives_submission_times_in_utc(store: Store) -> None:
    moments = {
        "aware": T0.astimezone(timezone(timedelta(hours=-5))) + timedelta(microseconds=7),
        "naive": (T0 + timedelta(hours=1)).replace(tzinfo=None),  # naive is UTC
        "none": None,
    }
    store.apply_judgments(
        PROJECT,
        [
            dataclasses.replace(judgment(name, "a", annotator=name), submitted_at=moment)
            for name, moment in moments.items()
        ],
    )
    frame = store.judgments_frame(PROJECT).set_index("annotator")["submitted_at"]
    assert frame["aware"] == pd.Timestamp(T0 + timedelta(microseconds=7))
    assert frame["naive"] == pd.Timestamp(T0 + timedelta(hours=1))
    assert frame["none"] is pd.NaT


def test_parsed_json_scalars_are_shared_and_containers_are_not() -> None:
    from connector.store.columns import loads

    assert loads('"a"') == "a"
    assert loads("4") == 4
    assert type(loads("4.0")) is float
    first, second = loads('{"a":[1]}'), loads('{"a":[1]}')
    assert first == second
    assert first is not second
    first["a"].append(2)
    assert loads('{"a":[1]}') == {"a": [1]}


def test_judgments_frame_names_an_unknown_rubric_by_its_hash(store: Store) -> None:
    store.apply_judgments(PROJECT, [judgment("1", "a", rubric_hash="sha256:abc")])
    assert store.judgments_frame(PROJECT)["rubric_version"].tolist() == ["sha256:abc"]


def test_an_empty_frame_has_the_canonical_columns(store: Store) -> None:
    frame = store.judgments_frame(PROJECT)
    assert tuple(frame.columns) == COLUMNS
    assert frame.empty


def test_a_changed_rubric_under_the_same_version_is_refused(store: Store) -> None:
    rubric = load_rubric(ROOT / "rubrics" / "rlhf-pairwise" / "v2.yaml")
    store.save_rubric(rubric)
    edited = dataclasses.replace(rubric, content_hash="sha256:" + "0" * 64)
    with pytest.raises(
        StoreError, match=r"rubric rlhf-pairwise@v2 is stored with content hash sha256:"
    ):
        store.save_rubric(edited)


# --- items, tasks, gold -------------------------------------------------------------------------


def test_items_upsert_keeps_stored_fields_given_as_none(store: Store) -> None:
    store.upsert_items(PROJECT, [ItemRow(item_key="i", category="math", payload={"prompt": "2+2"})])
    assert (
        store.upsert_items(PROJECT, [ItemRow(item_key="i", response_lengths={"a": 1, "b": 2})]) == 1
    )
    store.apply_judgments(PROJECT, [judgment("1", "a", item="i")])
    row = store.judgments_frame(PROJECT).iloc[0]
    assert row["category"] == "math"
    assert row["length_b"] == pytest.approx(2.0)
    # the payload too: a sync mapping a new task of a pushed item must not erase its texts
    [item] = store.items_with_payload(PROJECT)
    assert (item.payload, item.response_lengths) == ({"prompt": "2+2"}, {"a": 1, "b": 2})


def test_an_item_without_payload_is_not_listed_as_having_one(store: Store) -> None:
    store.upsert_items(PROJECT, [ItemRow(item_key="i", category="math")])
    assert store.items_with_payload(PROJECT) == []


def test_gold_answers_round_trip_and_a_later_one_replaces(store: Store) -> None:
    store.set_gold(
        PROJECT,
        [
            GoldAnswer(item_key="i", dimension="overall", value="a"),
            GoldAnswer(item_key="i", dimension="helpfulness", value=5),
        ],
    )
    store.set_gold(
        PROJECT, [GoldAnswer(item_key="i", dimension="overall", value="b", source="adjudicated")]
    )
    gold = store.gold_for(PROJECT)
    assert gold[("i", "overall")] == GoldAnswer(
        item_key="i", dimension="overall", value="b", source="adjudicated"
    )
    assert gold[("i", "helpfulness")].value == 5
    assert store.gold_for("other") == {}


def test_rows_check_their_options_and_keys() -> None:
    with pytest.raises(OptionError, match=r"kind='prod' is not one of 'production', 'gold'"):
        TaskMapping(platform_task_id="t", item_key="i", kind="prod")
    with pytest.raises(OptionError, match=r"display_left='left' is not one of None, 'a', 'b'"):
        JudgmentRow(
            platform_annotation_id="1",
            dimension="d",
            item_key="i",
            annotator="u",
            value=1,
            display_left="left",
        )
    with pytest.raises(StoreRowError, match=r"item_key must be a non-empty string, got ''"):
        ItemRow(item_key="")
    with pytest.raises(StoreRowError, match=r"value must be a string or a number, got list"):
        GoldAnswer(item_key="i", dimension="d", value=[1])  # type: ignore[arg-type]
    with pytest.raises(StoreRowError, match=r"value must be a string or a number, got bool"):
        judgment("1", True)


# --- quarantine, cursors, runs ------------------------------------------------------------------


def test_quarantine_keeps_one_entry_per_annotation_and_reason(store: Store) -> None:
    entries = [
        QuarantineRow(
            platform_annotation_id="9", reason="value 'maybe' not in rubric", raw={"x": 1}
        ),
        QuarantineRow(
            platform_annotation_id="9", reason="no dimension 'tone'", platform_task_id="t"
        ),
    ]
    assert store.quarantine(PROJECT, entries) == 2
    assert store.quarantine(PROJECT, entries) == 0
    assert (
        store.quarantine(
            PROJECT, [*entries, dataclasses.replace(entries[0], platform_annotation_id="10")]
        )
        == 1
    )
    stored = store.quarantined(PROJECT)
    assert len(stored) == 3
    assert stored[0].raw == {"x": 1}


def test_cursor_round_trip(store: Store) -> None:
    assert store.get_cursor("label-studio", PROJECT) is None
    store.set_cursor("label-studio", PROJECT, "2024-05-01T12:00:00Z", full_reconcile_at=T0)
    store.set_cursor("label-studio", PROJECT, "2024-05-02T08:00:00Z")
    cursor = store.get_cursor("label-studio", PROJECT)
    assert cursor is not None
    assert cursor.cursor == "2024-05-02T08:00:00Z"
    assert cursor.last_full_reconcile_at == T0  # kept when not given
    assert cursor.updated_at.tzinfo is not None
    assert store.get_cursor("argilla", PROJECT) is None
    store.mark_reconciled("label-studio", PROJECT, T0 + timedelta(days=1))
    marked = store.get_cursor("label-studio", PROJECT)
    assert marked is not None
    assert (marked.cursor, marked.last_full_reconcile_at) == (
        "2024-05-02T08:00:00Z",  # the cursor is left alone
        T0 + timedelta(days=1),
    )
    store.mark_reconciled("argilla", PROJECT, T0)
    fresh = store.get_cursor("argilla", PROJECT)
    assert fresh is not None
    assert (fresh.cursor, fresh.last_full_reconcile_at) == (None, T0)


def test_sync_runs_record_their_counters(store: Store) -> None:
    run_id = store.start_run("label-studio", PROJECT, started_at=T0)
    running = store.get_run(run_id)
    assert running is not None
    assert running.finished_at is None
    assert running.counts == RunCounts()
    counts = RunCounts(pulled=10, created=7, updated=1, unchanged=1, deleted=1, quarantined=1)
    store.finish_run(
        run_id, counts, error="HTTP 502 from label studio", finished_at=T0 + timedelta(1)
    )
    done = store.get_run(run_id)
    assert done is not None
    assert done.counts == counts
    assert done.error == "HTTP 502 from label studio"
    assert done.finished_at == T0 + timedelta(1)
    assert [r.id for r in store.recent_runs(PROJECT)] == [run_id]
    with pytest.raises(StoreError, match=r"no sync run 999"):
        store.finish_run(999, counts)


def test_unfinished_runs_of_a_project_are_marked_abandoned(store: Store) -> None:
    from connector.store.runs import ABANDONED_RUN_ERROR

    killed = store.start_run("label-studio", PROJECT, started_at=T0)
    killed_too = store.start_run("label-studio", PROJECT, started_at=T0 + timedelta(hours=1))
    done = store.start_run("label-studio", PROJECT, started_at=T0)
    store.finish_run(done, RunCounts(pulled=3), finished_at=T0 + timedelta(minutes=1))
    other = store.start_run("label-studio", "label-studio:8", started_at=T0)
    at = T0 + timedelta(hours=2)

    assert store.abandon_unfinished_runs(PROJECT, at=at) == 2
    for run_id in (killed, killed_too):
        run = store.get_run(run_id)
        assert run is not None
        assert (run.finished_at, run.error) == (at, ABANDONED_RUN_ERROR)
    finished = store.get_run(done)
    assert finished is not None
    assert (finished.finished_at, finished.error) == (T0 + timedelta(minutes=1), None)
    untouched = store.get_run(other)  # another project's run may be going
    assert untouched is not None
    assert untouched.finished_at is None
    assert store.abandon_unfinished_runs(PROJECT) == 0


# --- batches ------------------------------------------------------------------------------------


def _plan() -> list[BatchItemPlan]:
    return [
        BatchItemPlan(item_key="g1", role="gold", position=0, payload_hash="h0"),
        BatchItemPlan(item_key="i7", role="retest", position=1, payload_hash="h1"),
    ]


def test_creating_the_same_batch_twice_makes_one_batch(store: Store) -> None:
    def create(plan: list[BatchItemPlan]) -> Batch:
        return store.create_batch(
            batch_id="cal-2024-05-01",
            project_key=PROJECT,
            kind="gold",
            rubric_hash="sha256:r",
            plan=plan,
            created_at=T0,
        )

    first = create(_plan())
    again = create(list(reversed(_plan())))  # the same plan in another order
    assert again == first
    assert first.n_tasks == 2
    assert first.status == "planned"
    assert [i.item_key for i in store.batch_items("cal-2024-05-01")] == ["g1", "i7"]
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM batches")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM batch_items")).scalar() == 2


def test_a_batch_id_with_another_plan_is_refused(store: Store) -> None:
    store.create_batch(
        batch_id="b", project_key=PROJECT, kind="gold", rubric_hash="h", plan=_plan()
    )
    with pytest.raises(StoreError, match=r"batch 'b' is stored with a different project, kind"):
        store.create_batch(
            batch_id="b", project_key=PROJECT, kind="gold", rubric_hash="h", plan=_plan()[:1]
        )


def test_repeated_positions_are_refused(store: Store) -> None:
    plan = [_plan()[0], dataclasses.replace(_plan()[1], position=0)]
    with pytest.raises(StoreRowError, match=r"batch 'b': positions \[0\] appear more than once"):
        store.create_batch(
            batch_id="b", project_key=PROJECT, kind="gold", rubric_hash="h", plan=plan
        )


def test_created_tasks_are_recorded_once_and_mapped_to_their_items(store: Store) -> None:
    store.create_batch(
        batch_id="b", project_key=PROJECT, kind="gold", rubric_hash="h", plan=_plan()
    )
    with pytest.raises(StoreError, match=r"batch 'b' has 2 planned task\(s\) not created yet"):
        store.mark_batch_pushed("b")
    store.record_task_created("b", 0, "101", display_left="b")
    store.record_task_created("b", 0, "101", display_left="b")  # a resumed push: no-op
    with pytest.raises(StoreError, match=r"position 0 already has platform task '101', not '102'"):
        store.record_task_created("b", 0, "102")
    with pytest.raises(StoreError, match=r"batch 'b' has no planned task at position 5"):
        store.record_task_created("b", 5, "105")
    pending = [i.position for i in store.batch_items("b") if i.platform_task_id is None]
    assert pending == [1]
    store.record_task_created("b", 1, "102")
    store.mark_batch_pushed("b", at=T0)
    batch = store.get_batch("b")
    assert batch is not None
    assert (batch.status, batch.pushed_at) == ("pushed", T0)
    store.apply_judgments(PROJECT, [judgment("1", "a", item="g1", platform_task_id="101")])
    row = store.judgments_frame(PROJECT).iloc[0]
    assert (row["batch"], row["display_left"]) == ("b", "b")


# --- reports, statuses, webhooks ----------------------------------------------------------------


def test_the_latest_report_is_the_newest(store: Store) -> None:
    assert store.latest_report(PROJECT) is None
    store.save_report(PROJECT, {"alpha": 0.7}, created_at=T0)
    newest = store.save_report(
        PROJECT,
        {"alpha": 0.81, "by": ["a", 1]},
        rubric_hash="h",
        html_path=Path("r.html"),
        created_at=T0 + timedelta(1),
    )
    report = store.latest_report(PROJECT)
    assert report is not None
    assert report.id == newest
    assert report.body == {"alpha": 0.81, "by": ["a", 1]}
    assert report.html_path == "r.html"


def test_status_history_gives_the_current_status(store: Store) -> None:
    decisions = [
        StatusDecision(annotator="ann-1", rubric_id="rp", status="candidate", decided_at=T0),
        StatusDecision(
            annotator="ann-1",
            rubric_id="rp",
            status="qualified",
            decided_at=T0 + timedelta(1),
            evidence={"gold_accuracy": 0.9, "n_gold": 25},
        ),
        StatusDecision(annotator="ann-2", rubric_id="rp", status="probation", decided_at=T0),
    ]
    assert [store.record_decisions(PROJECT, [d]) for d in decisions] == [1, 1, 1]
    assert store.record_decisions(PROJECT, [decisions[1]]) == 0
    current = store.current_statuses(PROJECT, "rp")
    assert {a: d.status for a, d in current.items()} == {"ann-1": "qualified", "ann-2": "probation"}
    assert current["ann-1"].evidence == {"gold_accuracy": 0.9, "n_gold": 25}
    history = store.status_history(PROJECT, "rp", annotator="ann-1")
    assert [d.status for d in history] == ["candidate", "qualified"]
    assert store.current_statuses(PROJECT, "other-rubric") == {}


def test_webhook_events_are_stored_once_and_processed(store: Store) -> None:
    payload = {"action": "ANNOTATION_CREATED", "annotation": {"id": 5}}
    assert store.add_webhook_event("e1", platform="label-studio", payload=payload, received_at=T0)
    assert not store.add_webhook_event("e1", platform="label-studio", payload=payload)
    store.add_webhook_event(
        "e2", platform="label-studio", payload={}, received_at=T0 + timedelta(1)
    )
    assert [e.event_id for e in store.pending_webhook_events()] == ["e1", "e2"]
    assert store.pending_webhook_events(limit=1)[0].payload == payload
    store.mark_event_processed("e1", error="timeout")
    failed = store.pending_webhook_events()[0]
    assert (failed.event_id, failed.attempts, failed.error) == ("e1", 1, "timeout")
    assert [e.event_id for e in store.pending_webhook_events(max_attempts=1)] == ["e2"]
    store.mark_event_processed("e1", at=T0)
    assert [e.event_id for e in store.pending_webhook_events()] == ["e2"]
    with pytest.raises(StoreError, match=r"no webhook event 'nope'"):
        store.mark_event_processed("nope")


def test_webhook_events_are_marked_in_batches(store: Store) -> None:
    ids = [f"e{i}" for i in range(1203)]  # more than one IN (...) chunk
    for event_id in ids:
        store.add_webhook_event(event_id, platform="argilla", payload={}, received_at=T0)
    assert store.mark_events_processed(ids[:3], error="timeout") == 3
    assert store.mark_events_processed([*ids[:1200], "unknown", ids[0]]) == 1200
    pending = store.pending_webhook_events(limit=10)
    assert [e.event_id for e in pending] == ids[1200:]
    assert store.mark_events_processed(ids[:2]) == 2  # processed stay processed: attempts count
    assert store.mark_events_processed([]) == 0


# --- lookups used by sync -----------------------------------------------------------------------


def test_task_mappings_round_trip(store: Store) -> None:
    mapping = TaskMapping(
        platform_task_id="t1", item_key="i", kind="retest", batch_id="b", display_left="a"
    )
    store.map_tasks(PROJECT, [mapping, TaskMapping(platform_task_id="t2", item_key="j")])
    store.map_tasks(PROJECT, [mapping])
    mappings = store.task_mappings(PROJECT)
    assert list(mappings) == ["t1", "t2"]
    assert mappings["t1"] == mapping
    assert store.task_mappings("other") == {}


def test_annotation_ids_by_task_leaves_out_deleted_judgments(store: Store) -> None:
    store.apply_judgments(
        PROJECT,
        [
            judgment("1", "a", platform_task_id="t1"),
            judgment("1", 3, dimension="helpfulness", platform_task_id="t1"),
            judgment("2", "b", platform_task_id="t1", annotator="ann-2"),
            judgment("3", "b", platform_task_id="t2"),
            judgment("4", "b"),  # no task
        ],
    )
    assert store.annotation_ids_by_task(PROJECT, None) == {"t1": {"1", "2"}, "t2": {"3"}}
    store.mark_deleted(PROJECT, ["2"])
    assert store.annotation_ids_by_task(PROJECT, ["t1", "t9"]) == {"t1": {"1"}}


def test_stores_opened_at_once_on_one_database_write_without_errors(store_url: str) -> None:
    """Replicas (here threads) migrate one after the other and queue their writes."""
    errors: list[BaseException] = []
    created: list[int] = []

    def replica(number: int) -> None:
        try:
            with Store.open(store_url) as opened:
                for call in range(5):
                    rows = [
                        judgment(f"r{number}-{call}-{n}", n % 3, annotator=f"ann-{n % 4}")
                        for n in range(90)
                    ]
                    created.append(opened.apply_judgments(PROJECT, rows).created)
                    opened.mark_deleted(PROJECT, [f"r{number}-{call}-0"])
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(created) == 4 * 5 * 90
    with Store.open(store_url) as opened:
        assert len(opened.judgments_frame(PROJECT)) == 4 * 5 * 89


def test_webhook_events_stored_together_answer_each(store: Store) -> None:
    """One transaction for several events: each says whether it is new, a repeat in the same
    batch or of a stored event is not, and all are stored with their fields."""
    store.add_webhook_event("old", platform="argilla", payload={}, received_at=T0)
    batch = [
        NewWebhookEvent(event_id=e, platform="argilla", payload={"n": i}, project_key="p")
        for i, e in enumerate(["a", "old", "b", "a"])
    ]
    assert store.add_webhook_events(batch) == [True, False, True, False]
    assert store.add_webhook_events([]) == []
    stored = {e.event_id: e for e in store.pending_webhook_events(10)}
    assert sorted(stored) == ["a", "b", "old"]
    first = stored["a"]
    assert (first.payload, first.project_key, first.attempts) == ({"n": 0}, "p", 0)
    assert stored["old"].payload == {}  # the repeat changed nothing


def test_webhook_intake_keeps_one_connection_and_recovers_from_a_failed_batch(
    store: Store,
) -> None:
    with store.webhook_intake() as intake:
        assert intake.add([NewWebhookEvent(event_id="a", platform="argilla", payload={})])
        bad = NewWebhookEvent(event_id=None, platform="argilla", payload={})  # type: ignore[arg-type]
        with pytest.raises(StoreError, match="storing webhook events failed"):
            intake.add([NewWebhookEvent(event_id="b", platform="argilla", payload={}), bad])
        # the failed transaction stored nothing, and the next one works
        assert intake.add([NewWebhookEvent(event_id="c", platform="argilla", payload={})])
    assert [e.event_id for e in store.pending_webhook_events(10)] == ["a", "c"]


def test_pending_webhook_projects(store: Store) -> None:
    assert store.pending_webhook_projects() == set()
    for event_id, project in [("a1", "a"), ("a2", "a"), ("b1", "b"), ("n1", None)]:
        store.add_webhook_event(event_id, platform="argilla", payload={}, project_key=project)
    assert store.pending_webhook_projects() == {"a", "b", None}
    store.mark_events_processed(["b1"])
    store.mark_event_processed("n1", error="timeout")
    assert store.pending_webhook_projects() == {"a", None}
    assert store.pending_webhook_projects(max_attempts=1) == {"a"}


def test_an_event_the_database_refuses_is_an_error_of_its_data(store: Store) -> None:
    """What the service's group commit relies on to write a failed batch again one event per
    transaction: PostgreSQL refuses a NUL character in an event's text as an error of the data
    (not an operational one: locked, unreachable); SQLite stores it."""
    event = NewWebhookEvent(event_id="nul", platform="label-studio", payload={"at": "a\u0000b"})
    if store.dialect == "sqlite":
        assert store.add_webhook_events([event]) == [True]
        return
    with pytest.raises(StoreError) as raised:
        store.add_webhook_events([event])
    assert isinstance(raised.value.__cause__, DataError)
    assert store.pending_webhook_events(10) == []


def test_webhook_intake_outlives_a_database_restart(store: Store) -> None:
    """The intake keeps its connection between transactions; when the server has dropped it
    (a restart), the next batch is written on a new one instead of failing."""
    if store.dialect != "postgresql":
        pytest.skip("a server that drops a connection: PostgreSQL")

    def event(event_id: str) -> NewWebhookEvent:
        return NewWebhookEvent(event_id=event_id, platform="argilla", payload={})

    with store.webhook_intake() as intake:
        assert intake.add([event("a")]) == [True]
        kept = intake._connection
        assert kept is not None
        with store.engine.begin() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(:pid)"),
                {"pid": kept.dbapi_connection.info.backend_pid},  # type: ignore[union-attr]
            )
        assert intake.add([event("b")]) == [True]
    assert [e.event_id for e in store.pending_webhook_events(10)] == ["a", "b"]
