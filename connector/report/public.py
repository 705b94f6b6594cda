"""What of a report annotators may read: the one place that decides it.

Everything the connector writes where a platform's members can read it (the Label Studio project
description, the Argilla dataset's ``metadata``) is cut from the full report here. Members are
annotators, and annotators are adversaries of the gold: nothing per annotator (no gold accuracy,
no status, no names), nothing about gold, batches or re-tests (which tasks are gold would follow),
no server path. What is left is agreement per dimension, pooled over everyone, which a single
annotator's answer barely moves and which reveals no gold answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PUBLIC_DIMENSION_KEYS", "public_report"]

#: Per-dimension figures annotators may read (pooled over every annotator and item).
PUBLIC_DIMENSION_KEYS = (
    "kind",
    "level",
    "weights",
    "weight_distances",
    "categories",
    "target_alpha",
    "n_items",
    "n_judgments",
    "n_annotators",
    "krippendorff_alpha",
    "fleiss_kappa",
    "gwet_ac1",
    "percent_agreement",
    "percent_agreement_decisive",
    "krippendorff_alpha_decisive",
    "by_category",
)


def public_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``report`` (a JSON report) that may be written where annotators can read it.

    >>> public_report({"schema": "s", "annotators": [{"annotator": "x"}],
    ...                "dimensions": {"overall": {"n_items": 3, "by_batch": {}}}})
    {'schema': 's', 'dimensions': {'overall': {'n_items': 3}}}
    """
    public: dict[str, Any] = {
        key: report[key] for key in ("schema", "generated_at", "rubric") if key in report
    }
    summary = report.get("summary")
    if isinstance(summary, Mapping):
        public["summary"] = {k: v for k, v in summary.items() if k != "n_annotators"}
    dimensions = report.get("dimensions")
    if isinstance(dimensions, Mapping):
        public["dimensions"] = {
            str(name): {k: section[k] for k in PUBLIC_DIMENSION_KEYS if k in section}
            for name, section in dimensions.items()
            if isinstance(section, Mapping)
        }
    others = report.get("other_rubric_versions")
    if isinstance(others, list) and others:
        # the judgments of other rubric versions, scored under their own version: the same
        # pooled figures per dimension, nothing else
        public["other_rubric_versions"] = [
            {
                "rubric": part["rubric"],
                "n_judgments": part["n_judgments"],
                "n_items": part["n_items"],
                "dimensions": {
                    str(name): {
                        **{k: section[k] for k in PUBLIC_DIMENSION_KEYS if k in section},
                        "pooled": section["pooled"],
                    }
                    for name, section in part["dimensions"].items()
                },
            }
            for part in others
        ]
    return public
