"""Who may set gold (connector.gold), what reports show of it (connector.gold_release), the
re-scoring a gold change causes (connector.quality.lifecycle.rescore) and what annotators may read
(connector.report.public). Offline; the same rules against a real Label Studio are in
tests/test_gold_secrecy.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_lifecycle import history, must, right, state, wrong

from connector.calibration.gold import GoldClaim, judge_claims, record_claims
from connector.quality.gold_release import apply_gold_release, release_due
from connector.quality.lifecycle import rescore
from connector.report.public import public_report
from connector.rubric import load_rubric
from connector.store import GoldAnswer, GoldRelease, Store

RUBRIC = load_rubric("rubrics/rlhf-pairwise/v2.yaml")
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


def claim(value: str, *, by: str, source: str = "platform_ground_truth", at: datetime = T0,
          item: str = "i1") -> GoldClaim:  # fmt: skip
    return GoldClaim(
        item_key=item,
        dimension="overall",
        value=value,
        source=source,  # type: ignore[arg-type]
        set_by=by,
        at=at,
        annotation_id="41" if source != "file" else None,
    )


def held(value: str, *, source: str = "file", by: str = "file:gold.jsonl") -> dict[Any, Any]:
    return {
        ("i1", "overall"): GoldAnswer(
            item_key="i1", dimension="overall", value=value, source=source, set_by=by
        )
    }


def test_ground_truth_from_anyone_but_a_gold_author_is_refused() -> None:
    [row] = judge_claims(held("a"), [claim("b", by="mallory@x")], gold_authors={"lead@x"})
    assert not row.accepted
    assert (row.old_value, row.new_value, row.set_by) == ("a", "b", "mallory@x")
    assert row.reason == (
        "ground truth set by mallory@x, who is not a gold author of this project "
        "(gold_authors): kept as their judgment, not gold"
    )
    # nor may anyone but a gold author make an item gold
    [new] = judge_claims({}, [claim("b", by="mallory@x")], gold_authors=())
    assert not new.accepted


def test_a_gold_author_sets_and_changes_gold_and_a_repeat_changes_nothing() -> None:
    [new] = judge_claims({}, [claim("a", by="lead@x")], gold_authors={"lead@x"})
    assert new.accepted
    assert new.reason == "new gold answer from lead@x"
    [change] = judge_claims(held("a"), [claim("b", by="lead@x")], gold_authors={"lead@x"})
    assert change.accepted
    assert change.reason == "gold author lead@x changed the answer from 'a'"
    assert judge_claims(held("b"), [claim("b", by="lead@x")], gold_authors={"lead@x"}) == []


def test_the_gold_file_may_change_its_own_answers_but_not_a_gold_authors_ruling() -> None:
    file_claim = claim("b", by="file:gold.jsonl", source="file")
    [edited] = judge_claims(held("a"), [file_claim], gold_authors=())
    assert edited.accepted
    assert edited.reason == "the gold file changed the answer from 'a'"
    ruling = held("a", source="platform_ground_truth", by="lead@x")
    [conflict] = judge_claims(ruling, [file_claim], gold_authors={"lead@x"})
    assert not conflict.accepted
    assert conflict.reason == (
        "the gold file says 'b' but gold author lead@x set 'a' on the platform; 'a' is kept: "
        "make the two agree"
    )


def test_claims_are_judged_oldest_first() -> None:
    later = claim("b", by="lead@x", at=T0 + timedelta(minutes=1))
    rows = judge_claims({}, [later, claim("a", by="lead@x")], gold_authors={"lead@x"})
    assert [(r.old_value, r.new_value) for r in rows] == [(None, "a"), ("a", "b")]


def test_recording_is_idempotent_and_logged(tmp_path: Any) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.set_gold("p", [held("a")[("i1", "overall")]])
        refused = [claim("b", by="mallory@x")]
        assert len(record_claims(store, "p", refused, gold_authors={"lead@x"})) == 1
        assert record_claims(store, "p", refused, gold_authors={"lead@x"}) == []  # logged once
        assert store.gold_for("p")[("i1", "overall")].value == "a"
        accepted = record_claims(store, "p", [claim("b", by="lead@x")], gold_authors={"lead@x"})
        gold = store.gold_for("p")[("i1", "overall")]
        assert (gold.value, gold.source, gold.set_by) == ("b", "platform_ground_truth", "lead@x")
        assert [r.accepted for r in store.gold_log("p")] == [False, True]
        assert store.gold_log("p")[1] == accepted[0]


# --- what reports show ------------------------------------------------------------------------


def entry(n: int, accuracy: float) -> dict[str, Any]:
    gold = {"n": n, "accuracy": accuracy, "ci95": [0.5, 1.0], "cohen_kappa": 0.5}
    return {"annotator": "ann", "dimensions": {"overall": {"gold": gold, "n_judgments": n}}}


def test_gold_figures_are_released_only_per_period_and_after_enough_new_gold() -> None:
    report: dict[str, Any] = {"annotators": [entry(25, 0.96)]}
    [first] = apply_gold_release(report, {}, T0, every=10, hours=24)
    assert first.figures == {}  # first seen: nothing shown until the next period
    assert report["annotators"][0]["dimensions"]["overall"]["gold"] is None
    # an answer changed within the period: the figure does not move
    report = {"annotators": [entry(25, 1.0)]}
    assert (
        apply_gold_release(report, {"ann": first}, T0 + timedelta(hours=3), every=10, hours=24)
        == []
    )
    assert report["annotators"][0]["dimensions"]["overall"]["gold"] is None
    # next period, 25 new gold judgments: released
    report = {"annotators": [entry(25, 1.0)]}
    day2 = T0 + timedelta(days=1)
    [second] = apply_gold_release(report, {"ann": first}, day2, every=10, hours=24)
    assert second.gold_judgments == 25
    assert report["annotators"][0]["dimensions"]["overall"]["gold"]["accuracy"] == 1.0
    # a third period with one changed answer and fewer than 10 new gold judgments: no release
    report = {"annotators": [entry(29, 0.9)]}
    day3 = T0 + timedelta(days=2)
    assert apply_gold_release(report, {"ann": second}, day3, every=10, hours=24) == []
    assert report["annotators"][0]["dimensions"]["overall"]["gold"]["accuracy"] == 1.0
    assert report["annotators"][0]["gold_release"]["gold_judgments"] == 25


def test_release_due_needs_both_conditions() -> None:
    release = GoldRelease(annotator="a", released_at=T0, gold_judgments=20, figures={"x": 1})
    later = T0 + timedelta(days=1)
    assert not release_due(None, 100, later, every=10, hours=24)
    assert not release_due(release, 100, T0 + timedelta(hours=1), every=10, hours=24)
    assert not release_due(release, 29, later, every=10, hours=24)
    assert release_due(release, 30, later, every=10, hours=24)


# --- re-scoring --------------------------------------------------------------------------------


def test_rescore_drops_a_qualification_decided_on_wrong_gold() -> None:
    """Qualified on 24/24; the gold changed and 17 of those answers are now wrong: the status
    machine's hysteresis would keep "qualified", a re-score does not."""
    bits = right(7) + wrong(17)
    transition = must(rescore(history(bits), state("qualified", since=24), RUBRIC,
                              cause="the gold answers of 17 item(s) changed"))  # fmt: skip
    assert (transition.previous, transition.status) == ("qualified", "retraining")
    assert transition.reason.startswith("re-scored because the gold answers of 17 item(s) changed")
    again = must(rescore(history(right(24)), state("retraining", episodes=1), RUBRIC, cause="x"))
    assert again.status == "qualified"
    assert rescore(history(right(24)), state("suspended"), RUBRIC, cause="x") is None


# --- what annotators may read -------------------------------------------------------------------


def test_public_report_keeps_no_annotator_and_no_gold() -> None:
    report = {
        "schema": "iaa-connector/report@1",
        "generated_at": "2026-12-03T00:00:00Z",
        "rubric": {"id": "r"},
        "source": {"path": "/srv/iaa/reports/p.json"},
        "summary": {"n_items": 3, "n_annotators": 2},
        "annotators": [{"annotator": "ann@x", "dimensions": {"overall": {"gold": {"n": 1}}}}],
        "annotator_pairs": {"overall": [{"a": "ann@x", "b": "bob@x"}]},
        "dimensions": {
            "overall": {
                "n_items": 3,
                "krippendorff_alpha": {"value": 0.5},
                "by_batch": {"b-1": {}},
                "intra_annotator": {"n": 1},
            }
        },
    }
    public = public_report(report)
    text = repr(public)
    for secret in ("ann@x", "bob@x", "gold", "/srv", "b-1", "annotator"):
        assert secret not in text
    assert public["dimensions"]["overall"]["krippendorff_alpha"] == {"value": 0.5}


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("", "S"),
        ("Owner text.", "Owner text.\n\nS"),
        ("Owner.\n\nBEGIN\nedited by someone\nEND\nAfter.", "Owner.\n\nS\nAfter."),
        ("Owner.\n\nBEGIN\nend marker deleted", "Owner.\n\nS"),
        ("Owner.\n\n<!-- iaa-connector:begin -->\nold\n<!-- iaa-connector:end -->", "Owner.\n\nS"),
    ],
)
def test_description_section_is_restored_whole(description: str, expected: str) -> None:
    from connector.platforms.label_studio.adapter import BEGIN, END, merge_description

    section = f"{BEGIN}\nsummary\n{END}"
    given = description.replace("BEGIN", BEGIN).replace("END", END)
    assert merge_description(given, "summary") == expected.replace("S", section)
    assert "<!--" not in section
