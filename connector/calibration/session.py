"""Calibration sessions: the most contentious items in a discussion pack, and the lead's
binding rulings, optionally made gold under a new rubric version.

Which items (one owner: :func:`contentious_items`): items with a defined per-item agreement
(:func:`connector.report.build.item_agreements`, handed in by the caller) on a dimension,
never gold, taken lowest agreement first but spread: the (dimension, category) groups take turns,
each giving its next most contentious item, so one noisy category or dimension cannot fill the
session; an item appears once (for the first dimension that reaches it).

The confusion an item belongs to is its two most chosen values, in the rubric's order
(``a vs tie``); a three-way split lists all three.

Rulings (:func:`record_session_rulings`) go into the store's rulings with source
``calibration`` and the session id, beside the adjudication project's. With ``make_gold`` each
ruling is also a gold claim of source ``adjudicated`` set by the lead who ruled, through the
gold path (:func:`connector.calibration.gold.record_claims`: logged in ``gold_changes``; only
a gold author's claim is accepted), and only under a new rubric version: an item judged under
the project's current rubric version is refused, since its judges answered without the ruling.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from connector.calibration.adjudication import ItemFigures, gold_items, shown_judgments
from connector.calibration.gold import GoldClaim, record_claims
from connector.calibration.versions import current_judgments
from connector.errors import ConnectorError
from connector.platforms.adjudication import ShownJudgment
from connector.rubric import Dimension, Rubric, Value
from connector.store import GoldChangeRow, Ruling, Store

__all__ = [
    "ContentiousItem",
    "SessionChange",
    "SessionError",
    "SessionRuling",
    "confusion_of",
    "contentious_items",
    "record_session_rulings",
    "session_change",
    "session_pack",
]


class SessionError(ConnectorError, ValueError):
    """A calibration session's rulings cannot be recorded as given (the message says where)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentiousItem:
    item_key: str
    dimension: str
    category: str | None
    agreement: float
    n_judgments: int
    confusion: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRuling:
    """One line of a session's rulings file, its value matched to the rubric's."""

    item_key: str
    dimension: str
    value: Value
    reason: str
    ruled_by: str
    where: str


def confusion_of(values: Iterable[Value], dimension: Dimension) -> str:
    """``"a vs tie"``: the two most chosen values in the rubric's order (all that share the
    second place too); one value alone is that value."""
    counts = Counter(values)
    if not counts:
        return ""
    ranked = sorted(counts.values(), reverse=True)
    floor = ranked[1] if len(ranked) > 1 else ranked[0]
    chosen = [v for v in dimension.values if counts.get(v, 0) >= floor and counts.get(v, 0) > 0]
    return " vs ".join(str(v) for v in chosen)


def contentious_items(
    figures: ItemFigures,
    frame: pd.DataFrame,
    rubric: Rubric,
    *,
    size: int,
    exclude: Collection[str] = (),
) -> list[ContentiousItem]:
    """Up to ``size`` items, most contentious first, spread over dimensions and categories."""
    categories: dict[str, str | None] = {}
    if "category" in frame.columns:
        for item, category in zip(frame["item_id"], frame["category"], strict=True):
            categories.setdefault(str(item), None if pd.isna(category) else str(category))
    groups: dict[tuple[str, str], list[tuple[float, int, str]]] = {}
    for dimension, per_item in figures.items():
        for item, figure in per_item.items():
            if figure.agreement is None or item in exclude:
                continue
            group = (dimension, categories.get(item) or "")
            groups.setdefault(group, []).append((figure.agreement, -figure.n_judgments, item))
    queues = {group: sorted(found) for group, found in groups.items()}
    order = sorted(queues, key=lambda g: (queues[g][0], g))
    picked: list[ContentiousItem] = []
    taken: set[str] = set()
    while len(picked) < size and any(queues.values()):
        for group in order:
            queue = queues[group]
            while queue and queue[0][2] in taken:
                queue.pop(0)
            if not queue or len(picked) >= size:
                continue
            agreement, minus_n, item = queue.pop(0)
            asked = rubric.dimension(group[0])
            shown = shown_judgments(frame, item, asked.name)
            picked.append(
                ContentiousItem(
                    item_key=item,
                    dimension=asked.name,
                    category=categories.get(item),
                    agreement=agreement,
                    n_judgments=-minus_n,
                    confusion=confusion_of((j.value for j in shown), asked),
                )
            )
            taken.add(item)
    return picked


@dataclass(frozen=True, slots=True, kw_only=True)
class PackEntry:
    item: ContentiousItem
    prompt: str
    response_a: str
    response_b: str | None
    judgments: tuple[ShownJudgment, ...]
    question: str
    values: tuple[str, ...]


def session_pack(
    chosen: Sequence[ContentiousItem],
    frame: pd.DataFrame,
    rubric: Rubric,
    payloads: dict[str, dict[str, Any]],
) -> list[PackEntry]:
    """What the pack shows of each chosen item."""
    missing = "(not kept by the connector: the item was not pushed by it)"
    pairwise = any(d.kind == "preference" for d in rubric.dimensions)
    entries = []
    for item in chosen:
        payload = payloads.get(item.item_key, {})
        dimension = rubric.dimension(item.dimension)
        prompt, a, b = (payload.get(k) for k in ("prompt", "response_a", "response_b"))
        # a kept item without response_b rates one response; an item not kept is unknown
        pairwise_item = pairwise and not (payload and not isinstance(b, str))
        entries.append(
            PackEntry(
                item=item,
                prompt=prompt if isinstance(prompt, str) else missing,
                response_a=a if isinstance(a, str) else missing,
                response_b=b if isinstance(b, str) else (missing if pairwise_item else None),
                judgments=shown_judgments(frame, item.item_key, item.dimension),
                question=dimension.question,
                values=tuple(_value_text(dimension, v) for v in dimension.values),
            )
        )
    return entries


def _value_text(dimension: Dimension, value: Value) -> str:
    side = dimension.response_of(value)
    return f"{value} (response {side.upper()} is better)" if side else str(value)


def record_session_rulings(
    store: Store,
    project_key: str,
    rubric: Rubric,
    rulings: Sequence[SessionRuling],
    *,
    session_id: str,
    at: datetime,
    make_gold: bool = False,
    gold_authors: Collection[str] = (),
) -> list[GoldChangeRow]:
    """Store the session's rulings; with ``make_gold`` also claim them as gold. Returns the
    gold decisions logged now (accepted and refused).

    Raises:
        SessionError: a ruling without a reason or a ruler, a ruling on a gold item, or (with
            ``make_gold``) an item judged under the current rubric version (naming where).
    """
    gold = gold_items(store, project_key, rulings_made_gold=False)
    for ruling in rulings:
        empty = [n for n in ("reason", "ruled_by") if not getattr(ruling, n).strip()]
        if empty:
            raise SessionError(
                f"{ruling.where}: empty or missing {empty}; a session ruling needs item_id, "
                "dimension, value, reason and ruled_by"
            )
        if ruling.item_key in gold:
            raise SessionError(
                f"{ruling.where}: item {ruling.item_key!r} is a gold item; sessions rule on "
                "contested items, and a gold answer changes through the gold file or a gold "
                "author"
            )
    if make_gold:
        frame = store.judgments_frame(project_key)
        under_current = set(frame.loc[frame["rubric_version"] == rubric.ref, "item_id"])
        stale = sorted({r.item_key for r in rulings} & under_current)
        if stale:
            raise SessionError(
                f"--make-gold: item(s) {stale[:5]} were judged under {rubric.ref}, the project's "
                "current rubric; rulings become gold under a new rubric version: write the next "
                "version (with what the session decided), point the project's rubric at it, "
                "then record again"
            )
    store.record_rulings(
        project_key,
        [
            Ruling(
                item_key=r.item_key,
                dimension=r.dimension,
                value=r.value,
                reason=r.reason.strip(),
                ruled_by=r.ruled_by.strip(),
                ruled_at=at,
                source="calibration",
                source_ref=session_id,
            )
            for r in rulings
        ],
    )
    if not make_gold:
        return []
    claims = [
        GoldClaim(
            item_key=r.item_key,
            dimension=r.dimension,
            value=r.value,
            source="adjudicated",
            set_by=r.ruled_by.strip(),
            at=at,
        )
        for r in rulings
    ]
    return record_claims(store, project_key, claims, gold_authors=gold_authors)


def plan_session(
    store: Store,
    project_key: str,
    rubric: Rubric,
    *,
    figures: Callable[[pd.DataFrame, Rubric], ItemFigures],
    size: int,
) -> list[PackEntry]:
    """The pack's entries for a project: its ``size`` most contentious items, no gold;
    ``figures`` is :func:`connector.report.build.item_agreements`."""
    frame = current_judgments(store, project_key, rubric).current
    chosen = contentious_items(
        figures(frame, rubric), frame, rubric, size=size, exclude=gold_items(store, project_key)
    )
    payloads = {
        row.item_key: dict(row.payload or {}) for row in store.items_with_payload(project_key)
    }
    return session_pack(chosen, frame, rubric, payloads)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionChange:
    """Agreement on one dimension of a session's items before and after their re-annotation:
    the report's ``krippendorff_alpha`` entries (``value``, ``ci95``, ``no_interval``)."""

    dimension: str
    n_items: int
    before: Mapping[str, Any]
    after: Mapping[str, Any]

    @property
    def change(self) -> float | None:
        """After minus before (None when either is undefined); no interval: the two sides'
        intervals are shown, a paired interval is not computed."""
        a, b = self.after.get("value"), self.before.get("value")
        return None if a is None or b is None else float(a) - float(b)


def session_change(
    frame: pd.DataFrame,
    rubric: Rubric,
    *,
    items: Collection[str],
    batch: str,
    summarise: Callable[[pd.DataFrame, Rubric], Mapping[str, Any]],
) -> list[SessionChange]:
    """Alpha with its interval on the session's ``items`` re-annotated in ``batch``: their
    judgments outside the batch (before) against those in it (after), on the same items;
    ``summarise`` is :func:`connector.report.build.build_report`.

    Raises:
        SessionError: the batch holds no judgment of the session's items.
    """
    batches = frame["batch"].astype(object)
    again = frame[(batches == batch) & frame["item_id"].isin(list(items))]
    if again.empty:
        raise SessionError(
            f"batch {batch!r} holds no judgment of the session's {len(items)} ruled item(s); "
            "push them again as a batch (iaa-connector push PROJECT --items ... --label ...), "
            "let the team judge them, sync, then compare with that batch's id"
        )
    subset = set(again["item_id"])
    before_rows = frame[(batches != batch) & frame["item_id"].isin(list(subset))]
    before, after = summarise(before_rows, rubric), summarise(again, rubric)
    found = []
    for dimension in rubric.dimensions:
        was = before.get("dimensions", {}).get(dimension.name)
        now = after.get("dimensions", {}).get(dimension.name)
        if was is None or now is None:
            continue
        found.append(
            SessionChange(
                dimension=dimension.name,
                n_items=len(set(again.loc[again["dimension"] == dimension.name, "item_id"])),
                before=was["krippendorff_alpha"],
                after=now["krippendorff_alpha"],
            )
        )
    return found
