"""The always-on service wired together: store, alerter, runner, worker, scheduler, app, server.

``iaa-connector serve`` parses its options and calls :func:`run_service`; everything it starts
is built here, so the CLI holds no service logic.
"""

from __future__ import annotations

import logging.config
import os

from connector.alerts import Alerter, sync_failing_alert
from connector.config import Config
from connector.service.app import create_app
from connector.service.metrics import Metrics
from connector.service.redact import logging_config, secret_env_names
from connector.service.runner import SyncRunner, platform_sync
from connector.service.scheduler import SyncScheduler
from connector.service.worker import EventWorker
from connector.store import Store

__all__ = ["run_service"]


def run_service(
    config: Config, store: Store, *, host: str, port: int, scheduler: bool, level: int
) -> None:
    """Run the service until it is stopped (uvicorn handles SIGINT/SIGTERM).

    Logging is configured first, with the secret and query-string filters on every handler,
    before the service logs anything; uvicorn applies the same configuration when it starts.
    """
    import uvicorn

    log_config = logging_config(secret_env_names(config), level=level)
    logging.config.dictConfig(log_config)
    webhook = os.environ.get(config.alert_webhook_env or "") or None
    alerter = Alerter(webhook, min_interval_s=config.alert_min_interval_s)

    def on_failure(project: str, error: BaseException, consecutive: int) -> None:
        del consecutive  # the runner calls only past [alerts] failed_runs
        alerter.send([sync_failing_alert(project, error)])

    metrics = Metrics()
    runner = SyncRunner(
        store,
        platform_sync(config, store, alerter=alerter),
        metrics=metrics,
        on_failure=on_failure,
        alert_after=config.alert_after_failed_runs,
    )
    app = create_app(
        config,
        store,
        worker=EventWorker(
            store, runner, metrics=metrics, min_interval_s=config.webhook_min_interval_s
        ),
        scheduler=SyncScheduler(config, runner) if scheduler else None,
        metrics=metrics,
        argilla_secret_env=config.argilla_webhook_secret_env,
    )
    uvicorn.run(app, host=host, port=port, log_level=level, log_config=log_config)
