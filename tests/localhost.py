"""What the test-server helpers and the tests' little fault servers share: a free port on
127.0.0.1, running a ``deploy/*/start.sh`` / ``stop.sh`` and reading the env file it writes, and
an ``http.server`` run in a thread for the length of a ``with`` block."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = [
    "QuietHandler",
    "free_port",
    "read_env_file",
    "serving",
    "start_script",
    "stop_script",
]


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


def start_script(
    deploy_dir: Path,
    env: Mapping[str, str],
    *,
    port: int,
    env_file: Path,
    required: Collection[str],
    timeout_s: float,
    logs: str,
    unavailable: Callable[[str], Exception],
) -> dict[str, str]:
    """Run ``deploy_dir/start.sh`` with ``env`` and return the settings of the ``env_file`` it
    writes, which must hold every ``required`` key.

    Raises:
        the ``unavailable`` exception: the script failed (its output is in the message), did
            not finish within ``timeout_s`` (then ``stop.sh`` cleans up; ``logs`` says where to
            look) or wrote no usable env file.
    """
    script = f"deploy/{deploy_dir.name}/start.sh"
    try:
        subprocess.run(
            [str(deploy_dir / "start.sh")],
            env=dict(env),
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.CalledProcessError as exc:
        raise unavailable(
            f"{script} failed with exit code {exc.returncode} on port {port}:\n"
            f"{exc.stdout}{exc.stderr}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        subprocess.run([str(deploy_dir / "stop.sh"), str(port)], env=dict(env), check=False)
        raise unavailable(
            f"{script} did not finish in {timeout_s:.0f} s on port {port}; see {logs}"
        ) from exc
    return read_env_file(env_file, required, unavailable)


def stop_script(deploy_dir: Path, env: Mapping[str, str], port: int) -> None:
    """Run ``deploy_dir/stop.sh PORT`` (it stops only what its start.sh started)."""
    subprocess.run(
        [str(deploy_dir / "stop.sh"), str(port)],
        env=dict(env),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


def read_env_file(
    path: Path, required: Collection[str], unavailable: Callable[[str], Exception]
) -> dict[str, str]:
    """The ``KEY=VALUE`` lines a start.sh wrote; raises ``unavailable`` naming what is missing."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise unavailable(f"start.sh succeeded but wrote no {path}") from exc
    settings = dict(line.split("=", 1) for line in lines if "=" in line)
    missing = sorted(set(required) - settings.keys())
    if missing:
        raise unavailable(f"{path} lacks {missing}")
    return settings
