"""The platforms' JSON client against a small local HTTP server that injects faults the real
platforms cannot be made to produce on demand (503 with Retry-After, a body that is not JSON)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from localhost import QuietHandler, free_port, serving

from connector.platforms.base import PlatformError
from connector.platforms.http import JsonClient

TOKEN = "s3cret-token-value"


class Script:
    """Answers given in turn: (status, headers, body); the last one repeats."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.seen: list[tuple[str, str, str | None]] = []  # method, path, auth header


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(QuietHandler):
        def _answer(self) -> None:
            script.seen.append((self.command, self.path, self.headers.get("Authorization")))
            answers = script.answers
            status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
            self.send_response_only(status)  # no automatic Date: the script's is the one
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    with serving(Handler) as url:
        yield url, script


def client(url: str, **options: float) -> JsonClient:
    return JsonClient(
        platform="test",
        base_url=url,
        headers={"Authorization": f"Token {TOKEN}"},
        timeout_s=5.0,
        **options,  # type: ignore[arg-type]
    )


def test_json_is_decoded_and_the_raw_body_kept_for_the_caller(
    server: tuple[str, Script],
) -> None:
    url, script = server
    script.answers = [(200, {"Date": "Mon, 23 Nov 2026 10:00:00 GMT"}, b'{"items": [1, 2]}')]
    api = client(url)
    assert api.request("GET", "/x", params={"a": 1}) == {"items": [1, 2]}
    assert api.body("GET", "/x") == b'{"items": [1, 2]}'
    assert api.server_time is not None
    assert api.server_time.isoformat() == "2026-11-23T10:00:00+00:00"
    script.answers = [(200, {"Date": "Mon, 23 Nov 2026 11:00:00 -0000"}, b"{}")]
    api.request("GET", "/x")  # RFC 2822's "-0000" (no zone information) is taken as UTC
    assert api.server_time.isoformat() == "2026-11-23T11:00:00+00:00"
    script.answers = [(200, {"Date": "yesterday"}, b"{}")]
    api.request("GET", "/x")  # unreadable: the last good one stays
    assert api.server_time.isoformat() == "2026-11-23T11:00:00+00:00"
    assert script.seen[0] == ("GET", "/x?a=1", f"Token {TOKEN}")


def test_transient_answers_are_retried_honouring_retry_after(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [
        (503, {"Retry-After": "0.2"}, b"busy"),
        (429, {}, b"slow down"),
        (200, {}, b"[]"),
    ]
    assert client(url, backoff_s=0.01).request("GET", "/r") == []
    assert len(script.seen) == 3


def test_retries_run_out_with_an_error_naming_platform_path_and_status(
    server: tuple[str, Script],
) -> None:
    url, script = server
    script.answers = [(502, {}, b"bad gateway\nupstream")]
    with pytest.raises(PlatformError) as error:
        client(url, backoff_s=0.01, retries=2).request("GET", "/api/things")
    assert (
        str(error.value) == f"test {url}: GET /api/things failed: bad gateway upstream (HTTP 502)"
    )
    assert error.value.transient
    assert len(script.seen) == 3  # the first call and two retries
    assert TOKEN not in str(error.value)


def test_a_client_error_is_not_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(404, {}, b'{"detail": "not found"}')]
    with pytest.raises(PlatformError, match="HTTP 404") as error:
        client(url, backoff_s=0.01).request("GET", "/missing")
    assert not error.value.transient
    assert len(script.seen) == 1


def test_a_body_that_is_not_json_is_a_platform_error(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(200, {}, b"<html>proxy login</html>")]
    with pytest.raises(PlatformError, match="GET /p answered with a body that is not JSON") as e:
        client(url).request("GET", "/p")
    assert e.value.status == 200
    assert not e.value.transient  # retrying the sync would not change the answer
    assert len(script.seen) == 1
    assert client(url).body("GET", "/p") == b"<html>proxy login</html>"


def test_an_empty_body_is_none(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(204, {}, b"")]
    assert client(url).request("POST", "/empty") is None


def test_no_answer_is_transient_and_names_the_path() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PlatformError) as error:
        client(url, backoff_s=0.01, retries=1).request("GET", "/down")
    assert str(error.value) == f"test {url}: GET /down got no answer: ConnectionError"
    assert error.value.transient
