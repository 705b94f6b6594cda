"""The always-on service's HTTP side (ASGI, Starlette): webhook intake, health, metrics, reports.

Endpoints::

    POST /webhooks/label-studio/{project}   shared secret in X-IAA-Webhook-Secret
    POST /webhooks/argilla                  Standard Webhooks signature
    GET  /healthz                           200 while the process runs             (open)
    GET  /readyz                            200, or 503 naming what is down        (open)
    GET  /metrics                           Prometheus text exposition             (bearer token)
    GET  /reports/{project}                 the latest HTML report (404 if none)   (bearer token)

**API token.** ``/metrics`` and ``/reports/{project}`` show per-annotator figures, which
annotators must not see: they require ``Authorization: Bearer <token>``, the token being the
value of the environment variable named by ``[server] api_token_env`` (default
``IAA_API_TOKEN``), compared in constant time. A missing or wrong token gets 401 with
``WWW-Authenticate: Bearer``; while the variable is unset or empty every request does (and one
warning names the variable). ``/healthz`` and ``/readyz`` stay open and show no secrets.
A Prometheus scrape job::

    scrape_configs:
      - job_name: iaa-connector
        metrics_path: /metrics
        authorization:
          type: Bearer
          credentials_file: /etc/prometheus/iaa-api-token   # holds the IAA_API_TOKEN value
        static_configs:
          - targets: ["iaa-connector.internal:8765"]

Webhook answers: 202 stored (new), 200 duplicate (stored once already), 204 verified but not
followed (event type or dataset), 400 malformed, 401 unauthenticated (for Label Studio also an
unknown project: the answer does not tell which project keys exist), 413 over
``max_body_bytes``, 415 not ``Content-Type: application/json``, 503 the store refused the write
or too many bodies are being read at once (``Retry-After``; the platform retries).

Untrusted bodies are bounded before they are read: Label Studio's secret header is checked
first; an Argilla request must carry the Standard Webhooks headers with a timestamp within the
tolerance, else it is refused before a byte of its body is read. A body is then read only up to
``max_body_bytes`` (256 KiB: a real Argilla response event, record and dataset schema included,
is a few KiB; see docs/service.md) and only ``max_concurrent_bodies`` at once across both routes, so
200 concurrent 1 MiB posts cost the process a few MiB instead of 200.

Durable intake: an accepted event is written to the store before the 2xx is sent; the
:class:`EventWorker` then syncs (at most once per project per ``[server]
webhook_min_interval_seconds``). The writes are group-committed: one thread (so the event loop
never blocks on the database) keeps one connection and stores every event that arrived while
its previous transaction ran in one transaction, under the process's write lock; each request
waits for the commit holding its own event. A transaction costs far more than a row, so the
busier the service, the more events share one; nothing waits for a batch to fill. If a batch
fails for its data rather than the database (PostgreSQL refusing one event's text), its events
are written again one per transaction, so one bad event fails alone.

POSTs to the two webhook routes go round Starlette (:class:`_ServiceApp`): the endpoints read
the ASGI scope and body messages themselves and answer with two ASGI messages, without
Starlette's middleware, router, Request or Response objects; every other request, any other
method on those paths, and everything under a ``root_path`` goes through the router as usual.

Payloads and headers are never logged and only a summary of each payload is stored (see
:mod:`connector.service.webhooks`): Label Studio payloads can carry the project's API token.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import json
import logging
import os
import queue
import secrets
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from connector.config import Config, ProjectConfig
from connector.errors import ConnectorError
from connector.rubric import load_rubric
from connector.service.health import Readiness
from connector.service.lock import write_lock
from connector.service.metrics import CONTENT_TYPE, Metrics, Sample
from connector.service.scheduler import SyncScheduler
from connector.service.webhooks import (
    Intake,
    SignatureError,
    argilla_event,
    argilla_summary,
    check_shared_secret,
    check_signature,
    check_standard_webhook_headers,
    check_timestamp,
    decode_secret,
    label_studio_intake,
    signing_key,
)
from connector.service.worker import EventWorker
from connector.store import ANNOTATOR_STATUSES, Store
from connector.store.events import NewWebhookEvent, WebhookIntake

__all__ = [
    "ARGILLA_WEBHOOK_SECRET_ENV",
    "LABEL_STUDIO_SECRET_HEADER",
    "MAX_BODY_BYTES",
    "MAX_CONCURRENT_BODIES",
    "MAX_EVENT_ID_LENGTH",
    "TIMESTAMP_TOLERANCE_S",
    "BearerAuth",
    "create_app",
]

log = logging.getLogger(__name__)

# The environment variable holding the Argilla webhook secret (whsec_<base64> or base64).
# TODO(config): move into the configuration file next to the platform.
ARGILLA_WEBHOOK_SECRET_ENV = "IAA_ARGILLA_WEBHOOK_SECRET"
LABEL_STUDIO_SECRET_HEADER = "X-IAA-Webhook-Secret"
# A real event is a few KiB (an Argilla response event carries its record's fields and the
# dataset's schema and guidelines); larger bodies are refused (413) and the next scheduled sync
# picks the change up.
MAX_BODY_BYTES = 256 * 1024
# Webhook bodies read (and parsed) at once, across both routes; more get 503 with Retry-After.
MAX_CONCURRENT_BODIES = 32
MAX_EVENT_ID_LENGTH = 255  # the store's key length
TIMESTAMP_TOLERANCE_S = 300.0
JSON_MEDIA_TYPE = "application/json"

Endpoint = Callable[[Request], Awaitable[Response]]
Headers = list[tuple[bytes, bytes]]


class _Answer:
    """A webhook route's answer, sent as two ASGI messages (no Starlette Response on the
    intake's path): status, body, and headers (content type and length included)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes = b"", headers: Headers | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = [] if headers is None else headers

    @classmethod
    def json(
        cls, status: int, content: object, headers: Mapping[str, str] | None = None
    ) -> _Answer:
        """A JSON answer, encoded as Starlette's JSONResponse does."""
        body = json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        ).encode()
        fields = [(b"content-length", b"%d" % len(body)), (b"content-type", _JSON_TYPE)]
        for name, value in (headers or {}).items():
            fields.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        return cls(status, body, fields)

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})

    def response(self) -> Response:
        """The same answer as a Starlette response (for the router's path)."""
        response = Response(self.body, status_code=self.status)
        response.raw_headers = list(self.headers)
        return response


_JSON_TYPE = JSON_MEDIA_TYPE.encode()
_NO_CONTENT = _Answer(204)
WebhookEndpoint = Callable[[Scope, Receive], Awaitable[_Answer]]


_Outcome = bool | Exception
_Waiting = list[tuple[NewWebhookEvent, "asyncio.Future[bool]"]]


class _GroupCommit:
    """The intake's store writes, group-committed (see the module docstring).

    :meth:`add` returns once the transaction holding the event has committed: True if the
    event is new, False if it was stored already; it raises what the write raised.

    The events of one turn of the event loop are handed to the writer thread together (or
    every ``max_batch``); the thread writes everything handed over while its previous
    transaction ran in one transaction, then wakes each event loop once. Nothing waits for a
    batch to fill: a wait would save CPU at a steady 500 events/s, but cap a sender that posts
    one event at a time per connection at one event per wait per connection. The thread starts
    with the first event and ends after ``idle_s`` without one (or at :meth:`close`).
    """

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 500,
        idle_s: float = 10.0,
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.idle_s = idle_s
        self._gathering: dict[asyncio.AbstractEventLoop, _Waiting] = {}
        self._queue: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, _Waiting] | None]
        self._queue = queue.SimpleQueue()
        self._lock = threading.Lock()  # the thread's start and idle exit vs. a hand-over
        self._thread: threading.Thread | None = None
        self.transactions = 0  # transactions written (tests and benchmarks read it)

    async def add(self, event: NewWebhookEvent) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        waiting = self._gathering.get(loop)
        if waiting is None:
            waiting = self._gathering[loop] = []
            loop.call_soon(self._hand_over, loop, waiting)
        waiting.append((event, future))
        if len(waiting) >= self.max_batch:
            self._hand_over(loop, waiting)
        return await future

    def _hand_over(self, loop: asyncio.AbstractEventLoop, waiting: _Waiting) -> None:
        if self._gathering.get(loop) is not waiting:
            return  # handed over already (full)
        del self._gathering[loop]
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="iaa-intake-writer", daemon=True
                )
                self._thread.start()
            self._queue.put((loop, waiting))

    @property
    def running(self) -> bool:
        """Whether the writer thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def close(self, timeout_s: float = 30.0) -> None:
        """Write what was handed over, then end the thread."""
        with self._lock:
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join(timeout_s)

    def _run(self) -> None:
        intake = self.store.webhook_intake()  # one connection while the thread lives
        try:
            self._serve(intake)
        finally:
            intake.close()

    def _serve(self, intake: WebhookIntake) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_s)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():  # hand-overs put under the lock: none is missed
                        self._thread = None
                        return
                continue
            batches = [] if first is None else [first]
            stop = first is None
            while not stop:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                else:
                    batches.append(more)
            if batches:
                self._commit(intake, batches)
            if stop:
                with self._lock:
                    if self._queue.empty():  # else handed over after close(): write it too
                        self._thread = None
                        return

    def _commit(
        self, intake: WebhookIntake, batches: list[tuple[asyncio.AbstractEventLoop, _Waiting]]
    ) -> None:
        events = [event for _, waiting in batches for event, _ in waiting]
        try:
            outcomes = self._write(intake, events)
        except Exception as exc:  # never leave a request waiting
            log.exception("the webhook intake writer failed")
            outcomes = [exc] * len(events)
        at = 0
        for loop, waiting in batches:
            answers = [
                (future, outcome)
                for (_, future), outcome in zip(
                    waiting, outcomes[at : at + len(waiting)], strict=True
                )
            ]
            at += len(waiting)
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
                loop.call_soon_threadsafe(_answer, answers)

    def _write(self, intake: WebhookIntake, events: list[NewWebhookEvent]) -> list[_Outcome]:
        """Each event's outcome: stored in one transaction, or one per transaction if the
        batch failed for its data (not for the database: locked, unreachable)."""
        self.transactions += 1
        try:
            with write_lock(self.store):  # shared with the worker: no SQLite busy waits
                return list(intake.add(events))
        except Exception as exc:
            if len(events) == 1 or isinstance(exc.__cause__, OperationalError):
                return [exc] * len(events)
        outcomes: list[_Outcome] = []
        for event in events:
            self.transactions += 1
            try:
                with write_lock(self.store):
                    outcomes.append(intake.add([event])[0])
            except Exception as exc:
                outcomes.append(exc)
        return outcomes


def _answer(answers: list[tuple[asyncio.Future[bool], _Outcome]]) -> None:
    for future, outcome in answers:
        if future.done():  # the request was cancelled
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class _RejectedError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status, self.reason, self.message = status, reason, message
        self.headers = dict(headers or {})
        super().__init__(message)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers in one pass (ASGI names are lower case; the first of repeated
    ones, as Starlette's ``headers.get``), for the webhook routes' several look-ups."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key not in found:
            found[key] = value.decode("latin-1")
    return found


class BearerAuth:
    """The one check of every route that shows reports, metrics or per-annotator figures:
    ``Authorization: Bearer <token>`` equal (constant time) to the value of the environment
    variable ``env_name``, read on every request so a rotated token takes effect at once.

    :meth:`protect` wraps an endpoint; :meth:`refusal` is the check itself (None: allowed).
    """

    def __init__(self, env: Mapping[str, str], env_name: str, metrics: Metrics) -> None:
        self.env = env
        self.env_name = env_name
        self.metrics = metrics
        self._warned = False

    def refusal(self, request: Request) -> Response | None:
        """None if the request carries the token, else the 401 to send."""
        expected = self.env.get(self.env_name, "")
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        # compare even when the scheme is wrong: the time taken does not depend on the input
        matches = hmac.compare_digest(given.strip().encode(), (expected or "\0").encode())
        if not expected:
            if not self._warned:
                self._warned = True
                log.warning(
                    "environment variable %s (the API token of /metrics and /reports) is not "
                    "set; those routes answer 401 until it is",
                    self.env_name,
                )
            reason = "token_unset"
        elif not header.strip():
            reason = "missing_token"
        elif scheme.lower() != "bearer" or not matches:
            reason = "wrong_token"
        else:
            return None
        self.metrics.count("iaa_api_requests_rejected_total", reason=reason)
        return JSONResponse(
            {"error": "this route needs Authorization: Bearer <the API token>"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="iaa-connector"'},
        )

    def protect(self, endpoint: Endpoint) -> Endpoint:
        """``endpoint``, answering 401 unless the request carries the token."""

        async def protected(request: Request) -> Response:
            refused = self.refusal(request)
            if refused is not None:
                return refused
            return await endpoint(request)

        return protected


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
        max_concurrent_bodies: int,
        tolerance_s: float,
        argilla_secret_env: str,
    ) -> None:
        self.config = config
        self.store = store
        self.writer = _GroupCommit(store)
        self.worker = worker
        self.metrics = metrics
        self.env = env
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self.max_concurrent_bodies = max_concurrent_bodies
        self._reading = 0  # bodies being read now (one event loop: no lock needed)
        # compared with the secret header of an unknown project, as a known one's would be
        self._dummy_secret = secrets.token_urlsafe(32)
        self.tolerance_s = tolerance_s
        self.argilla_secret_env = argilla_secret_env
        self._argilla_keys: tuple[str, hmac.HMAC] | None = None  # (secret, its prepared key)
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

    def reject(self, platform: str, rejected: _RejectedError) -> _Answer:
        self.metrics.count(
            "iaa_webhook_events_rejected_total", platform=platform, reason=rejected.reason
        )
        log.debug("webhook rejected (%s %s): %s", platform, rejected.reason, rejected.message)
        return _Answer.json(rejected.status, {"error": rejected.message}, rejected.headers)

    def ignore(self, platform: str, reason: str) -> _Answer:
        self.metrics.count("iaa_webhook_events_received_total", platform=platform)
        self.metrics.count("iaa_webhook_events_ignored_total", platform=platform, reason=reason)
        return _NO_CONTENT

    @staticmethod
    def check_content_type(headers: Mapping[str, str]) -> None:
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != JSON_MEDIA_TYPE:
            raise _RejectedError(415, "content_type", f"Content-Type must be {JSON_MEDIA_TYPE}")

    @contextlib.contextmanager
    def body_slot(self) -> Iterator[None]:
        """One of the ``max_concurrent_bodies`` slots for reading and parsing a body, or 503."""
        if self._reading >= self.max_concurrent_bodies:
            raise _RejectedError(
                503,
                "busy",
                "too many webhook bodies are being read; retry",
                headers={"Retry-After": "1"},
            )
        self._reading += 1
        try:
            yield
        finally:
            self._reading -= 1

    def check_declared_length(self, headers: Mapping[str, str]) -> None:
        declared = headers.get("content-length")
        if declared is None:
            return
        if not declared.isascii() or not declared.isdigit():
            raise _RejectedError(400, "malformed", "Content-Length is not a number")
        if int(declared) > self.max_body_bytes:
            raise _RejectedError(413, "too_large", f"body over {self.max_body_bytes} bytes")

    async def read_body(self, receive: Receive) -> bytes:
        """The body, from the ASGI messages, refused with 413 as soon as the streamed size is
        over (the declared size is :meth:`check_declared_length`'s, before)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect
                raise _RejectedError(400, "disconnected", "the client went away")
            chunk: bytes = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise _RejectedError(413, "too_large", f"body over {self.max_body_bytes} bytes")
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

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
    ) -> _Answer:
        """Write the event durably, then acknowledge: 202 new, 200 duplicate."""
        event = NewWebhookEvent(
            event_id=event_id, platform=platform, payload=summary, project_key=project_key
        )
        try:
            new = await self.writer.add(event)
        except Exception as exc:
            log.error("storing a %s webhook event for %s failed: %s", platform, project_key, exc)
            raise _RejectedError(
                503, "store_error", "the event could not be stored; retry"
            ) from None
        self.metrics.count("iaa_webhook_events_received_total", platform=platform)
        if not new:
            self.metrics.count("iaa_webhook_events_duplicate_total", platform=platform)
            return _Answer.json(200, {"status": "duplicate", "event_id": event_id})
        self.metrics.count("iaa_webhook_events_stored_total", platform=platform)
        if self.worker is not None:
            self.worker.notify(project_key)
        return _Answer.json(202, {"status": "accepted", "event_id": event_id})

    # -- endpoints ---------------------------------------------------------------------------

    def webhook_endpoint(self, scope: Scope) -> WebhookEndpoint | None:
        """The webhook endpoint of a request's path (setting the Label Studio route's
        ``{project}`` path parameter), or None if the path is not a webhook route."""
        path: str = scope["path"]
        if path == ARGILLA_ROUTE:
            return self.argilla_webhook
        if path.startswith(LABEL_STUDIO_ROUTE):
            project = path[len(LABEL_STUDIO_ROUTE) :]
            if project and "/" not in project:  # as the route's {project}
                scope["path_params"] = {"project": project}
                return self.label_studio_webhook
        return None

    def _label_studio_secret(self, scope: Scope, headers: Mapping[str, str]) -> ProjectConfig:
        """The project the request names, if its secret header is right; else 401.

        The secret is checked before anything else, and an unknown project (or one that takes
        no webhooks) is compared with a dummy secret the same way: unknown and wrong get the
        same answer, so the route does not tell which project keys exist.
        """
        project = self.label_studio.get(scope["path_params"]["project"])
        known = project is not None and bool(project.webhook_secret_env)
        expected = ""
        if project is not None and project.webhook_secret_env:
            expected = self.env.get(project.webhook_secret_env, "")
            if not expected:
                self._warn_once(
                    f"ls:{project.key}",
                    "project %s: environment variable %s (its webhook secret) is not set; "
                    "refusing its webhooks",
                    project.key,
                    project.webhook_secret_env,
                )
        given = headers.get(LABEL_STUDIO_SECRET_HEADER.lower())
        matches = check_shared_secret(given, expected or self._dummy_secret)
        if project is None or not known or not expected or not matches:
            reason = "wrong_secret"
            if not known:
                reason = "unknown_project"
            elif not given:
                reason = "missing_secret"
            raise _RejectedError(401, reason, f"missing or wrong {LABEL_STUDIO_SECRET_HEADER}")
        return project

    async def label_studio_webhook(self, scope: Scope, receive: Receive) -> _Answer:
        platform = "label-studio"
        try:
            headers = _headers(scope)
            project = self._label_studio_secret(scope, headers)
            self.check_content_type(headers)
            self.check_declared_length(headers)
            with self.body_slot():
                intake = self._label_studio_parse(project.key, await self.read_body(receive))
            if intake is None:
                return self.ignore(platform, "event_type")
            return await self.store_event(platform, intake.event_id, project.key, intake.summary)
        except _RejectedError as rejected:
            return self.reject(platform, rejected)

    def _label_studio_parse(self, project_key: str, body: bytes) -> Intake | None:
        # in a function of its own, so the body and payload are freed before the store write
        return label_studio_intake(project_key, self.parse(body))

    async def argilla_webhook(self, scope: Scope, receive: Receive) -> _Answer:
        platform = "argilla"
        try:
            secret = self.env.get(self.argilla_secret_env, "")
            if not secret:
                self._warn_once(
                    "argilla",
                    "environment variable %s (the Argilla webhook secret) is not set; "
                    "refusing Argilla webhooks",
                    self.argilla_secret_env,
                )
                raise _RejectedError(401, "secret_unset", "webhooks are not configured")
            # refused before a byte of the body is read: no headers, a stale or future
            # timestamp, an overlong id, another media type, a declared size over the limit
            headers = _headers(scope)
            try:
                event_id, stamp, signatures = check_standard_webhook_headers(
                    headers, now=self.clock(), tolerance_s=self.tolerance_s
                )
                key = self._argilla_key(secret)
            except SignatureError as exc:
                raise self._signature_rejection(exc) from None
            if len(event_id) > MAX_EVENT_ID_LENGTH:
                raise _RejectedError(
                    400, "malformed", f"webhook-id is over {MAX_EVENT_ID_LENGTH} characters"
                )
            self.check_content_type(headers)
            self.check_declared_length(headers)
            with self.body_slot():
                body = await self.read_body(receive)
                try:  # the timestamp again: reading the body took time
                    check_timestamp(stamp, now=self.clock(), tolerance_s=self.tolerance_s)
                    check_signature(event_id, stamp, signatures, body, key=key)
                except SignatureError as exc:
                    raise self._signature_rejection(exc) from None
                accepted = self._argilla_parse(event_id, body)
            if isinstance(accepted, str):
                return self.ignore(platform, accepted)
            project_key, intake = accepted
            return await self.store_event(platform, intake.event_id, project_key, intake.summary)
        except _RejectedError as rejected:
            return self.reject(platform, rejected)

    def _argilla_key(self, secret: str) -> hmac.HMAC:
        """The HMAC key of the secret, decoded and prepared once per value (the value is read
        on every request, so a rotated secret takes effect at once)."""
        cached = self._argilla_keys
        if cached is None or cached[0] != secret:
            cached = self._argilla_keys = (secret, signing_key(decode_secret(secret)))
        return cached[1]

    def _signature_rejection(self, exc: SignatureError) -> _RejectedError:
        if exc.reason == "secret_invalid":
            self._warn_once(
                "argilla-secret",
                "environment variable %s is not a Standard Webhooks secret "
                "(whsec_<base64> or base64)",
                self.argilla_secret_env,
            )
        message = "replay/timestamp" if exc.reason == "timestamp" else str(exc)
        return _RejectedError(401, exc.reason, message)

    def _argilla_parse(self, event_id: str, body: bytes) -> tuple[str, Intake] | str:
        """(project key, intake) of a verified body, or why it is ignored."""
        payload = self.parse(body)
        event = argilla_event(payload)
        if event is None:
            return "event_type"
        kind, dataset = event
        project = self.argilla.get(dataset)
        if project is None:
            return "dataset"
        return project.key, argilla_summary(event_id, kind, dataset, payload)

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

    async def gate(self, request: Request) -> Response:
        """The validation gate of the rubric version the project's configuration names, read
        only (:func:`connector.calibration.promotion.gate_state`)."""
        from connector.calibration.promotion import gate_state

        key = request.path_params["project"]
        project = next((p for p in self.config.projects if p.key == key), None)
        if project is None:
            return PlainTextResponse(f"no project {key!r}", status_code=404)
        try:
            rubric = load_rubric(project.rubric, check_layout=False)
            state = await anyio.to_thread.run_sync(gate_state, self.store, key, rubric)
        except ConnectorError as exc:
            return PlainTextResponse(f"gate of {key!r}: {exc}", status_code=500)
        return JSONResponse(state)

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


ARGILLA_ROUTE = "/webhooks/argilla"
LABEL_STUDIO_ROUTE = "/webhooks/label-studio/"


class _ServiceApp(Starlette):
    """The service's Starlette app, with a way round it for the webhook intake: a POST to a
    webhook route goes straight to its endpoint, which reads the ASGI scope and messages itself
    and answers with two ASGI messages. What is skipped (Starlette's middleware stack, router,
    exception middleware, Request and Response objects) cost more than verifying and storing
    an event. Every other request, and any other method on those paths, goes through
    Starlette as usual; so does everything under a ``root_path``. An unexpected error is
    logged and answered 500, as Starlette's server-error middleware would.
    """

    def __init__(self, receiver: _Receiver, **options: Any) -> None:
        super().__init__(**options)
        self.receiver = receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            endpoint = self.receiver.webhook_endpoint(scope)
            if endpoint is not None:
                try:
                    answer = await endpoint(scope, receive)
                except Exception:
                    log.exception("webhook %s failed", scope["path"])
                    answer = _SERVER_ERROR
                await answer.send(send)
                return
        await super().__call__(scope, receive, send)


def _route(endpoint: WebhookEndpoint) -> Endpoint:
    """A webhook endpoint as a Starlette route's (the router's path: under a root_path)."""

    async def route(request: Request) -> Response:
        return (await endpoint(request.scope, request.receive)).response()

    return route


_SERVER_ERROR = _Answer(
    500,
    b"Internal Server Error",
    [(b"content-length", b"21"), (b"content-type", b"text/plain; charset=utf-8")],
)


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
    max_concurrent_bodies: int = MAX_CONCURRENT_BODIES,
    timestamp_tolerance_s: float = TIMESTAMP_TOLERANCE_S,
    argilla_secret_env: str = ARGILLA_WEBHOOK_SECRET_ENV,
    freeze_gc: bool = True,
) -> Starlette:
    """The service's ASGI app.

    ``worker`` is notified of each new event; it and ``scheduler`` are started and stopped with
    the app (ASGI lifespan). ``metrics`` is shared with them (default: the worker's, else new).
    ``env`` is where secrets are read, on every request (default :data:`os.environ`), so
    a rotated secret takes effect without a restart, and the API token of ``/metrics`` and
    ``/reports`` (the variable named by ``config.api_token_env``). ``clock`` gives unix seconds.
    ``max_body_bytes`` and ``max_concurrent_bodies`` bound what webhook bodies can cost.
    ``freeze_gc``: at startup, move the objects alive then out of the garbage collector's
    reach (:func:`gc.freeze`), so full collections stay short.
    """
    if metrics is None:
        metrics = worker.metrics if worker is not None else Metrics()
    secrets_env = os.environ if env is None else env
    receiver = _Receiver(
        config,
        store,
        worker=worker,
        metrics=metrics,
        env=secrets_env,
        clock=clock,
        max_body_bytes=max_body_bytes,
        max_concurrent_bodies=max_concurrent_bodies,
        tolerance_s=timestamp_tolerance_s,
        argilla_secret_env=argilla_secret_env,
    )
    ready = Readiness(config, store) if readiness is None else readiness
    auth = BearerAuth(secrets_env, config.api_token_env, metrics)

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
            await anyio.to_thread.run_sync(receiver.writer.close)
            if scheduler is not None:
                scheduler.stop()
            if worker is not None:
                await anyio.to_thread.run_sync(worker.stop)

    app = _ServiceApp(
        receiver,
        routes=[
            # POSTs to these two go round Starlette (_ServiceApp); the routes answer them under a
            # root_path, and anything else (405)
            Route(
                LABEL_STUDIO_ROUTE + "{project}",
                _route(receiver.label_studio_webhook),
                methods=["POST"],
            ),
            Route(ARGILLA_ROUTE, _route(receiver.argilla_webhook), methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", auth.protect(metrics_endpoint), methods=["GET"]),
            Route("/reports/{project}", auth.protect(receiver.latest_report), methods=["GET"]),
            Route("/gate/{project}", auth.protect(receiver.gate), methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.readiness = ready
    app.state.intake = receiver.writer
    return app
