"""A real Argilla server for tests and benchmarks.

Two ways to get one:

- a server you run yourself (for instance Argilla's docker-compose, with Elasticsearch): set
  ``IAA_ARGILLA_URL``, ``IAA_ARGILLA_API_KEY`` (an owner's API key) and
  ``IAA_ARGILLA_ANNOTATOR_KEYS`` (comma-separated API keys of distinct annotator users, members of
  the workspaces the tests use). Nothing is started or stopped.
- otherwise ``deploy/argilla/start.sh`` is run on a free port (it installs argilla-server into its
  own virtual environment the first time, about a minute, and runs it with Redis, an rq worker and
  the SQL search engine of ``deploy/argilla/sql_search_engine.py``), and the URL and keys are read
  from the env file it writes. ``ArgillaServer.stop()`` runs ``stop.sh`` for that port.

    server = ensure_argilla()
    try:
        requests.get(f"{server.url}/api/v1/me", headers=server.headers(server.owner_api_key))
    finally:
        server.stop()

Free of connector imports, so benchmarks and fixtures can use it before the connector exists.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from localhost import free_port, start_script, stop_script

__all__ = ["ArgillaServer", "ArgillaUnavailableError", "ensure_argilla"]

REPO = Path(__file__).resolve().parents[1]
DEPLOY_DIR = REPO / "deploy" / "argilla"

#: the first install downloads ~400 MB (about a minute); a start takes 15-20 s
START_TIMEOUT_SECONDS = 900.0

#: the workspace start.sh creates, with the owner and every annotator in it
DEFAULT_WORKSPACE = "iaa"


class ArgillaUnavailableError(RuntimeError):
    """No Argilla server could be reached or started; the message says what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ArgillaServer:
    """Where an Argilla server answers, and the API keys of its owner and annotators.

    ``annotator_api_keys[i]`` belongs to user ``annotator{i+1}`` on a server started here.
    """

    url: str
    owner_api_key: str
    annotator_api_keys: tuple[str, ...]
    started_here: bool
    port: int | None = None
    home: Path | None = None
    workspace: str = DEFAULT_WORKSPACE

    @staticmethod
    def headers(api_key: str) -> dict[str, str]:
        """HTTP headers that authenticate as the owner of ``api_key``."""
        return {"X-Argilla-Api-Key": api_key}

    def stop(self) -> None:
        """Stop the server if ``ensure_argilla`` started it; a user's server is left alone.

        Its data dir goes too (its port was random, nothing reuses it); the logs stay, in
        ``{home}/server-{port}.log``, ``worker-{port}.log`` and ``redis-{port}.log``.
        """
        if not self.started_here or self.home is None or self.port is None:
            return
        stop_script(DEPLOY_DIR, _script_env(self.home), self.port)
        shutil.rmtree(self.home / f"data-{self.port}", ignore_errors=True)

    def restart(self) -> None:
        """Stop and start a server started here on the same port, keeping its data.

        Raises:
            ArgillaUnavailableError: the server is the user's (not started here), or start.sh
                failed.
        """
        if not self.started_here or self.home is None or self.port is None:
            raise ArgillaUnavailableError(
                f"the Argilla server at {self.url} was not started by these tests; "
                "restart it yourself, or unset IAA_ARGILLA_URL"
            )
        env = _script_env(self.home)
        stop_script(DEPLOY_DIR, env, self.port)
        _run_start_sh(self.home, self.port, annotators=len(self.annotator_api_keys), keep_data=True)


def ensure_argilla(*, annotators: int = 3) -> ArgillaServer:
    """Return the user's server (``IAA_ARGILLA_URL`` ...) or start one with ``start.sh``.

    Raises:
        ArgillaUnavailableError: the user's server does not answer ``GET /api/v1/status``, its
            settings are incomplete, or ``start.sh`` failed (its output is in the message).
    """
    url = os.environ.get("IAA_ARGILLA_URL", "").rstrip("/")
    if url:
        return _user_server(url)
    home = Path(os.environ.get("IAA_ARGILLA_HOME") or REPO / ".cache" / "argilla")
    port = free_port()
    settings = _run_start_sh(home, port, annotators=annotators, keep_data=False)
    return ArgillaServer(
        url=settings["ARGILLA_URL"],
        owner_api_key=settings["ARGILLA_API_KEY"],
        annotator_api_keys=tuple(k for k in settings["ARGILLA_ANNOTATOR_KEYS"].split(",") if k),
        started_here=True,
        port=port,
        home=home,
        workspace=settings.get("ARGILLA_WORKSPACE", DEFAULT_WORKSPACE),
    )


def _user_server(url: str) -> ArgillaServer:
    owner_api_key = os.environ.get("IAA_ARGILLA_API_KEY", "")
    annotator_api_keys = tuple(
        key.strip() for key in os.environ.get("IAA_ARGILLA_ANNOTATOR_KEYS", "").split(",")
    )
    annotator_api_keys = tuple(key for key in annotator_api_keys if key)
    if not owner_api_key or not annotator_api_keys:
        raise ArgillaUnavailableError(
            f"IAA_ARGILLA_URL={url} is set, but IAA_ARGILLA_API_KEY or IAA_ARGILLA_ANNOTATOR_KEYS "
            "is empty; set both (annotator keys comma-separated), or unset IAA_ARGILLA_URL to "
            "start a server here"
        )
    try:
        with urllib.request.urlopen(f"{url}/api/v1/status", timeout=10) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise ArgillaUnavailableError(
            f"the Argilla server at IAA_ARGILLA_URL={url} does not answer GET /api/v1/status "
            f"({exc}); start it, or unset IAA_ARGILLA_URL to start one here"
        ) from exc
    return ArgillaServer(
        url=url,
        owner_api_key=owner_api_key,
        annotator_api_keys=annotator_api_keys,
        started_here=False,
        workspace=os.environ.get("IAA_ARGILLA_WORKSPACE") or DEFAULT_WORKSPACE,
    )


def _run_start_sh(home: Path, port: int, *, annotators: int, keep_data: bool) -> dict[str, str]:
    env = _script_env(home)
    env["IAA_ARGILLA_PORT"] = str(port)
    env["IAA_ARGILLA_ANNOTATORS"] = str(annotators)
    env["IAA_ARGILLA_KEEP_DATA"] = "1" if keep_data else "0"
    return start_script(
        DEPLOY_DIR,
        env,
        port=port,
        env_file=home / f"server-{port}.env",
        required=("ARGILLA_URL", "ARGILLA_API_KEY", "ARGILLA_ANNOTATOR_KEYS"),
        timeout_s=START_TIMEOUT_SECONDS,
        logs=f"{home}/install.log and {home}/server-{port}.log",
        unavailable=ArgillaUnavailableError,
    )


def _script_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["IAA_ARGILLA_HOME"] = str(home)
    return env
