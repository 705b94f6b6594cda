"""A small JSON-over-HTTP client shared by the platform adapters.

Retries transient failures (no answer, 429, 5xx) with exponential backoff, honouring
``Retry-After``; translates every failure into :class:`PlatformError` naming the platform, the
path and the status. Headers (which carry the API token) are never logged or put in errors.

Credentials come either as fixed ``headers`` or from an :class:`Auth` (tokens that must be
exchanged and renewed): its headers are asked for on every attempt, a 401 lets it renew them and
the request is sent once more, and a final 401 is explained by it instead of by the raw answer.
"""

from __future__ import annotations

import contextlib
import json as _json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests

from connector.platforms.base import PlatformError

__all__ = ["Auth", "JsonClient"]

log = logging.getLogger(__name__)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Auth(Protocol):
    """Credentials that change: headers per attempt, renewal on a 401, an explanation of a 401.

    May raise :class:`PlatformError` (a transient one is retried like a failed request).
    """

    def headers(self) -> Mapping[str, str]:
        """The auth headers for the next attempt."""
        ...

    def on_unauthorized(self, sent: Mapping[str, str]) -> bool:
        """An attempt sent with the headers ``sent`` got 401; True when another may succeed."""
        ...

    def unauthorized(self, body: bytes) -> str:
        """Why a 401 with this ``body`` happened, without secrets or the body itself."""
        ...


class JsonClient:
    """``request`` JSON from one base URL with auth headers, retries and clean errors."""

    def __init__(
        self,
        *,
        platform: str,
        base_url: str,
        headers: Mapping[str, str],
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        auth: Auth | None = None,
    ) -> None:
        self.platform = platform
        self.auth = auth
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.session.headers["Accept"] = "application/json"
        self.server_time: datetime | None = None  # the Date header of the last answer

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        expect: tuple[int, ...] = (200, 201, 204),
    ) -> Any:
        """Send a request; return the decoded JSON body (``None`` for an empty body)."""
        response = self._answer(method, path, params=params, json=json, expect=expect)
        return self.decode(method, path, response.content, status=response.status_code)

    def decode(self, method: str, path: str, body: bytes, *, status: int) -> Any:
        """The JSON in the body ``method path`` answered with ``status`` (``None`` for an empty
        body). A body that is not JSON is a permanent error (it carries the 2xx status)."""
        if not body:
            return None
        try:
            return _json.loads(body)
        except ValueError as exc:
            raise PlatformError(
                f"{method} {path} answered with a body that is not JSON",
                platform=self.platform,
                url=self.base_url,
                status=status,
            ) from exc

    def body(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        expect: tuple[int, ...] = (200, 201, 204),
    ) -> bytes:
        """Send a request; return the raw body of an answer with an ``expect`` status, retrying
        transient failures. Safe to call from several threads."""
        return self._answer(method, path, params=params, json=json, expect=expect).content

    def _answer(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        expect: tuple[int, ...],
    ) -> requests.Response:
        url = f"{self.base_url}{path}"
        attempt = 0
        reauthorized = False
        while True:
            sent: Mapping[str, str] = {}
            try:
                if self.auth is not None:
                    sent = self.auth.headers()
                response = self.session.request(
                    method, url, params=params, json=json, headers=sent, timeout=self.timeout_s
                )
            except requests.RequestException as exc:
                error = PlatformError(
                    f"{method} {path} got no answer: {type(exc).__name__}",
                    platform=self.platform,
                    url=self.base_url,
                )
            except PlatformError as exc:  # the auth could not get its headers
                error = exc
            else:
                date = response.headers.get("Date")
                if date:
                    with contextlib.suppress(TypeError, ValueError):
                        moment = parsedate_to_datetime(date)
                        self.server_time = (
                            moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
                        )
                if response.status_code in expect:
                    return response
                if response.status_code == 401 and self.auth is not None:
                    if not reauthorized and self.auth.on_unauthorized(sent):
                        reauthorized = True
                        continue
                    detail = self.auth.unauthorized(response.content)
                else:
                    detail = response.text[:300].replace("\n", " ")
                error = PlatformError(
                    f"{method} {path} failed: {detail}",
                    platform=self.platform,
                    url=self.base_url,
                    status=response.status_code,
                    retry_after_s=_retry_after(response),
                )
            if not error.transient or attempt >= self.retries:
                raise error
            delay = error.retry_after_s
            if delay is None:
                delay = self.backoff_s * (2**attempt)
            log.warning("%s; retrying in %.1f s (attempt %d)", error, delay, attempt + 1)
            time.sleep(min(delay, 60.0))
            attempt += 1
