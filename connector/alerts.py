"""Outbound alerts: a Slack-compatible webhook post and a log line, once per cause.

An :class:`Alert` names its *cause* (``cause_key``), the condition that raised it:

==================== ==========================================  =============================
kind                 cause key                                   raised when
==================== ==========================================  =============================
``transition``       ``{project}:{annotator}:{status}``          a status decision moves an
                                                                 annotator (not when a batch
                                                                 is merely assigned)
``alpha_below_target`` ``{project}:{dimension}:alpha_below``     a dimension's alpha is below
                                                                 its target
``sync_failing``     ``{project}:sync_failing``                  a sync of the project failed
==================== ==========================================  =============================

:class:`Alerter` sends each cause at most once: a cause fires, then stays quiet until it is
*cleared* (:meth:`Alerter.resolve` is told the causes that hold now and re-arms the others, e.g.
alpha back above target, a sync that succeeds; :meth:`Alerter.clear` re-arms one by hand).
Over all causes, sends are rate-limited by a token bucket (``burst`` sends at once, then one
per ``min_interval_s``); an alert held back by the limit, or not delivered, has not fired and
is tried again the next time its cause is reported.

Every alert handled writes one log line. Delivery failures are logged and never raised. Slack
webhook URLs carry their secret in the path, so the URL is logged as ``scheme://host/<redacted>``
and the text of errors and alerts is scrubbed of it, of Slack tokens and of ``token=``-style
query parameters. The Alerter keeps its memory of fired causes in the process: after a restart
a cause that still holds is sent once more.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast, get_args
from urllib.parse import urlsplit

import requests

from connector.quality.lifecycle import Transition
from connector.report import target_verdict
from connector.rubric import Rubric
from connector.store import GoldChangeRow, OutboxAlert
from connector.store.outbox import OutboxStore

__all__ = [
    "ALERT_KINDS",
    "Alert",
    "AlertKind",
    "Alerter",
    "alerts_for",
    "alpha_alerts",
    "deliver_pending",
    "gold_change_alerts",
    "redact_url",
    "scrub",
    "slack_payload",
    "sync_failing_alert",
    "to_outbox",
    "transition_alerts",
]

log = logging.getLogger(__name__)

AlertKind = Literal["transition", "alpha_below_target", "sync_failing", "gold_change"]
ALERT_KINDS: tuple[AlertKind, ...] = get_args(AlertKind)
_SECTION_CHARS = 2900  # Slack: section text ≤ 3000 characters
_FIELD_CHARS = 1900  # Slack: a field ≤ 2000 characters
_MAX_FIELDS = 10  # Slack: at most 10 fields per section
_SECRETS = (
    re.compile(r"https?://hooks\.slack(?:-gov)?\.com/\S*", re.IGNORECASE),
    re.compile(r"/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+", re.IGNORECASE),
    re.compile(r"(?i)\b((?:access_|api_|auth_)?token|api_?key|key|secret|password)=[^&\s'\"]+"),
    re.compile(r"(?i)\b(Bearer|Token)\s+[A-Za-z0-9._~+/=-]{8,}"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One alert: its cause, kind, project, a one-paragraph text and short named fields."""

    cause_key: str
    kind: AlertKind
    project: str
    text: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ALERT_KINDS:
            raise ValueError(f"alert kind {self.kind!r} is not one of {', '.join(ALERT_KINDS)}")
        if not self.cause_key:
            raise ValueError("an alert needs a non-empty cause_key")


def redact_url(url: str) -> str:
    """``scheme://host/<redacted>``: a webhook URL without the path, query or user that hold
    its secret.

    >>> redact_url("https://hooks.slack.com/services/T000/B000/XXXX")
    'https://hooks.slack.com/<redacted>'
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "<redacted url>"
    if not parts.scheme or not host:
        return "<redacted url>"
    return f"{parts.scheme}://{host}/<redacted>"


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` without the given secrets (and their URL paths), Slack webhook URLs and tokens,
    and ``token=``-style parameters."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, redact_url(secret))
        try:
            path = urlsplit(secret).path
        except ValueError:
            path = ""
        if len(path) > 1:
            text = text.replace(path, "/<redacted>")
    for pattern in _SECRETS:
        text = pattern.sub(_redacted, text)
    return text


def _redacted(match: re.Match[str]) -> str:
    if match.lastindex:  # keep the parameter or scheme name, drop the value
        separator = "=" if "=" in match.group(0) else " "
        return f"{match.group(1)}{separator}<redacted>"
    return "<redacted>"


def _escape(text: str) -> str:
    """Slack mrkdwn control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(alert: Alert) -> dict[str, Any]:
    """The Slack-compatible JSON of an alert: ``{"text", "blocks"}`` with a short section,
    the fields (at most ten) and a context line naming the project and kind."""
    text = _escape(_clip(scrub(alert.text), _SECTION_CHARS))
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if alert.fields:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {
                        "type": "mrkdwn",
                        "text": _clip(f"*{_escape(scrub(k))}*\n{_escape(scrub(v))}", _FIELD_CHARS),
                    }
                    for k, v in list(alert.fields.items())[:_MAX_FIELDS]
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _escape(f"iaa-connector · {alert.project} · {alert.kind}"),
                }
            ],
        }
    )
    return {"text": text, "blocks": blocks}


class Alerter:
    """Sends alerts to a Slack-compatible webhook (or only logs them when ``webhook_url`` is
    None), at most once per cause and rate-limited overall.

    Args:
        webhook_url: the incoming-webhook URL; it is never logged in full.
        min_interval_s: seconds per token of the bucket (0 for no limit).
        burst: tokens the bucket holds: how many alerts may go out at once.
        clock: monotonic seconds (injected in tests).
        post: ``requests.post``-like callable: ``post(url, json=..., timeout=...)``.
        timeout_s: per-request timeout.

    Raises:
        ValueError: ``min_interval_s`` negative or ``burst`` below 1.
    """

    def __init__(
        self,
        webhook_url: str | None,
        *,
        min_interval_s: float,
        burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
        post: Callable[..., Any] = requests.post,
        timeout_s: float = 10.0,
    ) -> None:
        if not (min_interval_s >= 0 and math.isfinite(min_interval_s)):
            raise ValueError(f"min_interval_s must be a finite number ≥ 0; got {min_interval_s}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1; got {burst}")
        self._url = webhook_url or None
        self._interval = float(min_interval_s)
        self._burst = burst
        self._clock = clock
        self._post = post
        self._timeout = timeout_s
        self._tokens = float(burst)
        self._last = clock()
        self._fired: dict[str, tuple[str, AlertKind]] = {}
        self._lock = threading.Lock()

    @property
    def target(self) -> str:
        """Where alerts go, safe to show: the redacted URL, or ``"log only"``."""
        return redact_url(self._url) if self._url else "log only"

    @property
    def fired(self) -> frozenset[str]:
        """Causes that fired and have not cleared."""
        with self._lock:
            return frozenset(self._fired)

    def clear(self, cause_key: str) -> None:
        """Re-arm one cause: its next alert is sent again."""
        with self._lock:
            if self._fired.pop(cause_key, None) is not None:
                log.info("alert cause cleared: %s", scrub(cause_key, self._url))

    def resolve(
        self,
        active: Iterable[Alert],
        *,
        project: str,
        kinds: Iterable[AlertKind] | None = None,
    ) -> list[Alert]:
        """Report the causes that hold now for ``project`` (of ``kinds``, default all): the
        fired causes of that project and kinds not among them clear; then :meth:`send`."""
        current = list(active)
        scope = set(kinds) if kinds is not None else set(ALERT_KINDS)
        keys = {a.cause_key for a in current}
        with self._lock:
            gone = [
                key
                for key, (where, kind) in self._fired.items()
                if where == project and kind in scope and key not in keys
            ]
        for key in gone:
            self.clear(key)
        return self.send(current)

    def send(self, alerts: Iterable[Alert]) -> list[Alert]:
        """Send every alert whose cause has not fired; return those delivered (or logged, with
        no webhook). Never raises for a delivery failure."""
        delivered: list[Alert] = []
        seen: set[str] = set()
        for alert in alerts:
            if alert.cause_key in seen:
                continue
            seen.add(alert.cause_key)
            with self._lock:
                if alert.cause_key in self._fired:
                    continue
                allowed = self._take_token()
            line = self._line(alert)
            if not allowed:
                log.info("alert held back by the rate limit: %s", line)
                continue
            if self._deliver(alert, line):
                with self._lock:
                    self._fired[alert.cause_key] = (alert.project, alert.kind)
                delivered.append(alert)
        return delivered

    # -- internals ---------------------------------------------------------------------------

    def _take_token(self) -> bool:
        if self._interval == 0:
            return True
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(float(self._burst), self._tokens + elapsed / self._interval)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def _line(self, alert: Alert) -> str:
        text = " / ".join(scrub(alert.text, self._url).splitlines())
        return f"[{alert.kind}] {scrub(alert.cause_key, self._url)}: {text}"

    def _deliver(self, alert: Alert, line: str) -> bool:
        if self._url is None:
            log.warning("alert: %s", line)
            return True
        try:
            response = self._post(self._url, json=slack_payload(alert), timeout=self._timeout)
        except Exception as exc:  # a failed alert must never break a sync
            detail = scrub(str(exc), self._url)
            log.warning(
                "alert not delivered to %s (%s: %s): %s",
                self.target,
                type(exc).__name__,
                _clip(detail, 300),
                line,
            )
            return False
        status = getattr(response, "status_code", None)
        if not isinstance(status, int) or not 200 <= status < 300:
            body = scrub(str(getattr(response, "text", "") or ""), self._url)
            log.warning(
                "alert not delivered to %s (HTTP %s %s): %s",
                self.target,
                status,
                _clip(body, 200),
                line,
            )
            return False
        log.warning("alert sent to %s: %s", self.target, line)
        return True


# --- alerts from a report and transitions ----------------------------------------------------


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _transition_alert(transition: Transition, project: str) -> Alert:
    e = transition.evidence
    fields = {
        "Gold": f"{e.correct}/{e.judgments} right ({_pct(e.accuracy)}), {e.window}",
        "Wilson bounds": (
            f"[{_pct(e.interval[0])}, {_pct(e.interval[1])}] (z = {e.z:.3f})" if e.interval else "—"
        ),
        "Thresholds": (
            f"qualify {_pct(e.qualify_gold_accuracy)}, retrain {_pct(e.retrain_gold_accuracy)}, "
            f"min {e.min_gold_judgments} gold"
        ),
        "Rubric": e.rubric,
    }
    if e.gold_drift is not None:
        drift = e.gold_drift
        fields["Gold drift (CUSUM)"] = f"{drift.statistic:.2f} (h = {drift.design.h:.2f})" + (
            " — alarm" if drift.alarm else ""
        )
    if transition.dimensions:
        fields["Decided by"] = ", ".join(transition.dimensions)
    decided = set(transition.dimensions)
    for d in e.dimensions:
        if d.dimension not in decided:
            continue
        figures = f"{d.correct}/{d.judgments} right ({_pct(d.accuracy)})" + (
            f", Wilson [{_pct(d.interval[0])}, {_pct(d.interval[1])}]" if d.interval else ""
        )
        if d.drift is not None:
            figures += f", CUSUM {d.drift.statistic:.2f} (h = {d.drift.design.h:.2f})" + (
                " — alarm" if d.drift.alarm else ""
            )
        fields[f"Gold on {d.dimension}"] = figures
    previous = transition.previous or "new"
    change = (
        f"{previous} → {transition.status}"
        if transition.previous != transition.status
        else f"still {transition.status}"
    )
    return Alert(
        cause_key=f"{project}:{transition.annotator}:{transition.status}",
        kind="transition",
        project=project,
        text=f"{project}: annotator {transition.annotator} {change}. {transition.reason}.",
        fields=fields,
    )


def transition_alerts(transitions: Sequence[Transition], project: str) -> list[Alert]:
    """One alert per status transition (not for a retraining batch merely assigned, nor for
    first sight as a candidate)."""
    return [
        _transition_alert(t, project)
        for t in transitions
        if t.event != "batch_assigned" and not (t.previous is None and t.status == "candidate")
    ]


def alpha_alerts(report: Mapping[str, Any] | None, rubric: Rubric, project: str) -> list[Alert]:
    """One alert per dimension whose Krippendorff's alpha is surely below its target (the
    report's ``target_alpha``, else the rubric's; :func:`connector.report.target_verdict`, the
    rule every renderer paints by): a state, held while it lasts."""
    alerts = []
    for name, section in ((report or {}).get("dimensions") or {}).items():
        alpha = (section.get("krippendorff_alpha") or {}).get("value")
        target = section.get("target_alpha")
        if target is None:
            try:
                target = rubric.target_alpha_for(name)
            except KeyError:
                target = rubric.thresholds.target_alpha
        if alpha is None or not math.isfinite(alpha):
            continue
        if target_verdict(section.get("krippendorff_alpha"), target) != "below":
            continue  # met, or the interval still reaches the target: not surely below
        ci = (section.get("krippendorff_alpha") or {}).get("ci95")
        fields = {
            "Alpha": f"{alpha:.3f}"
            + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and None not in ci else ""),
            "Target": f"{target:.2f}",
            "Items": str(section.get("n_items", "—")),
            "Rubric": rubric.ref,
        }
        alerts.append(
            Alert(
                cause_key=f"{project}:{name}:alpha_below",
                kind="alpha_below_target",
                project=project,
                text=(
                    f"{project}: Krippendorff's alpha on {name} is {alpha:.3f}, below the "
                    f"target {target:.2f}."
                ),
                fields=fields,
            )
        )
    return alerts


def alerts_for(
    report: Mapping[str, Any] | None,
    transitions: Sequence[Transition],
    rubric: Rubric,
    project: str,
) -> list[Alert]:
    """The alerts a sync raises: :func:`transition_alerts` and :func:`alpha_alerts`."""
    return transition_alerts(transitions, project) + alpha_alerts(report, rubric, project)


def to_outbox(alerts: Iterable[Alert], *, at: datetime) -> list[OutboxAlert]:
    """Alerts of events (a transition, a gold change) to store in the outbox, each keyed by its
    cause and the moment it was decided, so the same event is queued once."""
    return [
        OutboxAlert(
            outbox_key=f"{alert.cause_key}@{at.isoformat()}",
            kind=alert.kind,
            text=alert.text,
            fields=dict(alert.fields),
        )
        for alert in alerts
    ]


def deliver_pending(store: OutboxStore, alerter: Alerter, project: str) -> int:
    """Send the project's pending outbox alerts and mark those delivered; return how many.

    An alert the webhook refused or the rate limit held back stays pending for the next run.
    (A crash between sending and marking sends that alert again: at least once.)
    """
    pending = store.pending_alerts(project)
    if not pending:
        return 0
    by_cause = {f"{project}:outbox:{p.outbox_key}": p for p in pending if p.kind in ALERT_KINDS}
    alerts = [
        Alert(
            cause_key=cause,
            kind=cast(AlertKind, p.kind),
            project=project,
            text=p.text,
            fields=dict(p.fields),
        )
        for cause, p in by_cause.items()
    ]
    delivered = alerter.send(alerts)
    ids = [by_cause[a.cause_key].id for a in delivered]
    store.mark_alerts_delivered([i for i in ids if i is not None])
    return len(delivered)


def gold_change_alerts(rows: Iterable[GoldChangeRow], project: str) -> list[Alert]:
    """One alert per gold decision a person must know of: an existing answer changed, or a
    change refused (ground truth from someone who is not a gold author, or a gold file that
    disagrees with a gold author's ruling). A new gold answer alerts nobody."""
    alerts = []
    for row in rows:
        if row.accepted and row.old_value is None:
            continue
        verdict = "changed" if row.accepted else "REFUSED a change of"
        alerts.append(
            Alert(
                cause_key=f"{project}:gold:{row.fingerprint}",
                kind="gold_change",
                project=project,
                text=(
                    f"{project}: gold {verdict} item {row.item_key} ({row.dimension}): "
                    f"{row.reason}."
                ),
                fields={
                    "Item": row.item_key,
                    "Dimension": row.dimension,
                    "Set by": row.set_by,
                    "Annotation": row.platform_annotation_id or "—",
                },
            )
        )
    return alerts


def sync_failing_alert(project: str, error: str | BaseException) -> Alert:
    """The alert for a failed sync of ``project``; the error text is scrubbed of secrets."""
    detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return Alert(
        cause_key=f"{project}:sync_failing",
        kind="sync_failing",
        project=project,
        text=f"{project}: sync is failing: {_clip(scrub(detail), 500)}",
    )
