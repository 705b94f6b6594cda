"""Gold items: items whose expected answers the connector knows and annotators do not.

Gold answers live only in the connector's store. On the platform a gold item is an ordinary
task carrying an opaque key: nothing in its data, meta or predictions says it is gold or what
its answer is. A gold file (``rubrics/<id>/gold.jsonl``) is an items file (see
:mod:`connector.calibration.item`) in which every item has ``answers``.

Who may set gold (one owner: :func:`judge_claims`)
--------------------------------------------------
A *claim* says "item X's answer on dimension D is V"; it comes from the gold file or from a
ground-truth annotation on the platform. In Label Studio Community any member may mark an
annotation as ground truth, so:

- a platform claim counts only when its author is one of the project's ``gold_authors``; anyone
  else's is refused and logged (their annotation stays an ordinary judgment of theirs);
- a claim equal to the current answer changes nothing;
- a gold author may set a new answer or change one (logged, and every annotator who judged the
  item is re-scored);
- a calibration session's ruling made gold (source ``adjudicated``,
  :mod:`connector.calibration.session`) counts only when the lead who ruled is a gold author;
- the gold file may add answers and change answers that came from the file (an edited file);
  where a gold author's ruling on the platform differs from the file, the ruling stands and the
  conflict is logged and alerted, so a gold answer never changes silently.

Every decision, accepted or refused, is a :class:`~connector.store.GoldChangeRow` in the gold
log with who asked and when.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from connector.calibration.item import Item, load_items
from connector.rubric import Rubric, Value
from connector.store import GoldAnswer, GoldChangeRow, Store

__all__ = ["GoldClaim", "claims_from_items", "judge_claims", "load_gold", "record_claims"]

ClaimSource = Literal["file", "platform_ground_truth", "adjudicated"]


def load_gold(path: str | Path, rubric: Rubric) -> list[Item]:
    """Read a gold file; every item must carry answers valid under the rubric."""
    return load_items(path, rubric, require_answers=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldClaim:
    """Someone says ``item_key``'s answer on ``dimension`` is ``value``."""

    item_key: str
    dimension: str
    value: Value
    source: ClaimSource
    set_by: str  # a platform user, or "file:<path>"
    at: datetime
    annotation_id: str | None = None


def claims_from_items(items: Iterable[Item], *, set_by: str, at: datetime) -> list[GoldClaim]:
    """The gold file's claims: every answer of every item."""
    return [
        GoldClaim(
            item_key=item.item_key,
            dimension=name,
            value=value,
            source="file",
            set_by=set_by,
            at=at,
        )
        for item in items
        for name, value in item.answers.items()
    ]


def _fingerprint(*parts: object) -> str:
    body = json.dumps([str(p) for p in parts], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()[:40]


def _row(
    claim: GoldClaim, old: Value | None, *, accepted: bool, reason: str, fingerprint: str
) -> GoldChangeRow:
    return GoldChangeRow(
        fingerprint=fingerprint,
        item_key=claim.item_key,
        dimension=claim.dimension,
        old_value=old,
        new_value=claim.value,
        source=claim.source,
        set_by=claim.set_by,
        platform_annotation_id=claim.annotation_id,
        accepted=accepted,
        reason=reason,
        at=claim.at,
    )


def judge_claims(
    current: Mapping[tuple[str, str], GoldAnswer],
    claims: Iterable[GoldClaim],
    *,
    gold_authors: Collection[str],
) -> list[GoldChangeRow]:
    """The gold log rows that ``claims`` make against the ``current`` answers (oldest claim
    first; a claim sees the answers the earlier ones set). See the module docstring."""
    held = dict(current)
    rows: list[GoldChangeRow] = []
    for claim in sorted(claims, key=lambda c: (c.at, c.item_key, c.dimension, c.set_by)):
        key = (claim.item_key, claim.dimension)
        answer = held.get(key)
        old = None if answer is None else answer.value
        if answer is not None and old == claim.value:
            continue
        if claim.source != "file" and claim.set_by not in gold_authors:
            reason = (
                f"ground truth set by {claim.set_by}, who is not a gold author of this project "
                "(gold_authors): kept as their judgment, not gold"
                if claim.source == "platform_ground_truth"
                else f"a calibration ruling by {claim.set_by}, who is not a gold author of this "
                "project (gold_authors): kept as a ruling, not gold"
            )
            fingerprint = _fingerprint(
                "refused", *key, claim.value, claim.set_by, claim.annotation_id
            )
            rows.append(_row(claim, old, accepted=False, reason=reason, fingerprint=fingerprint))
            continue
        if answer is not None and claim.source == "file" and answer.source != "file":
            reason = (
                f"the gold file says {claim.value!r} but gold author {answer.set_by} set {old!r} "
                f"on the platform; {old!r} is kept: make the two agree"
            )
            fingerprint = _fingerprint("conflict", *key, claim.value, old, answer.set_by)
            rows.append(_row(claim, old, accepted=False, reason=reason, fingerprint=fingerprint))
            continue
        if answer is None:
            reason = f"new gold answer from {claim.set_by}"
        elif claim.source == "file":
            reason = f"the gold file changed the answer from {old!r}"
        else:
            reason = f"gold author {claim.set_by} changed the answer from {old!r}"
        fingerprint = _fingerprint("set", *key, old, claim.value, claim.at.isoformat())
        rows.append(_row(claim, old, accepted=True, reason=reason, fingerprint=fingerprint))
        held[key] = GoldAnswer(
            item_key=claim.item_key,
            dimension=claim.dimension,
            value=claim.value,
            source=claim.source,
            set_by=claim.set_by,
        )
    return rows


def record_claims(
    store: Store, project_key: str, claims: Sequence[GoldClaim], *, gold_authors: Collection[str]
) -> list[GoldChangeRow]:
    """Judge ``claims`` against the stored gold and record the decisions; return those logged
    now (the same claim twice is logged once)."""
    if not claims:
        return []
    rows = judge_claims(store.gold_for(project_key), claims, gold_authors=gold_authors)
    return store.record_gold_changes(project_key, rows)
