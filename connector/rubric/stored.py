"""A rubric version read back from the canonical JSON the store keeps
(:meth:`Rubric.canonical_json`), so a version whose YAML file is gone can still code the
judgments made under it (the validation gate compares a new version with the previous one).
"""

from __future__ import annotations

import json
from typing import Any

from connector.errors import RubricError
from connector.rubric.model import (
    BatchSize,
    Calibration,
    Dimension,
    Rubric,
    Thresholds,
    _with_hash,
)

__all__ = ["rubric_from_canonical_json"]


def rubric_from_canonical_json(text: str, *, content_hash: str) -> Rubric:
    """The rubric whose canonical JSON is ``text``.

    Raises:
        RubricError: the text is not a rubric's canonical JSON, or the rubric it describes does
            not hash to ``content_hash`` (the stored version was altered).
    """
    where = f"stored rubric {content_hash}"
    try:
        content: dict[str, Any] = json.loads(text)
        calibration = dict(content["calibration"])
        size = calibration.pop("validation_batch_size")
        rubric = Rubric(
            id=content["id"],
            version=content["version"],
            changelog=content["changelog"],
            guidelines=content["guidelines"],
            dimensions=tuple(_dimension(d) for d in content["dimensions"]),
            thresholds=Thresholds(**content["thresholds"]),
            calibration=Calibration(**calibration, validation_batch_size=BatchSize(**size)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise RubricError(f"not a rubric's canonical JSON ({exc!r})", path=where) from exc
    rebuilt = _with_hash(rubric)
    if rebuilt.content_hash != content_hash:
        raise RubricError(
            f"its content hashes to {rebuilt.content_hash}: the stored version was altered",
            path=where,
        )
    return rebuilt


def _dimension(fields: dict[str, Any]) -> Dimension:
    values = dict(fields)
    values["values"] = tuple(values["values"])
    values["non_decisive"] = tuple(values.get("non_decisive", ()))
    return Dimension(**values)
