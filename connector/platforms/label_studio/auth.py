"""Label Studio authentication: legacy API tokens and Personal Access Tokens.

Label Studio 1.23.2 knows two kinds of token (measured on a real server, see
deploy/label-studio/README.md):

- a **legacy token**, an opaque key (40 hex characters when Label Studio made it) sent as
  ``Authorization: Token <key>``. New organizations have legacy tokens disabled
  (``legacy_api_tokens_enabled`` is false in the organization's JWT settings) and then answer
  every request with 401 ``legacy token authentication has been disabled``.
- a **Personal Access Token** (PAT), a signed JWT *refresh* token (payload ``token_type:
  "refresh"``, lifetime 200 years unless the organization sets one). It is never sent with a
  request: ``POST /api/token/refresh/`` with ``{"refresh": PAT}`` answers ``{"access": JWT}``, an
  access token that lives 300 s (simplejwt's default; Label Studio sets no other), sent as
  ``Authorization: Bearer <access>``. An expired, forged or disabled access token (the
  organization's ``api_tokens_enabled`` false) is answered with the same 401 ``Authentication
  credentials were not provided``. A revoked PAT still refreshes no more (401 ``Token is
  blacklisted``), but access tokens issued before stay valid until they expire.

:class:`LabelStudioAuth` tells the kinds apart, exchanges a PAT for an access token, keeps it,
refreshes it 30 s before it expires and once more when the server answers 401, and explains a
final 401 in words that say which kind of token was given and what the server wanted, never the
token nor the raw answer. It is safe to share between threads: one lock guards the cached access
token, so concurrent requests that find it stale cause one refresh.

Why not label-studio-sdk's token handling (``label_studio_sdk.tokens.client_ext.TokensClientExt``,
2.1.2): the SDK is an optional extra the connector does not need, and that class is bound to the
SDK's httpx client wrapper (its ``refresh`` posts through ``client_wrapper.httpx_client``) and
needs PyJWT; it refreshes only once the local wall clock passes the server's ``exp`` (no margin,
so a request can leave with a token that expires in flight, and a skewed clock breaks it), never
retries after a 401, and its errors carry the server's raw answer. Here the token is read the
same way (the JWT payload, unverified) but its lifetime is measured on the local monotonic clock
from the moment it arrived, so clock skew between connector and server does not matter.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import requests

from connector.platforms.base import PlatformError

__all__ = [
    "REFRESH_MARGIN_S",
    "REFRESH_PATH",
    "LabelStudioAuth",
    "TokenError",
    "TokenKind",
    "access_deadline",
    "jwt_claims",
    "token_kind",
]

log = logging.getLogger(__name__)

REFRESH_PATH = "/api/token/refresh/"
#: refresh an access token this long before it expires (at most half its lifetime)
REFRESH_MARGIN_S = 30.0
_PLATFORM = "label-studio"
_SETTINGS = "Account & Settings"


class TokenError(PlatformError):
    """The token cannot work as it was given (truncated, expired): not worth retrying."""

    @property
    def transient(self) -> bool:
        return False


class TokenKind(StrEnum):
    """What kind of token the connector was given."""

    LEGACY = "legacy API token"
    PAT = "Personal Access Token"
    ACCESS = "JWT access token"
    TRUNCATED = "truncated Personal Access Token"


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT (two or three base64url segments, the first a JSON header naming an
    algorithm), read without verifying the signature; ``None`` for anything else."""
    parts = token.strip().split(".")
    if len(parts) not in (2, 3) or not all(parts[:2]):
        return None
    try:
        header = json.loads(_b64url(parts[0]))
        payload = json.loads(_b64url(parts[1]))
    except (binascii.Error, ValueError):  # bad base64, bad UTF-8 or bad JSON
        return None
    if not isinstance(header, dict) or "alg" not in header or not isinstance(payload, dict):
        return None
    return payload


def token_kind(token: str) -> TokenKind:
    """Which kind of token ``token`` is: a JWT whose ``token_type`` is ``refresh`` is a PAT (with
    two segments, a PAT copied without its signature, as Label Studio lists them), one whose
    ``token_type`` is ``access`` an access token; anything else is a legacy token."""
    claims = jwt_claims(token)
    if claims is None:
        return TokenKind.LEGACY
    kind = claims.get("token_type")
    if kind == "refresh":
        return TokenKind.PAT if token.strip().count(".") == 2 else TokenKind.TRUNCATED
    if kind == "access":
        return TokenKind.ACCESS
    return TokenKind.LEGACY


def access_deadline(
    claims: Mapping[str, Any], *, received_at: float, margin_s: float = REFRESH_MARGIN_S
) -> float:
    """When (on the clock that gave ``received_at``) an access token with ``claims`` should be
    replaced: its lifetime (``exp - iat``) after it arrived, less the margin, which is capped at
    half the lifetime. A token without both claims is due at once."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float) or exp <= iat:
        return received_at
    lifetime = float(exp - iat)
    return received_at + lifetime - min(margin_s, lifetime / 2)


def _detail(body: bytes) -> str:
    """The ``detail`` of a Label Studio error answer (read to classify it, never shown)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    return str(detail) if detail is not None else ""


def _expiry(claims: Mapping[str, Any] | None) -> str | None:
    """When a token with ``claims`` expires, for a message."""
    value = (claims or {}).get("exp")
    if not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")


class LabelStudioAuth:
    """The ``Authorization`` header for a legacy token, a PAT or an access token.

    ``headers()`` gives the header for the next request (for a PAT, exchanging it for an access
    token first when there is none or it is about to expire); ``on_unauthorized(sent)`` is called
    when a request sent with ``sent`` was answered 401 and says whether a retry may succeed (a
    PAT: the access token is dropped and the next ``headers()`` gets a new one);
    ``unauthorized(body)`` says why a final 401 happened. ``refreshes`` counts the access tokens
    obtained. ``clock`` (monotonic seconds) may be replaced to test expiry.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str,
        timeout_s: float = 30.0,
        margin_s: float = REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token = token.strip()
        self.kind = token_kind(self._token)
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.margin_s = margin_s
        self.clock = clock
        self.refreshes = 0
        self._claims = jwt_claims(self._token)
        self._lock = threading.Lock()
        self._access: str | None = None
        self._deadline = 0.0
        self._session = requests.Session()

    def __repr__(self) -> str:  # never the token
        return f"LabelStudioAuth({self.kind.value}, {self.base_url})"

    # -- what JsonClient calls -------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header to send now."""
        if self.kind is TokenKind.LEGACY:
            return {"Authorization": f"Token {self._token}"}
        if self.kind is TokenKind.ACCESS:
            return {"Authorization": f"Bearer {self._token}"}
        if self.kind is TokenKind.TRUNCATED:
            raise self._error(
                "the token is a Personal Access Token without its signature (the third part), as "
                "Label Studio lists existing tokens; a token can be copied whole only when it is "
                f"created: create a new one in {_SETTINGS}",
                status=None,
                permanent=True,
            )
        with self._lock:
            if self._access is None or self.clock() >= self._deadline:
                self._refresh()
            assert self._access is not None
            return {"Authorization": f"Bearer {self._access}"}

    def on_unauthorized(self, sent: Mapping[str, str]) -> bool:
        """A request sent with the headers ``sent`` got 401: may a retry succeed?

        For a PAT, yes once: the access token that was sent is dropped (unless another thread has
        already replaced it), so the next ``headers()`` exchanges the PAT again.
        """
        if self.kind is not TokenKind.PAT:
            return False
        with self._lock:
            if self._access is not None and sent.get("Authorization") == f"Bearer {self._access}":
                self._access = None
        return True

    def unauthorized(self, body: bytes) -> str:
        """Why the server answered 401 to this token, in words (no token, no raw answer)."""
        detail = _detail(body).lower()
        given = f"Label Studio answered 401 to the {self.kind.value} the connector was given"
        if self.kind is TokenKind.LEGACY:
            if "legacy token authentication has been disabled" in detail:
                return (
                    f"{given}: legacy tokens are disabled on this server (organization setting "
                    f"legacy_api_tokens_enabled); use a Personal Access Token from {_SETTINGS}, "
                    "or ask an administrator to enable legacy tokens"
                )
            return (
                f"{given}: the server knows no such legacy token (mistyped, from another server, "
                f"or reset); copy the current token or a Personal Access Token from {_SETTINGS}"
            )
        if self.kind is TokenKind.ACCESS:
            expired = _expiry(self._claims)
            return (
                f"{given}: an access token lives a few minutes"
                + (f" (this one expires {expired})" if expired else "")
                + " and cannot be renewed; give the Personal Access Token (a refresh token) "
                f"from {_SETTINGS} instead"
            )
        return (
            f"{given}, with an access token it had just obtained for it: Personal Access Tokens "
            "are disabled on this server (organization setting api_tokens_enabled); ask an "
            "administrator to enable them, or use a legacy API token"
        )

    # -- the exchange -------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Exchange the PAT for an access token (the lock is held)."""
        expires = _expiry(self._claims)
        exp = (self._claims or {}).get("exp")
        if isinstance(exp, int | float) and exp < time.time():
            raise self._error(
                f"the Personal Access Token the connector was given expired {expires}; create a "
                f"new one in {_SETTINGS}",
                status=None,
                permanent=True,
            )
        url = f"{self.base_url}{REFRESH_PATH}"
        started = self.clock()
        try:
            response = self._session.post(
                url,
                json={"refresh": self._token},
                headers={"Accept": "application/json"},
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            raise self._error(
                f"POST {REFRESH_PATH} (exchanging the Personal Access Token) got no answer: "
                f"{type(exc).__name__}",
                status=None,
            ) from exc
        status = response.status_code
        if status != 200:
            raise self._error(self._refused(status, response.content), status=status)
        try:
            access = response.json()["access"]
            claims = jwt_claims(access)
        except (ValueError, KeyError, TypeError, AttributeError):
            claims = None
        if claims is None or claims.get("token_type") != "access":
            raise self._error(
                f"POST {REFRESH_PATH} answered 200 without an access token", status=status
            )
        self._access = str(access)
        self._deadline = access_deadline(claims, received_at=started, margin_s=self.margin_s)
        self.refreshes += 1
        log.debug(
            "label-studio: obtained an access token for the Personal Access Token (renewed in "
            "%.0f s)",
            self._deadline - started,
        )

    def _refused(self, status: int, body: bytes) -> str:
        what = f"Label Studio answered {status} to POST {REFRESH_PATH}, exchanging the "
        what += "Personal Access Token the connector was given"
        if status == 404:
            return (
                f"{what}: this server has no Personal Access Tokens (an older Label Studio); "
                "use its legacy API token"
            )
        if status in (400, 401):
            detail = _detail(body).lower()
            if "blacklisted" in detail:
                reason = "the token was revoked"
            else:
                reason = (
                    "the server does not accept it (issued by another server, expired, or its "
                    "user is inactive)"
                )
            return f"{what}: {reason}; create a new one in {_SETTINGS}"
        return f"{what}: the exchange failed"

    def _error(self, message: str, *, status: int | None, permanent: bool = False) -> PlatformError:
        cls = TokenError if permanent else PlatformError
        return cls(message, platform=_PLATFORM, url=self.base_url, status=status)
