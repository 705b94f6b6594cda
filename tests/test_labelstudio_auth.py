"""Offline: telling Label Studio token kinds apart, when an access token is due, what a refused
token is told, and that a final 401 reaches the user explained, without the token or the answer.

The tokens are built the way Label Studio 1.23.2 builds them (HS256 JWTs whose payload holds
``token_type``, ``exp``, ``iat``, ``jti``, ``user_id``); their signatures are not checked here,
as the connector never checks them. The real exchange is in test_labelstudio_tokens.py.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from localhost import QuietHandler, free_port, serving

from connector.platforms.base import PlatformError
from connector.platforms.http import JsonClient
from connector.platforms.label_studio.auth import (
    REFRESH_MARGIN_S,
    LabelStudioAuth,
    TokenError,
    TokenKind,
    access_deadline,
    jwt_claims,
    token_kind,
)


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _jwt(token_type: str | None, *, exp: float | None = None, iat: float | None = None) -> str:
    now = time.time()
    payload: dict[str, Any] = {
        "exp": int(now + 200 * 365 * 86400) if exp is None else int(exp),
        "iat": int(now) if iat is None else int(iat),
        "jti": secrets.token_hex(16),
        "user_id": "2",
    }
    if token_type is not None:
        payload["token_type"] = token_type
    header = _segment({"alg": "HS256", "typ": "JWT"})
    signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return f"{header}.{_segment(payload)}.{signature}"


def _closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens: any call would fail


# -- kinds ----------------------------------------------------------------------------------


def test_a_pat_is_a_refresh_jwt() -> None:
    pat = _jwt("refresh")
    assert token_kind(pat) is TokenKind.PAT
    assert token_kind(f"  {pat}\n") is TokenKind.PAT  # as pasted into an env file


def test_a_pat_listed_without_signature_is_told_apart() -> None:
    pat = _jwt("refresh")
    assert token_kind(pat.rsplit(".", 1)[0]) is TokenKind.TRUNCATED


def test_an_access_token_is_told_apart() -> None:
    assert token_kind(_jwt("access")) is TokenKind.ACCESS


@pytest.mark.parametrize(
    "token",
    [
        "c8e2b7f4a1d9e3f6b2a7c5d8e1f4a9b3c6d2e7f0",  # what Label Studio makes
        "iaa-ls-token-admin",  # what deploy/label-studio sets
        "a.b.c",  # three segments, not base64 JSON
        f"{_segment({'typ': 'JWT'})}.{_segment({'token_type': 'refresh'})}.x",  # no alg
        f"{_segment({'alg': 'HS256'})}.bm90IGpzb24.x",  # payload is not JSON
        _jwt(None),  # a JWT, but not one of Label Studio's
        _jwt("sliding"),
    ],
)
def test_anything_else_is_a_legacy_token(token: str) -> None:
    assert token_kind(token) is TokenKind.LEGACY


@given(st.text())
def test_any_string_has_a_kind(token: str) -> None:
    assert token_kind(token) in TokenKind


@given(st.from_regex(r"[0-9a-f]{40}", fullmatch=True))
def test_every_40_hex_key_is_legacy(token: str) -> None:
    assert token_kind(token) is TokenKind.LEGACY


def test_claims_are_read_without_the_signature() -> None:
    pat = _jwt("refresh", exp=8103516921, iat=1796316921)
    header, payload, _ = pat.split(".")
    claims = jwt_claims(f"{header}.{payload}.not-a-signature")
    assert claims is not None
    assert claims["token_type"] == "refresh"
    assert (claims["exp"], claims["iat"]) == (8103516921, 1796316921)
    assert jwt_claims("iaa-ls-token-admin") is None


# -- when an access token is due ------------------------------------------------------------


def test_an_access_token_is_due_its_lifetime_less_the_margin_after_it_arrived() -> None:
    # the server's clock (exp, iat) may be far from ours: only exp - iat counts
    claims = {"exp": 1_000_300, "iat": 1_000_000}
    assert access_deadline(claims, received_at=50.0) == 50.0 + 300 - REFRESH_MARGIN_S
    assert access_deadline(claims, received_at=50.0, margin_s=0) == 350.0


def test_the_margin_is_at_most_half_a_short_lifetime() -> None:
    assert access_deadline({"exp": 40, "iat": 0}, received_at=10.0) == 30.0


@pytest.mark.parametrize(
    "claims",
    [{}, {"exp": 100}, {"iat": 100}, {"exp": 100, "iat": 100}, {"exp": "300", "iat": 0}],
)
def test_an_access_token_without_a_lifetime_is_due_at_once(claims: dict[str, Any]) -> None:
    assert access_deadline(claims, received_at=7.0) == 7.0


# -- what each kind sends and is told -------------------------------------------------------


def test_a_legacy_token_is_sent_as_it_is_and_never_renewed() -> None:
    auth = LabelStudioAuth("iaa-ls-token-admin", base_url=_closed_url())
    sent = auth.headers()
    assert sent == {"Authorization": "Token iaa-ls-token-admin"}
    assert auth.on_unauthorized(sent) is False
    assert auth.refreshes == 0


def test_an_access_token_is_sent_as_bearer_and_never_renewed() -> None:
    access = _jwt("access", exp=time.time() + 300)
    auth = LabelStudioAuth(access, base_url=_closed_url())
    sent = auth.headers()
    assert sent == {"Authorization": f"Bearer {access}"}
    assert auth.on_unauthorized(sent) is False
    message = auth.unauthorized(b'{"detail": "Authentication credentials were not provided."}')
    assert "JWT access token" in message
    assert "Personal Access Token" in message
    assert access not in message


def test_a_truncated_pat_is_refused_before_any_request() -> None:
    pat = _jwt("refresh")
    truncated = pat.rsplit(".", 1)[0]
    auth = LabelStudioAuth(truncated, base_url=_closed_url())
    with pytest.raises(TokenError) as caught:
        auth.headers()
    assert not caught.value.transient
    assert "without its signature" in str(caught.value)
    assert truncated not in str(caught.value)


def test_an_expired_pat_is_refused_before_any_request() -> None:
    pat = _jwt("refresh", exp=time.time() - 86400, iat=time.time() - 10 * 86400)
    auth = LabelStudioAuth(pat, base_url=_closed_url())
    with pytest.raises(TokenError) as caught:
        auth.headers()
    assert not caught.value.transient  # a closed port would have been "no answer", transient
    assert "Personal Access Token" in str(caught.value)
    assert "expired" in str(caught.value)
    assert pat not in str(caught.value)
    assert auth.refreshes == 0


def test_a_pat_exchange_without_an_answer_is_transient() -> None:
    auth = LabelStudioAuth(_jwt("refresh"), base_url=_closed_url(), timeout_s=2)
    with pytest.raises(PlatformError) as caught:
        auth.headers()
    assert caught.value.transient
    assert "/api/token/refresh/" in str(caught.value)


def test_a_401_drops_only_the_access_token_that_was_sent() -> None:
    """Threads that got 401 with a token another thread has already replaced keep the new one."""
    auth = LabelStudioAuth(_jwt("refresh"), base_url=_closed_url())
    auth._access = "new"
    assert auth.on_unauthorized({"Authorization": "Bearer old"}) is True
    assert auth._access == "new"
    assert auth.on_unauthorized({"Authorization": "Bearer new"}) is True
    assert auth._access is None


LEGACY_DISABLED = (
    b'{"id": "06a996b6", "status_code": 401, "version": "1.23.2", "detail": "Authentication '
    b"token no longer valid: legacy token authentication has been disabled for this "
    b'organization", "exc_info": null}'
)
UNKNOWN = b'{"id": "388a890e", "status_code": 401, "detail": "Invalid token.", "exc_info": null}'


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (LEGACY_DISABLED, "legacy tokens are disabled on this server"),
        (UNKNOWN, "knows no such legacy token"),
        (b"<html>not json</html>", "knows no such legacy token"),
    ],
)
def test_a_refused_legacy_token_is_told_why(body: bytes, reason: str) -> None:
    token = secrets.token_hex(20)
    message = LabelStudioAuth(token, base_url=_closed_url()).unauthorized(body)
    assert "legacy API token" in message
    assert reason in message
    assert token not in message
    for fragment in ("no longer valid", "Invalid token", "06a996b6", "388a890e", "html", "{"):
        assert fragment not in message


def test_nothing_shows_the_token() -> None:
    pat = _jwt("refresh")
    auth = LabelStudioAuth(pat, base_url=_closed_url())
    assert pat not in repr(auth)
    assert pat not in str(auth)


# -- the client: a final 401 is explained by the auth, not by the answer --------------------


@pytest.fixture
def refusing() -> Iterator[tuple[str, list[str | None]]]:
    seen: list[str | None] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(401)
            self.send_header("Content-Length", str(len(LEGACY_DISABLED)))
            self.end_headers()
            self.wfile.write(LEGACY_DISABLED)

    with serving(Handler) as url:
        yield url, seen


def test_the_client_explains_a_final_401_with_the_auth(
    refusing: tuple[str, list[str | None]],
) -> None:
    url, seen = refusing
    token = secrets.token_hex(20)
    client = JsonClient(
        platform="label-studio",
        base_url=url,
        headers={},
        auth=LabelStudioAuth(token, base_url=url),
        retries=3,
    )
    with pytest.raises(PlatformError) as caught:
        client.request("GET", "/api/projects/1/")
    assert seen == [f"Token {token}"]  # sent once: a 401 is not retried for a legacy token
    assert caught.value.status == 401
    assert "GET /api/projects/1/" in str(caught.value)
    assert "legacy tokens are disabled on this server" in str(caught.value)
    assert "no longer valid" not in str(caught.value)
    assert token not in str(caught.value)
