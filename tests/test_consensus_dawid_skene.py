"""Dawid–Skene (connector.consensus.dawid_skene): EM iterations 0 and 1 computed by hand, the
whole EM sequence against crowd-kit's DawidSkene (an independent implementation), invariants
and undefined cases.

Model and update rules: Dawid & Skene (1979), "Maximum Likelihood Estimation of Observer
Error-Rates Using the EM Algorithm", JRSS C 28(1):20–28, doi:10.2307/2346806 (the E-step is
their eq. 2.5, the M-step eqs. 2.3–2.4).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from connector.consensus.dawid_skene import dawid_skene

# The hand example: 3 items, 3 annotators, values a (code 0) and b (code 1).
#   item 1: w1=a, w2=a, w3=b
#   item 2: w1=b, w2=b, w3=a
#   item 3: w1=a, w2=b, w3=b
ITEM = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
ANNOTATOR = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
VALUE = np.array([0, 0, 1, 1, 1, 0, 0, 1, 1])


def fit(max_iter: int, **options: float):  # type: ignore[no-untyped-def]
    return dawid_skene(
        ITEM, ANNOTATOR, VALUE, n_items=3, n_annotators=3, q=2, max_iter=max_iter, **options
    )


def test_iteration_0_is_the_majority_vote_shares_then_one_m_step() -> None:
    result = fit(0)
    # T0 = vote shares: item 1 (2/3, 1/3), item 2 (1/3, 2/3), item 3 (1/3, 2/3)
    assert result.posterior == pytest.approx(np.array([[2, 1], [1, 2], [1, 2]]) / 3, abs=1e-15)
    # priors = mean of T0 over items: ((2+1+1)/9, (1+2+2)/9) = (4/9, 5/9)
    assert result.priors == pytest.approx([4 / 9, 5 / 9], abs=1e-15)
    # w1 gave a on items 1, 3 and b on item 2:
    #   n[a,:] = T0(1) + T0(3) = (1, 1); n[b,:] = T0(2) = (1/3, 2/3); column sums (4/3, 5/3)
    #   e1 = [[a|a, a|b], [b|a, b|b]] = [[3/4, 3/5], [1/4, 2/5]]
    # w2 gave a on item 1, b on items 2, 3: n[a,:] = (2/3, 1/3), n[b,:] = (2/3, 4/3)
    #   e2 = [[1/2, 1/5], [1/2, 4/5]]
    # w3 gave b on items 1, 3, a on item 2: n[a,:] = (1/3, 2/3), n[b,:] = (1, 1)
    #   e3 = [[1/4, 2/5], [3/4, 3/5]]
    expected = np.array(
        [
            [[3 / 4, 3 / 5], [1 / 4, 2 / 5]],
            [[1 / 2, 1 / 5], [1 / 2, 4 / 5]],
            [[1 / 4, 2 / 5], [3 / 4, 3 / 5]],
        ]
    )
    assert result.errors == pytest.approx(expected, abs=1e-15)
    assert result.n_iter == 0
    assert result.log_likelihood == ()
    assert not result.converged


def test_iteration_1_by_hand() -> None:
    result = fit(1)
    # E-step with the parameters of iteration 0 (priors 4/9, 5/9; e1, e2, e3 above):
    #   item 1 (a, a, b): a: 4/9·3/4·1/2·3/4 = 1/8;  b: 5/9·3/5·1/5·3/5 = 1/25
    #                     → (1/8, 1/25) / (33/200) = (25/33, 8/33)
    #   item 2 (b, b, a): a: 4/9·1/4·1/2·1/4 = 1/72; b: 5/9·2/5·4/5·2/5 = 16/225
    #                     → (25/1800, 128/1800) / (153/1800) = (25/153, 128/153)
    #   item 3 (a, b, b): a: 4/9·3/4·1/2·3/4 = 1/8;  b: 5/9·3/5·4/5·3/5 = 4/25
    #                     → (1/8, 4/25) / (57/200) = (25/57, 32/57)
    t1 = np.array([[25 / 33, 8 / 33], [25 / 153, 128 / 153], [25 / 57, 32 / 57]])
    assert result.posterior == pytest.approx(t1, rel=1e-12)
    # The log-likelihood of the iteration-0 parameters, per judgment (9 judgments):
    #   (log 33/200 + log 153/1800 + log 57/200) / 9
    ell0 = (math.log(33 / 200) + math.log(153 / 1800) + math.log(57 / 200)) / 9
    assert result.log_likelihood == pytest.approx((ell0,), rel=1e-12)
    # M-step: priors = mean of T1; w1 gave a on items 1 and 3, so
    #   e1[a|a] = (25/33 + 25/57) / (25/33 + 25/153 + 25/57)
    assert result.priors == pytest.approx(t1.mean(axis=0), rel=1e-12)
    a_given_a = (25 / 33 + 25 / 57) / (25 / 33 + 25 / 153 + 25 / 57)
    assert result.errors[0, 0, 0] == pytest.approx(a_given_a, rel=1e-12)
    # labels: a, b, b with confidences 25/33, 128/153, 32/57
    assert result.label.tolist() == [0, 1, 1]
    assert result.confidence == pytest.approx([25 / 33, 128 / 153, 32 / 57], rel=1e-12)


def test_the_log_likelihood_never_decreases_and_the_fit_converges() -> None:
    result = fit(100)
    assert result.converged
    assert 2 <= result.n_iter < 100
    steps = np.diff(result.log_likelihood)
    assert (steps >= -1e-12).all()
    assert steps[-1] < 1e-6


# --- against crowd-kit --------------------------------------------------------------------------


def synthetic(seed: int, *, n_items: int = 400, n_annotators: int = 15, q: int = 3) -> pd.DataFrame:
    """Items judged by 3–6 distinct annotators of unequal skill; ~10% of labels uniform."""
    rng = np.random.default_rng(seed)
    skill = rng.uniform(0.3, 0.95, n_annotators)
    truth = rng.integers(0, q, n_items)
    rows = []
    for i in range(n_items):
        panel = rng.choice(n_annotators, size=rng.integers(3, 7), replace=False)
        for w in panel:
            right = rng.random() < skill[w]
            rows.append((i, int(w), int(truth[i]) if right else int(rng.integers(0, q))))
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


# crowd-kit 1.4.2 calls pandas APIs that pandas 3.1 deprecates (inplace=...)
CROWD_KIT_WARNINGS = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


@CROWD_KIT_WARNINGS
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("iterations", [1, 2, 10, 40])
def test_every_iteration_equals_crowd_kit(seed: int, iterations: int) -> None:
    from crowdkit.aggregation import DawidSkene  # test-only dependency

    data = synthetic(seed)
    # tol=-inf: crowd-kit runs exactly n_iter iterations, and so do we
    reference = DawidSkene(n_iter=iterations, tol=-np.inf).fit(data)
    ours = dawid_skene(
        data["task"].to_numpy(),
        data["worker"].to_numpy(),
        data["label"].to_numpy(),
        n_items=400,
        n_annotators=15,
        q=3,
        max_iter=iterations,
        tol=-np.inf,
    )
    assert ours.n_iter == iterations
    probas = reference.probas_.reindex(index=range(400), columns=range(3)).to_numpy()
    # crowd-kit clips its returned posteriors below at 1e-10
    np.testing.assert_allclose(ours.posterior, probas, rtol=0, atol=2e-10)
    np.testing.assert_allclose(ours.priors, reference.priors_.reindex(range(3)), rtol=1e-12)
    errors = reference.errors_
    for (worker, given), row in errors.iterrows():
        np.testing.assert_allclose(
            ours.errors[worker, given], row.reindex(range(3)).to_numpy(), rtol=1e-9, atol=1e-15
        )


@CROWD_KIT_WARNINGS
def test_converged_labels_equal_crowd_kits_defaults() -> None:
    from crowdkit.aggregation import DawidSkene

    data = synthetic(7, n_items=2000, n_annotators=40)
    reference = DawidSkene().fit(data).labels_.sort_index().to_numpy()
    ours = dawid_skene(
        data["task"].to_numpy(),
        data["worker"].to_numpy(),
        data["label"].to_numpy(),
        n_items=2000,
        n_annotators=40,
        q=3,
    )
    assert ours.converged
    assert (ours.label == reference).mean() >= 0.999


# --- invariants and undefined cases -------------------------------------------------------------


def test_relabelling_values_permutes_the_posterior() -> None:
    data = synthetic(3)
    perm = np.array([2, 0, 1])
    args = (data["task"].to_numpy(), data["worker"].to_numpy())
    base = dawid_skene(*args, data["label"].to_numpy(), n_items=400, n_annotators=15, q=3)
    moved = dawid_skene(*args, perm[data["label"].to_numpy()], n_items=400, n_annotators=15, q=3)
    np.testing.assert_allclose(moved.posterior[:, perm], base.posterior, atol=1e-9)
    assert moved.n_iter == base.n_iter


def test_the_order_of_judgments_changes_nothing() -> None:
    data = synthetic(4)
    shuffled = data.sample(frac=1.0, random_state=1)
    fits = [
        dawid_skene(
            d["task"].to_numpy(), d["worker"].to_numpy(), d["label"].to_numpy(),
            n_items=400, n_annotators=15, q=3,
        )
        for d in (data, shuffled)
    ]  # fmt: skip
    assert (np.diff(shuffled["task"].to_numpy()) < 0).any()
    np.testing.assert_allclose(fits[1].posterior, fits[0].posterior, rtol=0, atol=1e-12)
    assert fits[1].n_iter == fits[0].n_iter


def test_values_nobody_gave_and_items_nobody_judged() -> None:
    # q=4 but value 2 never given; item 3 of 4 never judged
    result = dawid_skene(
        [0, 0, 1, 1, 2], [0, 1, 0, 1, 0], [0, 0, 3, 3, 0], n_items=4, n_annotators=2, q=4
    )
    assert (result.posterior[:3, [1, 2]] == 0).all()
    assert np.isnan(result.posterior[3]).all()
    assert result.label[3] == -1
    assert np.isnan(result.confidence[3])
    assert result.priors[1] == result.priors[2] == 0
    assert result.label[:3].tolist() == [0, 3, 0]


def test_a_symmetric_split_is_a_tie_not_a_label() -> None:
    # two annotators who always disagree, each once per value: nothing tells them apart
    result = dawid_skene([0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 0], n_items=2, n_annotators=2, q=2)
    assert result.tie.tolist() == [True, True]
    assert result.label.tolist() == [-1, -1]
    assert result.confidence == pytest.approx([0.5, 0.5])


def test_no_judgments_gives_empty_results() -> None:
    result = dawid_skene([], [], [], n_items=2, n_annotators=1, q=3)
    assert result.label.tolist() == [-1, -1]
    assert result.n_iter == 0
    assert np.isnan(result.posterior).all()


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (([0, 1], [0], [0, 0]), "item, annotator and value must be 1-D of one length"),
        (([0, 5], [0, 0], [0, 0]), "item codes must lie in 0..1"),
        (([0, 1], [0, -1], [0, 0]), "annotator codes must lie in 0..0"),
        (([0, 1], [0, 0], [0, 3]), "value codes must lie in 0..2"),
    ],
)
def test_bad_codes_are_refused(arrays: tuple[list[int], ...], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        dawid_skene(*arrays, n_items=2, n_annotators=1, q=3)


def test_negative_max_iter_is_refused() -> None:
    with pytest.raises(ValueError, match="max_iter must be >= 0, got -1"):
        fit(-1)


# --- real data ------------------------------------------------------------------------------------


@CROWD_KIT_WARNINGS
@pytest.mark.parametrize("source", ["tests-data", "shared-data"])
def test_real_crowd_votes_equal_crowd_kit(source: str) -> None:
    """UKPConvArg1 crowd votes (Habernal & Gurevych 2016; the slice in tests/data/public, and
    the full 84,445 votes when ../shared/data is present): a real crowd with many single-vote
    workers. Every posterior after 20 iterations equals crowd-kit's."""
    import public_datasets as datasets
    from crowdkit.aggregation import DawidSkene

    root = (
        Path(__file__).resolve().parent / "data" / "public"
        if source == "tests-data"
        else datasets.shared_data_dir()
    )
    if not (root / "ukpconvarg1").is_dir():
        pytest.skip(f"{root / 'ukpconvarg1'} is not here")
    frame = datasets.ukpconvarg1(root / "ukpconvarg1")
    first = frame.drop_duplicates(["item_id", "annotator"])
    item, items = pd.factorize(first["item_id"])
    annotator, annotators = pd.factorize(first["annotator"])
    value = first["value"].map({"a": 0, "b": 1, "tie": 2}).to_numpy()
    ours = dawid_skene(
        item, annotator, value, n_items=len(items), n_annotators=len(annotators), q=3,
        max_iter=20, tol=-np.inf,
    )  # fmt: skip
    data = pd.DataFrame({"task": item, "worker": annotator, "label": value})
    reference = DawidSkene(n_iter=20, tol=-np.inf).fit(data)
    probas = reference.probas_.reindex(index=range(len(items)), columns=range(3)).to_numpy()
    assert len(first) > 500
    np.testing.assert_allclose(ours.posterior, probas, rtol=0, atol=1e-9)
