"""The always-on service (``iaa-connector serve``): webhook intake, event worker, scheduler.

::

    platform ──webhook──▶ app (verify, store, 2xx) ──▶ store.webhook_events
                                                          │
                          EventWorker (debounce, group by project) ◀┘
                          SyncScheduler (interval + nightly full)
                                       │
                                       ▼
                          SyncRunner (project lock, retries, metrics, on_failure)
                                       │
                                       ▼
                          connector.sync.sync_project (the one sync function)

Modules: :mod:`~connector.service.app` (ASGI), :mod:`~connector.service.webhooks` (signatures,
payload summaries), :mod:`~connector.service.worker`, :mod:`~connector.service.scheduler`,
:mod:`~connector.service.runner`, :mod:`~connector.service.lock`,
:mod:`~connector.service.metrics`, :mod:`~connector.service.health`,
:mod:`~connector.service.redact`.
"""

from __future__ import annotations

from connector.service.app import ARGILLA_WEBHOOK_SECRET_ENV, BearerAuth, create_app
from connector.service.health import Readiness
from connector.service.lock import project_lock
from connector.service.metrics import Metrics
from connector.service.redact import SecretFilter, install_secret_filter, secret_env_names
from connector.service.runner import (
    RetryPolicy,
    SyncFunction,
    SyncOutcome,
    SyncRunner,
    close_abandoned_runs,
    platform_sync,
)
from connector.service.scheduler import SyncScheduler
from connector.service.worker import EventWorker

__all__ = [
    "ARGILLA_WEBHOOK_SECRET_ENV",
    "BearerAuth",
    "EventWorker",
    "Metrics",
    "Readiness",
    "RetryPolicy",
    "SecretFilter",
    "SyncFunction",
    "SyncOutcome",
    "SyncRunner",
    "SyncScheduler",
    "close_abandoned_runs",
    "create_app",
    "install_secret_filter",
    "platform_sync",
    "project_lock",
    "secret_env_names",
]
