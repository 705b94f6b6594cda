"""Argilla 2.x: dataset settings from rubrics, and the adapter (REST, like the SDK uses)."""
