"""Calibration batches: which items to push, in which roles, under which rubric version.

A batch is planned deterministically from its inputs, so planning it again gives the same batch
id (its idempotency key), the same opaque task keys and the same display sides: pushing the
same batch twice creates nothing new. Gold and re-test items are mixed in at the rubric's
rates and the order is shuffled by key, so nothing about a task's position or key says gold.

Task keys and display sides are an HMAC of (batch id, role, item) under this installation's
secret (:meth:`connector.store.Store.installation_secret`): someone who learns a batch id, an
item key or the rules here still cannot tell which task is gold or which side is which.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from connector.calibration.item import Item
from connector.errors import ConnectorError
from connector.rubric import Rubric

__all__ = [
    "BATCH_KINDS",
    "BatchError",
    "BatchKind",
    "BatchPlan",
    "PlannedTask",
    "plan_batch",
    "plan_retraining_batch",
]

BatchKind = Literal["production", "validation", "contentious", "gold"]
BATCH_KINDS: tuple[BatchKind, ...] = ("production", "validation", "contentious")
"""The kinds a user pushes; ``gold`` batches (retraining) are planned by the connector."""
Role = Literal["production", "gold", "retest", "contentious", "validation"]


class BatchError(ConnectorError, ValueError):
    """A batch cannot be planned as asked (the message says why and what to change)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedTask:
    """One task of a batch: opaque key, the item it shows, its role and the side shown left."""

    key: str
    item: Item
    role: Role
    display_left: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchPlan:
    batch_id: str
    project_key: str
    kind: BatchKind
    rubric_hash: str
    tasks: tuple[PlannedTask, ...]

    def count(self, role: Role) -> int:
        return sum(task.role == role for task in self.tasks)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def plan_batch(
    *,
    project_key: str,
    rubric: Rubric,
    kind: BatchKind,
    items: Sequence[Item],
    gold: Sequence[Item] = (),
    retest: Sequence[Item] = (),
    gold_usage: Mapping[str, int] | None = None,
    label: str = "",
    key_secret: str,
) -> BatchPlan:
    """Plan a batch of ``items`` plus gold at the rubric's share and re-tests at its share.

    Args:
        items: the batch's own items (production, contentious or validation items).
        gold: the gold items available; the least used (``gold_usage``) are taken first.
        retest: items already judged long enough ago to be shown again (re-test copies).
        label: distinguishes two batches of the same items (e.g. a date); part of the id.
        key_secret: the installation's secret that keys task keys and display sides.

    Raises:
        BatchError: no items; a validation batch outside the rubric's size range; repeated keys.
    """
    if not items:
        raise BatchError(f"batch for project {project_key!r} has no items")
    keys = [item.item_key for item in items]
    if len(set(keys)) != len(keys):
        raise BatchError(f"batch for project {project_key!r} repeats item keys")
    size = rubric.calibration.validation_batch_size
    if kind == "validation" and not size.min <= len(items) <= size.max:
        raise BatchError(
            f"a validation batch for {rubric.ref} needs {size.min}–{size.max} items; got "
            f"{len(items)}"
        )
    own_role: Role = kind  # every batch kind is also the role of its own items
    batch_id = "b-" + _digest(project_key, rubric.content_hash, kind, label, *sorted(keys))[:20]
    policy = rubric.calibration
    total = len(items) / max(1e-9, 1.0 - policy.gold_share - policy.retest_share)
    usage = gold_usage or {}
    gold_pool = sorted(
        (g for g in gold if g.item_key not in keys),
        key=lambda g: (usage.get(g.item_key, 0), _digest(batch_id, g.item_key)),
    )
    n_gold = max(1, round(policy.gold_share * total)) if policy.gold_share else 0
    chosen_gold = gold_pool[:n_gold]
    retest_pool = sorted(retest, key=lambda r: _digest(batch_id, "retest", r.item_key))
    chosen_retest = retest_pool[: round(policy.retest_share * total)]
    planned = [
        *(_task(key_secret, batch_id, item, own_role) for item in items),
        *(_task(key_secret, batch_id, item, "gold") for item in chosen_gold),
        *(_task(key_secret, batch_id, item, "retest") for item in chosen_retest),
    ]
    planned.sort(key=lambda task: task.key)
    return BatchPlan(
        batch_id=batch_id,
        project_key=project_key,
        kind=kind,
        rubric_hash=rubric.content_hash,
        tasks=tuple(planned),
    )


def plan_retraining_batch(
    *,
    project_key: str,
    rubric: Rubric,
    gold: Sequence[Item],
    ordinary: Sequence[Item],
    label: str,
    key_secret: str,
) -> BatchPlan:
    """A retraining batch: ``gold`` (the items that decide) mixed with re-test copies of
    ``ordinary`` items, so that gold is no larger a share of it than of any batch.

    Enough ordinary items are taken for the rubric's gold share (20 gold at 10 % take 180);
    with fewer available, all of them are (:attr:`BatchPlan.count` tells the share obtained).
    Shuffled by keyed task key like every batch: the block of new tasks is not all gold.

    Raises:
        BatchError: no gold items.
    """
    if not gold:
        raise BatchError(f"a retraining batch for project {project_key!r} needs gold items")
    gold_keys = {item.item_key for item in gold}
    share = rubric.calibration.gold_share or 1.0
    wanted = math.ceil(len(gold) * (1.0 - share) / share) if share < 1.0 else 0
    batch_id = "b-" + _digest(project_key, rubric.content_hash, "gold", label, *sorted(gold_keys))
    batch_id = batch_id[:22]
    pool = sorted(
        (item for item in ordinary if item.item_key not in gold_keys),
        key=lambda item: _digest(batch_id, "mix", item.item_key),
    )
    planned = [
        *(_task(key_secret, batch_id, item, "gold") for item in gold),
        *(_task(key_secret, batch_id, item, "retest") for item in pool[:wanted]),
    ]
    planned.sort(key=lambda task: task.key)
    return BatchPlan(
        batch_id=batch_id,
        project_key=project_key,
        kind="gold",
        rubric_hash=rubric.content_hash,
        tasks=tuple(planned),
    )


def _keyed(secret: str, *parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _task(secret: str, batch_id: str, item: Item, role: Role) -> PlannedTask:
    if not secret:
        raise BatchError("task keys need the installation's secret (Store.installation_secret)")
    key = "t-" + _keyed(secret, batch_id, role, item.item_key)[:24]
    side = "a" if int(_keyed(secret, key, "display"), 16) % 2 == 0 else "b"
    return PlannedTask(key=key, item=item, role=role, display_left=side)
