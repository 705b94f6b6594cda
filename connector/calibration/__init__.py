"""Calibration: the items judged, gold answers and who may set them, batch planning, the push.

- :mod:`~connector.calibration.item`   items files (a prompt with one or two responses)
- :mod:`~connector.calibration.gold`   gold files, and the one rule for who may set or change gold
- :mod:`~connector.calibration.batch`  deterministic batch plans (gold and re-tests mixed in,
  keyed task keys), retraining batches
- :mod:`~connector.calibration.push`   pushing a plan to the platform, idempotently and resumably
- :mod:`~connector.calibration.gate`   the validation gate of a rubric version;
  :mod:`~connector.calibration.comparison` the version comparison on matched items;
  :mod:`~connector.calibration.promotion` promotion, and the refusal of production pushes before

Imports run one way: item ← gold, batch ← push; none of them imports the sync or the service.
"""

from __future__ import annotations

from connector.calibration.batch import (
    BATCH_KINDS,
    BatchError,
    BatchKind,
    BatchPlan,
    PlannedTask,
    plan_batch,
    plan_retraining_batch,
)
from connector.calibration.gold import (
    GoldClaim,
    claims_from_items,
    judge_claims,
    load_gold,
    record_claims,
)
from connector.calibration.item import Item, ItemFileError, load_items
from connector.calibration.push import (
    PushResult,
    known_items,
    plan_push,
    push_batch,
    retest_candidates,
    task_key_secret,
)

__all__ = [
    "BATCH_KINDS",
    "BatchError",
    "BatchKind",
    "BatchPlan",
    "GoldClaim",
    "Item",
    "ItemFileError",
    "PlannedTask",
    "PushResult",
    "claims_from_items",
    "judge_claims",
    "known_items",
    "load_gold",
    "load_items",
    "plan_batch",
    "plan_push",
    "plan_retraining_batch",
    "push_batch",
    "record_claims",
    "retest_candidates",
    "task_key_secret",
]
