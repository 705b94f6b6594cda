"""The validation gate of a rubric version (connector.calibration.gate) and the version
comparison (connector.calibration.comparison), through the in-memory platform: batches pushed by
plan_push/push_batch, judged, synced, then the gate decides. The real-server round trip is
tests/test_gate_labelstudio.py."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
import pytest
from memory_platform import MemoryPlatform
from scipy import stats as scipy_stats
from typer.testing import CliRunner

from connector.calibration.comparison import compare_versions, describe, matched_dimensions
from connector.calibration.gate import GateError, decide_dimension, evaluate_gate, items_to_decide
from connector.calibration.item import Item
from connector.calibration.promotion import previous_version, production_push_refusal, promote
from connector.calibration.push import plan_push, push_batch
from connector.cli import app
from connector.config import Config, load_config
from connector.judgments.table import JudgmentTable
from connector.metrics.agreement import AgreementSummary, Estimate, summarise_agreement
from connector.metrics.weights import agreement_weights
from connector.rubric import load_rubric, parse_rubric
from connector.rubric.stored import rubric_from_canonical_json
from connector.store import Store
from connector.sync import sync_project

NOW = datetime(2026, 12, 3, tzinfo=UTC)
ANNOTATORS = ("ann1@x", "ann2@x", "ann3@x")
VALUES = ("a", "b", "tie")


def rubric_yaml(
    version: int,
    *,
    dimensions: tuple[tuple[str, str], ...] = (("overall", "Which response is better?"),),
    size: tuple[int, int] = (20, 60),
    gold_share: float = 0.0,
    retest_share: float = 0.0,
) -> str:
    dims = "".join(
        f"  - name: {name}\n    question: {question}\n    kind: preference\n"
        "    values: [a, b, tie]\n    non_decisive: [tie]\n    level: nominal\n"
        for name, question in dimensions
    )
    return (
        f"id: gatetest\nversion: {version}\nchangelog: version {version}\n"
        f"guidelines: Pick the better response (v{version}).\ndimensions:\n{dims}"
        "thresholds:\n  target_alpha: 0.80\n"
        f"calibration:\n  gold_share: {gold_share}\n  retest_share: {retest_share}\n"
        "  retest_delay_hours: 1\n"
        f"  validation_batch_size: {{min: {size[0]}, max: {size[1]}}}\n"
        "  annotators_per_item: 3\n"
    )


def items(n: int, prefix: str = "i") -> list[Item]:
    return [
        Item(
            item_key=f"{prefix}{i}",
            prompt=f"prompt {i}",
            response_a="x",
            response_b="yy",
            category="c",
            answers={},
        )
        for i in range(n)
    ]


Answer = Callable[[int, int], Any]  # (item index, annotator index) -> value or None


def truth(i: int) -> str:
    return VALUES[i % 3]


def agree(i: int, k: int) -> str:
    return truth(i)


def scatter(i: int, k: int) -> str:
    return VALUES[(i * 7 + k * 5 + (i * k) % 3) % 3]


class Project:
    """A project on the in-memory platform whose configuration names one rubric file."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.platform = MemoryPlatform(page_size=50)
        self.store: Store | None = None
        self.use(rubric_yaml(1))

    def use(self, text: str) -> None:
        """Point the configuration at a new rubric file (as a user switching versions)."""
        version = text.split("version: ")[1].split("\n")[0]
        path = self.tmp_path / "rubrics" / "gatetest" / f"v{version}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        config = self.tmp_path / "iaa.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{self.tmp_path / "iaa.db"}"\n'
            f'[reports]\ndir = "{self.tmp_path / "reports"}"\n'
            '[[platforms]]\nname = "mem"\nkind = "label-studio"\nurl = "http://127.0.0.1:9"\n'
            'token_env = "UNUSED"\n[[projects]]\nkey = "p"\nplatform = "mem"\n'
            f'project_id = 1\nrubric = "{path}"\noverlap_seconds = 1\n'
        )
        self.config: Config = load_config(config)
        self.rubric = load_rubric(path, check_layout=False)
        if self.store is None:
            self.store = Store.open(self.config.store_url)

    @property
    def db(self) -> Store:
        assert self.store is not None
        return self.store

    def push(
        self, kind: str, batch: list[Item], label: str = "", gold: list[Item] | None = None
    ) -> dict[str, str]:
        """Push a batch; returns item key → platform task id of its own items."""
        self.last_gold = gold or []
        self.db.save_rubric(self.rubric)
        plan = plan_push(
            self.db,
            "p",
            self.rubric,
            kind=kind,  # type: ignore[arg-type]
            items=batch,
            gold=gold or [],
            label=label,
            now=NOW,
        )
        self.last_plan = plan
        push_batch(plan, self.config.project("p"), store=self.db, platform=self.platform)
        own = {i.item_key for i in batch}
        return {
            b.item_key: str(b.platform_task_id)
            for b in self.db.batch_items(plan.batch_id)
            if b.item_key in own
        }

    def judge(
        self, tasks: Mapping[str, str], answer: Answer, annotators: int = 3, dims: Any = None
    ) -> None:
        for key, task_id in tasks.items():
            i = int(key.lstrip("ijk"))
            for k in range(annotators):
                value = answer(i, k)
                if value is None:
                    continue
                payload = value if dims is None else dict.fromkeys(dims, value)
                self.platform.annotate(
                    task_id, task_id.removeprefix("k-"), annotator=ANNOTATORS[k], value=payload
                )

    def sync(self) -> Any:
        return sync_project(
            self.config, "p", store=self.db, platform=self.platform, write_back=False
        )

    def gate(self, **kwargs: Any) -> Any:
        previous = previous_version(self.db, "p", self.rubric)
        return evaluate_gate(self.db, "p", self.rubric, previous=previous, **kwargs)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    p = Project(tmp_path)
    try:
        yield p
    finally:
        p.db.close()


def v2(project: Project, **kwargs: Any) -> None:
    """Production under v1 (judged with scattered answers), then the configuration names v2."""
    project.judge(project.push("production", items(30)), scatter)
    project.sync()
    project.use(rubric_yaml(2, **kwargs))


# --- the rule for "how many more items" -----------------------------------------------------


def test_items_to_decide_follows_the_inverse_square_root_rule() -> None:
    # alpha 0.85 [0.75, 0.95], target 0.80: h = 0.10, |alpha - target| = 0.05, n' = 50 * 4
    assert items_to_decide(n_items=50, alpha=0.85, lower=0.75, upper=0.95, target=0.80) == 150
    # alpha 0.70 [0.55, 0.85], target 0.80: upper side h = 0.15, d = 0.10, n' = ceil(112.5)
    assert items_to_decide(n_items=50, alpha=0.70, lower=0.55, upper=0.85, target=0.80) == 63
    assert items_to_decide(n_items=50, alpha=0.80, lower=0.7, upper=0.9, target=0.80) is None
    assert items_to_decide(n_items=50, alpha=math.nan, lower=0.7, upper=0.9, target=0.8) is None


def test_the_bca_half_width_shrinks_as_one_over_root_n() -> None:
    """The premise of items_to_decide: four times the items halve the interval (here within
    15 %), on judgments drawn from one population of three annotators at 85 % accuracy."""
    rng = np.random.default_rng(7)

    def width(n: int) -> float:
        truth_values = rng.integers(0, 3, size=n)
        right = rng.random((n, 3)) < 0.85
        values = np.where(right, truth_values[:, None], rng.integers(0, 3, size=(n, 3)))
        counts = np.stack([(values == c).sum(axis=1) for c in range(3)], axis=1).astype(float)
        summary = summarise_agreement(
            counts,
            categories=["a", "b", "tie"],
            level="nominal",
            weights=agreement_weights("identity", ["a", "b", "tie"]),
            interval_method="bca",
        )
        low, high = summary.krippendorff_alpha.ci95
        return high - low

    ratios = [width(50) / width(200) for _ in range(20)]
    assert 1.7 < float(np.median(ratios)) < 2.3


def test_a_version_just_below_its_target_is_rarely_accepted() -> None:
    """The gate's error rate by simulation: three annotators of accuracy 0.89 on a 3-value
    scale (population alpha about 0.79, measured on 400,000 items: just below the 0.80 target)
    are accepted only when the BCa lower bound is above 0.80, which a 95 % two-sided interval
    allows about 2.5 % of the time; 600 validation batches of 50 items each (these draws: 16
    accepted, 2.7 %; other runs while writing this: 16 of 1,000 at 50 items, 19 of 1,000 at
    100). At accuracy 0.95 (population alpha about 0.90) these draws accept 90 of 200 batches
    of 50 items and refuse none."""
    rng = np.random.default_rng(11)
    categories = ["a", "b", "tie"]
    weights = agreement_weights("identity", categories)

    def decision(n: int, accuracy: float, resamples: int = 1000) -> Any:
        true = rng.integers(0, 3, size=n)
        right = rng.random((n, 3)) < accuracy
        values = np.where(right, true[:, None], rng.integers(0, 3, size=(n, 3)))
        counts = np.stack([(values == c).sum(axis=1) for c in range(3)], axis=1).astype(float)
        summary = summarise_agreement(
            counts, categories=categories, level="nominal", weights=weights, resamples=resamples
        )
        return decide_dimension("overall", summary, target=0.8, annotators_per_item=3)

    population = decision(400_000, 0.89, resamples=0).alpha
    assert 0.785 < population < 0.8
    below = [decision(50, 0.89).decision for _ in range(600)]
    assert below.count("accept") / len(below) <= 0.035
    above = [decision(50, 0.95).decision for _ in range(200)]
    assert above.count("accept") / len(above) >= 0.4
    assert "refuse" not in above


# --- decisions --------------------------------------------------------------------------------


def test_a_first_version_without_validation_pushes_production(project: Project) -> None:
    assert production_push_refusal(project.db, "p", project.rubric) is None
    project.push("production", items(5))
    assert production_push_refusal(project.db, "p", project.rubric) is None
    assert project.gate().state == "no_validation_batch"
    assert project.gate().missing() == [
        "no validation batch was pushed under gatetest@v1: push one with iaa-connector push p "
        "--items FILE --kind validation"
    ]


def test_a_new_version_is_refused_production_until_validated(project: Project) -> None:
    v2(project)
    with pytest.raises(GateError, match="new version for project p") as refused:
        project.push("production", items(5, "j"))
    assert "--kind validation" in str(refused.value)
    assert "iaa-connector rubric promote p 2" in str(refused.value)


def test_incomplete_batch_names_the_items_and_the_missing_judgments(project: Project) -> None:
    v2(project)
    tasks = project.push("validation", items(24))
    project.judge(tasks, lambda i, k: None if (i < 3 and k == 2) else truth(i))
    project.sync()
    report = project.gate()
    assert report.state == "incomplete"
    assert report.missing_judgments == 3
    assert [(s.item_key, s.annotators) for s in report.shortfall] == [
        ("i0", 2),
        ("i1", 2),
        ("i2", 2),
    ]
    assert report.missing()[0].startswith(
        "validation batch incomplete: 3 of 24 items have fewer than 3 annotators "
        "(i0 (2), i1 (2), i2 (2)); 3 judgment(s) missing"
    )
    with pytest.raises(GateError, match="rubric promote p 2"):
        project.push("production", items(5, "j"))


def test_low_agreement_is_refused_on_the_upper_bound(project: Project) -> None:
    v2(project)
    project.judge(project.push("validation", items(30)), scatter)
    project.sync()
    report = project.gate()
    [overall] = report.dimensions
    assert report.state == "refused"
    assert overall.decision == "refuse"
    assert overall.upper < 0.80
    assert overall.ci_method == "bca"
    assert f"upper bound {overall.upper:.3f} below the target 0.80" in report.missing()[0]


def test_agreement_is_accepted_on_the_lower_bound_and_promotion_opens_production(
    project: Project,
) -> None:
    v2(project)
    tasks = project.push("validation", items(30))
    project.judge(tasks, lambda i, k: "tie" if (i, k) == (4, 1) else truth(i))
    project.sync()
    report, promotion = promote(project.db, "p", project.rubric, by="lead", now=NOW)
    [overall] = report.dimensions
    assert report.state == "accepted"
    assert promotion is not None
    answers = [["tie" if (i, k) == (4, 1) else truth(i) for k in range(3)] for i in range(30)]
    assert overall.alpha == pytest.approx(_alpha(answers), abs=1e-12)  # the krippendorff package
    assert overall.lower >= 0.80
    assert overall.lower <= overall.alpha <= overall.upper
    [stored] = project.db.promotions("p")
    assert (stored.version, stored.promoted_by, stored.promoted_at) == ("2", "lead", NOW)
    assert stored.evidence["state"] == "accepted"
    assert stored.evidence["dimensions"][0]["lower"] == pytest.approx(overall.lower)
    assert production_push_refusal(project.db, "p", project.rubric) is None
    project.push("production", items(5, "j"))


def test_too_thin_to_decide_says_how_many_more_items(project: Project) -> None:
    v2(project, size=(10, 60))
    # 12 items, three annotators, one disagreement in four items: alpha near the target
    tasks = project.push("validation", items(12))
    project.judge(tasks, lambda i, k: "tie" if (k == 2 and i % 4 == 0) else truth(i))
    project.sync()
    report = project.gate()
    [overall] = report.dimensions
    assert report.state == "undecided", report.lines()
    assert overall.lower < 0.80 <= overall.upper
    expected = items_to_decide(
        n_items=12, alpha=overall.alpha, lower=overall.lower, upper=overall.upper, target=0.80
    )
    assert expected is not None
    assert overall.more_items == expected
    assert overall.more_judgments == 3 * expected
    assert f"about {expected} more items ({3 * expected} judgments)" in overall.reason


def test_gold_and_retest_tasks_of_the_validation_batch_are_left_out(project: Project) -> None:
    """The batch mixes in gold (10 %) and re-tests of v1 items (10 %); their answers, all
    scattered, change nothing; a second annotation of a validation item by the same annotator
    (a re-test copy reaching them) does not count either: first judgments only."""
    v2(project, gold_share=0.1, retest_share=0.1)
    gold = [
        Item(
            item_key=f"g{i}",
            prompt="g",
            response_a="x",
            response_b="y",
            category="c",
            answers={"overall": "a"},
        )
        for i in range(10)
    ]
    own = project.push("validation", items(24, "k"), gold=gold)
    plan = project.last_plan
    assert (plan.count("gold"), plan.count("retest")) == (3, 3)
    project.judge(own, lambda i, k: truth(i))
    others = {t.item.item_key: f"k-{t.key}" for t in plan.tasks if t.role in ("gold", "retest")}
    for n, task_id in enumerate(others.values()):
        for k in range(3):
            project.platform.annotate(
                task_id,
                task_id.removeprefix("k-"),
                annotator=ANNOTATORS[k],
                value=VALUES[(n + k) % 3],
            )
    first_task = own["k0"]
    project.platform.annotate(
        first_task, first_task.removeprefix("k-"), annotator=ANNOTATORS[0], value="tie"
    )
    project.sync()
    report = project.gate()
    [overall] = report.dimensions
    assert report.n_items == 24
    assert overall.n_items == 24
    assert overall.n_judgments == 72
    assert overall.alpha == pytest.approx(1.0)
    assert report.state == "accepted"


def test_a_version_with_production_from_before_the_gate_keeps_pushing(project: Project) -> None:
    """An install upgraded to the gate while on v2 (v1 used before): v2's production batches
    pushed before the gate existed keep it open, without a validation batch."""
    v2(project)
    project.db.create_batch(
        batch_id="b-before-the-gate",
        project_key="p",
        kind="production",
        rubric_hash=project.rubric.content_hash,
        plan=[],
    )
    assert production_push_refusal(project.db, "p", project.rubric) is None


def test_the_judgments_of_some_items_are_the_project_frame_filtered(project: Project) -> None:
    v2(project)
    whole = project.db.judgments_frame("p")
    some = project.db.judgments_frame("p", item_keys=["i3", "i1", "i29", "nothing"])
    expected = whole[whole["item_id"].isin(["i1", "i3", "i29"])].reset_index(drop=True)
    assert len(some) == 9
    pd.testing.assert_frame_equal(some, expected)


def _summary(value: float, ci: tuple[float, float], n: int) -> AgreementSummary:
    estimate = Estimate(value=value, ci95=ci, ci_method="bca")
    return AgreementSummary(
        n_items=n,
        n_pairable_items=n,
        n_judgments=3 * n,
        krippendorff_alpha=estimate,
        fleiss_kappa=estimate,
        gwet_ac1=estimate,
        percent_agreement=0.9,
        n_pairs=3 * n,
    )


def test_decisions_at_the_edges() -> None:
    def decide(value: float, ci: tuple[float, float], n: int = 50) -> Any:
        return decide_dimension(
            "overall", _summary(value, ci, n), target=0.8, annotators_per_item=3
        )

    assert decide(0.9, (0.8, 0.95)).decision == "accept"  # the lower bound at the target
    assert decide(0.7, (0.6, 0.7999)).decision == "refuse"
    thin = decide(0.85, (0.75, 0.95))
    assert (thin.decision, thin.more_items, thin.more_judgments) == ("undecided", 150, 450)
    assert thin.reason.endswith(
        "about 150 more items (450 judgments) for the lower bound to reach it if alpha holds"
    )
    level = decide(0.8, (0.7, 0.9))
    assert (level.decision, level.more_items) == ("undecided", None)
    few = decide(1.0, (math.nan, math.nan), n=4)
    assert (few.decision, few.more_items, few.more_judgments) == ("undecided", 6, 18)
    assert few.reason.startswith("4 pairable items")
    constant = decide(math.nan, (math.nan, math.nan))
    assert (constant.decision, constant.more_items) == ("undecided", None)
    assert "every judgment has the same value" in constant.reason


# --- comparison on matched items -------------------------------------------------------------


def _alpha(rows: list[list[Any]]) -> float:
    codes = {v: c for c, v in enumerate(VALUES)}
    data = np.array([[np.nan if v is None else codes[v] for v in row] for row in rows]).T
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def test_comparison_on_matched_items_against_the_krippendorff_package(project: Project) -> None:
    v2(project)
    # v2's batch: items i0..i19 (matched with v1's production) and k0..k9 (new, not matched)
    tasks = project.push("validation", items(20) + items(10, "k"))
    project.judge(tasks, lambda i, k: "tie" if (i % 5, k) == (0, 2) else truth(i))
    project.sync()
    report = project.gate()
    assert report.comparison is not None
    [overall] = report.comparison.dimensions
    assert overall.n_matched_items == 20
    old = _alpha([[scatter(i, k) for k in range(3)] for i in range(20)])
    new = _alpha(
        [["tie" if (i % 5, k) == (0, 2) else truth(i) for k in range(3)] for i in range(20)]
    )
    assert overall.alpha_old == pytest.approx(old, abs=1e-12)
    assert overall.alpha_new == pytest.approx(new, abs=1e-12)
    assert overall.difference == pytest.approx(new - old, abs=1e-12)
    low, high = overall.difference_ci95
    assert low <= overall.difference <= high
    assert low > 0  # the new guidelines agree better, and the paired interval says so
    assert overall.ci_method in ("bca", "percentile")
    assert report.comparison.old_ref == "gatetest@v1"


def test_the_paired_interval_against_scipy_bootstrap(project: Project) -> None:
    """The paired BCa interval of the difference, cross-checked against scipy.stats.bootstrap
    (BCa over item indices, the krippendorff package computing each version's alpha): the
    bounds agree within Monte Carlo error."""
    v2(project)
    answer = lambda i, k: "tie" if (i % 4, k) == (0, 2) else truth(i)  # noqa: E731
    project.judge(project.push("validation", items(30)), answer)
    project.sync()
    comparison = project.gate().comparison
    assert comparison is not None
    [overall] = comparison.dimensions
    assert overall.ci_method == "bca"
    old = np.array([[VALUES.index(scatter(i, k)) for k in range(3)] for i in range(30)])
    new = np.array([[VALUES.index(answer(i, k)) for k in range(3)] for i in range(30)])

    def difference(index: Any) -> float:
        pick = np.asarray(index, dtype=int)
        return float(
            krippendorff.alpha(reliability_data=new[pick].T, level_of_measurement="nominal")
            - krippendorff.alpha(reliability_data=old[pick].T, level_of_measurement="nominal")
        )

    result = scipy_stats.bootstrap(
        (np.arange(30),),
        difference,
        vectorized=False,
        n_resamples=2000,
        method="BCa",
        random_state=np.random.default_rng(1),
    )
    low, high = overall.difference_ci95
    assert low == pytest.approx(result.confidence_interval.low, abs=0.025)
    assert high == pytest.approx(result.confidence_interval.high, abs=0.025)


def _frame(dims: tuple[str, ...], answer: Answer, n: int) -> pd.DataFrame:
    rows = [
        {"item_id": f"i{i}", "annotator": ANNOTATORS[k], "dimension": d, "value": answer(i, k)}
        for i in range(n)
        for k in range(3)
        for d in dims
    ]
    return JudgmentTable.from_frame(pd.DataFrame(rows)).frame


def test_tasks_made_on_the_platform_count_under_the_version_they_were_synced_under(
    project: Project,
) -> None:
    """v1 judgments on tasks the connector never pushed (no batch) are matched by the version
    the sync stamped on them."""
    for i in range(20):
        for k in range(3):
            project.platform.annotate(
                f"own-{i}", f"i{i}", annotator=ANNOTATORS[k], value=scatter(i, k)
            )
    project.sync()
    project.use(rubric_yaml(2))
    with pytest.raises(GateError, match="is a new version for project p"):
        project.push("production", items(3, "j"))  # v1's judgments make v2 a new version
    project.judge(project.push("validation", items(20)), agree)
    project.sync()
    comparison = project.gate().comparison
    assert comparison is not None
    [overall] = comparison.dimensions
    assert overall.n_matched_items == 20
    assert overall.alpha_old == pytest.approx(
        _alpha([[scatter(i, k) for k in range(3)] for i in range(20)]), abs=1e-12
    )


def test_renamed_added_and_removed_dimensions_are_named(tmp_path: Path) -> None:
    """Pure comparison on canonical frames: the sync cannot yet run a project whose rubric
    renamed a dimension (its report reads every stored judgment with the configured rubric)."""
    old = parse_rubric(
        rubric_yaml(1, dimensions=(("overall", "Which response is better?"), ("style", "Tone?")))
    )
    new = parse_rubric(
        rubric_yaml(
            2,
            dimensions=(
                ("preference", "Which response is better?"),
                ("safety", "Which response is safer?"),
            ),
        )
    )
    comparison = compare_versions(
        _frame(("overall", "style"), scatter, 20),
        old,
        _frame(("preference", "safety"), agree, 20),
        new,
    )
    assert comparison.renamed == (("overall", "preference"),)
    assert comparison.removed == ("style",)
    assert comparison.added == ("safety",)
    [preference] = comparison.dimensions
    assert (preference.name, preference.old_name, preference.n_matched_items) == (
        "preference",
        "overall",
        20,
    )
    assert preference.alpha_new == pytest.approx(1.0)
    text = "\n".join(describe(comparison))
    assert "renamed: overall → preference (compared under both names)" in text
    assert "removed in gatetest@v2: style (not compared)" in text
    assert "added in gatetest@v2: safety (no earlier judgments to compare)" in text


def test_an_ordinal_dimension_is_compared_as_the_krippendorff_package_computes_it() -> None:
    def rubric(version: int) -> Any:
        return parse_rubric(
            f"id: o\nversion: {version}\nchangelog: c\nguidelines: g\ndimensions:\n"
            "  - name: help\n    question: How helpful\n    kind: rating\n"
            "    values: [1, 2, 3, 4, 5]\n    level: ordinal\n"
        )

    rng = np.random.default_rng(3)

    def judged(accuracy: float) -> tuple[pd.DataFrame, Any]:
        true = rng.integers(1, 6, size=40)
        values = np.where(
            rng.random((40, 3)) < accuracy, true[:, None], rng.integers(1, 6, size=(40, 3))
        )
        rows = [
            {
                "item_id": f"i{i}",
                "annotator": f"a{k}",
                "dimension": "help",
                "value": int(values[i, k]),
            }
            for i in range(40)
            for k in range(3)
        ]
        return JudgmentTable.from_frame(pd.DataFrame(rows)).frame, values

    (old, old_values), (new, new_values) = judged(0.5), judged(0.9)
    [help_] = compare_versions(old, rubric(1), new, rubric(2)).dimensions
    domain = [1, 2, 3, 4, 5]
    expected_old = krippendorff.alpha(
        reliability_data=old_values.T, level_of_measurement="ordinal", value_domain=domain
    )
    expected_new = krippendorff.alpha(
        reliability_data=new_values.T, level_of_measurement="ordinal", value_domain=domain
    )
    assert help_.alpha_old == pytest.approx(expected_old, abs=1e-12)
    assert help_.alpha_new == pytest.approx(expected_new, abs=1e-12)
    assert help_.difference_ci95[0] > 0


def test_no_matched_items_is_said_not_computed() -> None:
    rubric = parse_rubric(rubric_yaml(1))
    newer = parse_rubric(rubric_yaml(2))
    old = _frame(("overall",), scatter, 5)
    new = _frame(("overall",), agree, 12)
    new["item_id"] = "n" + new["item_id"].astype(str)  # other items: nothing matched
    [none] = compare_versions(old, rubric, new, newer).dimensions
    assert none.n_matched_items == 0
    assert math.isnan(none.alpha_old)
    assert math.isnan(none.difference_ci95[0])
    assert none.ci_method is None
    assert none.note == "0 matched item(s): an interval needs at least 10"
    few = compare_versions(old, rubric, _frame(("overall",), agree, 12), newer).dimensions[0]
    assert few.n_matched_items == 5
    assert few.note == "5 matched item(s): an interval needs at least 10"
    assert "overall: 0 matched items, alpha — → —, difference —" in "\n".join(
        describe(compare_versions(old, rubric, new, newer))
    )


def test_a_rename_is_inferred_only_from_one_identical_question() -> None:
    """Same scale, different questions: not a rename. The same question asked by two new
    dimensions: ambiguous, so not a rename either."""
    old = parse_rubric(rubric_yaml(1, dimensions=(("x", "Q1?"), ("y", "Q2?"))))
    new = parse_rubric(rubric_yaml(2, dimensions=(("u", "Q3?"), ("v", "Q2?"), ("w", "Q2?"))))
    pairs, removed, added = matched_dimensions(old, new)
    assert (pairs, removed, added) == ([], ["x", "y"], ["u", "v", "w"])


def test_a_stored_rubric_reads_back_with_its_hash() -> None:
    rubric = load_rubric(Path(__file__).resolve().parents[1] / "rubrics/rlhf-pairwise/v2.yaml")
    back = rubric_from_canonical_json(rubric.canonical_json(), content_hash=rubric.content_hash)
    assert back.content_hash == rubric.content_hash
    assert back.dimensions == rubric.dimensions
    with pytest.raises(ValueError, match="the stored version was altered"):
        rubric_from_canonical_json(rubric.canonical_json(), content_hash="sha256:0")


# --- the command ------------------------------------------------------------------------------


def test_cli_promote_refuses_then_promotes(project: Project, tmp_path: Path) -> None:
    v2(project)
    tasks = project.push("validation", items(30))
    project.judge(tasks, lambda i, k: None if (i == 0 and k == 2) else truth(i))
    project.sync()
    runner = CliRunner()
    config = str(project.config.path)
    refused = runner.invoke(app, ["rubric", "promote", "p", "v2", "-c", config, "--by", "lead"])
    assert refused.exit_code == 1, refused.output
    assert "validation gate of gatetest@v2 for project p: incomplete" in refused.output
    assert "missing: validation batch incomplete: 1 of 30 items" in refused.output
    assert "not promoted for p" in refused.output
    project.judge({"i0": tasks["i0"]}, lambda i, k: truth(i) if k == 2 else None)
    project.sync()
    out = tmp_path / "gate.json"
    accepted = runner.invoke(
        app, ["rubric", "promote", "p", "2", "-c", config, "--by", "lead", "--out", str(out)]
    )
    assert accepted.exit_code == 0, accepted.output
    assert "promoted gatetest@v2 for project p" in accepted.output
    assert '"state": "accepted"' in out.read_text()
    # promoting again: the first promotion stands and is the one reported
    again = runner.invoke(app, ["rubric", "promote", "p", "2", "-c", config])
    assert again.exit_code == 0, again.output
    assert "gatetest@v2 was promoted for project p by lead at " in again.output
    assert len(project.db.promotions("p")) == 1
    unknown = runner.invoke(app, ["rubric", "promote", "p", "7", "-c", config])
    assert unknown.exit_code == 2
    assert "rubric gatetest has no version '7' in the store (stored: v1, v2)" in unknown.output
