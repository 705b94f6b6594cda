"""Alembic revisions of the store's schema, one module per revision."""
