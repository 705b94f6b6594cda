"""Outbound alerts: once per cause, re-arming, the rate limit, the payload, failures, secrets."""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import requests

from connector.alerts import (
    Alert,
    Alerter,
    alerts_for,
    alpha_alerts,
    redact_url,
    scrub,
    slack_payload,
    sync_failing_alert,
)
from connector.quality.lifecycle import (
    AnnotatorEvidence,
    StatusState,
    Transition,
    assign_retraining_batch,
    decide,
)
from connector.quality.streams import Stream
from connector.rubric import load_rubric

RUBRIC = load_rubric("rubrics/rlhf-pairwise/v2.yaml")
SECRET_PATH = "/services/T0ABCDEF1/B0ABCDEF2/q1w2e3r4t5y6u7i8o9p0AbCd"
URL = f"https://hooks.slack.com{SECRET_PATH}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Response:
    status_code: int = 200
    text: str = "ok"


@dataclass
class Post:
    """Records posts; answers with `response` or raises `error`."""

    response: Response = field(default_factory=Response)
    error: Exception | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, url: str, *, json: Any, timeout: float) -> Response:
        self.calls.append({"url": url, "json": json, "timeout": timeout})
        if self.error is not None:
            raise self.error
        return self.response


def alert(key: str = "p:ann:probation", project: str = "p", **kwargs: Any) -> Alert:
    base: dict[str, Any] = {
        "cause_key": key,
        "kind": "transition",
        "project": project,
        "text": f"{project}: annotator ann qualified → probation.",
        "fields": {"Gold": "30/40"},
    }
    return Alert(**{**base, **kwargs})


def alerter(post: Post, clock: Clock | None = None, **kwargs: Any) -> Alerter:
    return Alerter(URL, min_interval_s=0.0, clock=clock or Clock(), post=post, **kwargs)


# --- once per cause --------------------------------------------------------------------------


def test_once_per_cause() -> None:
    post = Post()
    sender = alerter(post)
    assert sender.send([alert()]) == [alert()]
    assert sender.send([alert()]) == []
    assert sender.send([alert(), alert()]) == []
    assert len(post.calls) == 1
    assert post.calls[0]["url"] == URL
    assert sender.fired == frozenset({"p:ann:probation"})


def test_re_armed_when_the_cause_clears() -> None:
    post = Post()
    sender = alerter(post)
    below = alert("p:overall:alpha_below", kind="alpha_below_target", text="alpha low")
    assert sender.resolve([below], project="p") == [below]
    assert sender.resolve([below], project="p") == []  # still below: quiet
    assert sender.resolve([], project="p") == []  # alpha back above target: cleared
    assert sender.fired == frozenset()
    assert sender.resolve([below], project="p") == [below]  # below again: alert again
    assert len(post.calls) == 2


def test_resolve_clears_only_its_project_and_kinds() -> None:
    sender = alerter(Post())
    other = alert("q:ann:probation", project="q")
    failing = sync_failing_alert("p", "platform down")
    sender.send([alert(), other, failing])
    sender.resolve([], project="p", kinds=["sync_failing"])  # the sync succeeded again
    assert sender.fired == frozenset({"p:ann:probation", "q:ann:probation"})
    sender.resolve([], project="p")
    assert sender.fired == frozenset({"q:ann:probation"})
    sender.clear("q:ann:probation")
    assert sender.fired == frozenset()


# --- rate limit ------------------------------------------------------------------------------


def test_token_bucket_with_injected_clock(caplog: pytest.LogCaptureFixture) -> None:
    post, clock = Post(), Clock()
    sender = Alerter(URL, min_interval_s=60.0, burst=2, clock=clock, post=post)
    a, b, c = (alert(f"p:{n}:probation") for n in ("a", "b", "c"))
    with caplog.at_level(logging.INFO, logger="connector.alerts"):
        assert sender.send([a, b, c]) == [a, b]
    assert "held back by the rate limit" in caplog.records[-1].getMessage()
    clock.now += 30.0
    assert sender.send([c]) == []  # half a token
    clock.now += 30.0
    assert sender.send([c]) == [c]  # held back, not lost: sent once a token is back
    clock.now += 3600.0
    d, e, f = (alert(f"p:{n}:probation") for n in ("d", "e", "f"))
    assert sender.send([d, e, f]) == [d, e]  # the bucket holds at most `burst` tokens
    assert len(post.calls) == 5


def test_no_limit_with_zero_interval() -> None:
    sender = alerter(Post())
    assert len(sender.send([alert(f"p:{n}:x") for n in range(50)])) == 50


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_interval_s": -1.0}, "min_interval_s must be a finite number ≥ 0; got -1.0"),
        ({"min_interval_s": 1.0, "burst": 0}, "burst must be at least 1; got 0"),
    ],
)
def test_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Alerter(URL, **kwargs)


# --- payload -----------------------------------------------------------------------------------


def test_slack_payload_shape() -> None:
    payload = slack_payload(alert(text="p: a <b> & c", fields={"Gold": "19/20", "Rubric": "x@v2"}))
    assert set(payload) == {"text", "blocks"}
    assert payload["text"] == "p: a &lt;b&gt; &amp; c"
    section, fields, context = payload["blocks"]
    assert section == {"type": "section", "text": {"type": "mrkdwn", "text": payload["text"]}}
    assert fields == {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": "*Gold*\n19/20"},
            {"type": "mrkdwn", "text": "*Rubric*\nx@v2"},
        ],
    }
    assert context["type"] == "context"
    assert context["elements"][0]["text"] == "iaa-connector · p · transition"
    json.dumps(payload)


def test_payload_is_posted() -> None:
    post = Post()
    alerter(post).send([alert()])
    assert post.calls[0]["json"] == slack_payload(alert())
    assert post.calls[0]["timeout"] == 10.0


def test_long_text_and_many_fields_are_clipped() -> None:
    payload = slack_payload(alert(text="x" * 5000, fields={str(k): "v" for k in range(15)}))
    assert len(payload["blocks"][0]["text"]["text"]) <= 3000
    assert len(payload["blocks"][1]["fields"]) == 10


def test_alert_validation() -> None:
    with pytest.raises(ValueError, match="alert kind 'page' is not one of transition"):
        alert(kind="page")
    with pytest.raises(ValueError, match="non-empty cause_key"):
        alert(key="")


# --- failures and secrets ------------------------------------------------------------------


def test_delivery_failure_is_logged_without_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    error = requests.ConnectionError(
        f"HTTPSConnectionPool(host='hooks.slack.com', port=443): Max retries exceeded with "
        f"url: {SECRET_PATH} (Caused by NewConnectionError('refused'))"
    )
    post = Post(error=error)
    sender = alerter(post)
    with caplog.at_level(logging.INFO, logger="connector.alerts"):
        assert sender.send([alert()]) == []  # no exception reaches the caller
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "alert not delivered to https://hooks.slack.com/<redacted>" in message
    assert "ConnectionError" in message
    assert "T0ABCDEF1" not in caplog.text
    assert SECRET_PATH not in caplog.text
    assert "q1w2e3r4" not in caplog.text
    # not delivered, so not fired: the next report of the cause tries again
    post.error = None
    assert sender.send([alert()]) == [alert()]


def test_http_error_is_logged_and_swallowed(caplog: pytest.LogCaptureFixture) -> None:
    post = Post(response=Response(status_code=404, text=f"no_service {URL}"))
    with caplog.at_level(logging.INFO, logger="connector.alerts"):
        assert alerter(post).send([alert()]) == []
    assert "HTTP 404 no_service" in caplog.text
    assert SECRET_PATH not in caplog.text


def test_unexpected_errors_are_swallowed_too(caplog: pytest.LogCaptureFixture) -> None:
    post = Post(error=RuntimeError("boom"))
    with caplog.at_level(logging.INFO, logger="connector.alerts"):
        assert alerter(post).send([alert()]) == []
    assert "RuntimeError: boom" in caplog.text


def test_one_log_line_per_alert(caplog: pytest.LogCaptureFixture) -> None:
    sender = alerter(Post())
    with caplog.at_level(logging.INFO, logger="connector.alerts"):
        sender.send([alert("p:a:x"), alert("p:b:x"), alert("p:a:x")])
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "alert sent to https",
        "alert sent to https",
    ]
    assert all(SECRET_PATH not in r.getMessage() for r in caplog.records)


def test_without_a_webhook_alerts_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    sender = Alerter(None, min_interval_s=0.0)
    assert sender.target == "log only"
    with caplog.at_level(logging.INFO, logger="connector.alerts"):
        assert sender.send([alert()]) == [alert()]
    assert caplog.records[0].getMessage() == (
        "alert: [transition] p:ann:probation: p: annotator ann qualified → probation."
    )


def test_redact_url() -> None:
    assert redact_url(URL) == "https://hooks.slack.com/<redacted>"
    assert redact_url("https://user:pw@example.com:8443/x?token=1") == (
        "https://example.com/<redacted>"
    )
    assert redact_url("not a url") == "<redacted url>"


def test_scrub_removes_tokens() -> None:
    text = (
        f"see {URL} and xoxb-1234-5678-abcdef, GET /api/tasks?token=abc123&page=2, "
        "header Authorization: Token 0123456789abcdef0123"
    )
    clean = scrub(text)
    for secret in (SECRET_PATH, "xoxb-1234", "abc123", "0123456789abcdef0123"):
        assert secret not in clean
    assert "token=<redacted>&page=2" in clean
    assert "Token <redacted>" in clean


def test_sync_failing_alert_text_has_no_token() -> None:
    error = RuntimeError(
        "GET http://ls:8080/api/projects/3/export?access_token=s3cr3t failed; "
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig"
    )
    failing = sync_failing_alert("p", error)
    assert failing.cause_key == "p:sync_failing"
    assert failing.kind == "sync_failing"
    assert "s3cr3t" not in failing.text
    assert "eyJhbGci" not in failing.text
    assert failing.text.startswith("p: sync is failing: RuntimeError: GET http://ls:8080/api/")


# --- alerts from a report and transitions --------------------------------------------------


def history(bits: list[int], annotator: str = "ann") -> AnnotatorEvidence:
    n = len(bits)
    return AnnotatorEvidence(
        annotator=annotator,
        gold=Stream(
            annotator=annotator,
            successes=np.array(bits, dtype=np.int8),
            item_id=np.array([f"i{k}" for k in range(n)], dtype=object),
            dimension=np.array(["overall"] * n, dtype=object),
            batch=np.array([None] * n, dtype=object),
            submitted_at=np.arange(n).astype("datetime64[s]").astype("datetime64[ns]"),
        ),
    )


def transitions() -> list[Transition]:
    qualified = StatusState(annotator="ann", status="qualified", since=20)
    probation = decide(history([1] * 50 + [0] * 7), qualified, RUBRIC)
    first_seen = decide(history([1] * 3, "newbie"), None, RUBRIC)
    retraining = StatusState(annotator="old", status="retraining", episodes=1)
    assigned = assign_retraining_batch(history([0] * 20, "old"), retraining, RUBRIC, batch_id="b")
    assert probation is not None
    assert first_seen is not None
    return [probation, first_seen, assigned]


def report() -> dict[str, Any]:
    return {
        "source": {"path": f"label-studio:3?token=abc {URL}"},
        "dimensions": {
            "overall": {
                "krippendorff_alpha": {"value": 0.61, "ci95": [0.55, 0.67]},
                "target_alpha": 0.8,
                "n_items": 80,
            },
            "helpfulness": {
                "krippendorff_alpha": {"value": 0.85, "ci95": [0.8, 0.9]},
                "target_alpha": 0.8,
            },
            "harmlessness": {"krippendorff_alpha": {"value": None, "ci95": None}},
        },
    }


def test_alerts_for_report_and_transitions() -> None:
    alerts = alerts_for(report(), transitions(), RUBRIC, "proj")
    assert [(a.kind, a.cause_key) for a in alerts] == [
        ("transition", "proj:ann:probation"),
        ("alpha_below_target", "proj:overall:alpha_below"),
    ]
    probation, alpha = alerts
    assert probation.text.startswith(
        "proj: annotator ann qualified → probation. gold drift alarm on overall: the CUSUM "
        "reached 2.01"
    )
    assert probation.fields["Decided by"] == "overall"
    # Wilson 30/37 at z = 1.645 by hand: centre (0.8108 + z²/74) / (1 + z²/37) = 0.7896,
    # half-width z·sqrt(0.8108·0.1892/37 + z²/5476) / (1 + z²/37) = 0.1044
    assert probation.fields["Gold on overall"] == (
        "30/37 right (81.1%), Wilson [68.5%, 89.4%], CUSUM 2.01 (h = 1.84) — alarm"
    )
    assert probation.fields["Gold"] == "30/37 right (81.1%), since qualified"
    assert probation.fields["Gold drift (CUSUM)"] == "2.01 (h = 1.84) — alarm"
    assert probation.fields["Rubric"] == RUBRIC.ref
    assert alpha.text == ("proj: Krippendorff's alpha on overall is 0.610, below the target 0.80.")
    assert alpha.fields["Alpha"] == "0.610 [0.550, 0.670]"


def test_no_alert_text_contains_a_token() -> None:
    alerts = [*alerts_for(report(), transitions(), RUBRIC, "proj"), sync_failing_alert("proj", URL)]
    for each in alerts:
        shown = json.dumps(slack_payload(each)) + each.text + json.dumps(dict(each.fields))
        assert SECRET_PATH not in shown
        assert "q1w2e3r4" not in shown
        assert "token=abc" not in shown


def test_end_to_end_once_per_transition_cause() -> None:
    post = Post()
    sender = alerter(post)
    alerts = alerts_for(report(), transitions(), RUBRIC, "proj")
    assert len(sender.resolve(alerts, project="proj")) == 2
    # next sync: no new transition, alpha still below → nothing; the transition cause clears
    again = alerts_for(report(), [], RUBRIC, "proj")
    assert sender.resolve(again, project="proj") == []
    assert sender.fired == frozenset({"proj:overall:alpha_below"})
    assert len(post.calls) == 2


@pytest.mark.parametrize(
    "name", ["connector.alerts", "connector.quality.streams", "connector.quality.lifecycle"]
)
def test_public_names_are_complete_and_sorted(name: str) -> None:
    module = importlib.import_module(name)
    defined = {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_") and getattr(obj, "__module__", None) == name
    }
    assert defined <= set(module.__all__)
    assert all(hasattr(module, n) for n in module.__all__)
    order = sorted(module.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert module.__all__ == order


def test_no_alpha_alert_while_the_interval_still_reaches_the_target() -> None:
    """The alert fires on the renderers' rule (report.target_verdict): an alpha below target
    whose 95% interval reaches the target is not yet surely below."""
    unsure = {
        "dimensions": {
            "overall": {
                "krippendorff_alpha": {"value": 0.74, "ci95": [0.61, 0.86]},
                "target_alpha": 0.8,
            }
        }
    }
    assert alpha_alerts(unsure, RUBRIC, "proj") == []
    unsure["dimensions"]["overall"]["krippendorff_alpha"]["ci95"] = [0.61, 0.79]
    assert [a.cause_key for a in alpha_alerts(unsure, RUBRIC, "proj")] == [
        "proj:overall:alpha_below"
    ]
