"""Re-annotation of low-agreement items: push them again for more judgments.

An item whose agreement on any dimension (:func:`connector.report.build.item_agreements`, the
per-item figure written back to the platform) is below the project's threshold gets a new task
copy, for more annotators, in a calibration batch of kind ``contentious`` (mixed with gold at the
rubric's share like every batch). One decision, :func:`choose_reannotation`, says which items:

- below the threshold on at least one dimension (items with fewer than two judgments have no
  agreement and are not chosen);
- fewer judgments than the maximum per item, counting the copy about to be pushed: an item
  with ``max_judgments`` judgments, or ``max_judgments − 1`` and a copy to come, is at the
  maximum;
- no copy of an earlier round still unanswered (the same item is never pushed twice while it
  waits), not gold, and pushed by the connector (the store keeps the texts a new task needs).

The gold of a re-annotation batch follows the same rule (:func:`contested_gold`): only gold
items already shown and judged, whose agreement is below the threshold, and that are not at the
maximum nor waiting for an earlier copy. Every task of the batch then repeats a task the
annotators saw before, with a low agreement like the others; a gold item never shown before
would be the one new text of the batch, and an agreed gold item the one high-agreement copy (on
Label Studio Community every member reads every annotation and the agreement in task meta). With
no such gold item the batch has no gold (:mod:`tests.test_gold_secrecy_program`).

Each round is recorded (``reannotations`` table) before its batch is pushed, so a push that died
half-way is resumed by the next run, never planned afresh. Neither platform can give a task to
one annotator: a copy may be taken by someone who judged the item already (then it is their
re-test, :mod:`connector.report.build`), and on a Label Studio project that collects several
annotations per task one copy may bring more than one judgment.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pandas as pd

from connector.calibration.batch import BatchPlan
from connector.calibration.gold import load_gold
from connector.calibration.item import Item
from connector.calibration.push import PushResult, known_items, plan_push, push_batch
from connector.config import ProjectConfig
from connector.errors import ConnectorError
from connector.platforms.base import Platform
from connector.rubric import Rubric
from connector.store import ReannotationRow, Store

__all__ = [
    "ItemFigure",
    "ReannotationChoice",
    "ReannotationError",
    "ReannotationResult",
    "choose_reannotation",
    "contested_gold",
    "pending_items",
    "reannotate",
]


class ItemFigure(Protocol):
    """An item's agreement on one dimension (None below two judgments) and its judgments
    (:class:`connector.report.build.ItemAgreement`)."""

    @property
    def agreement(self) -> float | None: ...

    @property
    def n_judgments(self) -> int: ...


class ReannotationError(ConnectorError, ValueError):
    """A re-annotation cannot run as asked (the message says why and what to change)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReannotationChoice:
    """Which low-agreement items get a new copy, and why the others do not.

    Attributes:
        chosen: item → its agreements below the threshold (per dimension).
        n_judgments: item → its judgments (the most over its dimensions), for every low item.
        at_maximum, pending, gold, not_pushable: low items left out, and why (sorted keys).
    """

    chosen: Mapping[str, Mapping[str, float]]
    n_judgments: Mapping[str, int]
    at_maximum: tuple[str, ...]
    pending: tuple[str, ...]
    gold: tuple[str, ...]
    not_pushable: tuple[str, ...]

    @property
    def n_low(self) -> int:
        return len(self.n_judgments)


def _check_policy(below: float, max_judgments: int) -> None:
    if isinstance(below, bool) or not isinstance(below, int | float) or not 0 < below <= 1:
        raise ReannotationError(
            f"the re-annotation threshold must be an agreement in (0, 1], got {below!r}; "
            "items whose per-item agreement is below it get more judgments"
        )
    if isinstance(max_judgments, bool) or not isinstance(max_judgments, int) or max_judgments < 3:
        raise ReannotationError(
            f"the maximum judgments per item must be a whole number of at least 3, got "
            f"{max_judgments!r} (an item needs 2 judgments for an agreement and one more to "
            "change it)"
        )


def choose_reannotation(
    agreements: Mapping[str, Mapping[str, ItemFigure]],
    *,
    below: float,
    max_judgments: int,
    pending: Collection[str] = (),
    gold: Collection[str] = (),
    pushable: Collection[str] | None = None,
) -> ReannotationChoice:
    """Decide which items get a new copy (the rule of the module docstring).

    Args:
        agreements: per dimension and item, the item's agreement and judgments.
        below: items with an agreement strictly below this on some dimension are low.
        max_judgments: an item is pushed only while its judgments plus the new copy stay at or
            under this.
        pending: items whose copy from an earlier round has no judgment yet.
        gold: gold items (never re-annotated).
        pushable: items whose texts the store keeps; None for every item.

    Raises:
        ReannotationError: a threshold outside (0, 1] or a maximum below 3.
    """
    _check_policy(below, max_judgments)
    low: dict[str, dict[str, float]] = {}
    judged: dict[str, int] = {}
    for dimension, items in agreements.items():
        for item, figure in items.items():
            judged[item] = max(judged.get(item, 0), figure.n_judgments)
            if figure.agreement is not None and figure.agreement < below:
                low.setdefault(item, {})[dimension] = figure.agreement
    reasons: dict[str, list[str]] = {"gold": [], "pending": [], "not_pushable": [], "max": []}
    chosen: dict[str, Mapping[str, float]] = {}
    for item in sorted(low):
        if item in gold:
            reasons["gold"].append(item)
        elif item in pending:
            reasons["pending"].append(item)
        elif judged[item] + 1 > max_judgments:
            reasons["max"].append(item)
        elif pushable is not None and item not in pushable:
            reasons["not_pushable"].append(item)
        else:
            chosen[item] = low[item]
    return ReannotationChoice(
        chosen=chosen,
        n_judgments={item: judged[item] for item in low},
        at_maximum=tuple(reasons["max"]),
        pending=tuple(reasons["pending"]),
        gold=tuple(reasons["gold"]),
        not_pushable=tuple(reasons["not_pushable"]),
    )


def contested_gold(
    agreements: Mapping[str, Mapping[str, ItemFigure]],
    gold: Sequence[Item],
    *,
    below: float,
    max_judgments: int,
    pending: Collection[str] = (),
) -> list[Item]:
    """The gold items a re-annotation batch may mix in: those :func:`choose_reannotation`
    would choose if they were not gold (shown and judged, agreement below ``below``, under the
    maximum, no copy waiting), so that a gold copy reads like the batch's other copies."""
    keys = {item.item_key for item in gold}
    of_gold = {
        dimension: {item: figure for item, figure in items.items() if item in keys}
        for dimension, items in agreements.items()
    }
    choice = choose_reannotation(of_gold, below=below, max_judgments=max_judgments, pending=pending)
    return [item for item in gold if item.item_key in choice.chosen]


def pending_items(frame: pd.DataFrame, rounds: Collection[ReannotationRow]) -> set[str]:
    """Items with a re-annotation copy that holds no judgment yet (its task in the round's
    batch: ``frame``'s ``batch`` and ``item_id``)."""
    if not rounds:
        return set()
    answered: set[tuple[str, str]] = set()
    if not frame.empty:
        answered = set(
            zip(frame["batch"].astype(object), frame["item_id"].astype(str), strict=True)
        )
    return {row.item_key for row in rounds if (row.batch_id, row.item_key) not in answered}


def _pending_gold(
    store: Store, frame: pd.DataFrame, rounds: Collection[ReannotationRow]
) -> set[str]:
    """Gold items with a copy in an earlier round's batch that holds no judgment yet."""
    answered: set[tuple[str, str]] = set()
    if not frame.empty:
        answered = set(
            zip(frame["batch"].astype(object), frame["item_id"].astype(str), strict=True)
        )
    return {
        b.item_key
        for batch_id in {row.batch_id for row in rounds}
        for b in store.batch_items(batch_id)
        if b.role == "gold" and (batch_id, b.item_key) not in answered
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class ReannotationResult:
    """What a re-annotation run did: the round, its choice, and the push (None if none)."""

    round: int
    choice: ReannotationChoice
    resumed: bool
    plan: BatchPlan | None
    push: PushResult | None

    def describe(self) -> str:
        """One paragraph for the command line."""
        choice = self.choice
        lines = []
        if self.push is not None and self.plan is not None:
            how = "resumed" if self.resumed else "pushed"
            lines.append(
                f"round {self.round}: {len(choice.chosen)} item(s) {how} again for more "
                f"judgments in batch {self.push.batch_id} ({self.push.n_tasks} tasks with "
                f"{self.plan.count('gold')} gold, {self.plan.count('retest')} re-test; "
                f"{self.push.created} created, {self.push.already_present} already present)"
            )
        else:
            lines.append("no item to push again")
        left_out = [
            (choice.at_maximum, "at the maximum judgments per item"),
            (choice.pending, "waiting for a judgment of their earlier copy"),
            (choice.gold, "gold (never re-annotated)"),
            (choice.not_pushable, "not pushed by the connector (no texts in the store)"),
        ]
        lines.append(f"{choice.n_low} item(s) below the threshold on some dimension")
        for items, why in left_out:
            if items:
                shown = ", ".join(items[:5]) + (" …" if len(items) > 5 else "")
                lines.append(f"  {len(items)} left out, {why}: {shown}")
        return "\n".join(lines)


def reannotate(
    project: ProjectConfig,
    rubric: Rubric,
    *,
    store: Store,
    platform: Platform,
    frame: pd.DataFrame,
    agreements: Mapping[str, Mapping[str, ItemFigure]],
    below: float,
    max_judgments: int,
    now: datetime,
) -> ReannotationResult:
    """Push this round's low-agreement items again (or resume a round whose push died).

    Args:
        frame: the project's judgments (:meth:`Store.judgments_frame`).
        agreements: per dimension and item, the per-item agreement of ``frame``
            (:func:`connector.report.build.item_agreements`, the report's coding rule).

    Raises:
        ReannotationError: a threshold or maximum out of range.
        ConnectorError: the store, the platform or the gold file failed.
    """
    _check_policy(below, max_judgments)
    key = project.key
    gold = load_gold(project.gold, rubric) if project.gold else []
    rounds = store.reannotations(key)
    last = max((row.round for row in rounds), default=0)
    last_rows = [row for row in rounds if row.round == last]
    pending = pending_items(frame, rounds) | _pending_gold(store, frame, rounds)

    def mixed_gold(batch_id: str) -> list[Item]:
        stored = {b.item_key for b in store.batch_items(batch_id) if b.role == "gold"}
        if stored:  # a batch recorded before its push died keeps the gold it was planned with
            return [item for item in gold if item.item_key in stored]
        return contested_gold(
            agreements, gold, below=below, max_judgments=max_judgments, pending=pending
        )

    if last_rows:
        batch = store.get_batch(last_rows[0].batch_id)
        if batch is None or batch.status != "pushed":
            return _push_round(
                project, rubric, last, last_rows, store=store, platform=platform,
                gold=mixed_gold(last_rows[0].batch_id), now=now, resumed=True,
                choice=ReannotationChoice(
                    chosen={r.item_key: r.agreements for r in last_rows},
                    n_judgments={r.item_key: r.n_judgments for r in last_rows},
                    at_maximum=(), pending=(), gold=(), not_pushable=(),
                ),
            )  # fmt: skip
    choice = choose_reannotation(
        agreements,
        below=below,
        max_judgments=max_judgments,
        pending=pending,
        gold={item for item, _ in store.gold_for(key)} | {g.item_key for g in gold},
        pushable={item.item_key for item in known_items(store, key)},
    )
    if not choice.chosen:
        return ReannotationResult(round=last, choice=choice, resumed=False, plan=None, push=None)
    round_number = last + 1
    round_gold = contested_gold(
        agreements, gold, below=below, max_judgments=max_judgments, pending=pending
    )
    plan = _plan(store, key, rubric, round_number, list(choice.chosen), round_gold, now)
    rows = [
        ReannotationRow(
            round=round_number,
            item_key=item,
            batch_id=plan.batch_id,
            agreements={d: _rounded(a) for d, a in agreements.items()},
            n_judgments=choice.n_judgments[item],
        )
        for item, agreements in choice.chosen.items()
    ]
    store.record_reannotations(key, rows)
    return _push_round(
        project, rubric, round_number, rows, store=store, platform=platform, gold=round_gold,
        now=now, resumed=False, choice=choice,
    )  # fmt: skip


def _rounded(value: float) -> float:
    return round(value, 4) if math.isfinite(value) else value


def _plan(
    store: Store,
    key: str,
    rubric: Rubric,
    round_number: int,
    items: list[str],
    gold: list[Item],
    now: datetime,
) -> BatchPlan:
    texts = {item.item_key: item for item in known_items(store, key)}
    return plan_push(
        store,
        key,
        rubric,
        kind="contentious",
        items=[texts[item] for item in sorted(items)],
        gold=gold,
        label=f"reannotation-{round_number}",
        now=now,
    )


def _push_round(
    project: ProjectConfig,
    rubric: Rubric,
    round_number: int,
    rows: list[ReannotationRow],
    *,
    store: Store,
    platform: Platform,
    gold: list[Item],
    now: datetime,
    resumed: bool,
    choice: ReannotationChoice,
) -> ReannotationResult:
    plan = _plan(store, project.key, rubric, round_number, [r.item_key for r in rows], gold, now)
    if plan.batch_id != rows[0].batch_id:
        raise ReannotationError(
            f"re-annotation round {round_number} of project {project.key!r} was planned as batch "
            f"{rows[0].batch_id} but plans now as {plan.batch_id} (the rubric changed since?); "
            "push it under the rubric it was planned with, or record a new round"
        )
    platform.check_project(project.project_id, rubric)
    result = push_batch(plan, project, store=store, platform=platform)
    return ReannotationResult(
        round=round_number, choice=choice, resumed=resumed, plan=plan, push=result
    )
