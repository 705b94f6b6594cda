"""What the test-server helpers and the tests' little fault servers share: a free port on
127.0.0.1, and an ``http.server`` run in a thread for the length of a ``with`` block."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["QuietHandler", "free_port", "serving"]


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice); start scripts refuse a busy one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output quiet."""

    def log_message(self, format: str, *args: object) -> None:
        """No access log."""


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1 in a thread; yield ``http://127.0.0.1:PORT``.
    The server is shut down and its thread joined when the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
