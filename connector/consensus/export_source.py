"""What an export reads besides the judgments: texts, annotator statuses, gold items and task
ids, from a judgments file or from a synced project's store (:func:`export_input`).

- Texts: a file's ``prompt``/``response_a``/``response_b`` columns, or the store's item
  payloads; ``--items FILE`` wins over both (:mod:`connector.consensus.texts`).
- Statuses: the lifecycle's, one owner (:mod:`connector.quality.lifecycle`): for a file, the
  status :func:`~connector.quality.lifecycle.first_decisions` gives each annotator from the
  file's gold judgments (what the offline report shows); for a project, the stored status.
- Gold items: a file's rows with a ``gold_value``; a project's gold answers other than rulings
  (source ``adjudicated``: those settle an item, they do not test annotators).
- Task ids: a project's platform tasks per item; none for a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from connector.consensus.adjudication import Adjudication
from connector.consensus.export import ExportInput
from connector.consensus.texts import (
    ItemText,
    load_item_texts,
    texts_from_frame,
    texts_from_payloads,
)
from connector.quality.lifecycle import first_decisions
from connector.rubric import Rubric

if TYPE_CHECKING:
    from connector.store import Store

__all__ = ["export_input"]


def export_input(
    frame: pd.DataFrame,
    rubric: Rubric,
    *,
    rulings: Sequence[Adjudication] = (),
    items: Path | None = None,
    store: Store | None = None,
    project_key: str | None = None,
    path: Path | None = None,
    lines: Sequence[int] | None = None,
) -> ExportInput:
    """The export's input for judgments read from ``path`` (a file) or from ``store``'s
    project ``project_key``.

    Raises:
        JudgmentTableError: an unreadable ``items`` file, or an item with two different texts.
    """
    texts: dict[str, ItemText]
    if store is not None and project_key is not None:
        texts = texts_from_payloads(
            (row.item_key, row.payload) for row in store.items_with_payload(project_key)
        )
        statuses = {
            name: decision.status
            for name, decision in store.current_statuses(project_key, rubric.id).items()
        }
        gold = frozenset(
            gold.item_key
            for gold in store.gold_for(project_key).values()
            if gold.source != "adjudicated"
        )
        task_ids: dict[str, list[str]] = {}
        for task in store.task_mappings(project_key).values():
            task_ids.setdefault(task.item_key, []).append(task.platform_task_id)
        source = f"project {project_key}"
    else:
        source = str(path) if path is not None else "<frame>"
        texts = texts_from_frame(frame, source=source, lines=lines)
        has_gold = frame["gold_value"].notna()
        statuses = (
            {t.annotator: t.status for t in first_decisions(frame, rubric)}
            if has_gold.any()
            else {}
        )
        gold = frozenset(str(i) for i in frame.loc[has_gold, "item_id"].unique())
        task_ids = {}
    if items is not None:
        texts = texts | load_item_texts(items)
    return ExportInput(
        frame=frame,
        rubric=rubric,
        texts=texts,
        statuses=statuses,
        gold_items=gold,
        adjudications=tuple(rulings),
        task_ids={key: sorted(ids) for key, ids in task_ids.items()},
        source=source,
    )
