"""A real PostgreSQL server for tests and benchmarks.

Two ways to get one:

- a server you run yourself: set ``IAA_TEST_POSTGRES_URL`` to a SQLAlchemy URL of a database the
  tests may create and drop schemas in, e.g. ``postgresql+psycopg://iaa@127.0.0.1:5432/iaa_test``.
  Nothing is started or stopped.
- otherwise ``deploy/postgres/start.sh`` is run on a free port: a throw-away cluster of Debian's
  ``postgresql`` package (installed by apt-get the first time), about 1 s to start, and the URL is
  read from the env file it writes. ``PostgresServer.stop()`` runs ``stop.sh`` for that port.

    server = ensure_postgres()
    try:
        engine = sqlalchemy.create_engine(server.url)
    finally:
        server.stop()

Free of connector imports, so benchmarks and fixtures can use it before the connector exists.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from localhost import free_port, start_script, stop_script
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

__all__ = ["URL_ENV", "PostgresServer", "PostgresUnavailableError", "ensure_postgres"]

REPO = Path(__file__).resolve().parents[1]
DEPLOY_DIR = REPO / "deploy" / "postgres"

#: the environment variable naming the user's own server
URL_ENV = "IAA_TEST_POSTGRES_URL"

#: the first start may install Debian's postgresql package (apt-get); later ones take about 1 s
START_TIMEOUT_SECONDS = 600.0


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server could be reached or started; the message says what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PostgresServer:
    """A SQLAlchemy URL of a PostgreSQL database the tests own, and who started its server."""

    url: str
    started_here: bool
    port: int | None = None
    home: Path | None = None

    def stop(self) -> None:
        """Stop the server if ``ensure_postgres`` started it; a user's server is left alone.

        The cluster of a stopped server goes too (its port was random, nothing reuses it);
        its log goes with it, unless the stop fails.
        """
        if not self.started_here or self.home is None or self.port is None:
            return
        stop_script(DEPLOY_DIR, _script_env(self.home), self.port)
        shutil.rmtree(self.home / f"data-{self.port}", ignore_errors=True)
        shutil.rmtree(self.home / f"run-{self.port}", ignore_errors=True)


def ensure_postgres() -> PostgresServer:
    """Return the user's server (``IAA_TEST_POSTGRES_URL``) or start one with ``start.sh``.

    Raises:
        PostgresUnavailableError: the user's URL is invalid or its database does not answer, or
            ``start.sh`` failed (its output is in the message).
    """
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return _user_server(url)
    return _start_server()


def _user_server(url: str) -> PostgresServer:
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as exc:
        raise PostgresUnavailableError(
            f"{URL_ENV}={url!r} is not a usable SQLAlchemy URL ({exc}); use e.g. "
            f"postgresql+psycopg://iaa@127.0.0.1:5432/iaa_test, or unset {URL_ENV} "
            "to start a server here"
        ) from exc
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise PostgresUnavailableError(
            f"the PostgreSQL database at {URL_ENV}={shown} does not answer ({exc}); "
            f"start it, or unset {URL_ENV} to start one here"
        ) from exc
    finally:
        engine.dispose()
    return PostgresServer(url=url, started_here=False)


def _start_server() -> PostgresServer:
    home = Path(os.environ.get("IAA_PG_HOME") or REPO / ".cache" / "postgres")
    port = free_port()
    env = _script_env(home)
    env["IAA_PG_PORT"] = str(port)
    env.pop("IAA_PG_KEEP_DATA", None)
    settings = start_script(
        DEPLOY_DIR,
        env,
        port=port,
        env_file=home / f"server-{port}.env",
        required=("IAA_PG_URL",),
        timeout_s=START_TIMEOUT_SECONDS,
        logs=f"{home}/install.log and {home}/run-{port}/server.log",
        unavailable=PostgresUnavailableError,
    )
    return PostgresServer(url=settings["IAA_PG_URL"], started_here=True, port=port, home=home)


def _script_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["IAA_PG_HOME"] = str(home)
    return env
