"""Gold items: items whose expected answers the connector knows and annotators do not.

Gold answers live only in the connector's store. On the platform a gold item is an ordinary
task carrying an opaque key: nothing in its data, meta or predictions says it is gold or what
its answer is. A gold file (``rubrics/<id>/gold.jsonl``) is an items file (see
:mod:`connector.item`) in which every item has ``answers``.
"""

from __future__ import annotations

from pathlib import Path

from connector.item import Item, load_items
from connector.rubric import Rubric

__all__ = ["load_gold"]


def load_gold(path: str | Path, rubric: Rubric) -> list[Item]:
    """Read a gold file; every item must carry answers valid under the rubric."""
    return load_items(path, rubric, require_answers=True)
