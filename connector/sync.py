"""One sync cycle of one project: pull, reconcile, score, write back.

The scheduler and the webhook receiver call :func:`sync_project`; neither has logic of its own.
Every step is idempotent and the cursor only moves after a page is stored, so a crash at any
point resumes cleanly: nothing lost, nothing applied twice.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from connector.alerts import (
    Alerter,
    alpha_alerts,
    deliver_pending,
    gold_change_alerts,
    to_outbox,
    transition_alerts,
)
from connector.calibration.batch import plan_retraining_batch
from connector.calibration.gold import GoldClaim, claims_from_items, load_gold, record_claims
from connector.calibration.item import Item
from connector.calibration.push import known_items, push_batch, task_key_secret
from connector.calibration.reannotation import reannotate
from connector.calibration.versions import current_judgments
from connector.config import Config, ProjectConfig
from connector.errors import ConnectorError
from connector.platforms.base import Platform, PullPage, TaskAgreement
from connector.quality.gold_release import apply_gold_release
from connector.quality.lifecycle import (
    StatusChange,
    StatusState,
    Transition,
    annotator_evidence,
    assign_retraining_batch,
    decide_all,
    needs_retraining_batch,
    rescore,
)
from connector.report import target_verdict
from connector.report.build import (
    ItemAgreement,
    ReportOptions,
    build_report,
    item_agreements,
    jsonable,
)
from connector.report.json_text import report_json
from connector.report.public import public_report
from connector.report.reannotation import reannotation_section
from connector.report.versions import version_sections
from connector.rubric import Rubric, load_rubric
from connector.store import (
    GoldChangeRow,
    ItemRow,
    JudgmentRow,
    QuarantineRow,
    RunCounts,
    StatusDecision,
    Store,
    TaskMapping,
)

__all__ = ["SyncResult", "sync_project"]

log = logging.getLogger(__name__)
RECONCILE_EVERY = timedelta(hours=24)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    """What one sync did, in counts; ``alpha`` per dimension after it."""

    project_key: str
    tasks_seen: int
    created: int
    updated: int
    unchanged: int
    deleted: int
    skipped: int
    quarantined: int
    gold_imported: int
    status_changes: tuple[StatusChange, ...]
    alpha: Mapping[str, float | None]
    report_path: Path | None
    seconds: float
    # items pushed again for more judgments by this sync (project reannotate_on_sync)
    reannotated_items: int = 0


@dataclass
class _Tally:
    tasks_seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    quarantined: int = 0
    gold_imported: int = 0

    def counts(self) -> RunCounts:
        return RunCounts(
            pulled=self.tasks_seen,
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
            deleted=self.deleted,
            skipped=self.skipped,
            quarantined=self.quarantined,
        )


def _parse_cursor(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class _ProjectSync:
    def __init__(
        self,
        config: Config,
        project: ProjectConfig,
        rubric: Rubric,
        store: Store,
        platform: Platform,
        *,
        import_ground_truth: bool,
    ) -> None:
        self.config = config
        self.project = project
        self.rubric = rubric
        self.store = store
        self.platform = platform
        self.import_ground_truth = import_ground_truth
        self.tally = _Tally()
        self.mappings = store.task_mappings(project.key)
        self.live: set[str] = set()
        self.frame = pd.DataFrame()
        self._agreements: dict[str, dict[str, ItemAgreement]] | None = None  # of self.frame
        self.transitions: list[Transition] = []
        self.gold_items: list[Item] = []  # the project's gold file, read once per sync
        self.gold_log: list[GoldChangeRow] = []  # gold decisions logged by this sync

    # -- pull --------------------------------------------------------------------------------

    def pull(self, *, full: bool) -> bool:
        """Pull changed tasks; return True if it read the whole project (no cursor)."""
        key, platform = self.project.key, self.platform.name
        stored = self.store.get_cursor(platform, key)
        cursor = None if full or stored is None else _parse_cursor(stored.cursor)
        whole = cursor is None
        since = cursor - timedelta(seconds=self.project.overlap_seconds) if cursor else None
        display = {t: m.display_left for t, m in self.mappings.items() if m.display_left}
        # With no task mapped yet, no stored judgment can have been deleted: skip the look-up.
        deletions = bool(self.mappings)
        for page in self.platform.pull(
            self.project.project_id,
            self.rubric,
            since=since,
            display_left=display,
            gold_authors=self.project.gold_authors,
        ):
            self._apply(page, deletions=deletions)
            if page.cursor is not None and (cursor is None or page.cursor > cursor):
                cursor = page.cursor
                self.store.set_cursor(platform, key, cursor.isoformat())
        return whole

    def _apply(self, page: PullPage, *, deletions: bool) -> None:
        key = self.project.key
        new = [
            TaskMapping(platform_task_id=t.task_id, item_key=t.item_key, kind="production")
            for t in page.tasks
            if t.task_id not in self.mappings
        ]
        if new:
            # a ranking task's texts, for the export (a pushed task is mapped already: its
            # texts are the push's)
            texts = {t.item_key: t.texts for t in page.tasks if t.texts is not None}
            self.store.upsert_items(
                key,
                [
                    ItemRow(
                        item_key=m.item_key,
                        payload=None if texts.get(m.item_key) is None else dict(texts[m.item_key]),
                    )
                    for m in new
                ],
            )
            self.store.map_tasks(key, new)
            self.mappings.update({m.platform_task_id: m for m in new})
        rows = []
        for judgment in page.judgments:
            mapping = self.mappings[judgment.task_id]
            rows.append(
                JudgmentRow(
                    platform_annotation_id=judgment.annotation_id,
                    dimension=judgment.dimension,
                    item_key=mapping.item_key,
                    annotator=judgment.annotator,
                    value=judgment.value,
                    platform_task_id=judgment.task_id,
                    rubric_hash=self.rubric.content_hash,
                    submitted_at=judgment.submitted_at,
                    platform_updated_at=judgment.updated_at,
                    lead_time_s=judgment.lead_time_s,
                    display_left=mapping.display_left,
                    is_retest=mapping.kind == "retest",
                )
            )
        applied = self.store.apply_judgments(key, rows)
        self.tally.created += applied.created
        self.tally.updated += applied.updated
        self.tally.unchanged += applied.unchanged
        self.tally.skipped += page.skipped
        self.tally.tasks_seen += len(page.tasks)
        if page.quarantined:
            self.tally.quarantined += self.store.quarantine(
                key,
                [
                    QuarantineRow(
                        platform_annotation_id=q.annotation_id,
                        platform_task_id=q.task_id,
                        reason=q.reason,
                        raw=dict(q.raw),
                    )
                    for q in page.quarantined
                ],
            )
        if deletions:  # inside changed tasks they are visible now; whole tasks need reconcile
            stored = self.store.annotation_ids_by_task(key, [t.task_id for t in page.tasks])
            gone = {
                annotation
                for task in page.tasks
                for annotation in stored.get(task.task_id, set()) - set(task.annotation_ids)
            }
            if gone:
                self.tally.deleted += self.store.mark_deleted(key, gone)
        for task in page.tasks:
            self.live.update(task.annotation_ids)
        if self.import_ground_truth:
            claims = [
                GoldClaim(
                    item_key=self.mappings[t.task_id].item_key,
                    dimension=dimension,
                    value=value,
                    source="platform_ground_truth",
                    set_by=truth.author,
                    at=truth.updated_at,
                    annotation_id=truth.annotation_id,
                )
                for t in page.tasks
                for truth in t.ground_truth
                for dimension, value in truth.values.items()
            ]
            logged = self.record_gold(claims)
            self.tally.gold_imported += sum(row.accepted for row in logged)

    def reconcile(self, live: set[str] | None = None) -> None:
        """Mark judgments whose annotation no longer exists on the platform as deleted.

        ``live`` is every annotation id the project holds, when a whole-project pull just read
        them; otherwise the platform is asked.
        """
        if live is None:
            live = self.platform.live_annotation_ids(self.project.project_id)
        stored = self.store.annotation_ids_by_task(self.project.key, None)
        gone = {a for ids in stored.values() for a in ids} - live
        if gone:
            self.tally.deleted += self.store.mark_deleted(self.project.key, gone)
        self.store.mark_reconciled(self.platform.name, self.project.key, datetime.now(UTC))

    def reconcile_due(self) -> bool:
        stamp = self.store.get_cursor(self.platform.name, self.project.key)
        last = stamp.last_full_reconcile_at if stamp else None
        return last is None or datetime.now(UTC) - last >= RECONCILE_EVERY

    # -- score and write back ---------------------------------------------------------------

    def load_gold(self) -> None:
        if self.project.gold is None:
            return
        self.gold_items = load_gold(self.project.gold, self.rubric)
        self.record_gold(
            claims_from_items(
                self.gold_items, set_by=f"file:{self.project.gold.name}", at=datetime.now(UTC)
            )
        )

    def record_gold(self, claims: list[GoldClaim]) -> list[GoldChangeRow]:
        """Judge gold claims by :mod:`connector.calibration.gold`'s rules and log the decisions."""
        logged = record_claims(
            self.store, self.project.key, claims, gold_authors=self.project.gold_authors
        )
        self.gold_log += logged
        if logged:
            alerts = gold_change_alerts(logged, self.project.key)
            self.store.queue_alerts(self.project.key, to_outbox(alerts, at=datetime.now(UTC)))
        return logged

    def changed_gold_items(self) -> set[str]:
        """Items whose existing gold answer this sync changed (not those newly made gold)."""
        return {r.item_key for r in self.gold_log if r.accepted and r.old_value is not None}

    def score(self) -> tuple[dict[str, Any] | None, list[StatusChange]]:
        # Each judgment is coded under its own rubric version; the configured version's
        # figures take an older version's judgments only of a dimension whose meaning is
        # unchanged (connector.rubric.versions). Every later step reads the current part.
        split = current_judgments(self.store, self.project.key, self.rubric)
        frame = self.frame = split.current
        self._agreements = None
        if frame.empty and not split.others:
            return None, []
        options = ReportOptions()
        report = jsonable(
            build_report(
                frame,
                self.rubric,
                source={
                    "path": f"{self.platform.name}:{self.project.project_id}",
                    "format": self.platform.name,
                    "rows": split.n_rows,
                },
                options=options,
                warnings=split.warnings,
                retest_copies={
                    (m.batch_id, m.item_key)
                    for m in self.mappings.values()
                    if m.kind == "retest" and m.batch_id is not None
                },
                groups=self.project.groups,
            )
        )
        report["other_rubric_versions"] = jsonable(version_sections(split, options=options))
        report["reannotation"] = jsonable(
            reannotation_section(
                frame,
                self.rubric,
                {(r.batch_id, r.item_key) for r in self.store.reannotations(self.project.key)},
            )
        )
        decided = self.store.current_statuses(self.project.key, self.rubric.id)
        current: dict[str, StatusState] = {
            name: StatusState.from_record(name, decision.status, decision.evidence)
            for name, decision in decided.items()
        }
        now = datetime.now(UTC)
        self.transitions = self.rescore(frame, current)
        rescored = {t.annotator for t in self.transitions}
        current.update({t.annotator: t.state for t in self.transitions})
        self.transitions += [
            t for t in decide_all(frame, current, self.rubric) if t.annotator not in rescored
        ]
        changes = self.record(self.transitions, now)
        self.release_gold(report, now)
        # The lifecycle's stored decision is the status every surface shows (one owner).
        status = {
            name: (
                d.status,
                str(d.evidence.get("reason") or ""),
                [str(x) for x in d.evidence.get("decided_by") or ()],
            )
            for name, d in decided.items()
        }
        status.update(
            {t.annotator: (t.status, t.reason, list(t.dimensions)) for t in self.transitions}
        )
        for entry in report["annotators"]:
            if entry["annotator"] in status:
                (entry["status"], entry["status_reason"], entry["status_dimensions"]) = status[
                    entry["annotator"]
                ]
        return report, changes

    def record(self, transitions: Sequence[Transition], now: datetime) -> list[StatusChange]:
        """Store status decisions and their alerts together (the outbox): an alert is delivered
        after the sync succeeds, and a retry after a failed write-back still delivers it."""
        decisions, changes = [], []
        for transition in transitions:
            evidence = transition.evidence_dict()
            decisions.append(
                StatusDecision(
                    annotator=transition.annotator,
                    rubric_id=self.rubric.id,
                    status=transition.status,
                    decided_at=now,
                    evidence=evidence,
                )
            )
            changes.append(
                StatusChange(
                    annotator=transition.annotator,
                    previous=transition.previous,
                    status=transition.status,
                    evidence=evidence,
                )
            )
        alerts = to_outbox(transition_alerts(transitions, self.project.key), at=now)
        self.store.record_decisions(self.project.key, decisions, alerts)
        return changes

    def release_gold(self, report: dict[str, Any], now: datetime) -> None:
        """Show per-annotator gold figures only as released (see
        :mod:`connector.quality.gold_release`)."""
        key, rubric_id = self.project.key, self.rubric.id
        fresh = apply_gold_release(
            report,
            self.store.gold_releases(key, rubric_id),
            now,
            every=self.config.gold_release_every,
            hours=self.config.gold_release_hours,
        )
        self.store.release_gold(key, rubric_id, fresh)

    def rescore(self, frame: pd.DataFrame, current: Mapping[str, StatusState]) -> list[Transition]:
        """Re-decide every annotator who judged an item whose gold answer this sync changed."""
        changed = self.changed_gold_items()
        if not changed:
            return []
        judged = frame.loc[frame["item_id"].astype(str).isin(changed), "annotator"]
        affected = sorted(set(judged.astype(str)))
        if not affected:
            return []
        evidence = annotator_evidence(frame, self.rubric)
        cause = f"the gold answers of {len(changed)} item(s) changed"
        found = (
            rescore(evidence[name], current.get(name), self.rubric, cause=cause)
            for name in affected
            if name in evidence
        )
        return [t for t in found if t is not None]

    def item_agreements(self) -> dict[str, dict[str, ItemAgreement]]:
        """The per-item agreement of the scored judgments, computed once per sync and read by
        the re-annotation and the write-back."""
        if self._agreements is None:
            self._agreements = item_agreements(self.frame, self.rubric)
        return self._agreements

    def push_reannotation(self) -> int:
        """With the project's ``reannotate_on_sync``: push the low-agreement items again, as
        ``iaa-connector reannotate`` does (the same rule, rounds and idempotence,
        :func:`connector.calibration.reannotation.reannotate`); return the items pushed."""
        if not self.project.reannotate_on_sync or self.frame.empty:
            return 0
        result = reannotate(
            self.project,
            self.rubric,
            store=self.store,
            platform=self.platform,
            frame=self.frame,
            agreements=self.item_agreements(),
            below=self.project.reannotate_below,
            max_judgments=self.project.reannotate_max_judgments,
            now=datetime.now(UTC),
        )
        if result.push is None:
            return 0
        log.info("%s: %s", self.project.key, result.describe().splitlines()[0])
        return len(result.choice.chosen)

    def push_retraining(self) -> list[StatusChange]:
        """Push a gold batch for each annotator who entered retraining without one, and record
        that their status now waits for it (the lifecycle judges that batch on its own).

        Label Studio Community and Argilla cannot reserve tasks for one annotator: the batch is
        open to everyone; only the retraining annotator's answers on it decide their status.
        """
        if self.project.gold is None:
            return []
        current = {
            name: StatusState.from_record(name, d.status, d.evidence)
            for name, d in self.store.current_statuses(self.project.key, self.rubric.id).items()
        }
        waiting = needs_retraining_batch(self.transitions, current)
        if not waiting:
            return []
        gold = self.gold_items  # read by load_gold at the start of this sync
        evidence = annotator_evidence(self.frame, self.rubric)
        # ordinary items to mix in: every item with stored texts that is gold by no source
        gold_keys = {item.item_key for item in gold}
        gold_keys |= {item for item, _ in self.store.gold_for(self.project.key)}
        ordinary = [
            i for i in known_items(self.store, self.project.key) if i.item_key not in gold_keys
        ]
        secret = task_key_secret(self.store)
        changes = []
        for annotator in waiting:
            state = current[annotator]
            # Gold the annotator has not judged yet: a second judgment of an item is a re-test
            # and would not count for the batch.
            seen = set(self.frame.loc[self.frame["annotator"] == annotator, "item_id"])
            unseen = [item for item in gold if item.item_key not in seen]
            if not unseen:
                log.warning("no unseen gold left for %s's retraining batch", annotator)
                continue
            plan = plan_retraining_batch(
                project_key=self.project.key,
                rubric=self.rubric,
                gold=unseen[: self.rubric.thresholds.min_gold_judgments],
                ordinary=ordinary,
                label=f"retraining:{annotator}:{state.episodes}",
                key_secret=secret,
            )
            push_batch(plan, self.project, store=self.store, platform=self.platform)
            transition = assign_retraining_batch(
                evidence[annotator],
                state,
                self.rubric,
                batch_id=plan.batch_id,
                gold_judgments=plan.count("gold"),
            )
            changes += self.record([transition], datetime.now(UTC))
        return changes

    def write_files(self, report: Mapping[str, Any]) -> Path:
        from connector.report.html import render_html

        folder = self.config.reports_dir / self.project.key
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "latest.json").write_text(report_json(report), encoding="utf-8")
        html_path = folder / "latest.html"
        html_path.write_text(render_html(report), encoding="utf-8")
        self.store.save_report(
            self.project.key, report, rubric_hash=self.rubric.content_hash, html_path=html_path
        )
        return html_path

    def write_back(self, report: Mapping[str, Any]) -> int:
        """Write the summary, and per-task agreement where it changed; return tasks written.

        Only tasks that hold a judgment and whose agreement differs from what was last written
        are patched (the store remembers), lowest agreement first and at most
        ``max_task_writes`` per sync, so the connector's own writes never look like new work, a
        large first sync spreads its writes over a few cycles, and the unanswered copies of an
        item (re-test copies in a retraining batch) cost no request.
        """
        updates: list[TaskAgreement] = []
        if self.project.write_task_meta:
            by_dimension = self.item_agreements()
            written = self.store.written_agreements(self.project.key)
            judged = self.store.annotation_ids_by_task(self.project.key, None)
            for task_id, mapping in self.mappings.items():
                if task_id not in judged and task_id not in written:
                    continue  # nobody answered this copy of the item (a re-test copy, say)
                figures = {
                    name: found[mapping.item_key]
                    for name, found in by_dimension.items()
                    if mapping.item_key in found
                }
                if not figures:
                    continue
                values = {name: f.agreement for name, f in figures.items()}
                before = written.get(task_id)
                if before is not None and _same(values, before):
                    continue
                if before is None and all(v is None for v in values.values()):
                    continue
                updates.append(
                    TaskAgreement(
                        task_id=task_id,
                        agreement=values,
                        n_judgments={name: f.n_judgments for name, f in figures.items()},
                    )
                )
            updates.sort(key=lambda u: (u.lowest is None, u.lowest or 0.0, u.task_id))
            updates = updates[: self.project.max_task_writes]
        self.platform.write_report(
            self.project.project_id,
            summary=summary_text(report, self.rubric, self._link()),
            tasks=updates,
            column=self.project.data_manager_column,
            report=public_report(report),
        )
        if updates:
            self.store.record_written(
                self.project.key, {u.task_id: dict(u.agreement) for u in updates}
            )
        return len(updates)

    def _link(self) -> str | None:
        """The report's URL on the service (authenticated); never a path on the server."""
        if self.config.public_url:
            return f"{self.config.public_url.rstrip('/')}/reports/{self.project.key}"
        return None


def _same(a: Mapping[str, float | None], b: Mapping[str, float | None]) -> bool:
    """The same figures per dimension, to the 4 decimals written."""
    if a.keys() != b.keys():
        return False
    for name, x in a.items():
        y = b[name]
        if x is None or y is None:
            if x is not y:
                return False
        elif not math.isclose(x, y, abs_tol=5e-4):
            return False
    return True


#: What the platform summary says of each :func:`connector.report.target_verdict`.
_VERDICT_NOTES = {"below": " BELOW TARGET", "uncertain": " below target, interval reaches it"}


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _alpha_text(alpha: Mapping[str, Any]) -> str:
    ci = alpha["ci95"] or [None, None]
    return f"alpha {_fmt(alpha['value'])} [{_fmt(ci[0])}, {_fmt(ci[1])}]"


def summary_text(report: Mapping[str, Any], rubric: Rubric, link: str | None) -> str:
    """The short plain-text summary written into the platform, where annotators read it: only
    what :func:`connector.report.public.public_report` allows (agreement per dimension; no
    annotator, no gold figure, no server path)."""
    public = public_report(report)
    lines = [
        f"Inter-annotator agreement — iaa-connector, rubric {rubric.ref}, {report['generated_at']}",
    ]
    for name, section in public["dimensions"].items():
        alpha = section["krippendorff_alpha"]
        below = _VERDICT_NOTES.get(target_verdict(alpha, section["target_alpha"]) or "", "")
        lines.append(
            f"{name}: {_alpha_text(alpha)} (target {section['target_alpha']:.2f}){below}; "
            f"{section['n_items']} items"
        )
    for part in public.get("other_rubric_versions", ()):
        rubric_of = part["rubric"]
        lines.append(
            f"Judgments under rubric {rubric_of['id']}@v{rubric_of['version']} "
            f"({part['n_judgments']}), scored under that version:"
        )
        for name, section in part["dimensions"].items():
            pooled = "; also counted above (unchanged dimension)" if section["pooled"] else ""
            lines.append(
                f"  {name}: {_alpha_text(section['krippendorff_alpha'])}; "
                f"{section['n_items']} items{pooled}"
            )
    if link:
        lines.append(f"Full report for project leads (sign-in required): {link}")
    return "\n".join(lines)


def sync_project(
    config: Config,
    project_key: str,
    *,
    store: Store,
    platform: Platform,
    full: bool = False,
    write_back: bool = True,
    import_ground_truth: bool = False,
    alerter: Alerter | None = None,
) -> SyncResult:
    """Run one sync cycle of a configured project and record it as a sync run.

    ``alerter`` (the service's) is told of status transitions and dimensions below their target
    alpha, each sent at most once per cause; a successful run also clears a failing-sync cause
    (the runner, which sees runs fail after their retries, raises that one).

    Raises:
        ConnectorError: a platform, store, rubric or configuration failure (the run is
            recorded with its error; the cursor stays at the last stored page).
    """
    started = time.perf_counter()
    project = config.project(project_key)
    rubric = load_rubric(project.rubric, check_layout=False)
    store.save_rubric(rubric)
    run = store.start_run(platform.name, project.key)
    sync = _ProjectSync(
        config, project, rubric, store, platform, import_ground_truth=import_ground_truth
    )
    try:
        platform.check_project(project.project_id, rubric)
        sync.load_gold()
        whole = sync.pull(full=full)
        if whole:
            sync.reconcile(sync.live)
        elif sync.reconcile_due():
            sync.reconcile()
        report, changes = sync.score()
        reannotated = 0
        if report is not None and write_back:
            changes += sync.push_retraining()
            reannotated = sync.push_reannotation()
        html_path = None
        if report is not None:
            html_path = sync.write_files(report)
            if write_back:
                sync.write_back(report)
    except BaseException as exc:
        # Every failure closes its run with the error, an unexpected one included (the
        # traceback is the caller's to log); a store that is itself failing cannot record it.
        error = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(ConnectorError):
            store.finish_run(run, sync.tally.counts(), error=error)
        raise
    store.finish_run(run, sync.tally.counts())
    if alerter is not None:
        # States (alpha below target; a failing sync, which this success clears) held once per
        # cause; events (transitions, gold changes) from the outbox, this run's and any a
        # failed run left pending.
        alerter.resolve(
            alpha_alerts(report, rubric, project.key),
            project=project.key,
            kinds=("alpha_below_target", "sync_failing"),
        )
        deliver_pending(store, alerter, project.key)
    alpha = {
        name: section["krippendorff_alpha"]["value"]
        for name, section in (report["dimensions"].items() if report else [])
    }
    return SyncResult(
        project_key=project.key,
        tasks_seen=sync.tally.tasks_seen,
        created=sync.tally.created,
        updated=sync.tally.updated,
        unchanged=sync.tally.unchanged,
        deleted=sync.tally.deleted,
        skipped=sync.tally.skipped,
        quarantined=sync.tally.quarantined,
        gold_imported=sync.tally.gold_imported,
        status_changes=tuple(changes),
        alpha=alpha,
        report_path=html_path,
        seconds=time.perf_counter() - started,
        reannotated_items=reannotated,
    )
