"""One sync of a project at a time, across threads, processes and replicas.

:func:`project_lock` never waits: it yields True if this caller now holds the project's lock
and False if someone else does (the caller skips, logs, and tries again later).

- PostgreSQL (several replicas): a session-level advisory lock,
  ``pg_try_advisory_lock(hashtext('iaa-connector:' || project))``, held on a dedicated connection
  and released with ``pg_advisory_unlock``; if the connection dies, PostgreSQL releases it.
- SQLite (one host): a process-wide :class:`threading.Lock` per database and project, plus an
  exclusive ``fcntl.flock`` on a lock file next to the database, so two processes on one file
  also exclude each other. The kernel releases the flock if the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

from connector.store import Store

__all__ = ["LOCK_NAMESPACE", "lock_file", "project_lock", "write_lock"]

log = logging.getLogger(__name__)
LOCK_NAMESPACE = "iaa-connector:"

_registry = threading.Lock()
_thread_locks: dict[tuple[str, str], threading.Lock] = {}


def _thread_lock(database: str, project_key: str) -> threading.Lock:
    with _registry:
        return _thread_locks.setdefault((database, project_key), threading.Lock())


def write_lock(store: Store) -> contextlib.AbstractContextManager[object]:
    """A process-wide lock around short SQLite writes (webhook intake, marking events).

    SQLite has one writer at a time; threads queueing on a lock are woken the moment it is
    free, while threads that lose the race inside SQLite sleep in its busy handler (1, 2, 5,
    10 … 100 ms), which is what makes acknowledgement latency spiky. PostgreSQL needs none.
    """
    if store.dialect != "sqlite":
        return contextlib.nullcontext()
    database = store.engine.url.database or ":memory:"
    return _thread_lock(database, "\0write")


def lock_file(database: str | os.PathLike[str], project_key: str) -> Path:
    """The lock file of one project, next to the SQLite database file."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", project_key)[:40]
    digest = hashlib.sha256(project_key.encode()).hexdigest()[:12]
    return Path(f"{database}.sync-{safe}-{digest}.lock")


@contextlib.contextmanager
def project_lock(store: Store, project_key: str) -> Iterator[bool]:
    """Hold the project's sync lock for the ``with`` block if it is free.

    >>> with project_lock(store, "pairwise") as held:  # doctest: +SKIP
    ...     if held:
    ...         sync("pairwise")

    Yields:
        True if this caller holds the lock, False if another thread, process or replica does.
    """
    if store.dialect == "postgresql":
        with _postgres_lock(store, project_key) as held:
            yield held
    else:
        with _sqlite_lock(store, project_key) as held:
            yield held


@contextlib.contextmanager
def _postgres_lock(store: Store, project_key: str) -> Iterator[bool]:
    name = LOCK_NAMESPACE + project_key
    connection = store.engine.connect()
    try:
        held = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(hashtext(:name))"), {"name": name}
            ).scalar()
        )
        connection.commit()  # the lock is session-level: it outlives the transaction
    except BaseException:
        connection.invalidate()
        connection.close()
        raise
    try:
        yield held
    finally:
        if held:
            try:
                connection.execute(
                    text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name}
                )
                connection.commit()
            except Exception:
                # never hand a connection that may still hold the lock back to the pool
                log.warning("releasing the sync lock of %s failed; dropping its connection", name)
                connection.invalidate()
        connection.close()


@contextlib.contextmanager
def _sqlite_lock(store: Store, project_key: str) -> Iterator[bool]:
    database = store.engine.url.database or ":memory:"
    in_memory = database == ":memory:" or database.startswith("file:")
    thread_lock = _thread_lock(database, project_key)
    if not thread_lock.acquire(blocking=False):
        yield False
        return
    try:
        if in_memory:
            yield True
            return
        path = lock_file(Path(database).expanduser().resolve(), project_key)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        thread_lock.release()
