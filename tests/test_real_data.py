"""The report on real human-annotated data (../shared/data, see its README for sources).

MT-Bench reproduces the human–human agreement published by Zheng et al. (2023); every dataset's
alpha matches the `krippendorff` package and Fleiss/AC1 match statsmodels/irrCAC.
"""

from __future__ import annotations

import warnings
from functools import cache

import krippendorff
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from connector import datasets
from connector.report.build import ReportOptions, build_report
from connector.rubric import Dimension, Rubric, default_rubric_for, load_rubric

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from irrCAC.raw import CAC

pytestmark = pytest.mark.skipif(
    not datasets.shared_data_dir().is_dir(), reason="../shared/data is not beside the checkout"
)
POINT = ReportOptions(resamples=0)


@cache
def mt_bench() -> pd.DataFrame:
    return datasets.mt_bench()


@cache
def ukp() -> pd.DataFrame:
    return datasets.ukpconvarg1()


def reference_alpha(frame: pd.DataFrame, level: str, domain: list[object]) -> float:
    """The krippendorff package on value counts built independently with pandas.crosstab."""
    counts = pd.crosstab(frame["item_id"], frame["value"]).reindex(columns=domain, fill_value=0)
    return float(
        krippendorff.alpha(
            value_counts=counts.to_numpy(), level_of_measurement=level, value_domain=domain
        )
    )


def test_mt_bench_reproduces_published_human_agreement() -> None:
    # Zheng et al. (2023), "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", Table 5
    # (first turn, human vs human among the experts): 63% agreement over 721 vote pairs with
    # ties (setup S1), 81% over 479 pairs without ties (S2).
    frame = mt_bench()
    experts = frame[frame["annotator"].str.startswith("expert_")].reset_index(drop=True)
    report = build_report(experts, load_rubric("rubrics/mt-bench/v1.yaml"), options=POINT)
    section = report["dimensions"]["overall"]
    assert section["percent_agreement"]["n_pairs"] == 721
    assert section["percent_agreement"]["value"] == pytest.approx(0.63, abs=0.005)
    assert section["percent_agreement_decisive"]["n_pairs"] == 479
    assert section["percent_agreement_decisive"]["value"] == pytest.approx(0.81, abs=0.005)


def test_mt_bench_alpha_matches_reference() -> None:
    frame = mt_bench()
    report = build_report(frame, load_rubric("rubrics/mt-bench/v1.yaml"), options=POINT)
    ours = report["dimensions"]["overall"]["krippendorff_alpha"]["value"]
    # The loader keeps author_0's one repeated vote; the report counts it as a re-test.
    first = frame.drop_duplicates(["item_id", "annotator", "dimension"])
    assert ours == pytest.approx(reference_alpha(first, "nominal", ["a", "b", "tie"]), abs=1e-12)
    assert report["dimensions"]["overall"]["n_retests"] == 1


def test_ukpconvarg1_matches_references() -> None:
    frame = ukp()
    rubric = default_rubric_for({"convincing": ["a", "b", "tie"]})
    report = build_report(frame, rubric, options=ReportOptions(resamples=200))
    section = report["dimensions"]["convincing"]
    assert section["n_judgments"] == 84_445
    assert section["n_items"] == 16_927
    assert section["n_annotators"] == 3_815
    assert section["krippendorff_alpha"]["value"] == pytest.approx(
        reference_alpha(frame, "nominal", ["a", "b", "tie"]), abs=1e-12
    )
    # Fleiss and AC1 on the pairs with all five votes (complete data, rater identity unused).
    five = frame.groupby("item_id").filter(lambda g: len(g) == 5)
    wide = np.stack(five.groupby("item_id")["value"].apply(list).to_numpy())
    counts = np.stack([(wide == v).sum(axis=1) for v in ("a", "b", "tie")], axis=1)
    complete = build_report(five.reset_index(drop=True), rubric, options=POINT)
    complete_section = complete["dimensions"]["convincing"]
    assert complete_section["fleiss_kappa"]["value"] == pytest.approx(
        sm_fleiss_kappa(counts), abs=1e-12
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ac1 = CAC(pd.DataFrame(wide), digits=15).gwet()["est"]["coefficient_value"]
    assert complete_section["gwet_ac1"]["value"] == pytest.approx(ac1, abs=1e-9)
    lo, hi = section["krippendorff_alpha"]["ci95"]
    assert lo < section["krippendorff_alpha"]["value"] < hi
    assert section["length_bias"]["n"] > 50_000  # argument lengths are known
    assert any(a["dimensions"]["convincing"]["gold"] for a in report["annotators"])  # MACE gold


@pytest.mark.parametrize("dimension", ["correctness", "selection", "overall"])
def test_squality_interval_alpha_matches_reference(dimension: str) -> None:
    frame = datasets.squality()
    sub = frame[frame["dimension"] == dimension].reset_index(drop=True)
    domain = list(range(101))
    rubric = Rubric(
        id="squality",
        version="1",
        changelog="",
        guidelines="",
        dimensions=(
            Dimension(
                name=dimension,
                question=dimension,
                kind="rating",
                values=tuple(domain),
                level="interval",
            ),
        ),
    )
    report = build_report(sub, rubric, options=POINT)
    ours = report["dimensions"][dimension]["krippendorff_alpha"]["value"]
    assert ours == pytest.approx(reference_alpha(sub, "interval", domain), abs=1e-12)
