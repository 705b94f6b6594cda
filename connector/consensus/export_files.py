"""Write an :class:`~connector.consensus.export.Export`: its rows (JSON Lines or Parquet, by the
extension of ``--out``), the sidecar of non-decisive items beside it and the dataset card.

For ``--out pairs.jsonl`` the sidecar is ``pairs.non_decisive.jsonl`` and the card
``pairs.card.md`` (:func:`export_paths`). JSON Lines holds one JSON object per row; Parquet holds
``votes`` as a struct, ``task_ids`` and ``batch`` as lists of strings and chat messages as
lists of ``{role, content}`` structs, so ``datasets.load_dataset("parquet", ...)`` and
``"json"`` read the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.consensus.dataset_card import dataset_card
from connector.consensus.export import Export
from connector.errors import JudgmentTableError

__all__ = ["EXPORT_SUFFIXES", "ExportPaths", "export_paths", "write_export"]

EXPORT_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportPaths:
    """Where an export's three files go."""

    rows: Path
    non_decisive: Path
    card: Path


def export_paths(out: str | Path) -> ExportPaths:
    """The rows at ``out``, the sidecar and the card beside it.

    Raises:
        JudgmentTableError: ``out`` ends in neither ``.jsonl``/``.ndjson`` nor ``.parquet``.
    """
    file = Path(out)
    suffix = file.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise JudgmentTableError(
            f"--out {file}: write the export to a file ending in {', '.join(EXPORT_SUFFIXES)}"
        )
    stem = file.name[: -len(suffix)]
    return ExportPaths(
        rows=file,
        non_decisive=file.with_name(f"{stem}.non_decisive{file.suffix}"),
        card=file.with_name(f"{stem}.card.md"),
    )


def _write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    if EXPORT_SUFFIXES[path.suffix.lower()] == "jsonl":
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise JudgmentTableError(
            f"--out {path}: Parquet needs pyarrow (pip install 'iaa-connector[parquet]'), or "
            "write .jsonl"
        ) from None

    table = pa.Table.from_pylist(rows) if rows else pa.table({})
    pq.write_table(table, path)


def write_export(export: Export, out: str | Path, *, command: str = "") -> ExportPaths:
    """Write the rows to ``out``, the non-decisive items and the card beside it.

    Args:
        command: the command line that made the export, quoted in the card.
    """
    paths = export_paths(out)
    paths.rows.parent.mkdir(parents=True, exist_ok=True)
    _write_rows(export.rows, paths.rows)
    _write_rows(export.non_decisive, paths.non_decisive)
    paths.card.write_text(dataset_card(export, paths, command=command), encoding="utf-8")
    return paths
