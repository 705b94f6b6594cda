"""The store's error, raised for every database failure at the store's boundary.

::

    ConnectorError
    ├── StoreError      the database refused or failed an operation (also a RuntimeError)
    └── StoreRowError   a row given to the store is invalid (also a ValueError)

SQLAlchemy and driver errors are translated once, in :mod:`connector.store.store`, with
``raise StoreError(...) from exc``; the message names the operation and the database (its URL
with the password hidden), and the original error stays on ``__cause__``.
"""

from __future__ import annotations

from connector.errors import ConnectorError

__all__ = ["StoreError", "StoreRowError"]


class StoreError(ConnectorError, RuntimeError):
    """A store operation failed: ``str(err)`` names the operation, the database and the cause."""

    def __init__(self, message: str, *, operation: str | None = None, url: str | None = None):
        self.operation = operation
        self.url = url
        super().__init__(message)


class StoreRowError(ConnectorError, ValueError):
    """A row given to the store is invalid (an empty key, a value that is not a str or number)."""
