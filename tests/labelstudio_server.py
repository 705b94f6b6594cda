"""A real Label Studio server for tests and benchmarks.

Two ways to get one:

- a server you run yourself: set ``IAA_LS_URL``, ``IAA_LS_ADMIN_TOKEN`` and
  ``IAA_LS_ANNOTATOR_TOKENS`` (comma-separated legacy API tokens of users in the admin's
  organization, each with that organization active), and optionally ``IAA_LS_ADMIN_PAT`` and
  ``IAA_LS_ANNOTATOR_PATS`` (their Personal Access Tokens, same order). Nothing is started or
  stopped.
- otherwise ``deploy/label-studio/start.sh`` is run on a free port (it installs Label Studio into
  its own virtual environment the first time, ~1 GB, about a minute), and the URL and tokens
  (legacy and Personal Access Tokens) are read from the env file it writes.
  ``LabelStudioServer.stop()`` runs ``stop.sh`` for that port.

    server = ensure_label_studio()
    try:
        requests.get(f"{server.url}/api/projects", headers=server.headers(server.admin_token))
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

__all__ = ["LabelStudioServer", "LabelStudioUnavailableError", "ensure_label_studio"]

REPO = Path(__file__).resolve().parents[1]
DEPLOY_DIR = REPO / "deploy" / "label-studio"

#: the first install downloads ~1 GB; a start on a fresh data dir takes 30-45 s
START_TIMEOUT_SECONDS = 1200.0


class LabelStudioUnavailableError(RuntimeError):
    """No Label Studio server could be reached or started; the message says what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelStudioServer:
    """Where a Label Studio server answers, and the API tokens of its users.

    ``annotator_tokens[i]`` (legacy) and ``annotator_pats[i]`` (Personal Access Token) belong to
    ``annotator{i+1}@iaa.local`` on a server started here. The PATs are empty for a server of
    your own unless ``IAA_LS_ADMIN_PAT`` / ``IAA_LS_ANNOTATOR_PATS`` give them.
    """

    url: str
    admin_token: str
    annotator_tokens: tuple[str, ...]
    started_here: bool
    port: int | None = None
    home: Path | None = None
    admin_pat: str = ""
    annotator_pats: tuple[str, ...] = ()

    @staticmethod
    def headers(token: str) -> dict[str, str]:
        """HTTP headers that authenticate as the owner of ``token``."""
        return {"Authorization": f"Token {token}"}

    def stop(self) -> None:
        """Stop the server if ``ensure_label_studio`` started it; a user's server is left alone.

        The data dir of a stopped server goes too (its port was random, nothing reuses it);
        its log stays, in ``{home}/server-{port}.log``.
        """
        if not self.started_here or self.home is None or self.port is None:
            return
        stop_script(DEPLOY_DIR, _script_env(self.home), self.port)
        shutil.rmtree(self.home / f"data-{self.port}", ignore_errors=True)


def ensure_label_studio(*, annotators: int = 3) -> LabelStudioServer:
    """Return the user's server (``IAA_LS_URL`` ...) or start one with ``start.sh``.

    Raises:
        LabelStudioUnavailableError: the user's server does not answer ``/health``, its settings
            are incomplete, or ``start.sh`` failed (its output is in the message).
    """
    url = os.environ.get("IAA_LS_URL", "").rstrip("/")
    if url:
        return _user_server(url)
    return _start_server(annotators=annotators)


def _user_server(url: str) -> LabelStudioServer:
    admin_token = os.environ.get("IAA_LS_ADMIN_TOKEN", "")
    annotator_tokens = tuple(
        token.strip() for token in os.environ.get("IAA_LS_ANNOTATOR_TOKENS", "").split(",")
    )
    annotator_tokens = tuple(token for token in annotator_tokens if token)
    annotator_pats = _csv(os.environ.get("IAA_LS_ANNOTATOR_PATS", ""))
    if not admin_token or not annotator_tokens:
        raise LabelStudioUnavailableError(
            f"IAA_LS_URL={url} is set, but IAA_LS_ADMIN_TOKEN or IAA_LS_ANNOTATOR_TOKENS is empty; "
            "set both (tokens comma-separated), or unset IAA_LS_URL to start a server here"
        )
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise LabelStudioUnavailableError(
            f"the Label Studio server at IAA_LS_URL={url} does not answer GET /health ({exc}); "
            "start it, or unset IAA_LS_URL to start one here"
        ) from exc
    return LabelStudioServer(
        url=url,
        admin_token=admin_token,
        annotator_tokens=annotator_tokens,
        started_here=False,
        admin_pat=os.environ.get("IAA_LS_ADMIN_PAT", "").strip(),
        annotator_pats=annotator_pats,
    )


def _start_server(*, annotators: int) -> LabelStudioServer:
    home = Path(os.environ.get("IAA_LS_HOME") or REPO / ".cache" / "label-studio")
    port = free_port()
    env = _script_env(home)
    env["IAA_LS_PORT"] = str(port)
    env["IAA_LS_ANNOTATORS"] = str(annotators)
    env.pop("IAA_LS_KEEP_DATA", None)
    settings = start_script(
        DEPLOY_DIR,
        env,
        port=port,
        env_file=home / f"server-{port}.env",
        required=("LS_URL", "LS_ADMIN_TOKEN", "LS_ANNOTATOR_TOKENS", "LS_ADMIN_PAT"),
        timeout_s=START_TIMEOUT_SECONDS,
        logs=f"{home}/install.log and {home}/server-{port}.log",
        unavailable=LabelStudioUnavailableError,
    )
    return LabelStudioServer(
        url=settings["LS_URL"],
        admin_token=settings["LS_ADMIN_TOKEN"],
        annotator_tokens=_csv(settings["LS_ANNOTATOR_TOKENS"]),
        started_here=True,
        port=port,
        home=home,
        admin_pat=settings["LS_ADMIN_PAT"],
        annotator_pats=_csv(settings.get("LS_ANNOTATOR_PATS", "")),
    )


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _script_env(home: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if home is not None:
        env["IAA_LS_HOME"] = str(home)
    return env
