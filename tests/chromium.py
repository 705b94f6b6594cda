"""Headless Chromium for tests: open a page as a signed-in user, read its text, screenshot it.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands
as NUL-terminated JSON on the child's fd 3, answers and events on its fd 4), so no WebSocket
client and no debugging port are needed. Label Studio Community is a session-cookie app: the
caller logs in with ``requests`` and passes the session's cookies.

    with Chromium() as browser:
        browser.set_cookies("http://127.0.0.1:8089", session.cookies)
        text = browser.open("http://127.0.0.1:8089/projects/1/data", wait_for=("iaa_agreement",))
        browser.screenshot(Path("page.png"))

Free of connector imports, like the other test servers' helpers.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from http.cookiejar import CookieJar
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Chromium", "ChromiumError", "chromium_binary"]

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")


class ChromiumError(RuntimeError):
    """Chromium is missing, ended, or a page did not show what was expected in time."""


def chromium_binary() -> str | None:
    """The Chromium executable on PATH (Debian's ``chromium``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _high_fd(fd: int) -> int:
    """A copy of ``fd`` numbered 10 or above (so that dup2 onto 3 and 4 never collides)."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return copy


class Chromium:
    """One headless Chromium with one page (a fresh profile in a temporary directory)."""

    def __init__(self, *, width: int = 1280, height: int = 800, timeout_s: float = 60.0) -> None:
        binary = chromium_binary()
        if binary is None:
            raise ChromiumError(
                "chromium is not installed: apt-get install -y chromium (Debian), or put a "
                "Chromium executable named chromium on PATH"
            )
        self.timeout_s = timeout_s
        self.profile = tempfile.mkdtemp(prefix="iaa-chromium-")
        to_child_r, self._to_child = (_high_fd(fd) for fd in os.pipe())
        self._from_child, from_child_w = (_high_fd(fd) for fd in os.pipe())
        argv = [
            binary,
            *FLAGS,
            "--remote-debugging-pipe",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "--hide-scrollbars",
            "about:blank",
        ]
        self.pid = os.posix_spawn(
            binary,
            argv,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, to_child_r, 3),
                (os.POSIX_SPAWN_DUP2, from_child_w, 4),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
            setsid=True,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session = str(attached["sessionId"])
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    # --- the protocol -----------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise ChromiumError(f"chromium did not answer within {self.timeout_s:g} s")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise ChromiumError("chromium ended (its DevTools pipe closed)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        found: dict[str, Any] = json.loads(message)
        return found

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> dict[str, Any]:
        """Send one DevTools command and return its result (events meanwhile are dropped)."""
        self._next_id += 1
        request: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = self.session
        os.write(self._to_child, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            message = self._read_message(deadline)
            if message.get("id") != self._next_id:
                continue
            if "error" in message:
                raise ChromiumError(f"{method}: {message['error'].get('message')}")
            result: dict[str, Any] = message.get("result", {})
            return result

    # --- what tests use ---------------------------------------------------------------------

    def set_cookies(self, url: str, cookies: CookieJar | Iterable[Any]) -> None:
        """Give the browser the cookies of a ``requests`` session logged in at ``url``."""
        host = urlsplit(url).hostname or "127.0.0.1"
        self.call(
            "Storage.setCookies",
            {
                "cookies": [
                    {"name": c.name, "value": c.value, "domain": host, "path": c.path or "/"}
                    for c in cookies
                ]
            },
        )

    def text(self) -> str:
        """The page's rendered text (``document.body.innerText``), then the values of its form
        fields (a text area's content is not part of the inner text)."""
        expression = (
            "document.body ? [document.body.innerText, ...[...document.querySelectorAll("
            "'textarea, input')].map(e => e.value)].join('\\n') : ''"
        )
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True
        )
        return str(result.get("result", {}).get("value") or "")

    def open(self, url: str, *, wait_for: Sequence[str], timeout_s: float | None = None) -> str:
        """Navigate to ``url`` and wait until the rendered text holds every string of
        ``wait_for``; return the text.

        Raises:
            ChromiumError: the strings did not all appear in time (the message lists those
                missing and the start of the text that did render).
        """
        self.call("Page.navigate", {"url": url}, session=True)
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if all(s in text for s in wait_for):
                return text
            time.sleep(0.5)
        missing = [s for s in wait_for if s not in text]
        raise ChromiumError(f"{url} did not show {missing} in time; it showed: {text[:500]!r}")

    def click_text(self, text: str) -> None:
        """Click the first element whose own text is exactly ``text``."""
        expression = (
            "(() => { const want = " + json.dumps(text) + ";"
            " const all = [...document.querySelectorAll('body *')];"
            " const el = all.find(e => e.childElementCount === 0 && e.textContent.trim() === want);"
            " if (!el) return false; el.click(); return true; })()"
        )
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True
        )
        if not result.get("result", {}).get("value"):
            raise ChromiumError(f"no element shows the text {text!r} to click")

    def scroll_right(self) -> None:
        """Scroll every horizontally scrollable element to its right end (a wide table's last
        columns into view), then give the page a moment to render."""
        expression = (
            "[...document.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 8"
            " && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))"
            ".forEach(e => { e.scrollLeft = e.scrollWidth; })"
        )
        self.call("Runtime.evaluate", {"expression": expression}, session=True)
        time.sleep(1.0)

    def screenshot(self, path: Path) -> Path:
        """Save the page as PNG."""
        shot = self.call("Page.captureScreenshot", {"format": "png"}, session=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    # --- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        with contextlib.suppress(ChromiumError, OSError):
            self.call("Browser.close")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.1)
        else:
            os.killpg(self.pid, 9)
            os.waitpid(self.pid, 0)
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
