"""Every coefficient against values published with their worked examples (source cited per test)."""

from __future__ import annotations

import numpy as np
import pytest

from connector.metrics import (
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability, section C (4 observers ×
# 12 units, missing values). https://repository.upenn.edu/asc_papers/43 — here units are rows.
KRIPPENDORFF_2011 = list(
    zip(
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
        strict=True,
    )
)


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_worked_example(level: str, published: float) -> None:
    assert krippendorff_alpha(KRIPPENDORFF_2011, level=level) == pytest.approx(published, abs=5e-4)


def test_gwet_handbook_four_raters_same_data() -> None:
    # Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., the 4 raters × 12 subjects
    # example (irrCAC dataset cac.raw4raters, vignette "overview"): AC1 0.7754, Fleiss 0.7612,
    # Brennan-Prediger 0.7727, Krippendorff 0.7434, percent agreement 0.8182.
    data = KRIPPENDORFF_2011
    assert gwet_ac1(data) == pytest.approx(0.77544, abs=5e-6)
    assert fleiss_kappa(data) == pytest.approx(0.76117, abs=5e-6)
    assert brennan_prediger(data) == pytest.approx(0.77273, abs=5e-6)
    assert krippendorff_alpha(data) == pytest.approx(0.74342, abs=5e-6)
    assert percent_agreement(data, method="unit_mean") == pytest.approx(0.8181818, abs=1e-7)


def test_gwet_handbook_weighted_four_raters() -> None:
    # Gwet (2014) §3 weighted coefficients on cac.raw4raters (irrCAC vignette "weighting"):
    # quadratic AC2 0.914, Fleiss 0.86494, BP 0.90152; linear AC2 0.85874, Fleiss 0.81794.
    data = KRIPPENDORFF_2011
    assert gwet_ac1(data, weights="quadratic") == pytest.approx(0.914, abs=5e-4)
    assert fleiss_kappa(data, weights="quadratic") == pytest.approx(0.86494, abs=5e-6)
    assert brennan_prediger(data, weights="quadratic") == pytest.approx(0.90152, abs=5e-6)
    assert gwet_ac1(data, weights="linear") == pytest.approx(0.85874, abs=5e-6)
    assert fleiss_kappa(data, weights="linear") == pytest.approx(0.81794, abs=5e-6)


def _from_contingency(table: list[list[int]], labels: list[str]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            rows += [(labels[i], labels[j])] * count
    return rows


def test_gwet_handbook_abstractors_two_raters() -> None:
    # Gwet (2014) two abstractors classifying 100 pregnancies (Ectopic / AIU / NIU); values from
    # the irrCAC vignette "overview" (dataset cont3x3abstractors): Cohen 0.7964094, Scott
    # 0.7962397, AC1 0.8493305, Brennan-Prediger 0.835, Krippendorff 0.7972585, agreement 0.89.
    data = _from_contingency([[13, 0, 0], [0, 20, 7], [0, 4, 56]], ["Ectopic", "AIU", "NIU"])
    assert cohen_kappa(data) == pytest.approx(0.7964094, abs=5e-8)
    assert scott_pi(data) == pytest.approx(0.7962397, abs=5e-8)
    assert gwet_ac1(data) == pytest.approx(0.8493305, abs=5e-8)
    assert brennan_prediger(data) == pytest.approx(0.835, abs=5e-8)
    assert krippendorff_alpha(data) == pytest.approx(0.7972585, abs=5e-8)
    assert percent_agreement(data) == pytest.approx(0.89)


def test_cohen_textbook_diagnoses() -> None:
    # Fleiss, Levin & Paik (2003), Statistical Methods for Rates and Proportions, 3rd ed.,
    # Table 18.1: 100 subjects, two raters, three diagnoses; p_o = .89, p_e = .66, kappa = .68.
    data = _from_contingency([[75, 1, 4], [5, 4, 1], [0, 0, 10]], ["psych", "neuro", "organic"])
    assert cohen_kappa(data) == pytest.approx(0.23 / 0.34, abs=1e-12)


def test_cohen_weighted_and_unweighted_sas_example() -> None:
    # SAS/STAT User's Guide, PROC FREQ "AGREE" example (3 × 3 table [[0,4,1],[0,8,0],[0,1,5]]):
    # simple kappa 0.4842, weighted kappa with Cicchetti-Allison (linear) weights 0.4701.
    data = _from_contingency([[0, 4, 1], [0, 8, 0], [0, 1, 5]], ["1", "2", "3"])
    assert cohen_kappa(data) == pytest.approx(0.4842, abs=5e-5)
    assert cohen_kappa(data, weights="linear") == pytest.approx(0.4701, abs=5e-5)


def test_cohen_wikipedia_yes_no() -> None:
    # The classic 2 × 2 example (Wikipedia, "Cohen's kappa": 50 grant proposals): kappa = 0.4.
    data = _from_contingency([[20, 5], [10, 15]], ["yes", "no"])
    assert cohen_kappa(data) == pytest.approx(0.4, abs=1e-12)


# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists, 5 diagnoses; published kappa .430
# (R irr::kappam.fleiss(diagnoses) = 0.4302445). Raw form of the irr dataset `diagnoses`.
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip


def test_fleiss_1971() -> None:
    assert fleiss_kappa(FLEISS_1971) == pytest.approx(0.4302445, abs=5e-8)


def test_fleiss_wikipedia_fourteen_raters() -> None:
    # Wikipedia, "Fleiss' kappa" worked example: 10 subjects, 14 raters, 5 categories;
    # P̄ = 0.378, kappa = 0.210. The table gives counts per category; expand to raw ratings.
    counts = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    data = [[k for k, c in enumerate(row, start=1) for _ in range(c)] for row in counts]
    assert fleiss_kappa(data) == pytest.approx(0.210, abs=5e-4)
    assert percent_agreement(data, method="unit_mean") == pytest.approx(0.378, abs=5e-4)


def test_fleiss_equals_scott_on_two_complete_raters() -> None:
    rng = np.random.default_rng(7)
    data = rng.integers(0, 4, size=(60, 2))
    assert fleiss_kappa(data) == pytest.approx(scott_pi(data), abs=1e-12)
