"""Calibrated drift alarms: the vectorized statistics, the false-alarm rate, detection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from churn.monitor.alarms import (
    ThresholdCache,
    calibrate,
    chi2_from_counts,
    column_alarms,
    js_distance_from_counts,
    ks_pvalue,
    ks_wasserstein_from_counts,
)
from churn.monitor.drift import fit_reference, period_drift
from tests.monitor.telco import CATEGORICAL, NUMERIC, toy_score


@pytest.fixture(scope="module")
def profile(telco):
    return fit_reference(
        telco.reference, NUMERIC, CATEGORICAL, score=toy_score(telco.score_reference)
    )


@pytest.fixture(scope="module")
def cache(profile):
    return ThresholdCache(profile, repeats=1000, seed=0, target=0.05, alpha=0.05)


def shifted(period: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """+20 percentage points of month-to-month contracts and +10% monthly charges."""
    out = period.reset_index(drop=True).copy()
    out["MonthlyCharges"] = (out["MonthlyCharges"] * 1.1).round(2)
    others = np.flatnonzero(out["Contract"].to_numpy() != "Month-to-month")
    switch = rng.choice(others, size=round(0.2 * len(out)), replace=False)
    out.loc[switch, "Contract"] = "Month-to-month"
    return out


def test_vectorized_statistics_equal_scipy():
    rng = np.random.default_rng(3)
    grid = np.array([0.0, 1.0, 2.5, 4.0, 7.0, 7.5])
    a = rng.integers(0, 30, size=(5, grid.size))
    b = rng.integers(0, 300, size=(5, grid.size))
    d, w1 = ks_wasserstein_from_counts(grid, a, b)
    p = ks_pvalue(d, a.sum(axis=1), b.sum(axis=1))
    js = js_distance_from_counts(b, a)
    chi2, chi2_p = chi2_from_counts(b, a)
    for r in range(5):
        xa, xb = np.repeat(grid, a[r]), np.repeat(grid, b[r])
        ks = stats.ks_2samp(xb, xa, method="asymp")
        assert d[r] == pytest.approx(ks.statistic)
        assert p[r] == pytest.approx(ks.pvalue)
        assert w1[r] == pytest.approx(stats.wasserstein_distance(xb, xa))
        assert js[r] == pytest.approx(jensenshannon(b[r] / b[r].sum(), a[r] / a[r].sum(), base=2))
        test = stats.chi2_contingency(np.vstack([b[r], a[r]]), correction=False)
        assert chi2[r] == pytest.approx(test.statistic)
        assert chi2_p[r] == pytest.approx(test.pvalue)


def test_calibration_meets_the_target_on_its_resamples(cache):
    th = cache(250)
    assert set(th.thresholds) == {*NUMERIC, *CATEGORICAL, "score"}
    # Effect thresholds alone: at most the target, and not far below (the level is tight).
    assert 0.035 <= th.false_alarm_rate_effect <= 0.05
    assert th.false_alarm_rate_rule <= th.false_alarm_rate_effect
    assert th.false_alarm_rate_rule <= th.false_alarm_rate_tests
    # The contrast the calibration exists for: plain p < 0.05 on 20 columns.
    assert th.false_alarm_rate_uncorrected > 0.3
    # A common tail level near 1 - target / columns.
    assert 0.99 < th.level < 1


def test_thresholds_shrink_with_the_period_and_small_references_are_capped(cache):
    small, large = cache(250), cache(1000)
    assert all(large.thresholds[c] < small.thresholds[c] for c in small.thresholds)
    # The score's reference has 1,056 rows: 1,000-row periods are resampled at half of it.
    assert large.calibrated_at["score"] == 528
    assert large.calibrated_at["tenure"] == 1000
    assert cache(250) is small  # calibrated once per size


def test_calibration_is_seeded_by_seed_and_size(profile):
    first = calibrate(profile, 300, repeats=800, seed=7)
    again = calibrate(profile, 300, repeats=800, seed=7)
    other = calibrate(profile, 300, repeats=800, seed=8)
    assert first.thresholds == again.thresholds
    assert first.thresholds != other.thresholds


def test_too_few_resamples_for_a_tail_quantile_is_refused(profile):
    # 20 columns at 5%: 200 resamples cannot place a threshold below each column's maximum.
    with pytest.raises(ValueError, match="repeats=200 is too few for 20 columns"):
        calibrate(profile, 300, repeats=200, seed=7)


def test_no_drift_periods_rarely_alarm(telco, profile, cache):
    th = cache(250)
    rng = np.random.default_rng(11)
    rule = uncorrected = 0
    periods = 100
    for _ in range(periods):
        period = telco.held_out.iloc[rng.choice(len(telco.held_out), 250, replace=False)]
        drift = period_drift(profile, period, score=toy_score(period))
        rule += any(a.drifted for a in column_alarms(drift, th))
        uncorrected += any(c.p_value < 0.05 for c in drift.columns)
    # Held-out rows, never resampled by the calibration: the rule stays near its target
    # while plain p < 0.05 alarms on about half of the periods.
    assert rule / periods <= 0.10
    assert uncorrected / periods >= 0.3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_injected_shift_flags_exactly_the_shifted_columns(telco, profile, cache, seed):
    rng = np.random.default_rng(seed)
    period = shifted(telco.held_out.iloc[rng.choice(len(telco.held_out), 500, replace=False)], rng)
    drift = period_drift(profile, period, score=toy_score(period))
    alarms = column_alarms(drift, cache(500))
    flagged = {a.column for a in alarms if a.drifted}
    # The score depends on both shifted columns, so it moves with them.
    assert flagged == {"Contract", "MonthlyCharges", "score"}
    contract = next(a for a in alarms if a.column == "Contract")
    assert contract.reason.startswith("drift: PSI") and "chi-square" in contract.reason


def test_degenerate_periods_are_not_assessed_and_sizes_must_match(telco, profile, cache):
    empty = telco.held_out.iloc[:0]
    alarms = column_alarms(period_drift(profile, empty, score=np.zeros(0)), cache(250))
    assert not any(a.drifted for a in alarms)
    assert all(a.reason == "not assessed: empty period: no drift statistics" for a in alarms)
    period = telco.held_out.iloc[:100]
    with pytest.raises(ValueError, match="calibrated for 250-row periods"):
        column_alarms(period_drift(profile, period, score=toy_score(period)), cache(250))


def test_effect_only_rule_reports_what_it_skipped(telco, profile, cache):
    period = telco.held_out.iloc[:250].copy()
    period["TotalCharges"] = np.nan  # a data-quality incident: no KS, but a PSI
    drift = period_drift(profile, period, score=toy_score(period))
    both = {a.column: a for a in column_alarms(drift, cache(250))}
    effect_only = {a.column: a for a in column_alarms(drift, cache(250), require_test=False)}
    assert not both["TotalCharges"].drifted
    assert both["TotalCharges"].reason.startswith("not assessed: no non-missing value")
    assert effect_only["TotalCharges"].drifted
    assert "(not required)" in effect_only["TotalCharges"].reason
