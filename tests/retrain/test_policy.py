"""The retraining policy: which periods count, and each rule firing (or not) for its reason."""

from __future__ import annotations

import pytest

from churn.retrain.policy import Champion, Period, decide
from churn.retrain.settings import PolicyParams

MD5 = "a" * 32
OTHER = "b" * 32
CHAMPION = Champion(md5=MD5, name="v1.0.0", seen_through=None)


def period(label: str, verdict: str, labelled: int = 300, version: str = MD5) -> Period:
    return Period(label, verdict, labelled, f"{version}@0123456789ab", (f"below: {verdict}",))


def test_the_monitors_retrain_verdict_in_the_newest_labelled_period_retrains():
    periods = [
        period("2024-03", "ok"),
        period("2024-04", "investigate"),
        period("2024-05", "retrain"),
    ]
    decision = decide(periods, CHAMPION, PolicyParams())
    assert decision.retrain
    assert decision.reasons[0].startswith("verdict: the monitor says retrain")
    assert "2024-05 retrain" in decision.reasons[0]


def test_an_older_retrain_verdict_followed_by_an_ok_period_does_not():
    periods = [period("2024-03", "retrain"), period("2024-04", "ok")]
    decision = decide(periods, CHAMPION, PolicyParams())
    assert not decision.retrain
    assert "not retrain in each of the newest 1" in decision.reasons[0]


def test_k_periods_must_all_say_retrain():
    params = PolicyParams(retrain_periods=2)
    assert not decide(
        [period("2024-03", "ok"), period("2024-04", "retrain")], CHAMPION, params
    ).retrain
    assert decide(
        [period("2024-03", "retrain"), period("2024-04", "retrain")], CHAMPION, params
    ).retrain
    few = decide([period("2024-04", "retrain")], CHAMPION, params)
    assert not few.retrain and "fewer than the 2 the rule needs" in few.reasons[0]


def test_periods_without_outcomes_are_skipped_not_counted_as_ok():
    periods = [period("2024-03", "retrain"), period("2024-04", "ok", labelled=0)]
    assert decide(periods, CHAMPION, PolicyParams()).retrain


def test_only_periods_the_model_in_service_scored_count():
    periods = [period("2024-03", "retrain", version=OTHER)]
    decision = decide(periods, CHAMPION, PolicyParams())
    assert not decision.retrain
    assert "0 labelled period(s) scored by v1.0.0" in decision.reasons[0]


def test_periods_the_model_has_seen_do_not_count_again():
    promoted = Champion(md5=MD5, name="v1.1.0", seen_through="2024-05")
    periods = [period("2024-04", "retrain"), period("2024-05", "retrain"), period("2024-06", "ok")]
    decision = decide(periods, promoted, PolicyParams())
    assert not decision.retrain
    assert decision.new_periods == ("2024-06",)
    assert decision.new_labelled == 300


def test_the_schedule_fires_after_enough_periods():
    periods = [period(f"2024-0{m}", "ok") for m in (3, 4, 5)]
    assert not decide(periods, CHAMPION, PolicyParams(schedule_periods=4)).retrain
    decision = decide(periods, CHAMPION, PolicyParams(schedule_periods=3))
    assert decision.retrain
    assert decision.reasons == [
        "schedule: 3 period(s) since the periods v1.0.0 has seen, at least "
        "retrain.policy.schedule_periods (3)"
    ]


def test_enough_new_labels_fire():
    periods = [period("2024-03", "ok", labelled=400), period("2024-04", "ok", labelled=0)]
    assert not decide(periods, CHAMPION, PolicyParams(min_new_labelled=401)).retrain
    decision = decide(periods, CHAMPION, PolicyParams(min_new_labelled=400))
    assert decision.retrain and decision.reasons[0].startswith("new labels: 400 labelled row(s)")


def test_no_periods_at_all_is_no_retraining_with_a_reason():
    decision = decide([], CHAMPION, PolicyParams())
    assert not decision.retrain and decision.reasons


def test_from_verdict_takes_the_version_that_scored_most_rows():
    entry = {
        "period": "2024-05",
        "verdict": "retrain",
        "labelled": 250,
        "model_versions": {f"{OTHER}@1": 10, f"{MD5}@2": 240},
        "reasons": ["x"],
    }
    parsed = Period.from_verdict(entry)
    assert parsed.model_version == f"{MD5}@2" and parsed.labelled == 250


@pytest.mark.parametrize("bad", [{"retrain_periods": 0}, {"schedule_periods": 0}, {"oops": 1}])
def test_invalid_policy_params_are_refused(bad):
    with pytest.raises(ValueError):
        PolicyParams(**bad)
