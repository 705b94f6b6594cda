"""Run the store's Alembic migrations from code; no ``alembic.ini`` on disk.

The migration scripts ship inside the package (``connector/store/migrations``); :func:`config`
points Alembic at them and :func:`upgrade` runs them on an open engine. Opening a store runs
:func:`upgrade` by default (:meth:`connector.store.Store.open`), so a new database gets its
tables and an old one its new revisions; running it again changes nothing.

Several replicas may open one PostgreSQL database at once: :func:`upgrade` takes a
transaction-scoped advisory lock there, so one of them migrates and the others wait and find
nothing to do.

To write a new revision (then edit it; ``tests/test_store.py`` checks it matches the schema)::

    from alembic import command
    command.revision(config("sqlite:///dev.db"), "what changes", autogenerate=True)
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

__all__ = [
    "HEAD",
    "MIGRATIONS",
    "SQLITE_BEGIN",
    "config",
    "current_revision",
    "head_revision",
    "upgrade",
]

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "head"
SQLITE_BEGIN = "iaa_sqlite_begin"
"""Execution option naming how a SQLite transaction begins (``DEFERRED`` or ``IMMEDIATE``)."""
_PG_MIGRATION_LOCK = 0x1AA_0001  # any constant; the same for every replica
# Alembic's ``context`` and ``op`` are module globals: one migration at a time per process.
_IN_PROCESS = threading.Lock()


def config(url: str | None = None) -> Config:
    """An Alembic configuration for the packaged migrations (``url`` for the command line)."""
    alembic_config = Config()
    alembic_config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ``%`` is ConfigParser's interpolation character; escaped URLs contain it.
        alembic_config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return alembic_config


def upgrade(engine: Engine, revision: str = HEAD) -> None:
    """Bring the database behind ``engine`` to ``revision`` (default: the newest) in one
    transaction, holding the database's write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL
    advisory lock) so that concurrent openers migrate one after the other."""
    alembic_config = config()
    with (
        _IN_PROCESS,
        engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as connection,
        connection.begin(),
    ):
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        alembic_config.attributes["connection"] = connection
        command.upgrade(alembic_config, revision)


def head_revision() -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for a database never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
