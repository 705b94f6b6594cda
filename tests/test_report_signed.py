"""The report of a signed preference scale (-3 … 3): interval alpha, decisive agreement, and
the side figures read through the sign (issue 11)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest

from connector.judgments import normalise
from connector.report.build import ReportOptions, build_report
from connector.rubric import load_rubric

SIGNED = load_rubric(Path(__file__).parent / "data" / "rubrics" / "signed.yaml", check_layout=False)
NO_BOOTSTRAP = ReportOptions(resamples=0, min_shared_items=1)


def _frame(values: np.ndarray, display_left: list[str]) -> pd.DataFrame:
    rows = [
        {
            "item_id": f"i{i}",
            "annotator": f"u{a}",
            "dimension": "preference",
            "value": int(values[a, i]),
            "display_left": display_left[i],
        }
        for a in range(values.shape[0])
        for i in range(values.shape[1])
    ]
    return normalise(pd.DataFrame(rows))


@pytest.mark.parametrize("level", ["interval", "ordinal"])
def test_a_signed_scale_is_scored_at_its_level_against_krippendorff(level: str) -> None:
    rng = np.random.default_rng(11)
    truth = rng.integers(-3, 4, size=40)
    values = np.clip(truth + rng.integers(-1, 2, size=(3, 40)), -3, 3)
    dimension = replace(SIGNED.dimension("preference"), level=level)
    rubric = replace(SIGNED, dimensions=(dimension,))
    report = build_report(_frame(values, ["a"] * 40), rubric, options=NO_BOOTSTRAP)
    section = report["dimensions"]["preference"]
    assert (section["kind"], section["level"], section["non_decisive"]) == (
        "preference", level, [0]
    )  # fmt: skip
    assert section["categories"] == [-3, -2, -1, 0, 1, 2, 3]
    expected = krippendorff.alpha(reliability_data=values.astype(float), level_of_measurement=level)
    assert section["krippendorff_alpha"]["value"] == pytest.approx(expected)


def test_an_annotator_who_always_picks_the_left_side_is_found_through_the_sign() -> None:
    # u0 always answers "left response is better" (display -2), u1 always canonical -1
    # (response_a slightly better), u2 always "about the same"; the display side alternates.
    left = ["a", "b"] * 10
    u0 = [-2 if side == "a" else 2 for side in left]  # canonical after mirroring
    values = np.array([u0, [-1] * 20, [0] * 20])
    report = build_report(_frame(values, left), SIGNED, options=NO_BOOTSTRAP)
    section = report["dimensions"]["preference"]
    bias = section["position_bias"]
    # 40 decisive judgments: u0 chose the left side 20 times, u1 10 times (where a was left)
    assert (bias["n"], bias["left_share"]) == (40, 30 / 40)
    annotators = {a["annotator"]: a["dimensions"]["preference"] for a in report["annotators"]}
    assert (
        annotators["u0"]["position_bias"]["n"],
        annotators["u0"]["position_bias"]["left_share"],
    ) == (20, 1.0)
    assert annotators["u2"]["non_decisive_rate"] == 1.0
    # decisive pairs: u0 with u1 on each item; they agree on no item (-2/2 against -1)
    assert section["percent_agreement_decisive"] == {"value": 0.0, "n_pairs": 20}
