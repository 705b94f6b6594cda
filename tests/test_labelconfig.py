"""Rubric → Label Studio labeling config, the config check, and result parsing."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from connector.platforms.label_studio.labelconfig import (
    LabelConfigError,
    ResultError,
    check_label_config,
    generate_label_config,
    parse_result,
)
from connector.rubric import load_rubric

V1 = load_rubric("rubrics/rlhf-pairwise/v1.yaml")
V2 = load_rubric("rubrics/rlhf-pairwise/v2.yaml")
RATINGS = load_rubric("rubrics/response-quality/v1.yaml")


def test_pairwise_config_has_one_control_per_dimension_and_no_pairwise_tag() -> None:
    root = ElementTree.fromstring(generate_label_config(V2))
    controls = {el.get("name"): el for el in root.iter() if el.tag in ("Choices", "Rating")}
    assert set(controls) == {"overall", "strength"}
    aliases = [c.get("alias") for c in controls["overall"].iter("Choice")]
    assert aliases == ["left", "right", "tie", "both_bad"]
    assert controls["strength"].tag == "Rating"
    assert controls["strength"].get("maxRating") == "3"
    assert controls["strength"].get("required") == "false"  # empty after a tie
    assert controls["overall"].get("required") == "true"
    assert not list(root.iter("Pairwise"))
    texts = {el.get("value") for el in root.iter("Text")}
    assert texts == {"$prompt", "$response_left", "$response_right"}


def test_rating_rubric_shows_one_response() -> None:
    root = ElementTree.fromstring(generate_label_config(RATINGS))
    texts = {el.get("value") for el in root.iter("Text")}
    assert texts == {"$prompt", "$response"}
    assert [el.get("name") for el in root.iter("Rating")] == [
        "helpfulness",
        "correctness",
        "safety",
    ]


def test_generated_config_passes_its_own_check() -> None:
    for rubric in (V1, V2, RATINGS):
        check_label_config(generate_label_config(rubric), rubric, project="7")


def test_check_names_the_mismatched_control() -> None:
    with pytest.raises(LabelConfigError) as err:
        check_label_config(generate_label_config(V1), V2, project="7")
    assert str(err.value) == (
        "Label Studio project 7: control 'overall' offers choices ['left', 'right', 'tie'], but "
        "rubric rlhf-pairwise v2 expects ['left', 'right', 'tie', 'both_bad']"
    )


def test_check_missing_control_and_wrong_tag() -> None:
    config = generate_label_config(V2).replace('name="strength"', 'name="confidence"')
    with pytest.raises(LabelConfigError, match="no control named 'strength'"):
        check_label_config(config, V2, project="7")
    swapped = (
        '<View><Text name="prompt" value="$prompt"/><Rating name="overall" toName="prompt"/></View>'
    )
    with pytest.raises(LabelConfigError, match="control 'overall' is a Rating, but rubric"):
        check_label_config(swapped, V1, project="7")
    with pytest.raises(LabelConfigError, match="labeling config is not XML"):
        check_label_config("<View>", V1, project="7")


def _choice(value: str) -> dict[str, object]:
    return {"from_name": "overall", "type": "choices", "value": {"choices": [value]}}


@pytest.mark.parametrize(
    ("choice", "display_left", "expected"),
    [("left", "a", "a"), ("right", "a", "b"), ("left", "b", "b"), ("right", "b", "a"),
     ("tie", "b", "tie"), ("left", None, "a")],
)  # fmt: skip
def test_left_right_choices_map_back_to_canonical_responses(
    choice: str, display_left: str | None, expected: str
) -> None:
    assert parse_result(_choice(choice), V1.dimension("overall"), display_left) == expected


def test_rating_result_becomes_a_number() -> None:
    result = {"from_name": "strength", "type": "rating", "value": {"rating": 2}}
    assert parse_result(result, V2.dimension("strength"), "a") == 2


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (_choice("both_bad"),
         "choice 'both_bad' for 'overall' is not one of ['left', 'right', 'tie']"),
        (_choice("a"), "choice 'a' for 'overall' is not one of ['left', 'right', 'tie']"),
        ({"from_name": "overall", "type": "choices", "value": {"choices": ["left", "tie"]}},
         "'overall' needs exactly one choice, got ['left', 'tie']"),
        ({"from_name": "overall", "type": "textarea", "value": {"text": ["x"]}},
         "result type 'textarea' for 'overall' is not choices or rating"),
        ({"from_name": "overall", "type": "choices"}, "result for 'overall' has no value object"),
    ],
)  # fmt: skip
def test_results_that_do_not_fit_are_refused(result: dict[str, object], message: str) -> None:
    with pytest.raises(ResultError) as err:
        parse_result(result, V1.dimension("overall"), "a")
    assert str(err.value) == message


def test_rating_outside_scale_is_refused() -> None:
    result = {"from_name": "strength", "type": "rating", "value": {"rating": 5}}
    with pytest.raises(ResultError, match=r"rating 5 for 'strength' is not one of \[1, 2, 3\]"):
        parse_result(result, V2.dimension("strength"), "a")


VOTES = load_rubric(Path(__file__).parent / "data" / "rubrics" / "votes.yaml", check_layout=False)


@pytest.mark.parametrize(
    ("choice", "display_left", "expected"),
    [("left", "a", 1), ("right", "a", 2), ("left", "b", 2), ("right", "b", 1), ("0", "b", 0)],
)
def test_a_rubric_coding_responses_1_2_gets_left_right_choices_back_as_1_2(
    choice: str, display_left: str, expected: int
) -> None:
    config = generate_label_config(VOTES)
    choices = [c.get("alias") for c in ElementTree.fromstring(config).iter("Choice")]
    assert choices == ["left", "right", "0"]
    assert parse_result(_choice(choice), VOTES.dimension("overall"), display_left) == expected


def test_argilla_options_and_answers_follow_the_rubric_response_values() -> None:
    from connector.platforms.argilla.settings import dataset_questions, parse_response_value

    options = dataset_questions(VOTES)[0]["settings"]["options"]
    assert options == [
        {"value": "1", "text": "Response A is better"},
        {"value": "2", "text": "Response B is better"},
        {"value": "0", "text": "0"},
    ]
    overall = VOTES.dimension("overall")
    assert parse_response_value("1", overall, "a") == 1
    assert parse_response_value("1", overall, "b") == 2  # shown swapped: first shown is b
    assert parse_response_value("0", overall, "b") == 0


# --- signed preference scales ---------------------------------------------------------------

SIGNED = load_rubric(Path(__file__).parent / "data" / "rubrics" / "signed.yaml", check_layout=False)


def test_a_signed_scale_is_offered_from_left_much_better_to_right_much_better() -> None:
    config = generate_label_config(SIGNED)
    check_label_config(config, SIGNED, project="7")
    choices = [
        (c.get("alias"), c.get("value")) for c in ElementTree.fromstring(config).iter("Choice")
    ]
    assert choices == [
        ("-3", "Left response is much better"),
        ("-2", "Left response is better"),
        ("-1", "Left response is slightly better"),
        ("0", "About the same"),
        ("1", "Right response is slightly better"),
        ("2", "Right response is better"),
        ("3", "Right response is much better"),
    ]


@pytest.mark.parametrize(
    ("choice", "display_left", "expected"),
    [("-3", "a", -3), ("-3", "b", 3), ("2", "a", 2), ("2", "b", -2), ("0", "b", 0), ("1", None, 1)],
)
def test_a_signed_choice_is_mirrored_when_response_b_was_shown_left(
    choice: str, display_left: str | None, expected: int
) -> None:
    value = parse_result(_choice(choice), SIGNED.dimension("preference"), display_left)
    assert value == expected
    assert isinstance(value, int)


def test_a_signed_choice_outside_the_scale_is_refused() -> None:
    with pytest.raises(ResultError, match=r"choice 'left' for 'preference' is not one of \['-3'"):
        parse_result(_choice("left"), SIGNED.dimension("preference"), "a")


def test_argilla_offers_a_signed_scale_as_labels_and_mirrors_answers_back() -> None:
    from connector.platforms.argilla.settings import dataset_questions, parse_response_value

    question = dataset_questions(SIGNED)[0]
    assert question["settings"]["type"] == "label_selection"  # RatingQuestion takes 0-10 only
    assert question["settings"]["options"] == [
        {"value": "-3", "text": "Response A is much better"},
        {"value": "-2", "text": "Response A is better"},
        {"value": "-1", "text": "Response A is slightly better"},
        {"value": "0", "text": "About the same"},
        {"value": "1", "text": "Response B is slightly better"},
        {"value": "2", "text": "Response B is better"},
        {"value": "3", "text": "Response B is much better"},
    ]
    preference = SIGNED.dimension("preference")
    assert parse_response_value("-3", preference, "a") == -3
    assert parse_response_value("-3", preference, "b") == 3  # shown first was response_b
    assert parse_response_value("0", preference, "b") == 0


# --- the shipped multi-dimension pairwise rubric ------------------------------------------


def test_pairwise_dimensions_gets_a_left_right_tie_control_per_dimension_on_both_platforms() -> (
    None
):
    from connector.platforms.argilla.settings import (
        check_settings,
        dataset_fields,
        dataset_questions,
    )

    rubric = load_rubric("rubrics/pairwise-dimensions/v1.yaml")
    config = generate_label_config(rubric)
    check_label_config(config, rubric, project="7")
    root = ElementTree.fromstring(config)
    controls = {el.get("name"): el for el in root.iter("Choices")}
    assert list(controls) == ["accuracy", "helpfulness", "safety", "tone"]
    for control in controls.values():
        assert [c.get("alias") for c in control.iter("Choice")] == ["left", "right", "tie"]
        assert control.get("required") == "true"
    questions = dataset_questions(rubric)
    assert [q["name"] for q in questions] == ["accuracy", "helpfulness", "safety", "tone"]
    for question in questions:
        assert question["settings"] == {
            "type": "label_selection",
            "options": [
                {"value": "a", "text": "Response A is better"},
                {"value": "b", "text": "Response B is better"},
                {"value": "tie", "text": "Tie"},
            ],
        }
    check_settings(questions, dataset_fields(rubric), rubric, dataset="d")
    assert (
        parse_result(
            {"from_name": "tone", "type": "choices", "value": {"choices": ["left"]}},
            rubric.dimension("tone"),
            "b",
        )
        == "b"
    )


# --- rankings ------------------------------------------------------------------------------

RANKING = load_rubric(
    Path(__file__).parent / "data" / "rubrics" / "ranking.yaml", check_layout=False
)


def _ranker(ranked: object) -> dict[str, object]:
    return {
        "from_name": "order",
        "to_name": "order_responses",
        "type": "ranker",
        "value": {"ranker": ranked},
    }


def test_a_ranking_is_a_list_of_the_responses_with_a_ranker() -> None:
    config = generate_label_config(RANKING)
    check_label_config(config, RANKING, project="7")
    root = ElementTree.fromstring(config)
    lists = list(root.iter("List"))
    rankers = list(root.iter("Ranker"))
    assert [(el.get("name"), el.get("value")) for el in lists] == [
        ("order_responses", "$order_responses")
    ]
    assert [(el.get("name"), el.get("toName")) for el in rankers] == [("order", "order_responses")]
    assert {el.get("value") for el in root.iter("Text")} == {"$prompt"}  # no single $response


def test_a_ranker_that_ranks_no_list_is_refused() -> None:
    config = generate_label_config(RANKING).replace('toName="order_responses"', 'toName="prompt"')
    with pytest.raises(
        LabelConfigError, match="ranker 'order' ranks 'prompt', which is not a <List>"
    ):
        check_label_config(config, RANKING, project="7")


@pytest.mark.parametrize(
    ("ranked", "expected"),
    [
        ({"order": ["b", "d", "a", "c"]}, "b>d>a>c"),
        (["c", "a", "b", "d"], "c>a>b>d"),  # the ids directly
        ({"order": ["b", "a"]}, "b>a"),  # incomplete
    ],
)
def test_a_ranker_result_becomes_the_ranking_string(ranked: object, expected: str) -> None:
    # Label Studio's Ranker.jsx (web/libs/editor/src/tags/control/): in rank mode (no Bucket)
    # the result is {"ranker": {"<Ranker's name>": [ids in the new order]}}, e.g.
    # {"ranker": {"rank": ["mdn", "wiki", "blog"]}} for <Ranker name="rank" toName="results"/>
    assert parse_result(_ranker(ranked), RANKING.dimension("order"), "b") == expected


@pytest.mark.parametrize(
    ("ranked", "message"),
    [
        ({"order": ["b", "x"]}, "has option 'x'"),
        ({"order": "b>a"}, "holds no list of response ids"),
        ({"order": ["a", "a"]}, "ranks 'a' twice"),
        ({"order_responses": ["a", "b"]}, "holds no list of response ids"),  # not the key
    ],
)
def test_a_bad_ranker_result_is_refused(ranked: object, message: str) -> None:
    with pytest.raises(ResultError, match=message):
        parse_result(_ranker(ranked), RANKING.dimension("order"), None)


def test_argilla_asks_a_ranking_question_and_reads_its_ranks() -> None:
    from connector.platforms.argilla.settings import (
        SettingsError,
        dataset_fields,
        dataset_questions,
        parse_response_value,
    )

    assert dataset_questions(RANKING)[0]["settings"] == {
        "type": "ranking",
        "options": [{"value": v, "text": f"Response {v.upper()}"} for v in "abcd"],
    }
    fields = {f["name"]: f["required"] for f in dataset_fields(RANKING)}
    assert fields == {
        "prompt": True, "response_a": True, "response_b": True,
        "response_c": False, "response_d": False,
    }  # fmt: skip
    order = RANKING.dimension("order")
    answer = [{"value": "a", "rank": 2}, {"value": "b", "rank": 1}, {"value": "c", "rank": 2},
              {"value": "d", "rank": 3}]  # fmt: skip
    assert parse_response_value(answer, order, "b") == "b>a=c>d"  # no display side to undo
    assert parse_response_value(["d", "c", "b", "a"], order, None) == "d>c>b>a"
    with pytest.raises(SettingsError, match="names option 'e'"):
        parse_response_value([{"value": "e", "rank": 1}], order, None)
    with pytest.raises(SettingsError, match="is not a ranking"):
        parse_response_value("b>a", order, None)


def test_argilla_agreement_properties_of_derived_ranking_dimensions_are_valid_names() -> None:
    from connector.platforms.argilla.settings import agreement_property

    assert agreement_property("overall") == "iaa_agreement_overall"  # unchanged
    assert agreement_property("order.a") == "iaa_agreement_order_a"
    assert agreement_property("order_pairs") == "iaa_agreement_order_pairs"
    from connector.platforms.argilla.settings import ranking_field

    assert ranking_field("a") == "response_a"
    assert ranking_field("Model A") == "response_model_a"  # Argilla: ^[a-z0-9_-]+$
