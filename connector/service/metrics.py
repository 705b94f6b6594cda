"""The service's counters and sync timings, written as Prometheus text exposition by hand.

One :class:`Metrics` object is shared by the receiver, the worker and the sync runner; it is
thread-safe. Gauges that describe agreement (``iaa_alpha``, ``iaa_annotators``) are not kept
here: :func:`render` takes them as samples read from the store at scrape time.

Format: https://prometheus.io/docs/instrumenting/exposition_formats/ (version 0.0.4).
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["CONTENT_TYPE", "DURATION_BUCKETS", "Metrics", "Sample", "render"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_BUCKETS: tuple[float, ...] = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One gauge value read at scrape time (``name{labels} value``)."""

    name: str
    labels: Mapping[str, str]
    value: float


class _Histogram:
    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.buckets = [0] * len(DURATION_BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.total += value
        for i, bound in enumerate(DURATION_BUCKETS):
            if value <= bound:
                self.buckets[i] += 1


_HELP: dict[str, tuple[str, str]] = {
    "iaa_webhook_events_received_total": (
        "counter",
        "Webhook events that passed verification (stored, duplicate or ignored).",
    ),
    "iaa_webhook_events_stored_total": ("counter", "Webhook events newly stored for processing."),
    "iaa_webhook_events_duplicate_total": (
        "counter",
        "Webhook events already stored (acknowledged again, stored once).",
    ),
    "iaa_webhook_events_ignored_total": (
        "counter",
        "Verified webhook events acknowledged and ignored (event type or dataset not followed).",
    ),
    "iaa_webhook_events_rejected_total": ("counter", "Webhook requests rejected, by reason."),
    "iaa_webhook_events_processed_total": ("counter", "Stored webhook events processed."),
    "iaa_api_requests_rejected_total": (
        "counter",
        "Requests to /metrics or /reports refused for a missing or wrong bearer token, by reason.",
    ),
    "iaa_sync_duration_seconds": ("histogram", "Duration of sync runs (with retries)."),
    "iaa_sync_runs_total": ("counter", "Sync runs by outcome (synced, failed, locked)."),
    "iaa_sync_errors_total": ("counter", "Sync runs that failed after their retries."),
    "iaa_sync_retries_total": ("counter", "Retries of transient platform errors."),
    "iaa_alpha": ("gauge", "Krippendorff's alpha per dimension in the latest stored report."),
    "iaa_annotators": ("gauge", "Annotators per current status."),
}


def _key(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


class Metrics:
    """Thread-safe counters and a sync-duration histogram per project."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._durations: dict[str, _Histogram] = {}

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to the counter ``name`` with ``labels``."""
        key = _key(labels)
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def counter(self, name: str, **labels: str) -> float:
        """The counter's current value (0 if never counted)."""
        with self._lock:
            return self._counters.get(name, {}).get(_key(labels), 0.0)

    def observe_sync(self, project: str, seconds: float) -> None:
        """Record one sync run's duration."""
        with self._lock:
            self._durations.setdefault(project, _Histogram()).observe(seconds)

    def sync_durations(self, project: str) -> tuple[int, float]:
        """(count, total seconds) of the project's recorded sync runs."""
        with self._lock:
            histogram = self._durations.get(project)
            return (0, 0.0) if histogram is None else (histogram.count, histogram.total)

    def render(self, samples: Iterable[Sample] = ()) -> str:
        """The exposition text: counters, the histogram, then ``samples``."""
        with self._lock:
            counters = {name: dict(series) for name, series in self._counters.items()}
            durations = {
                project: (list(h.buckets), h.count, h.total)
                for project, h in self._durations.items()
            }
        return render(counters, durations, samples)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{name}="{_escape(value)}"' for name, value in labels)
    return f"{{{inner}}}" if inner else ""


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _header(lines: list[str], name: str) -> None:
    kind, text = _HELP.get(name, ("untyped", name))
    lines.append(f"# HELP {name} {text}")
    lines.append(f"# TYPE {name} {kind}")


def render(
    counters: Mapping[str, Mapping[Labels, float]],
    durations: Mapping[str, tuple[list[int], int, float]],
    samples: Iterable[Sample],
) -> str:
    """Prometheus text exposition of counters, per-project duration histograms and samples."""
    lines: list[str] = []
    for name in sorted(counters):
        _header(lines, name)
        for labels, value in sorted(counters[name].items()):
            lines.append(f"{name}{_labels(labels)} {_number(value)}")
    name = "iaa_sync_duration_seconds"
    _header(lines, name)
    for project, (buckets, count, total) in sorted(durations.items()):
        for bound, cumulative in zip(DURATION_BUCKETS, buckets, strict=True):
            labels = (("le", _number(bound)), ("project", project))
            lines.append(f"{name}_bucket{_labels(labels)} {cumulative}")
        lines.append(f"{name}_bucket{_labels((('le', '+Inf'), ('project', project)))} {count}")
        lines.append(f"{name}_sum{_labels((('project', project),))} {_number(total)}")
        lines.append(f"{name}_count{_labels((('project', project),))} {count}")
    grouped: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        grouped[sample.name].append(sample)
    for name in sorted(grouped):
        _header(lines, name)
        for sample in sorted(grouped[name], key=lambda s: _key(s.labels)):
            lines.append(f"{name}{_labels(_key(sample.labels))} {_number(sample.value)}")
    return "\n".join(lines) + "\n"
