"""A project's stored judgments split by rubric version: the one reader for every surface that
scores a project under its configured rubric (the sync, ``reannotate``, ``consensus`` and
``export`` of a project, ``adjudication queue``, ``calibration-session``), so none codes a
judgment with a version it was not made under (the split itself:
:func:`connector.report.versions.split_by_version`).
"""

from __future__ import annotations

from connector.report.versions import VersionSplit, split_by_version
from connector.rubric import Rubric
from connector.rubric.stored import rubric_from_canonical_json
from connector.store import Store

__all__ = ["current_judgments", "stored_versions"]


def stored_versions(store: Store, project_key: str) -> list[Rubric]:
    """Every rubric version the project's judgments were synced under, rebuilt from the
    canonical JSON the store keeps (the YAML file of an old version may be gone).

    Raises:
        RubricError: a stored version no longer hashes to its content hash (altered).
    """
    rows = store.rubrics_by_hash(store.judged_rubric_hashes(project_key))
    return [rubric_from_canonical_json(r.canonical_json, content_hash=r.content_hash) for r in rows]


def current_judgments(store: Store, project_key: str, rubric: Rubric) -> VersionSplit:
    """The project's stored judgments split by version against ``rubric`` (the configured
    version); ``current`` is re-indexed."""
    split = split_by_version(
        store.judgments_frame(project_key), rubric, stored_versions(store, project_key)
    )
    return VersionSplit(
        current=split.current.reset_index(drop=True),
        others=split.others,
        warnings=split.warnings,
        n_rows=split.n_rows,
    )
