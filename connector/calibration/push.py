"""Push a planned calibration batch to the platform, idempotently and resumably.

The batch is recorded in the store (under its idempotency key) before any task is created;
each created task is recorded with its platform id as soon as it exists. Pushing the same batch
again, or resuming one that crashed half-way, creates only the tasks still missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from connector.calibration.batch import BatchKind, BatchPlan, plan_batch
from connector.calibration.gate import GateError
from connector.calibration.gold import GoldClaim, record_claims
from connector.calibration.item import Item
from connector.calibration.promotion import production_push_refusal
from connector.config import ProjectConfig
from connector.platforms.base import NewTask, Platform
from connector.rubric import Rubric
from connector.store import BatchItemPlan, ItemRow, Store
from connector.store.columns import utcnow

__all__ = [
    "PushResult",
    "gold_preference",
    "known_items",
    "plan_push",
    "push_batch",
    "retest_candidates",
    "task_key_secret",
]

# Tasks created after (batch creation − this) are candidates for "already pushed".
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class PushResult:
    batch_id: str
    n_tasks: int
    created: int
    already_present: int


def _payload_hash(task_key: str, prompt: str, a: str, b: str | None, side: str) -> str:
    body = json.dumps([task_key, prompt, a, b, side], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def task_key_secret(store: Store) -> str:
    """The installation's secret that keys opaque task keys (:mod:`connector.calibration.batch`)."""
    return store.installation_secret("task_keys")


def known_items(store: Store, project_key: str) -> list[Item]:
    """Items whose prompt and responses the store keeps (those the connector pushed)."""
    found = []
    for row in store.items_with_payload(project_key):
        payload = row.payload or {}
        prompt, response_a = payload.get("prompt"), payload.get("response_a")
        if not isinstance(prompt, str) or not isinstance(response_a, str):
            continue
        response_b = payload.get("response_b")
        found.append(
            Item(
                item_key=row.item_key,
                prompt=prompt,
                response_a=response_a,
                response_b=response_b if isinstance(response_b, str) else None,
                category=row.category,
                answers={},
            )
        )
    return found


def retest_candidates(
    store: Store,
    project_key: str,
    rubric: Rubric,
    *,
    now: datetime,
    exclude: Collection[str] = (),
) -> list[Item]:
    """Items a batch may show again as re-tests: pushed by the connector (their texts are
    kept), not gold, not in ``exclude``, and first judged at least the rubric's
    ``retest_delay_hours`` before ``now`` (so the first answer is not fresh in mind)."""
    frame = store.judgments_frame(project_key)
    if frame.empty:
        return []
    first = pd.to_datetime(frame["submitted_at"], utc=True).groupby(frame["item_id"]).min()
    cutoff = pd.Timestamp(now - timedelta(hours=rubric.calibration.retest_delay_hours))
    old = {str(item) for item, when in first.items() if pd.notna(when) and when <= cutoff}
    gold = {item for item, _ in store.gold_for(project_key)}
    return [
        item
        for item in known_items(store, project_key)
        if item.item_key in old and item.item_key not in gold and item.item_key not in exclude
    ]


def plan_push(
    store: Store,
    project_key: str,
    rubric: Rubric,
    *,
    kind: BatchKind,
    items: Sequence[Item],
    gold: Sequence[Item],
    label: str,
    now: datetime,
) -> BatchPlan:
    """Plan a batch a user pushes: ``items``, gold at the rubric's share, and re-tests of items
    first judged at least ``retest_delay_hours`` ago (:func:`retest_candidates`).

    Planning the same batch again (same items and label) gives the same plan: the re-tests and
    gold a stored batch chose are kept, not chosen afresh as time passes.

    Gold reads like the batch's own items (:func:`gold_preference`): a batch that repeats items
    already shown (a validation batch of a new rubric version on the old version's items) takes
    gold already shown, and a batch of new items gold never shown, where the gold file has
    such; otherwise the one fresh text, or the one repeat, of the batch would be the gold.

    Raises:
        GateError: a production batch under a version the validation gate has not let into
            production (:func:`connector.calibration.promotion.production_push_refusal`).
    """
    if kind == "production":
        refusal = production_push_refusal(store, project_key, rubric)
        if refusal is not None:
            raise GateError(refusal)
    secret = task_key_secret(store)

    gold_usage: dict[str, int] = {}

    def plan(retest: Sequence[Item], gold_pool: Sequence[Item] = gold) -> BatchPlan:
        return plan_batch(
            project_key=project_key,
            rubric=rubric,
            kind=kind,
            items=items,
            gold=gold_pool,
            retest=retest,
            gold_usage=gold_usage,
            label=label,
            key_secret=secret,
        )

    batch_id = plan(()).batch_id
    stored = store.batch_items(batch_id)
    known = {item.item_key: item for item in known_items(store, project_key)}
    if stored:
        chosen = {b.item_key for b in stored if b.role == "retest"}
        stored_gold = {b.item_key for b in stored if b.role == "gold"}
        return plan(
            [known[key] for key in sorted(chosen) if key in known],
            [g for g in gold if g.item_key in stored_gold],
        )
    own = {item.item_key for item in items}
    shown = {m.item_key for m in store.task_mappings(project_key).values()}
    usage = gold_preference([item.item_key for item in items], [g.item_key for g in gold], shown)
    gold_usage.update(usage)
    return plan(retest_candidates(store, project_key, rubric, now=now, exclude=own))


def gold_preference(
    items: Collection[str], gold: Collection[str], shown: Collection[str]
) -> dict[str, int]:
    """Gold item → 0 if a batch of ``items`` takes it first, 1 if only after those (the
    ``gold_usage`` of :func:`connector.calibration.batch.plan_batch`, least first).

    A batch whose items were all shown before prefers gold shown before; one whose items were
    none shown prefers gold never shown; a mixed batch has no preference."""
    repeated = sum(item in shown for item in items)
    if 0 < repeated < len(items):
        return dict.fromkeys(gold, 0)
    want_shown = repeated == len(items) and repeated > 0
    return {g: 0 if (g in shown) == want_shown else 1 for g in gold}


def push_batch(
    plan: BatchPlan, project: ProjectConfig, *, store: Store, platform: Platform
) -> PushResult:
    """Create the batch's tasks that do not exist yet; record everything in the store."""
    key = project.key
    items = {task.item.item_key: task.item for task in plan.tasks}
    store.upsert_items(
        key,
        [
            ItemRow(
                item_key=item.item_key,
                category=item.category,
                payload={
                    "prompt": item.prompt,
                    "response_a": item.response_a,
                    "response_b": item.response_b,
                },
                response_lengths={"a": float(len(item.response_a))}
                | ({"b": float(len(item.response_b))} if item.response_b is not None else {}),
            )
            for item in items.values()
        ],
    )
    now = utcnow()
    claims = [
        GoldClaim(
            item_key=task.item.item_key,
            dimension=name,
            value=value,
            source="file",
            set_by=f"file:{project.gold.name}" if project.gold else "file",
            at=now,
        )
        for task in plan.tasks
        if task.role == "gold"
        for name, value in task.item.answers.items()
    ]
    record_claims(store, key, claims, gold_authors=project.gold_authors)
    batch = store.create_batch(
        batch_id=plan.batch_id,
        project_key=key,
        kind=plan.kind,
        rubric_hash=plan.rubric_hash,
        plan=[
            BatchItemPlan(
                item_key=task.item.item_key,
                role=task.role,
                position=position,
                payload_hash=_payload_hash(
                    task.key,
                    task.item.prompt,
                    task.item.response_a,
                    task.item.response_b,
                    task.display_left,
                ),
            )
            for position, task in enumerate(plan.tasks)
        ],
    )
    recorded = {item.position for item in store.batch_items(plan.batch_id) if item.platform_task_id}
    missing = [(p, t) for p, t in enumerate(plan.tasks) if p not in recorded]
    created = 0
    if missing:
        new_tasks = [
            NewTask(
                key=task.key,
                prompt=task.item.prompt,
                response_a=task.item.response_a,
                response_b=task.item.response_b,
                display_left=task.display_left,
            )
            for _, task in missing
        ]
        ids = platform.create_tasks(
            project.project_id, new_tasks, created_after=batch.created_at - CLOCK_SLACK
        )
        for position, task in missing:
            store.record_task_created(
                plan.batch_id, position, ids[task.key], display_left=task.display_left
            )
        created = len(missing)
    store.mark_batch_pushed(plan.batch_id)
    return PushResult(
        batch_id=plan.batch_id,
        n_tasks=len(plan.tasks),
        created=created,
        already_present=len(plan.tasks) - created,
    )
