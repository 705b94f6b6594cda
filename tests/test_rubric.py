"""Tests for connector.rubric: shipped rubrics, content hash, defaults, every error message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from connector import rubric as rubric_module
from connector.errors import RubricError
from connector.metrics.cusum import DEFAULT_ARL0
from connector.quality.streams import consensus_design, gold_design
from connector.rubric import (
    BatchSize,
    Calibration,
    Dimension,
    Rubric,
    Thresholds,
    default_rubric_for,
    find_rubrics,
    load_rubric,
    parse_rubric,
)

ROOT = Path(__file__).resolve().parent.parent
RUBRICS = ROOT / "rubrics"

# Lines:  1 id, 2 version, 3 changelog, 4 guidelines, 5 dimensions, 6 name, 7 question,
#         8 kind, 9 values, 10 non_decisive, 11 level
VALID = """\
id: x
version: 1
changelog: test
guidelines: Judge carefully.
dimensions:
  - name: overall
    question: Which response is better?
    kind: preference
    values: [a, b, tie]
    non_decisive: [tie]
    level: nominal
"""


def write(tmp_path: Path, text: str, *, rubric_id: str = "x", name: str = "v1.yaml") -> Path:
    file = tmp_path / rubric_id / name
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(textwrap.dedent(text), encoding="utf-8")
    return file


def edit(old: str, new: str) -> str:
    """VALID with one exact substring replaced (fails loudly if the substring is not there)."""
    if old not in VALID:
        raise ValueError(f"{old!r} is not in VALID")
    return VALID.replace(old, new)


# --- the shipped rubrics -------------------------------------------------------------------


def test_public_all_is_complete_and_sorted() -> None:
    public = {
        name
        for name, value in vars(rubric_module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == rubric_module.__name__
    }
    assert public <= set(rubric_module.__all__)
    # isort-style order, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions
    order = sorted(rubric_module.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert rubric_module.__all__ == order


def test_find_rubrics_lists_every_shipped_rubric_in_order() -> None:
    found = [p.relative_to(RUBRICS).as_posix() for p in find_rubrics(RUBRICS)]
    assert found == [
        "mt-bench/v1.yaml",
        "pairwise-dimensions/v1.yaml",
        "response-quality/v1.yaml",
        "rlhf-pairwise/v1.yaml",
        "rlhf-pairwise/v2.yaml",
    ]


@pytest.mark.parametrize("path", find_rubrics(RUBRICS), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_rubric_loads(path: Path) -> None:
    rubric = load_rubric(path)
    assert rubric.id == path.parent.name
    assert f"v{rubric.version}" == path.stem
    assert rubric.content_hash.startswith("sha256:")
    assert len(rubric.content_hash) == len("sha256:") + 64
    assert rubric.guidelines.strip()
    assert rubric.path == str(path)


def test_rlhf_pairwise_v2_is_a_revision_of_v1() -> None:
    v1 = load_rubric(RUBRICS / "rlhf-pairwise" / "v1.yaml")
    v2 = load_rubric(RUBRICS / "rlhf-pairwise" / "v2.yaml")
    assert v1.content_hash != v2.content_hash
    assert v1.dimension("overall").values == ("a", "b", "tie")
    assert v1.dimension("overall").non_decisive == ("tie",)
    overall = v2.dimension("overall")
    assert overall.values == ("a", "b", "tie", "both_bad")
    assert overall.non_decisive == ("tie", "both_bad")
    assert overall.decisive_values == ("a", "b")
    strength = v2.dimension("strength")
    assert (strength.kind, strength.level, strength.values) == ("rating", "ordinal", (1, 2, 3))
    assert "both_bad" in v2.changelog
    assert "Both bad" in v2.guidelines
    assert "Both bad" not in v1.guidelines
    assert v2.target_alpha_for("strength") == pytest.approx(0.67)
    assert v2.target_alpha_for("overall") == pytest.approx(0.80)


def test_response_quality_has_three_ordinal_ratings() -> None:
    rubric = load_rubric(RUBRICS / "response-quality" / "v1.yaml")
    assert [d.name for d in rubric.dimensions] == ["helpfulness", "correctness", "safety"]
    for dimension in rubric.dimensions:
        assert (dimension.kind, dimension.level) == ("rating", "ordinal")
        assert dimension.values == (1, 2, 3, 4, 5)
        assert dimension.decisive_values == dimension.values


def test_mt_bench_rubric_matches_the_example() -> None:
    rubric = load_rubric(RUBRICS / "mt-bench" / "v1.yaml")
    (overall,) = rubric.dimensions
    assert (overall.name, overall.kind, overall.level) == ("overall", "preference", "nominal")
    assert overall.values == ("a", "b", "tie")
    assert overall.non_decisive == ("tie",)
    assert "Zheng et al. (2023)" in rubric.guidelines
    assert rubric.ref == "mt-bench@v1"


def test_dimension_lookup_names_the_known_dimensions() -> None:
    rubric = load_rubric(RUBRICS / "rlhf-pairwise" / "v2.yaml")
    with pytest.raises(KeyError) as info:
        rubric.dimension("helpfulness")
    assert info.value.args[0] == (
        "rubric rlhf-pairwise@v2 has no dimension 'helpfulness'; "
        "its dimensions are overall, strength"
    )


# --- content hash --------------------------------------------------------------------------


def test_hash_ignores_comments_whitespace_and_layout() -> None:
    reformatted = """\
    # a comment that changes nothing
    id:   x
    version: "1"        # quoted, same version

    changelog: |-
      test
    guidelines: "  Judge carefully.  "
    dimensions:
    - {name: overall, question: "Which response is better?", kind: preference,
       values: [a, b, tie], level: nominal, non_decisive: [tie]}
    thresholds: {}
    calibration: {gold_share: 0.1}
    """
    original = parse_rubric(VALID)
    same = parse_rubric(textwrap.dedent(reformatted))
    assert same.content_hash == original.content_hash
    assert same.canonical_json() == original.canonical_json()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Judge carefully.", "Judge very carefully."),
        ("changelog: test", "changelog: tested"),
        ("[a, b, tie]", "[b, a, tie]"),
        ("level: nominal", "level: ordinal"),
        ("    level: nominal\n", "    level: nominal\n    target_alpha: 0.7\n"),
        ("version: 1", "version: 2"),
    ],
)
def test_hash_changes_under_any_semantic_change(old: str, new: str) -> None:
    assert parse_rubric(edit(old, new)).content_hash != parse_rubric(VALID).content_hash


def test_hash_changes_with_thresholds_and_calibration() -> None:
    base = parse_rubric(VALID).content_hash
    stricter = parse_rubric(VALID + "thresholds:\n  target_alpha: 0.9\n").content_hash
    more_gold = parse_rubric(VALID + "calibration:\n  gold_share: 0.2\n").content_hash
    assert len({base, stricter, more_gold}) == 3


def test_canonical_json_holds_content_but_not_path_or_hash() -> None:
    rubric = parse_rubric(VALID, path="rubrics/x/v1.yaml")
    text = rubric.canonical_json()
    assert '"guidelines":"Judge carefully.\\n"' in text
    assert "content_hash" not in text
    assert "rubrics/x" not in text
    assert parse_rubric(VALID, path="elsewhere.yaml").content_hash == rubric.content_hash


# --- defaults and values -------------------------------------------------------------------


def test_defaults_are_applied_when_thresholds_and_calibration_are_omitted() -> None:
    rubric = parse_rubric(VALID)
    assert rubric.thresholds == Thresholds()
    assert rubric.thresholds.qualify_gold_accuracy == pytest.approx(0.85)
    assert rubric.thresholds.retrain_gold_accuracy == pytest.approx(0.80)
    assert rubric.thresholds.target_alpha == pytest.approx(0.80)
    assert rubric.thresholds.min_gold_judgments == 20
    assert rubric.calibration == Calibration()
    assert rubric.calibration.gold_share == pytest.approx(0.10)
    assert rubric.calibration.retest_share == pytest.approx(0.05)
    assert rubric.calibration.retest_delay_hours == 72
    assert rubric.calibration.validation_batch_size == BatchSize(min=50, max=100)
    assert rubric.calibration.annotators_per_item == 3
    assert rubric.dimension("overall").target_alpha is None
    assert rubric.path is None


def test_partial_sections_keep_the_other_defaults() -> None:
    text = VALID + "thresholds:\n  target_alpha: 0.667\ncalibration:\n  gold_share: 0\n"
    rubric = parse_rubric(text)
    assert rubric.thresholds.target_alpha == pytest.approx(0.667)
    assert rubric.thresholds.qualify_gold_accuracy == pytest.approx(0.85)
    assert rubric.calibration.gold_share == pytest.approx(0.0)
    assert isinstance(rubric.calibration.gold_share, float)
    assert rubric.calibration.annotators_per_item == 3


def test_interval_and_ratio_dimensions_accept_numbers() -> None:
    text = VALID + textwrap.indent(
        textwrap.dedent(
            """\
            - name: length
              question: How many sentences are too many?
              kind: rating
              values: [0.5, 1, 2]
              level: ratio
            - name: offset
              question: How far off is the estimate?
              kind: rating
              values: [-1, 0, 1]
              level: interval
            """
        ),
        "  ",
    )
    rubric = parse_rubric(text)
    assert rubric.dimension("length").values == pytest.approx((0.5, 1, 2))
    assert rubric.dimension("offset").values == (-1, 0, 1)


def test_string_version_is_kept() -> None:
    rubric = parse_rubric(edit("version: 1", "version: 2b"))
    assert rubric.version == "2b"
    assert rubric.ref == "x@v2b"


# --- every error message -------------------------------------------------------------------

BAD = [
    pytest.param(
        edit("level: nominal", "level: ordnial"),
        11,
        "dimension 'overall': level 'ordnial' is not one of nominal, ordinal, interval, ratio; "
        "did you mean 'ordinal'?",
        id="level-typo",
    ),
    pytest.param(
        edit("kind: preference", "kind: pairwise"),
        8,
        "dimension 'overall': kind 'pairwise' is not one of preference, rating, ranking, choice",
        id="kind-unknown",
    ),
    pytest.param(
        edit("dimensions:", "dimension:"),
        5,
        "unknown key 'dimension'; did you mean 'dimensions'?",
        id="unknown-key-suggestion",
    ),
    pytest.param(
        VALID + "colour: red\n",
        12,
        "unknown key 'colour'; valid keys are id, version, changelog, guidelines, "
        "guidelines_file, dimensions, thresholds, calibration",
        id="unknown-key-list",
    ),
    pytest.param(
        edit("non_decisive:", "non_decisve:"),
        10,
        "dimension 'overall': unknown key 'non_decisve'; did you mean 'non_decisive'?",
        id="unknown-dimension-key",
    ),
    pytest.param(
        VALID + "thresholds:\n  target_alfa: 0.8\n",
        13,
        "thresholds: unknown key 'target_alfa'; did you mean 'target_alpha'?",
        id="unknown-threshold-key",
    ),
    pytest.param(
        edit("version: 1\n", ""),
        1,
        "missing required key 'version'",
        id="missing-version",
    ),
    pytest.param(
        edit("    question: Which response is better?\n", ""),
        6,
        "dimension 'overall': missing required key 'question'",
        id="missing-question",
    ),
    pytest.param(
        edit("  - name: overall\n    question", "  - question"),
        6,
        "dimension #1: missing required key 'name'",
        id="missing-name",
    ),
    pytest.param(
        edit("id: x", "id: 5"),
        1,
        "'id' must be a string, got the integer 5",
        id="id-wrong-type",
    ),
    pytest.param(
        edit("id: x", "id: Pairwise Prefs"),
        1,
        "id 'Pairwise Prefs' must be a lowercase slug (a-z, 0-9, '-', '_', '.'), "
        "e.g. 'rlhf-pairwise'",
        id="id-not-slug",
    ),
    pytest.param(
        edit("version: 1", "version: 1.5"),
        2,
        "'version' must be a string or an integer, got the number 1.5; write e.g. version: 2",
        id="version-float",
    ),
    pytest.param(
        edit("changelog: test", "changelog:"),
        3,
        "'changelog' must be a string, got an empty value",
        id="changelog-empty",
    ),
    pytest.param(
        edit("changelog: test", "changelog: [unclosed"),
        4,
        "invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence at line 3)",
        id="yaml-syntax",
    ),
    pytest.param(
        edit("version: 1", "  version: 1"),
        2,
        "invalid YAML: mapping values are not allowed here",
        id="yaml-indentation",
    ),
    pytest.param(
        edit("changelog: test", "changelog: test\nid: y"),
        4,
        "duplicate key 'id' (first defined at line 1); keep only one",
        id="yaml-duplicate-key",
    ),
    pytest.param(
        edit("id: x", "id: !!python/object:os.system x"),
        1,
        "invalid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object:os.system'",
        id="yaml-unsafe-tag",
    ),
    pytest.param(
        "",
        1,
        "the file is empty; a rubric needs id, version, changelog, guidelines and dimensions",
        id="empty-file",
    ),
    pytest.param(
        VALID + "1: one\n",
        12,
        "key 1 is not a plain string; quote it ('<<' merge keys are not supported)",
        id="yaml-integer-key",
    ),
    pytest.param(
        VALID + "? [a, b]\n: pair\n",
        12,
        "a key must be a plain string, got a list or mapping",
        id="yaml-list-key",
    ),
    pytest.param(
        "- id: x\n",
        1,
        "a rubric must be a mapping of id, version, changelog, ...; got a list",
        id="not-a-mapping",
    ),
    pytest.param(
        edit("guidelines: Judge carefully.\n", ""),
        1,
        "missing guidelines: add 'guidelines: |' with the Markdown text, "
        "or 'guidelines_file: guidelines-v1.md' next to the rubric file",
        id="missing-guidelines",
    ),
    pytest.param(
        edit("guidelines: Judge carefully.", "guidelines: Judge.\nguidelines_file: g.md"),
        5,
        "give either 'guidelines' (inline text) or 'guidelines_file', not both",
        id="both-guidelines",
    ),
    pytest.param(
        edit("guidelines: Judge carefully.", "guidelines_file: guidelines-v9.md"),
        4,
        "guidelines_file 'guidelines-v9.md' not found (looked for {dir}/guidelines-v9.md); "
        "create it or fix the name",
        id="guidelines-file-missing",
    ),
    pytest.param(
        edit("dimensions:\n", "dimensions: []\n").split("  - name")[0],
        5,
        "'dimensions' is empty; a rubric needs at least one",
        id="dimensions-empty",
    ),
    pytest.param(
        edit("dimensions:\n", "dimensions:\n  - overall\n"),
        6,
        "dimension #1 must be a mapping with name, question, kind, values and level; "
        "got the string 'overall'",
        id="dimension-not-mapping",
    ),
    pytest.param(
        VALID + "  - name: overall\n    question: Again?\n    kind: choice\n"
        "    values: [x, y]\n    level: nominal\n",
        12,
        "dimension 'overall' is defined twice (first at line 6); dimension names must be unique",
        id="duplicate-dimension",
    ),
    pytest.param(
        edit("name: overall", "name: Overall Preference"),
        6,
        "dimension 'Overall Preference': name must start with a lowercase letter and use only "
        "a-z, 0-9 and '_', e.g. 'helpfulness'",
        id="dimension-name-invalid",
    ),
    pytest.param(
        edit("[a, b, tie]", "[a, b, a]"),
        9,
        "dimension 'overall': value 'a' is listed twice in 'values' (first at line 9)",
        id="duplicate-value",
    ),
    pytest.param(
        edit("[a, b, tie]", "[]"),
        9,
        "dimension 'overall': 'values' is empty; list the values annotators choose from",
        id="values-empty",
    ),
    pytest.param(
        edit("[a, b, tie]", "a, b, tie"),
        9,
        "dimension 'overall': 'values' must be a list, got the string 'a, b, tie'",
        id="values-not-list",
    ),
    pytest.param(
        edit("[a, b, tie]", "[a, b, tie, yes]"),
        9,
        "dimension 'overall': 'values' must hold strings or numbers, got the boolean true "
        "(YAML reads unquoted yes/no/on/off/true/false as booleans; quote it)",
        id="values-boolean",
    ),
    pytest.param(
        edit("[a, b, tie]", "[a, b, '']"),
        9,
        "dimension 'overall': 'values' must not hold an empty string",
        id="values-empty-string",
    ),
    pytest.param(
        edit("[a, b, tie]", "[a, b, 3]"),
        9,
        "dimension 'overall': values mix strings and numbers; use only labels or only numbers",
        id="values-mixed",
    ),
    pytest.param(
        edit("[tie]", "[both_bad]"),
        10,
        "dimension 'overall': non_decisive value 'both_bad' is not one of the values "
        "(a, b, tie); add it to 'values' or remove it",
        id="non-decisive-not-a-value",
    ),
    pytest.param(
        edit("[tie]", "[tie, a]"),
        10,
        "dimension 'overall': 'a' names response_a and cannot be non-decisive",
        id="non-decisive-response",
    ),
    pytest.param(
        edit("kind: preference", "kind: choice"),
        10,
        "dimension 'overall': 'non_decisive' applies only to preference dimensions "
        "(this one is kind 'choice'); remove it",
        id="non-decisive-on-choice",
    ),
    pytest.param(
        edit("[a, b, tie]", "[a, tie]"),
        9,
        "dimension 'overall': a preference dimension needs the values 'a' and 'b' "
        "(response_a and response_b); 'b' is missing. If other values name the two "
        "responses, say which with 'first:' and 'second:' (e.g. first: 1, second: 2)",
        id="preference-missing-b",
    ),
    pytest.param(
        edit("values: [a, b, tie]", "values:\n      - a\n      - b\n      - tie\n      - maybe"),
        13,
        "dimension 'overall': value 'maybe' of a preference dimension must be 'a', 'b' "
        "(first and second) or listed in 'non_decisive'",
        id="preference-unmarked-value",
    ),
    pytest.param(
        edit("kind: preference", "kind: choice")
        .replace("    non_decisive: [tie]\n", "")
        .replace("level: nominal", "level: interval"),
        9,
        "dimension 'overall': level 'interval' needs numeric values; 'a' is not a number "
        "(use level 'ordinal' for ordered labels)",
        id="interval-on-labels",
    ),
    pytest.param(
        edit("kind: preference", "kind: rating")
        .replace("    non_decisive: [tie]\n", "")
        .replace("[a, b, tie]", "[0, 1, 2]")
        .replace("level: nominal", "level: ratio"),
        9,
        "dimension 'overall': level 'ratio' needs positive values, got 0 "
        "(use level 'interval' for a scale with 0 or negative values)",
        id="ratio-non-positive",
    ),
    pytest.param(
        VALID + "    target_alpha: 1.2\n",
        12,
        "dimension 'overall': 'target_alpha' must be above 0 and at most 1, got 1.2",
        id="dimension-target-alpha-range",
    ),
    pytest.param(
        VALID + "    target_alpha: 0\n",
        12,
        "dimension 'overall': 'target_alpha' must be above 0 and at most 1, got 0",
        id="dimension-target-alpha-zero",
    ),
    pytest.param(
        VALID + "thresholds: 0.8\n",
        12,
        "'thresholds' must be a mapping, got the number 0.8",
        id="thresholds-not-mapping",
    ),
    pytest.param(
        VALID + "thresholds:\n  retrain_gold_accuracy: 0.9\n",
        13,
        "thresholds: retrain_gold_accuracy (0.9) must be at least 0.01 below "
        "qualify_gold_accuracy (0.85); the gold drift chart watches for a drop from the one "
        "to the other",
        id="retrain-above-qualify",
    ),
    pytest.param(
        VALID + "thresholds:\n  qualify_gold_accuracy: 0.8\n  retrain_gold_accuracy: 0.8\n",
        14,
        "thresholds: retrain_gold_accuracy (0.8) must be at least 0.01 below "
        "qualify_gold_accuracy (0.8); the gold drift chart watches for a drop from the one "
        "to the other",
        id="retrain-equals-qualify",
    ),
    pytest.param(
        VALID + "thresholds:\n  qualify_gold_accuracy: 0.805\n",
        13,
        "thresholds: retrain_gold_accuracy (0.8) must be at least 0.01 below "
        "qualify_gold_accuracy (0.805); the gold drift chart watches for a drop from the one "
        "to the other",
        id="qualify-too-close-to-default-retrain",
    ),
    pytest.param(
        VALID + "thresholds:\n  qualify_gold_accuracy: 1.0\n",
        13,
        "thresholds: 'qualify_gold_accuracy' must be between 0.01 and 0.99 (the gold drift "
        "chart cannot be designed for an accuracy of 0 or 1), got 1",
        id="qualify-one",
    ),
    pytest.param(
        VALID + "thresholds:\n  retrain_gold_accuracy: 0\n",
        13,
        "thresholds: 'retrain_gold_accuracy' must be between 0.01 and 0.99 (the gold drift "
        "chart cannot be designed for an accuracy of 0 or 1), got 0",
        id="retrain-zero",
    ),
    pytest.param(
        VALID + "thresholds:\n  target_alpha: 0\n",
        13,
        "thresholds: 'target_alpha' must be above 0 and at most 1, got 0",
        id="target-alpha-zero",
    ),
    pytest.param(
        VALID + "thresholds:\n  target_alpha: 1.5\n",
        13,
        "thresholds: 'target_alpha' must be above 0 and at most 1, got 1.5",
        id="target-alpha-above-one",
    ),
    pytest.param(
        VALID + "thresholds:\n  qualify_gold_accuracy: high\n",
        13,
        "thresholds: 'qualify_gold_accuracy' must be a number, got the string 'high'",
        id="threshold-wrong-type",
    ),
    pytest.param(
        VALID + "thresholds:\n  min_gold_judgments: 0\n",
        13,
        "thresholds: 'min_gold_judgments' must be at least 1, got 0",
        id="min-gold-judgments",
    ),
    pytest.param(
        VALID + "calibration:\n  gold_share: 0.6\n  retest_share: 0.4\n",
        14,
        "calibration: gold_share + retest_share must be below 1, got 0.6 + 0.4; "
        "a batch needs room for new items",
        id="shares-too-large",
    ),
    pytest.param(
        VALID + "calibration:\n  retest_share: -0.1\n",
        13,
        "calibration: 'retest_share' must be at least 0 and below 1, got -0.1",
        id="share-negative",
    ),
    pytest.param(
        VALID + "calibration:\n  gold_share: 1\n  retest_share: 0\n",
        13,
        "calibration: 'gold_share' must be at least 0 and below 1, got 1",
        id="gold-share-one",
    ),
    pytest.param(
        VALID + "calibration:\n  retest_delay_hours: 1.5\n",
        13,
        "calibration: 'retest_delay_hours' must be an integer, got the number 1.5",
        id="delay-not-integer",
    ),
    pytest.param(
        VALID + "calibration:\n  annotators_per_item: 1\n",
        13,
        "calibration: 'annotators_per_item' must be at least 2 "
        "(agreement needs two judgments per item), got 1",
        id="one-annotator",
    ),
    pytest.param(
        VALID + "calibration:\n  validation_batch_size: {min: 100, max: 50}\n",
        13,
        "calibration: validation_batch_size: min (100) must not exceed max (50)",
        id="batch-size-inverted",
    ),
    pytest.param(
        VALID + "calibration:\n  validation_batch_size: {min: 10}\n",
        13,
        "calibration: validation_batch_size: missing required key 'max'",
        id="batch-size-missing-max",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD)
def test_bad_rubric_reports_file_line_and_what(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    file = write(tmp_path, text)
    with pytest.raises(RubricError) as info:
        load_rubric(file)
    expected = message.format(dir=file.parent)
    assert str(info.value) == f"{file}:{line}: {expected}"
    assert (info.value.path, info.value.line, info.value.reason) == (str(file), line, expected)


@pytest.mark.parametrize(
    ("qualify", "retrain"),
    [(0.99, 0.98), (0.02, 0.01), (0.99, 0.01), (0.59, 0.58)],
    ids=["top-corner", "bottom-corner", "widest", "float-gap"],
)
def test_accepted_thresholds_give_drift_charts(qualify: float, retrain: float) -> None:
    # The corners of what the parser accepts: the gold chart and the consensus chart at any
    # pool rate are designed without raising (0.99/0.98 and 0.02/0.01 are the largest
    # Markov-chain lattices, ~2,500 states). Before issue 9, qualify = retrain, qualify = 1 or
    # retrain = 0 were accepted and the chart's design raised on every sync.
    text = (
        VALID + f"thresholds:\n  qualify_gold_accuracy: {qualify}\n"
        f"  retrain_gold_accuracy: {retrain}\n"
    )
    rubric = parse_rubric(text)
    gold = gold_design(rubric)
    assert (gold.p0, gold.p1) == (qualify, retrain)
    assert gold.arl0 >= DEFAULT_ARL0
    for rate in (0.0, 0.02, 0.5, 0.99, 1.0):
        consensus = consensus_design(rate, rubric)
        if consensus is not None:
            assert 0.0 < consensus.p1 < consensus.p0 < 1.0
            assert consensus.arl0 >= DEFAULT_ARL0


def test_parse_rubric_errors_name_the_given_path() -> None:
    with pytest.raises(RubricError) as info:
        parse_rubric(edit("level: nominal", "level: ordnial"), path="rubrics/x/v2.yaml")
    assert str(info.value) == (
        "rubrics/x/v2.yaml:11: dimension 'overall': level 'ordnial' is not one of nominal, "
        "ordinal, interval, ratio; did you mean 'ordinal'?"
    )


def test_errors_without_a_path_say_rubric() -> None:
    with pytest.raises(RubricError, match=r"^<rubric>:1: missing required key 'version'$"):
        parse_rubric(edit("version: 1\n", ""))


def test_rubric_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="duplicate key"):
        parse_rubric("id: x\nid: x\n")


# --- file layout ---------------------------------------------------------------------------


def test_id_must_match_the_directory(tmp_path: Path) -> None:
    file = write(tmp_path, VALID, rubric_id="pairwise")
    with pytest.raises(RubricError) as info:
        load_rubric(file)
    assert str(info.value) == (
        f"{file}:1: id 'x' does not match its directory 'pairwise'; "
        "rubric files live at rubrics/<id>/v<version>.yaml"
    )


def test_version_must_match_the_file_name(tmp_path: Path) -> None:
    file = write(tmp_path, VALID, name="v2.yaml")
    with pytest.raises(RubricError) as info:
        load_rubric(file)
    assert str(info.value) == (
        f"{file}:2: version '1' does not match the file name 'v2.yaml'; "
        "rename the file to v1.yaml or fix the version"
    )


def test_layout_check_can_be_skipped(tmp_path: Path) -> None:
    file = write(tmp_path, VALID, rubric_id="anywhere", name="my-rubric.yaml")
    assert load_rubric(file, check_layout=False).id == "x"


def test_missing_rubric_file(tmp_path: Path) -> None:
    file = tmp_path / "x" / "v1.yaml"
    with pytest.raises(RubricError) as info:
        load_rubric(file)
    assert str(info.value) == (
        f"{file}: rubric file not found; check the path (rubrics usually live at "
        "rubrics/<id>/v<version>.yaml)"
    )


def test_find_rubrics_sorts_versions_numerically(tmp_path: Path) -> None:
    for version in ("10", "2", "1"):
        write(tmp_path, edit("version: 1", f"version: {version}"), name=f"v{version}.yaml")
    (tmp_path / "x" / "guidelines-v1.md").write_text("g", encoding="utf-8")
    assert [p.name for p in find_rubrics(tmp_path)] == ["v1.yaml", "v2.yaml", "v10.yaml"]


def test_find_rubrics_needs_a_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(RubricError) as info:
        find_rubrics(missing)
    assert str(info.value) == f"{missing}: rubric directory not found"


# --- guidelines_file -----------------------------------------------------------------------


def test_guidelines_file_is_resolved_next_to_the_rubric(tmp_path: Path) -> None:
    file = write(tmp_path, edit("guidelines: Judge carefully.", "guidelines_file: g-v1.md"))
    (file.parent / "g-v1.md").write_text("# Guide\r\n\r\nJudge carefully.\r\n\n", encoding="utf-8")
    rubric = load_rubric(file)
    assert rubric.guidelines == "# Guide\n\nJudge carefully.\n"


def test_guidelines_file_text_is_part_of_the_hash(tmp_path: Path) -> None:
    file = write(tmp_path, edit("guidelines: Judge carefully.", "guidelines_file: g-v1.md"))
    guide = file.parent / "g-v1.md"
    guide.write_text("Judge carefully.\n", encoding="utf-8")
    from_file = load_rubric(file).content_hash
    assert from_file == parse_rubric(VALID).content_hash  # same text inline or in a file
    guide.write_text("Judge very carefully.\n", encoding="utf-8")
    assert load_rubric(file).content_hash != from_file


def test_parse_rubric_resolves_guidelines_file_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "g.md").write_text("From base_dir.", encoding="utf-8")
    text = edit("guidelines: Judge carefully.", "guidelines_file: g.md")
    assert parse_rubric(text, base_dir=tmp_path).guidelines == "From base_dir.\n"
    with pytest.raises(RubricError) as info:
        parse_rubric(text)
    assert str(info.value) == (
        "<rubric>:4: guidelines_file 'g.md' needs a base directory: pass base_dir= or path="
    )


def test_guidelines_file_must_be_relative_and_not_empty(tmp_path: Path) -> None:
    absolute = edit("guidelines: Judge carefully.", f"guidelines_file: {tmp_path / 'g.md'}")
    with pytest.raises(RubricError) as info:
        parse_rubric(absolute, base_dir=tmp_path)
    assert info.value.reason == (
        f"guidelines_file '{tmp_path / 'g.md'}' must be relative to the rubric file"
    )
    (tmp_path / "g.md").write_text("  \n", encoding="utf-8")
    with pytest.raises(RubricError) as info:
        parse_rubric(
            edit("guidelines: Judge carefully.", "guidelines_file: g.md"), base_dir=tmp_path
        )
    assert info.value.reason == "guidelines_file 'g.md' is empty"


# --- default_rubric_for --------------------------------------------------------------------


def test_default_rubric_for_builds_a_nominal_rubric() -> None:
    rubric = default_rubric_for(
        {
            "overall": ["b", "tie", "a", "a", None],
            "helpfulness": [3, 1, 2.5, float("nan"), 3],
            "topic": ["math", "code", "tie"],
        }
    )
    assert (rubric.id, rubric.version, rubric.path) == ("adhoc", "0", None)
    assert rubric.content_hash.startswith("sha256:")
    overall = rubric.dimension("overall")
    assert overall == Dimension(
        name="overall",
        question=overall.question,
        kind="preference",
        values=("a", "b", "tie"),
        level="nominal",
        non_decisive=("tie",),
    )
    helpfulness = rubric.dimension("helpfulness")
    assert (helpfulness.kind, helpfulness.level) == ("rating", "nominal")
    assert helpfulness.values == pytest.approx((1, 2.5, 3))
    topic = rubric.dimension("topic")
    assert (topic.kind, topic.values, topic.non_decisive) == ("choice", ("code", "math", "tie"), ())
    assert rubric.thresholds == Thresholds()
    assert rubric.calibration == Calibration()


def test_default_rubric_for_marks_non_decisive_only_if_present() -> None:
    rubric = default_rubric_for(
        {"overall": ["a", "b", "both_bad"]}, non_decisive=("tie", "both_bad")
    )
    assert rubric.dimension("overall").non_decisive == ("both_bad",)
    assert rubric.dimension("overall").decisive_values == ("a", "b")
    plain = default_rubric_for({"overall": ["a", "b"]})
    assert plain.dimension("overall").non_decisive == ()
    assert plain.content_hash == default_rubric_for({"overall": ["b", "a", "b"]}).content_hash


def test_default_rubric_for_rejects_unusable_input() -> None:
    with pytest.raises(RubricError) as info:
        default_rubric_for({})
    assert str(info.value) == "<rubric>: default_rubric_for needs at least one dimension"
    with pytest.raises(RubricError) as info:
        default_rubric_for({"overall": [None, float("nan")]})
    assert str(info.value) == "<rubric>: dimension 'overall' has no observed values"
    with pytest.raises(RubricError) as info:
        default_rubric_for({"overall": ["a", True]})
    assert str(info.value) == (
        "<rubric>: dimension 'overall': value True (bool) is not a string or a number"
    )


def test_rubric_objects_are_frozen() -> None:
    rubric = parse_rubric(VALID)
    with pytest.raises(AttributeError):
        rubric.version = "2"  # type: ignore[misc]
    assert isinstance(rubric, Rubric)


# --- every error of a file in one reading --------------------------------------------------

# Lines: 1 id, 2 version, 3 changelog, 4 guidelines, 5 dimensions, 6 name, 7 question, 8 kind,
#        9 values, 10 level, 11 name, 12 question, 13 kind, 14 values, 15 non_decisve,
#        16 level, 17 thresholds, 18 qualify, 19 calibration, 20 gold_share, 21 colour
FIVE_MISTAKES = """\
id: Pairwise
version: 1
changelog: test
guidelines: Judge carefully.
dimensions:
  - name: helpfulness
    question: How helpful?
    kind: rating
    values: [1, 2, 3]
    level: ordnial
  - name: overall
    question: Which is better?
    kind: preference
    values: [a, b, tie]
    non_decisve: [tie]
    level: nominal
thresholds:
  qualify_gold_accuracy: 1.5
calibration:
  gold_share: many
colour: blue
"""


def test_every_error_of_a_file_is_reported_in_one_run_with_its_line(tmp_path: Path) -> None:
    file = write(tmp_path, FIVE_MISTAKES, rubric_id="pairwise")
    with pytest.raises(RubricError) as info:
        load_rubric(file, check_layout=False)
    found = [(p.line, p.reason) for p in info.value.problems]
    assert found == [
        (
            1,
            "id 'Pairwise' must be a lowercase slug (a-z, 0-9, '-', '_', '.'), "
            "e.g. 'rlhf-pairwise'",
        ),
        (
            10,
            "dimension 'helpfulness': level 'ordnial' is not one of nominal, ordinal, interval, "
            "ratio; did you mean 'ordinal'?",
        ),
        (
            15,
            "dimension 'overall': unknown key 'non_decisve'; did you mean 'non_decisive'?",
        ),
        (
            18,
            "thresholds: 'qualify_gold_accuracy' must be between 0.01 and 0.99 (the gold drift "
            "chart cannot be designed for an accuracy of 0 or 1), got 1.5",
        ),
        (20, "calibration: 'gold_share' must be a number, got the string 'many'"),
        (
            21,
            "unknown key 'colour'; valid keys are id, version, changelog, guidelines, "
            "guidelines_file, dimensions, thresholds, calibration",
        ),
    ]
    lines = str(info.value).splitlines()
    assert lines == [f"{file}:{line}: {reason}" for line, reason in found]
    assert (info.value.line, info.value.path) == (1, str(file))


def test_one_error_keeps_the_single_message_form() -> None:
    with pytest.raises(RubricError) as info:
        parse_rubric(edit("level: nominal", "level: nominl"), path="r.yaml")
    assert len(info.value.problems) == 1
    assert str(info.value) == (
        "r.yaml:11: dimension 'overall': level 'nominl' is not one of nominal, ordinal, "
        "interval, ratio; did you mean 'nominal'?"
    )


# --- preference coding: which values name the two responses --------------------------------

CODED = """\
id: votes
version: 1
changelog: test
guidelines: Judge carefully.
dimensions:
  - name: vote
    question: Which response is better?
    kind: preference
    values: [1, 2, 0]
    first: 1
    second: 2
    non_decisive: [0]
    level: nominal
"""


@pytest.mark.parametrize(
    ("values", "first", "second", "non_decisive"),
    [
        ("[1, 2, 0]", "1", "2", "[0]"),
        ("[A, B, Tie]", "A", "B", "[Tie]"),
        ("[model_a, model_b, tie]", "model_a", "model_b", "[tie]"),
        ("[left, right, equal]", "left", "right", "[equal]"),
    ],
)
def test_a_preference_dimension_may_name_its_own_response_values(
    values: str, first: str, second: str, non_decisive: str
) -> None:
    text = (
        CODED.replace("[1, 2, 0]", values)
        .replace("first: 1", f"first: {first}")
        .replace("second: 2", f"second: {second}")
        .replace("[0]", non_decisive)
    )
    dimension = parse_rubric(text).dimension("vote")
    expected_first = int(first) if first.isdigit() else first
    expected_second = int(second) if second.isdigit() else second
    assert dimension.responses == (expected_first, expected_second)
    assert dimension.response_of(expected_first) == "a"
    assert dimension.response_of(expected_second) == "b"
    assert dimension.response_of(dimension.non_decisive[0]) is None
    assert dimension.value_for("b") == expected_second
    assert dimension.decisive_values == (expected_first, expected_second)


def test_first_and_second_a_b_are_the_default_and_keep_the_hash() -> None:
    plain = parse_rubric(VALID)
    spelt = parse_rubric(edit("    non_decisive", "    first: a\n    second: b\n    non_decisive"))
    assert spelt.dimension("overall").first is None
    assert spelt.content_hash == plain.content_hash
    assert plain.dimension("overall").responses == ("a", "b")
    coded = parse_rubric(CODED)
    assert '"first":1' in coded.canonical_json()
    assert '"first"' not in plain.canonical_json()


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "    second: 2\n",
            "",
            10,
            "'first' is given without 'second'; name both the value meaning response_a (first) "
            "and the one meaning response_b (second)",
        ),
        (
            "first: 1",
            "first: 3",
            10,
            "'first' is 3, which is not one of the values (1, 2, 0)",
        ),
        (
            "first: 1",
            "first: '1'",
            10,
            "'first' is '1', which is not one of the values (1, 2, 0) (it matches a value "
            "written differently: quote both or neither)",
        ),
        (
            "second: 2",
            "second: 1",
            11,
            "'first' and 'second' are both 1; they name two different responses",
        ),
        (
            "non_decisive: [0]",
            "non_decisive: [0, 2]",
            12,
            "2 names response_b and cannot be non-decisive",
        ),
        (
            "kind: preference",
            "kind: choice",
            10,
            "'non_decisive' applies only to preference dimensions (this one is kind 'choice'); "
            "remove it",
        ),
    ],
)
def test_bad_preference_coding_is_named_with_its_line(
    old: str, new: str, line: int, message: str
) -> None:
    text = CODED.replace(old, new)
    if "kind: choice" in text:
        text = text.replace("    non_decisive: [0]\n", "")
        message = message.replace("'non_decisive'", "'first'")
    with pytest.raises(RubricError) as info:
        parse_rubric(text, path="votes.yaml")
    assert str(info.value) == f"votes.yaml:{line}: dimension 'vote': {message}"


@pytest.mark.parametrize(
    ("path", "content_hash"),
    [
        ("mt-bench/v1.yaml", "5000410c72430f448dda4368f2a38e4cab01cd48d58c0d016838d7c136843450"),
        (
            "response-quality/v1.yaml",
            "6910851324b4d8a4b7a1961b0b8199b1a8bc63eb00952836f55166c04f6c2a0d",
        ),
        (
            "rlhf-pairwise/v1.yaml",
            "755bf5dbe53fe330b1b562ff7b74dbbf0c6e463498ce97226e6c86ae8c9aa465",
        ),
        (
            "rlhf-pairwise/v2.yaml",
            "4b84eb2bd5fd3ddf05ab317985212e80e7a722dc5e51a4461e58d886450bd656",
        ),
    ],
)
def test_shipped_rubrics_keep_the_hash_they_had_before_first_and_second(
    path: str, content_hash: str
) -> None:
    # Hashes computed at commit 02f7cef, before Dimension.first/second existed: stored
    # judgments and batches name their rubric by this hash.
    assert load_rubric(RUBRICS / path).content_hash == f"sha256:{content_hash}"


# --- gating: false -------------------------------------------------------------------------

TWO_DIMENSIONS = (
    VALID
    + """\
  - name: strength
    question: How much better?
    kind: rating
    values: [1, 2, 3]
    level: ordinal
"""
)
NOT_GATING = TWO_DIMENSIONS + "    gating: false\n    gating_reason: margins are judgement calls\n"


def test_shipped_rubric_hashes_do_not_move_with_the_gating_option() -> None:
    # The hashes at commit 724cebd, before dimensions could be marked gating: false;
    # pairwise-dimensions v1 as first shipped (issue 11).
    shipped = sorted(RUBRICS.glob("*/v*.yaml"))
    assert {p.relative_to(RUBRICS).as_posix(): load_rubric(p).content_hash for p in shipped} == {
        "mt-bench/v1.yaml": (
            "sha256:5000410c72430f448dda4368f2a38e4cab01cd48d58c0d016838d7c136843450"
        ),
        "pairwise-dimensions/v1.yaml": (
            "sha256:ebc716ec118c45d5dfb62567cb539ccff5aa42779a32782fbecb6bb0e0fa0420"
        ),
        "response-quality/v1.yaml": (
            "sha256:6910851324b4d8a4b7a1961b0b8199b1a8bc63eb00952836f55166c04f6c2a0d"
        ),
        "rlhf-pairwise/v1.yaml": (
            "sha256:755bf5dbe53fe330b1b562ff7b74dbbf0c6e463498ce97226e6c86ae8c9aa465"
        ),
        "rlhf-pairwise/v2.yaml": (
            "sha256:4b84eb2bd5fd3ddf05ab317985212e80e7a722dc5e51a4461e58d886450bd656"
        ),
    }


def test_a_dimension_can_be_marked_not_gating_with_a_reason() -> None:
    rubric = parse_rubric(NOT_GATING)
    strength = rubric.dimension("strength")
    assert (strength.gating, strength.gating_reason) == (False, "margins are judgement calls")
    assert rubric.gating_dimensions == ("overall",)
    assert rubric.gates("overall")
    assert not rubric.gates("strength")
    assert rubric.gates("not-in-the-rubric")  # unknown dimensions are never silently skipped
    assert rubric.content_hash != parse_rubric(TWO_DIMENSIONS).content_hash
    # Writing the default out changes nothing.
    explicit = TWO_DIMENSIONS + "    gating: true\n"
    assert parse_rubric(explicit).content_hash == parse_rubric(TWO_DIMENSIONS).content_hash


def test_a_broken_gating_dimension_is_not_also_reported_as_missing() -> None:
    broken = NOT_GATING.replace("values: [a, b, tie]", "values: [a, b, tie, both]")
    with pytest.raises(RubricError) as caught:
        parse_rubric(broken)
    assert "value 'both'" in str(caught.value)
    assert "every dimension has 'gating: false'" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            TWO_DIMENSIONS + "    gating: false\n",
            17,
            "dimension 'strength': 'gating: false' needs a 'gating_reason'",
        ),
        (
            TWO_DIMENSIONS + "    gating_reason: why not\n",
            17,
            "dimension 'strength': 'gating_reason' applies only with 'gating: false'",
        ),
        (
            TWO_DIMENSIONS + "    gating: no-thanks\n",
            17,
            "dimension 'strength': 'gating' must be true or false, got",
        ),
        (
            edit("    level: nominal\n", "    level: nominal\n    gating: false\n")
            + "    gating_reason: x\n",
            6,
            "every dimension has 'gating: false', so no gold result could qualify anyone",
        ),
    ],
)
def test_bad_gating_option_names_line_and_what_to_do(text: str, line: int, message: str) -> None:
    with pytest.raises(RubricError) as caught:
        parse_rubric(text)
    assert caught.value.line == line
    assert message in str(caught.value)


# --- signed preference scales --------------------------------------------------------------

# Lines: 1-5 as VALID, 6 name, 7 question, 8 kind, 9 signed, 10 values, 11 level
SIGNED = """\
id: x
version: 1
changelog: test
guidelines: Judge carefully.
dimensions:
  - name: preference
    question: Which response is better, and by how much? (-3 A much better … 3 B much better)
    kind: preference
    signed: true
    values: [-3, -2, -1, 0, 1, 2, 3]
    level: interval
"""


def test_a_signed_scale_reads_sign_as_response_and_magnitude_as_strength() -> None:
    # The scale HelpSteer2-Preference collects (Wang et al. 2024, arXiv:2410.01257): -3 means
    # response_a is much better, +3 response_b, 0 neither.
    dimension = parse_rubric(SIGNED).dimension("preference")
    assert dimension.signed
    assert dimension.non_decisive == (0,)
    assert [dimension.response_of(v) for v in dimension.values] == [
        "a", "a", "a", None, "b", "b", "b"
    ]  # fmt: skip
    assert [dimension.strength_of(v) for v in (-3, -1, 0, 2)] == [3.0, 1.0, 0.0, 2.0]
    assert [dimension.mirrored(v) for v in (-3, 0, 2)] == [3, 0, -2]
    assert dimension.decisive_values == (-3, -2, -1, 1, 2, 3)
    with pytest.raises(ValueError, match="signed scale"):
        dimension.value_for("a")


def test_unsigned_dimensions_have_no_strength_and_mirror_their_two_responses() -> None:
    overall = parse_rubric(VALID).dimension("overall")
    assert overall.strength_of("a") is None
    assert [overall.mirrored(v) for v in ("a", "b", "tie")] == ["b", "a", "tie"]


def test_a_signed_scale_without_zero_has_no_non_decisive_value() -> None:
    dimension = parse_rubric(SIGNED.replace("-1, 0, 1", "-1, 1")).dimension("preference")
    assert dimension.non_decisive == ()
    assert parse_rubric(SIGNED.replace("interval", "ordinal")).dimension("preference").signed


def test_the_signed_option_keeps_older_hashes_and_is_part_of_the_hash() -> None:
    assert parse_rubric(VALID + "    signed: false\n").content_hash == (
        parse_rubric(VALID).content_hash
    )
    unsigned = SIGNED.replace("    signed: true\n", "").replace(
        "preference\n    values", "rating\n    values"
    )
    assert parse_rubric(unsigned).content_hash != parse_rubric(SIGNED).content_hash


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("kind: preference", "kind: rating", 9, "'signed' applies only to preference dimensions"),
        ("signed: true", "signed: yes-please", 9, "'signed' must be true or false"),
        ("[-3, -2, -1, 0, 1, 2, 3]", "[x, y, z]", 10, "needs numbers (e.g. -3 … 3); 'x'"),
        ("[-3, -2, -1, 0, 1, 2, 3]", "[0, 1, 2]", 10, "needs negative values"),
        ("level: interval", "level: nominal", 11, "use level 'ordinal' or 'interval'"),
        ("level: interval", "level: interval\n    non_decisive: [0]", 12, "'non_decisive' does"),
        ("level: interval", "level: interval\n    first: -1\n    second: 1", 12, "'first' does"),
    ],
)
def test_bad_signed_scale_names_line_and_what_to_do(
    old: str, new: str, line: int, message: str
) -> None:
    with pytest.raises(RubricError) as caught:
        parse_rubric(SIGNED.replace(old, new))
    assert caught.value.line == line
    assert message in str(caught.value)


def test_signed_text_names_the_side_and_the_strength_step() -> None:
    from connector.rubric import signed_text

    three = parse_rubric(SIGNED).dimension("preference")
    texts = [signed_text(three, v, first="A", second="B") for v in three.values]
    assert texts == [
        "A is much better", "A is better", "A is slightly better", "About the same",
        "B is slightly better", "B is better", "B is much better",
    ]  # fmt: skip
    five = parse_rubric(
        SIGNED.replace("-3, -2, -1, 0, 1, 2, 3", "-5, -4, -3, -2, -1, 1, 2, 3, 4, 5")
    )
    assert signed_text(five.dimension("preference"), 4, first="A", second="B") == (
        "B is better (4 of 5)"
    )
    with pytest.raises(ValueError, match=r"'tie' is not a value of a signed scale"):
        signed_text(parse_rubric(VALID).dimension("overall"), "tie", first="A", second="B")
    with pytest.raises(ValueError, match=r"7 is not a value of a signed scale"):
        signed_text(three, 7, first="A", second="B")


def test_pairwise_dimensions_asks_four_preferences_each_with_a_tie() -> None:
    rubric = load_rubric(RUBRICS / "pairwise-dimensions" / "v1.yaml")
    assert [d.name for d in rubric.dimensions] == ["accuracy", "helpfulness", "safety", "tone"]
    for dimension in rubric.dimensions:
        assert (dimension.kind, dimension.level) == ("preference", "nominal")
        assert (dimension.values, dimension.non_decisive) == (("a", "b", "tie"), ("tie",))
    assert "accuracy" in rubric.guidelines.lower()
    assert "tone" in rubric.guidelines.lower()


# --- rankings ------------------------------------------------------------------------------

# Lines: 1-5 as VALID, 6 name, 7 question, 8 kind, 9 values, 10 level
RANKING = """\
id: x
version: 1
changelog: test
guidelines: Judge carefully.
dimensions:
  - name: order
    question: Rank the responses.
    kind: ranking
    values: [a, b, c, d]
    level: ordinal
"""


def test_a_ranking_dimension_names_its_options() -> None:
    order = parse_rubric(RANKING).dimension("order")
    assert (order.kind, order.values, order.level) == ("ranking", ("a", "b", "c", "d"), "ordinal")


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("[a, b, c, d]", "[a, 'b>c', d]", 9, "ranking option 'b>c' holds '>' or '='"),
        ("[a, b, c, d]", "[a]", 9, "a ranking needs at least two options"),
        ("level: ordinal", "level: nominal", 10, "use level 'ordinal', not 'nominal'"),
    ],
)
def test_bad_ranking_names_line_and_what_to_do(old: str, new: str, line: int, message: str) -> None:
    with pytest.raises(RubricError) as caught:
        parse_rubric(RANKING.replace(old, new))
    assert caught.value.line == line
    assert message in str(caught.value)
