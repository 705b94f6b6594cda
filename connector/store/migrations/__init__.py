"""Alembic migrations of the store, shipped in the package (see :mod:`..migrate`)."""
