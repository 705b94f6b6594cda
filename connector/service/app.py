"""The always-on service's HTTP side (ASGI, Starlette): webhook intake, health, metrics, reports.

Endpoints::

    POST /webhooks/label-studio/{project}   shared secret in X-IAA-Webhook-Secret
    POST /webhooks/argilla                  Standard Webhooks signature
    GET  /healthz                           200 while the process runs
    GET  /readyz                            200, or 503 naming the store/platforms that are down
    GET  /metrics                           Prometheus text exposition
    GET  /reports/{project}                 the latest HTML report (404 if none)

Webhook answers: 202 stored (new), 200 duplicate (stored once already), 204 verified but not
followed (event type or dataset), 400 malformed, 401 unauthenticated, 404 unknown project,
413 over ``max_body_bytes``, 503 the store refused the write (the platform retries).

Durable intake: an accepted event is written to the store (in a worker thread, so the event
loop never blocks) before the 2xx is sent; the :class:`EventWorker` then syncs. Payloads and
headers are never logged and only a summary of each payload is stored (see
:mod:`connector.service.webhooks`): Label Studio payloads can carry the project's API token.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connector.config import Config, ProjectConfig
from connector.rubric import load_rubric
from connector.service.health import Readiness
from connector.service.lock import write_lock
from connector.service.metrics import CONTENT_TYPE, Metrics, Sample
from connector.service.scheduler import SyncScheduler
from connector.service.webhooks import (
    SignatureError,
    argilla_event,
    argilla_summary,
    check_shared_secret,
    label_studio_intake,
    verify_standard_webhook,
)
from connector.service.worker import EventWorker
from connector.store import ANNOTATOR_STATUSES, Store

__all__ = [
    "ARGILLA_WEBHOOK_SECRET_ENV",
    "LABEL_STUDIO_SECRET_HEADER",
    "MAX_BODY_BYTES",
    "MAX_EVENT_ID_LENGTH",
    "TIMESTAMP_TOLERANCE_S",
    "create_app",
]

log = logging.getLogger(__name__)

# The environment variable holding the Argilla webhook secret (whsec_<base64> or base64).
# TODO(config): move into the configuration file next to the platform.
ARGILLA_WEBHOOK_SECRET_ENV = "IAA_ARGILLA_WEBHOOK_SECRET"
LABEL_STUDIO_SECRET_HEADER = "X-IAA-Webhook-Secret"
MAX_BODY_BYTES = 1024 * 1024
MAX_EVENT_ID_LENGTH = 255  # the store's key length
TIMESTAMP_TOLERANCE_S = 300.0


class _RejectedError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        self.status, self.reason, self.message = status, reason, message
        super().__init__(message)


class _Receiver:
    """The webhook endpoints and the scrape-time gauges, over one store and one config."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        worker: EventWorker | None,
        metrics: Metrics,
        env: Mapping[str, str],
        clock: Callable[[], float],
        max_body_bytes: int,
        tolerance_s: float,
        argilla_secret_env: str,
    ) -> None:
        self.config = config
        self.store = store
        self.worker = worker
        self.metrics = metrics
        self.env = env
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self.tolerance_s = tolerance_s
        self.argilla_secret_env = argilla_secret_env
        kinds = {p.name: p.kind for p in config.platforms}
        self.label_studio = {
            p.key: p for p in config.projects if kinds.get(p.platform) == "label-studio"
        }
        self.argilla: dict[str, ProjectConfig] = {}
        for project in config.projects:
            if kinds.get(project.platform) == "argilla":
                if project.project_id in self.argilla:
                    log.warning(
                        "Argilla dataset %s is configured for projects %s and %s; webhook events "
                        "go to the first",
                        project.project_id,
                        self.argilla[project.project_id].key,
                        project.key,
                    )
                    continue
                self.argilla[project.project_id] = project
        self._warned: set[str] = set()
        self._rubric_ids: dict[Path, tuple[float, str]] = {}

    # -- shared steps ------------------------------------------------------------------------

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)

    def reject(self, platform: str, rejected: _RejectedError) -> Response:
        self.metrics.count(
            "iaa_webhook_events_rejected_total", platform=platform, reason=rejected.reason
        )
        log.debug("webhook rejected (%s %s): %s", platform, rejected.reason, rejected.message)
        return JSONResponse({"error": rejected.message}, status_code=rejected.status)

    def ignore(self, platform: str, reason: str) -> Response:
        self.metrics.count("iaa_webhook_events_received_total", platform=platform)
        self.metrics.count("iaa_webhook_events_ignored_total", platform=platform, reason=reason)
        return Response(status_code=204)

    def check_declared_length(self, request: Request) -> None:
        declared = request.headers.get("content-length")
        if declared is None:
            return
        if not declared.isascii() or not declared.isdigit():
            raise _RejectedError(400, "malformed", "Content-Length is not a number")
        if int(declared) > self.max_body_bytes:
            raise _RejectedError(413, "too_large", f"body over {self.max_body_bytes} bytes")

    async def read_body(self, request: Request) -> bytes:
        """The body, refused with 413 as soon as the declared or streamed size is over."""
        self.check_declared_length(request)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise _RejectedError(413, "too_large", f"body over {self.max_body_bytes} bytes")
                chunks.append(chunk)
        except ClientDisconnect:
            raise _RejectedError(400, "disconnected", "the client went away") from None
        return b"".join(chunks)

    @staticmethod
    def parse(body: bytes) -> Mapping[str, Any]:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError
            raise _RejectedError(400, "malformed", "the body is not JSON") from None
        if not isinstance(payload, dict):
            raise _RejectedError(400, "malformed", "the body is not a JSON object")
        return payload

    async def store_event(
        self, platform: str, event_id: str, project_key: str, summary: Mapping[str, Any]
    ) -> Response:
        """Write the event durably, then acknowledge: 202 new, 200 duplicate."""

        def write() -> bool:
            with write_lock(self.store):  # shared with the worker: no SQLite busy waits
                return self.store.add_webhook_event(
                    event_id, platform=platform, payload=summary, project_key=project_key
                )

        try:
            new = await anyio.to_thread.run_sync(write)
        except Exception as exc:
            log.error("storing a %s webhook event for %s failed: %s", platform, project_key, exc)
            raise _RejectedError(
                503, "store_error", "the event could not be stored; retry"
            ) from None
        self.metrics.count("iaa_webhook_events_received_total", platform=platform)
        if not new:
            self.metrics.count("iaa_webhook_events_duplicate_total", platform=platform)
            return JSONResponse({"status": "duplicate", "event_id": event_id}, status_code=200)
        self.metrics.count("iaa_webhook_events_stored_total", platform=platform)
        if self.worker is not None:
            self.worker.notify()
        return JSONResponse({"status": "accepted", "event_id": event_id}, status_code=202)

    # -- endpoints ---------------------------------------------------------------------------

    async def label_studio_webhook(self, request: Request) -> Response:
        platform = "label-studio"
        try:
            project = self.label_studio.get(request.path_params["project"])
            if project is None or not project.webhook_secret_env:
                raise _RejectedError(404, "unknown_project", "no such project takes webhooks")
            self.check_declared_length(request)
            expected = self.env.get(project.webhook_secret_env, "")
            if not expected:
                self._warn_once(
                    f"ls:{project.key}",
                    "project %s: environment variable %s (its webhook secret) is not set; "
                    "refusing its webhooks",
                    project.key,
                    project.webhook_secret_env,
                )
            given = request.headers.get(LABEL_STUDIO_SECRET_HEADER)
            if not check_shared_secret(given, expected):
                reason = "missing_secret" if not given else "wrong_secret"
                raise _RejectedError(401, reason, f"missing or wrong {LABEL_STUDIO_SECRET_HEADER}")
            payload = self.parse(await self.read_body(request))
            intake = label_studio_intake(project.key, payload)
            if intake is None:
                return self.ignore(platform, "event_type")
            return await self.store_event(platform, intake.event_id, project.key, intake.summary)
        except _RejectedError as rejected:
            return self.reject(platform, rejected)

    async def argilla_webhook(self, request: Request) -> Response:
        platform = "argilla"
        try:
            self.check_declared_length(request)
            secret = self.env.get(self.argilla_secret_env, "")
            if not secret:
                self._warn_once(
                    "argilla",
                    "environment variable %s (the Argilla webhook secret) is not set; "
                    "refusing Argilla webhooks",
                    self.argilla_secret_env,
                )
                raise _RejectedError(401, "secret_unset", "webhooks are not configured")
            body = await self.read_body(request)
            try:
                event_id = verify_standard_webhook(
                    request.headers,
                    body,
                    secret=secret,
                    now=self.clock(),
                    tolerance_s=self.tolerance_s,
                )
            except SignatureError as exc:
                if exc.reason == "secret_invalid":
                    self._warn_once(
                        "argilla-secret",
                        "environment variable %s is not a Standard Webhooks secret "
                        "(whsec_<base64> or base64)",
                        self.argilla_secret_env,
                    )
                message = "replay/timestamp" if exc.reason == "timestamp" else str(exc)
                raise _RejectedError(401, exc.reason, message) from None
            if len(event_id) > MAX_EVENT_ID_LENGTH:
                raise _RejectedError(
                    400, "malformed", f"webhook-id is over {MAX_EVENT_ID_LENGTH} characters"
                )
            payload = self.parse(body)
            event = argilla_event(payload)
            if event is None:
                return self.ignore(platform, "event_type")
            kind, dataset = event
            project = self.argilla.get(dataset)
            if project is None:
                return self.ignore(platform, "dataset")
            intake = argilla_summary(event_id, kind, dataset, payload)
            return await self.store_event(platform, intake.event_id, project.key, intake.summary)
        except _RejectedError as rejected:
            return self.reject(platform, rejected)

    async def latest_report(self, request: Request) -> Response:
        key = request.path_params["project"]
        if key not in {p.key for p in self.config.projects}:
            return PlainTextResponse(f"no project {key!r}", status_code=404)
        report = await anyio.to_thread.run_sync(self.store.latest_report, key)
        candidates = [Path(report.html_path)] if report and report.html_path else []
        candidates.append(self.config.reports_dir / key / "latest.html")
        for path in candidates:
            if path.is_file():
                return FileResponse(path, media_type="text/html; charset=utf-8")
        return PlainTextResponse(f"no report for {key!r} yet", status_code=404)

    # -- gauges ------------------------------------------------------------------------------

    def _rubric_id(self, project: ProjectConfig) -> str:
        mtime = project.rubric.stat().st_mtime
        cached = self._rubric_ids.get(project.rubric)
        if cached is None or cached[0] != mtime:
            cached = (mtime, load_rubric(project.rubric, check_layout=False).id)
            self._rubric_ids[project.rubric] = cached
        return cached[1]

    def gauges(self) -> list[Sample]:
        """``iaa_alpha`` from each project's latest report, ``iaa_annotators`` by status."""
        samples: list[Sample] = []
        for project in self.config.projects:
            try:
                report = self.store.latest_report(project.key)
                dimensions = (report.body.get("dimensions") if report else None) or {}
                for name, section in dimensions.items():
                    value = (section.get("krippendorff_alpha") or {}).get("value")
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        samples.append(
                            Sample(
                                name="iaa_alpha",
                                labels={"project": project.key, "dimension": str(name)},
                                value=float(value),
                            )
                        )
                statuses = self.store.current_statuses(project.key, self._rubric_id(project))
                counts = Counter(d.status for d in statuses.values())
                for status in ANNOTATOR_STATUSES:
                    samples.append(
                        Sample(
                            name="iaa_annotators",
                            labels={"project": project.key, "status": status},
                            value=counts.get(status, 0),
                        )
                    )
            except Exception as exc:
                log.warning("metrics of %s unavailable: %s", project.key, exc)
                self.metrics.count("iaa_metrics_scrape_errors_total", project=project.key)
        return samples


def create_app(
    config: Config,
    store: Store,
    *,
    worker: EventWorker | None = None,
    scheduler: SyncScheduler | None = None,
    metrics: Metrics | None = None,
    readiness: Readiness | None = None,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    max_body_bytes: int = MAX_BODY_BYTES,
    timestamp_tolerance_s: float = TIMESTAMP_TOLERANCE_S,
    argilla_secret_env: str = ARGILLA_WEBHOOK_SECRET_ENV,
    freeze_gc: bool = True,
) -> Starlette:
    """The service's ASGI app.

    ``worker`` is notified of each new event; it and ``scheduler`` are started and stopped with
    the app (ASGI lifespan). ``metrics`` is shared with them (default: the worker's, else new).
    ``env`` is where secrets are read, on every request (default :data:`os.environ`), so
    a rotated secret takes effect without a restart. ``clock`` gives unix seconds.
    ``freeze_gc``: at startup, move the objects alive then out of the garbage collector's
    reach (:func:`gc.freeze`), so full collections stay short.
    """
    if metrics is None:
        metrics = worker.metrics if worker is not None else Metrics()
    receiver = _Receiver(
        config,
        store,
        worker=worker,
        metrics=metrics,
        env=os.environ if env is None else env,
        clock=clock,
        max_body_bytes=max_body_bytes,
        tolerance_s=timestamp_tolerance_s,
        argilla_secret_env=argilla_secret_env,
    )
    ready = Readiness(config, store) if readiness is None else readiness

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    lifecycle = {"started": False}

    async def readyz(request: Request) -> Response:
        checks = await ready.check()
        if worker is not None and lifecycle["started"]:
            checks["event worker"] = None if worker.running else "not running"
        down = {part: why for part, why in checks.items() if why is not None}
        if down:
            return JSONResponse(
                {"status": "not ready", "down": down}, status_code=503, headers={"Retry-After": "5"}
            )
        return JSONResponse({"status": "ready", "checks": dict.fromkeys(checks, "ok")})

    async def metrics_endpoint(request: Request) -> Response:
        samples = await anyio.to_thread.run_sync(receiver.gauges)
        return Response(metrics.render(samples), media_type=CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if freeze_gc:
            # Everything imported and built so far lives as long as the process: keep it out
            # of the collector's full passes (a gen-2 pass over pandas, numpy and SQLAlchemy
            # objects stalls the event loop for ~300 ms, the acknowledgement tail).
            gc.collect()
            gc.freeze()
        if worker is not None:
            worker.start()
        if scheduler is not None:
            scheduler.start()
        lifecycle["started"] = True
        try:
            yield
        finally:
            lifecycle["started"] = False
            if scheduler is not None:
                scheduler.stop()
            if worker is not None:
                await anyio.to_thread.run_sync(worker.stop)

    app = Starlette(
        routes=[
            Route(
                "/webhooks/label-studio/{project}",
                receiver.label_studio_webhook,
                methods=["POST"],
            ),
            Route("/webhooks/argilla", receiver.argilla_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/reports/{project}", receiver.latest_report, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.readiness = ready
    return app
