"""Promoting a rubric version to production for a project, and the rule that refuses production
pushes until then (one owner: :func:`production_push_refusal`; the gate's decision itself is
:mod:`connector.calibration.gate`'s).

A promoted version may push production; a version with a validation batch that is not promoted
may not; a version without a validation batch may when it is the project's first (no batch
pushed and no judgment synced under another version: an install that predates the gate keeps
working) or when production batches were already pushed under it (before the gate existed); a
new version after another one must go through a validation batch and ``iaa-connector rubric
promote`` first.

The version a new one replaces (:func:`previous_version`, for the gate's comparison) is the
latest other promoted version of the same rubric id, else the most recently first-saved other
version of that id the project used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connector.calibration.gate import GateError, GateReport, evaluate_gate
from connector.metrics.bootstrap import DEFAULT_RESAMPLES
from connector.rubric import Rubric
from connector.rubric.stored import rubric_from_canonical_json
from connector.store import Batch, RubricPromotion, Store

__all__ = [
    "gate_state",
    "previous_version",
    "production_push_refusal",
    "promote",
    "resolve_version",
]


def resolve_version(store: Store, configured: Rubric, version: str) -> Rubric:
    """The version ``version`` (``2`` or ``v2``) of the configured rubric's id: the configured
    file itself, or a version the store keeps.

    Raises:
        GateError: the store keeps no such version (the message lists those it keeps).
    """
    wanted = version[1:] if version[:1] in ("v", "V") and version[1:] else version
    if wanted == configured.version:
        return configured
    stored = store.stored_rubrics(configured.id)
    for row in stored:
        if row.version == wanted:
            return rubric_from_canonical_json(row.canonical_json, content_hash=row.content_hash)
    known = ", ".join(f"v{r.version}" for r in stored) or "none"
    raise GateError(
        f"rubric {configured.id} has no version {wanted!r} in the store (stored: {known}); "
        f"the project's configuration names {configured.ref}: point it at the new version's "
        "file, push its validation batch, then promote it"
    )


def _used_versions(store: Store, project_key: str, batches: Sequence[Batch]) -> set[str]:
    """Content hashes of the versions the project used: batches pushed or judgments synced."""
    return {b.rubric_hash for b in batches} | store.judged_rubric_hashes(project_key)


def previous_version(store: Store, project_key: str, rubric: Rubric) -> Rubric | None:
    """The version ``rubric`` replaces in the project: the latest other promoted version of the
    same rubric id, else the latest stored (first saved last) other version of that id the
    project used (a batch pushed or judgments synced under it); None for a first version."""
    stored = {r.content_hash: r for r in store.stored_rubrics(rubric.id)}
    stored.pop(rubric.content_hash, None)
    promoted = [p for p in store.promotions(project_key) if p.rubric_hash in stored]
    chosen = promoted[-1].rubric_hash if promoted else None
    if chosen is None:
        used = _used_versions(store, project_key, store.project_batches(project_key))
        candidates = [h for h in stored if h in used]  # stored: oldest first
        chosen = candidates[-1] if candidates else None
    if chosen is None:
        return None
    row = stored[chosen]
    return rubric_from_canonical_json(row.canonical_json, content_hash=row.content_hash)


def promote(
    store: Store,
    project_key: str,
    rubric: Rubric,
    *,
    by: str,
    now: datetime,
    resamples: int = DEFAULT_RESAMPLES,
) -> tuple[GateReport, RubricPromotion | None]:
    """Run the gate; when it accepts, store the promotion (who, when, the report as evidence).

    Returns the report and the version's promotion: the one stored now, the earlier one if the
    version was promoted before (it stands whatever the gate says now: a promotion is not
    revoked here), or None."""
    store.save_rubric(rubric)
    report = evaluate_gate(
        store,
        project_key,
        rubric,
        previous=previous_version(store, project_key, rubric),
        resamples=resamples,
    )
    if report.accepted:
        store.record_promotion(
            RubricPromotion(
                project_key=project_key,
                rubric_hash=rubric.content_hash,
                rubric_id=rubric.id,
                version=rubric.version,
                promoted_by=by,
                promoted_at=now,
                evidence=report.as_json(),
            )
        )
    stored = [p for p in store.promotions(project_key) if p.rubric_hash == rubric.content_hash]
    return report, stored[0] if stored else None


def production_push_refusal(store: Store, project_key: str, rubric: Rubric) -> str | None:
    """Why a production batch may not be pushed under ``rubric`` now, or None if it may."""
    if any(p.rubric_hash == rubric.content_hash for p in store.promotions(project_key)):
        return None
    batches = store.project_batches(project_key)
    mine = [b for b in batches if b.rubric_hash == rubric.content_hash]
    promote_hint = f"iaa-connector rubric promote {project_key} {rubric.version}"
    if any(b.kind == "validation" for b in mine):
        return (
            f"rubric {rubric.ref} has a validation batch but is not promoted for project "
            f"{project_key}: sync, then run {promote_hint} (it runs the validation gate and "
            "says what is missing) before pushing production batches"
        )
    others = _used_versions(store, project_key, batches) - {rubric.content_hash}
    if others and not any(b.kind == "production" for b in mine):
        return (
            f"rubric {rubric.ref} is a new version for project {project_key} (batches or "
            "judgments under another version exist): push a validation batch first "
            f"(iaa-connector push {project_key} --items FILE --kind validation), have it judged, "
            "sync, then run "
            f"{promote_hint}"
        )
    return None


def gate_state(store: Store, project_key: str, rubric: Rubric) -> dict[str, Any]:
    """Read-only: the gate of ``rubric`` as JSON (:meth:`GateReport.as_json`), whether it is
    promoted, and the project's promotions (what the service shows; nothing is stored)."""
    report = evaluate_gate(
        store, project_key, rubric, previous=previous_version(store, project_key, rubric)
    )
    promotions = store.promotions(project_key)
    return {
        "gate": report.as_json(),
        "promoted": any(p.rubric_hash == rubric.content_hash for p in promotions),
        "production_refused": production_push_refusal(store, project_key, rubric),
        "promotions": [
            {
                "rubric": f"{p.rubric_id}@v{p.version}",
                "rubric_hash": p.rubric_hash,
                "promoted_by": p.promoted_by,
                "promoted_at": p.promoted_at.isoformat(),
            }
            for p in promotions
        ],
    }
