"""Tests of scripts/public_datasets.py against the public data in shared/data (see its README.md).

Counts are those of shared/data/README.md: MT-Bench (Zheng et al. 2023) 1,689 votes on 80
questions; UKPConvArg1 (Habernal & Gurevych 2016) 84,445 votes on 16,927 pairs by 3,815 workers;
SQuALITY (Wang et al. 2022) 20 passages × 5 questions × 3 responses, 3 reviews each.

The slices in tests/data/public (its README says what was kept) make the MT-Bench and SQuALITY
counts and a UKPConvArg1 debate checkable from a plain clone; with shared/data present the same
tests run on it too, and the slices are checked to be what make_slices.py makes of it.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType

import pandas as pd
import public_datasets as datasets
import pytest
from public_datasets import (
    MT_BENCH_CATEGORIES,
    mt_bench,
    mt_bench_category,
    shared_data_dir,
    squality,
    ukpconvarg1,
)

from connector.errors import JudgmentTableError
from connector.judgments import COLUMNS, load_judgments

REPO = Path(__file__).resolve().parents[1]
TESTS_DATA = REPO / "tests" / "data" / "public"
shared_data_available = shared_data_dir().is_dir()
needs_shared_data = pytest.mark.skipif(
    not shared_data_available, reason="shared/data is not beside the repository"
)
#: the same test on the slices in tests/data/public, and on shared/data when present
SOURCES = [
    pytest.param(TESTS_DATA, id="tests-data"),
    pytest.param(shared_data_dir(), id="shared-data", marks=needs_shared_data),
]


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_all_is_sorted() -> None:
    key = lambda name: (0 if name.isupper() else 2, name)  # noqa: E731
    assert datasets.__all__ == sorted(datasets.__all__, key=key)


def test_shared_data_dir_defaults_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IAA_SHARED_DATA", raising=False)
    assert shared_data_dir() == REPO.parent / "shared" / "data"


def test_shared_data_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IAA_SHARED_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path


def test_mt_bench_categories_follow_the_published_layout() -> None:
    assert [mt_bench_category(q) for q in (81, 90, 91, 111, 121, 131, 141, 160)] == [
        "writing",
        "writing",
        "roleplay",
        "math",
        "coding",
        "extraction",
        "stem",
        "humanities",
    ]
    assert mt_bench_category(80) is None
    assert mt_bench_category(161) is None
    assert len(MT_BENCH_CATEGORIES) == 8


def _mt_bench_file(tmp_path: Path, votes: list[dict[str, object]]) -> Path:
    path = tmp_path / "votes.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in votes), encoding="utf-8")
    return path


def test_mt_bench_rules_on_a_small_file(tmp_path: Path) -> None:
    vote = {"question_id": 113, "judge": "expert_1", "turn": 1}
    path = _mt_bench_file(
        tmp_path,
        [
            {**vote, "model_a": "vicuna-13b-v1.2", "model_b": "gpt-4", "winner": "model_a"},
            {**vote, "model_a": "gpt-4", "model_b": "vicuna-13b-v1.2", "winner": "model_a"},
            {**vote, "model_a": "gpt-4", "model_b": "vicuna-13b-v1.2", "winner": "tie (bothbad)"},
        ],
    )
    frame = mt_bench(path)
    got = frame[["item_id", "annotator", "dimension", "value", "category", "display_left"]]
    assert got.to_dict(orient="records") == [
        {
            "item_id": "113:gpt-4|vicuna-13b-v1.2",
            "annotator": "expert_1",
            "dimension": "overall",
            "value": "b",  # vicuna (model_a, shown left) won; vicuna is response b
            "category": "math",
            "display_left": "b",
        },
        {
            "item_id": "113:gpt-4|vicuna-13b-v1.2",
            "annotator": "expert_1",
            "dimension": "overall",
            "value": "a",
            "category": "math",
            "display_left": "a",
        },
        {
            "item_id": "113:gpt-4|vicuna-13b-v1.2",
            "annotator": "expert_1",
            "dimension": "overall",
            "value": "tie",
            "category": "math",
            "display_left": "a",
        },
    ]
    assert frame.attrs["notes"][0] == ("1 tie variant(s) such as 'tie (bothbad)' merged into 'tie'")


def test_mt_bench_error_on_unknown_winner(tmp_path: Path) -> None:
    path = _mt_bench_file(
        tmp_path,
        [{"question_id": 81, "judge": "j", "model_a": "x", "model_b": "y", "winner": "both"}],
    )
    with pytest.raises(JudgmentTableError) as caught:
        mt_bench(path)
    assert str(caught.value) == f"{path}:1: winner 'both' is not 'model_a', 'model_b' or a tie"


def test_mt_bench_error_on_missing_field(tmp_path: Path) -> None:
    path = _mt_bench_file(tmp_path, [{"question_id": 81, "judge": "j", "model_a": "x"}])
    with pytest.raises(JudgmentTableError) as caught:
        mt_bench(path)
    assert str(caught.value) == f"{path}:1: missing field 'model_b'"


def test_missing_dataset_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(JudgmentTableError) as caught:
        ukpconvarg1(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'arguments.jsonl.gz'}: no such file; "
        "set IAA_SHARED_DATA to the directory holding the shared data"
    )


@pytest.mark.parametrize("root", SOURCES)
def test_mt_bench_counts_match_the_data_readme(root: Path) -> None:
    frame = mt_bench(root / "mt-bench" / "human_judgments_turn1.jsonl")
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 1689
    assert frame["item_id"].str.split(":").str[0].nunique() == 80
    assert frame["annotator"].nunique() == 65
    assert frame["item_id"].nunique() == 910
    assert frame["value"].value_counts().to_dict() == {"b": 645, "a": 639, "tie": 405}
    assert set(frame["category"]) == set(MT_BENCH_CATEGORIES)
    assert frame["dimension"].eq("overall").all()
    assert frame["batch"].isna().all()
    first = frame.iloc[0]  # {"question_id": 81, "judge": "author_2", "model_a": "alpaca-13b",
    #                          "model_b": "gpt-3.5-turbo", "winner": "model_b"}
    assert (first["item_id"], first["annotator"], first["value"], first["display_left"]) == (
        "81:alpaca-13b|gpt-3.5-turbo",
        "author_2",
        "b",
        "a",
    )
    repeated = frame[frame.duplicated(["item_id", "annotator"], keep=False)]
    assert repeated[["item_id", "annotator", "value", "display_left"]].to_dict("records") == [
        {
            "item_id": "128:claude-v1|gpt-3.5-turbo",
            "annotator": "author_0",
            "value": "tie",
            "display_left": "a",
        },
        {
            "item_id": "128:claude-v1|gpt-3.5-turbo",
            "annotator": "author_0",
            "value": "tie",
            "display_left": "b",
        },
    ]


@needs_shared_data
def test_ukpconvarg1_counts_match_the_data_readme() -> None:
    started = time.perf_counter()
    frame = ukpconvarg1()
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"loading UKPConvArg1 took {elapsed:.1f} s"
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 84445
    assert frame["item_id"].nunique() == 16927
    assert frame["annotator"].nunique() == 3815
    assert frame["category"].nunique() == 32
    assert frame["value"].value_counts().to_dict() == {"a": 32849, "b": 32491, "tie": 19105}
    assert frame["dimension"].eq("convincing").all()
    assert str(frame["submitted_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["lead_time_s"].notna().all()
    assert (frame["lead_time_s"] > 0).all()
    pairs = frame.drop_duplicates("item_id")
    assert pairs["gold_value"].isna().sum() == 846  # mace_gold null
    assert pairs["gold_value"].value_counts().to_dict() == {"a": 6398, "b": 6394, "tie": 3289}
    # first vote: {"pair_id": "arg219298_arg219206", "worker": "A3ESHM4QQW5NH6", "value": "a2",
    #  "accepted_at": "2016-01-31 16:53:19.0 UTC", "submitted_at": "2016-01-31 16:59:52.0 UTC"}
    first = frame.iloc[0]
    assert first["item_id"] == "arg219298_arg219206"
    assert first["annotator"] == "A3ESHM4QQW5NH6"
    assert first["value"] == "b"
    assert first["submitted_at"] == pd.Timestamp("2016-01-31 16:59:52", tz="UTC")
    assert first["lead_time_s"] == pytest.approx(393.0)
    assert first["category"] == "ban-plastic-water-bottles_no-bad-for-the-economy"
    assert (first["length_a"], first["length_b"]) == (669.0, 680.0)


@pytest.mark.parametrize("root", SOURCES)
def test_squality_counts(root: Path) -> None:
    file = root / "squality" / "human_eval_responses.jsonl"
    frame = squality(file)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 2700  # 300 responses × 3 reviews × 3 dimensions
    assert frame["item_id"].nunique() == 300
    assert frame["annotator"].nunique() == 4
    assert frame.groupby("item_id")["annotator"].nunique().eq(3).all()
    assert set(frame["dimension"]) == {"correctness", "selection", "overall"}
    assert set(frame["category"]) == {"bart", "bart-dpr", "human"}
    values = frame["value"].tolist()
    assert all(isinstance(v, int) and 0 <= v <= 100 for v in values)
    first = frame.iloc[0]
    assert (first["item_id"], first["annotator"], first["dimension"], first["value"]) == (
        "50827:q0:bart",
        "worker_3",
        "correctness",
        10,
    )
    with_ranks = squality(file, with_ranks=True)
    assert len(with_ranks) == 5400
    ranks = with_ranks[with_ranks["dimension"].str.endswith("_rank")]
    assert set(ranks["value"]) == {1, 2, 3}


@pytest.mark.parametrize("root", SOURCES)
def test_mt_bench_example_is_up_to_date(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IAA_SHARED_DATA", str(root))
    module = load_module(REPO / "scripts/make_examples.py", "make_examples")
    target = tmp_path / "judgments.jsonl"
    assert module.write_mt_bench(target) == 1689
    committed = REPO / "examples" / "mt-bench" / "judgments.jsonl"
    assert target.read_bytes() == committed.read_bytes(), "run: python scripts/make_examples.py"
    table = load_judgments(committed)
    assert len(table.frame) == 1689
    first = json.loads(committed.read_text(encoding="utf-8").splitlines()[0])
    assert list(first) == ["item_id", "annotator", "dimension", "value", "category", "display_left"]


# --- the slices in tests/data/public ---------------------------------------------------------


def test_ukpconvarg1_slice_counts() -> None:
    # The debate "Ban Plastic Water Bottles" (both sides) of UKPConvArg1, every vote kept.
    frame = ukpconvarg1(TESTS_DATA / "ukpconvarg1")
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 4363
    assert frame["item_id"].nunique() == 874
    assert frame["annotator"].nunique() == 1143
    assert sorted(set(frame["category"])) == [
        "ban-plastic-water-bottles_no-bad-for-the-economy",
        "ban-plastic-water-bottles_yes-emergencies-only",
    ]
    assert frame["value"].value_counts().to_dict() == {"b": 1794, "a": 1765, "tie": 804}
    assert frame.groupby("item_id").size().value_counts().to_dict() == {5: 867, 4: 7}
    pairs = frame.drop_duplicates("item_id")
    assert pairs["gold_value"].isna().sum() == 28  # mace_gold null
    assert pairs["gold_value"].value_counts().to_dict() == {"b": 364, "a": 358, "tie": 124}
    assert frame["lead_time_s"].notna().all()
    first = frame.iloc[0]  # also the full file's first vote
    assert (first["item_id"], first["annotator"], first["value"]) == (
        "arg219298_arg219206",
        "A3ESHM4QQW5NH6",
        "b",
    )
    assert (first["length_a"], first["length_b"]) == (669.0, 680.0)


def test_public_slices_are_small() -> None:
    files = sorted(
        f
        for f in TESTS_DATA.rglob("*")
        if f.is_file() and f.suffix not in (".py", ".pyc") and "__pycache__" not in f.parts
    )
    assert [f.relative_to(TESTS_DATA).as_posix() for f in files] == [
        "mt-bench/human_judgments_turn1.jsonl",
        "squality/human_eval_responses.jsonl",
        "ukpconvarg1/arguments.jsonl.gz",
        "ukpconvarg1/pairs.jsonl.gz",
        "ukpconvarg1/votes.jsonl.gz",
    ]
    assert max(f.stat().st_size for f in files) < 300_000


@needs_shared_data
def test_public_slices_are_what_make_slices_makes_of_the_shared_data() -> None:
    module = load_module(TESTS_DATA / "make_slices.py", "make_slices")
    source = shared_data_dir()
    assert (TESTS_DATA / module.MT_BENCH).read_bytes() == (source / module.MT_BENCH).read_bytes()
    for name, records in module.ukpconvarg1_slice(source).items():
        assert module.read_lines(TESTS_DATA / module.UKP / name) == records, name
    assert module.read_lines(TESTS_DATA / module.SQUALITY) == module.squality_slice(source)
    # and the loaders read the slices as the matching part of the full data
    full = ukpconvarg1()
    sliced = ukpconvarg1(TESTS_DATA / "ukpconvarg1")
    expected = full[full["item_id"].isin(set(sliced["item_id"]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(sliced, expected)
    pd.testing.assert_frame_equal(
        squality(TESTS_DATA / module.SQUALITY, with_ranks=True), squality(with_ranks=True)
    )
