"""Realized performance with bootstrap intervals, and the CBPE estimate and its limitation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from churn.evaluate.business import Economics, lift_at, profit_at_threshold
from churn.monitor.performance import (
    estimate_performance,
    expected_roc_auc,
    hanley_mcneil_se,
    percentile_bootstrap,
    realized_performance,
    roc_auc,
)

ECON = Economics(clv=200.0, offer_cost=10.0, contact_cost=1.0, acceptance_rate=0.3)
THRESHOLD = 0.164


def calibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and labels drawn from them: calibrated by construction."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 3.0, n)
    return (rng.random(n) < p).astype(int), p


def test_roc_auc_equals_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    score = np.round(rng.random(400) + 0.3 * y, 1)  # many ties
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score))
    assert math.isnan(roc_auc(np.zeros(5), np.arange(5)))


def test_hanley_mcneil_matches_the_field_notes():
    # AUC 0.84, 26.5% churners: about 0.032 / 0.023 / 0.016 for 250 / 500 / 1,000 customers.
    for n, expected in [(250, 0.032), (500, 0.023), (1000, 0.016)]:
        positives = round(0.265 * n)
        assert hanley_mcneil_se(0.84, positives, n - positives) == pytest.approx(expected, abs=5e-4)
    assert math.isnan(hanley_mcneil_se(0.8, 0, 10))


def test_bootstrap_intervals_contain_the_estimate_and_shrink_with_n():
    widths = {}
    for n in (250, 4000):
        y, p = calibrated(n, seed=n)
        report = realized_performance(y, p, THRESHOLD, ECON, n_boot=300, seed=1)
        for interval in (
            report.overall.roc_auc,
            report.overall.top_decile_lift,
            report.overall.profit_per_customer,
        ):
            assert interval.low <= interval.value <= interval.high
            assert interval.resamples == 300 and interval.undefined == 0
        widths[n] = report.overall.roc_auc.high - report.overall.roc_auc.low
        # The point estimates are the project's own business functions.
        overall = report.overall
        assert overall.profit_per_customer.value == profit_at_threshold(y, p, THRESHOLD, ECON)
        assert overall.top_decile_lift.value == lift_at(y, p, 0.1)
    # Width ~ 1/sqrt(n): 16 times the customers, about a quarter of the width.
    assert widths[4000] < 0.4 * widths[250]


def test_bootstrap_is_seeded():
    y, p = calibrated(300, seed=5)
    stats = {"auc": roc_auc}
    assert percentile_bootstrap(y, p, stats, n_boot=50, seed=3) == percentile_bootstrap(
        y, p, stats, n_boot=50, seed=3
    )
    assert percentile_bootstrap(y, p, stats, n_boot=50, seed=3) != percentile_bootstrap(
        y, p, stats, n_boot=50, seed=4
    )


def test_per_segment_metrics_and_a_segment_without_churners():
    y, p = calibrated(900, seed=2)
    segment = np.array(["Month-to-month", "One year", "Two year"] * 300)
    y[segment == "Two year"] = 0  # nobody leaves on a two-year contract
    report = realized_performance(
        y, p, THRESHOLD, ECON, segments=segment, segment_column="Contract", n_boot=100, seed=0
    )
    assert report.segment_column == "Contract"
    assert list(report.segments) == ["Month-to-month", "One year", "Two year"]
    assert sum(s.n for s in report.segments.values()) == 900
    two_year = report.segments["Two year"]
    assert two_year.churners == 0
    assert math.isnan(two_year.roc_auc.value) and two_year.roc_auc.undefined == 100
    assert math.isnan(two_year.top_decile_lift.value) and math.isnan(two_year.roc_auc_se)
    # Profit is defined without churners: every contact is a loss.
    assert two_year.profit_per_customer.value < 0
    assert not math.isnan(report.segments["One year"].roc_auc.low)


def test_cbpe_by_hand():
    p = np.array([0.9, 0.6, 0.2, 0.1])
    est = estimate_performance(p, 0.5, ECON)
    assert est.expected_true_positives == pytest.approx(1.5)
    assert est.expected_false_positives == pytest.approx(0.5)
    assert est.expected_false_negatives == pytest.approx(0.3)
    assert est.expected_true_negatives == pytest.approx(1.7)
    assert est.expected_precision == pytest.approx(0.75)
    assert est.expected_recall == pytest.approx(1.5 / 1.8)
    # (1.5 * (0.3 * 190 - 1) - 0.5 * 11) / 4
    assert est.expected_profit_per_customer == pytest.approx(19.625)
    # Expected AUC over pairs of distinct customers, by brute force.
    num = den = 0.0
    for i in range(4):
        for j in range(4):
            if i != j:
                w = p[i] * (1 - p[j])
                den += w
                num += w * ((p[i] > p[j]) + 0.5 * (p[i] == p[j]))
    assert est.expected_roc_auc == pytest.approx(num / den)
    assert expected_roc_auc(np.array([0.3, 0.3, 0.3])) == pytest.approx(0.5)


def test_cbpe_is_close_to_the_realized_values_on_calibrated_data():
    y, p = calibrated(20_000, seed=7)
    est = estimate_performance(p, THRESHOLD, ECON)
    real = realized_performance(y, p, THRESHOLD, ECON, n_boot=50, seed=0).overall
    assert est.expected_roc_auc == pytest.approx(real.roc_auc.value, abs=0.01)
    assert est.expected_churn_rate == pytest.approx(real.churn_rate, abs=0.01)
    assert est.expected_top_decile_lift == pytest.approx(real.top_decile_lift.value, rel=0.03)
    assert est.expected_profit_per_customer == pytest.approx(
        real.profit_per_customer.value, rel=0.05
    )
    contacted = p >= THRESHOLD
    assert est.expected_precision == pytest.approx(y[contacted].mean(), abs=0.01)
    assert est.expected_recall == pytest.approx(y[contacted].sum() / y.sum(), abs=0.01)


def test_cbpe_misses_concept_drift_that_the_labels_reveal():
    # Concept drift: the same customers, the same scores, but churn now barely depends on
    # them (a competitor's offer reaches everyone). The inputs did not move, so neither
    # did the estimate; only the realized metrics, once labels arrive, show the drop.
    rng = np.random.default_rng(8)
    _, p = calibrated(5000, seed=8)
    y = (rng.random(p.size) < 0.25 + 0.2 * p).astype(int)
    est = estimate_performance(p, THRESHOLD, ECON)
    real = realized_performance(y, p, THRESHOLD, ECON, n_boot=200, seed=0).overall
    assert est.expected_roc_auc > real.roc_auc.high + 0.1
    assert not real.roc_auc.low <= est.expected_roc_auc <= real.roc_auc.high
    # The campaign contacts customers whose churn the model overstates: profit falls too.
    assert est.expected_profit_per_customer > real.profit_per_customer.high + 1


def test_empty_inputs_give_nan_not_an_exception():
    est = estimate_performance(np.array([]), THRESHOLD, ECON)
    assert est.n == 0 and math.isnan(est.expected_roc_auc)
    report = realized_performance(np.array([]), np.array([]), THRESHOLD, ECON, n_boot=10)
    assert report.overall.n == 0 and math.isnan(report.overall.roc_auc.value)
    with pytest.raises(ValueError, match="3 labels for 2 probabilities"):
        realized_performance(np.ones(3), np.ones(2), THRESHOLD, ECON)


@pytest.mark.parametrize("n", [3, 57, 250])
def test_the_block_bootstrap_of_a_period_gives_the_one_by_one_intervals(n, monkeypatch):
    # realized_performance computes its intervals a block of resamples at a time; they must
    # equal percentile_bootstrap's, resample for resample (ties, tiny groups with one class).
    from churn.monitor import performance

    monkeypatch.setattr(performance, "_CHUNK_VALUES", 7 * n)  # several blocks
    rng = np.random.default_rng(n)
    p = np.round(rng.beta(1.2, 3.0, n), 2)
    y = (rng.random(n) < p).astype(int)
    report = realized_performance(y, p, THRESHOLD, ECON, n_boot=300, seed=5, level=0.9)
    expected = percentile_bootstrap(
        y,
        p,
        {
            "roc_auc": roc_auc,
            "lift": performance.top_decile_lift,
            "profit": lambda yy, pp: profit_at_threshold(yy, pp, THRESHOLD, ECON),
        },
        n_boot=300,
        seed=performance._group_seed(5, ""),
        level=0.9,
    )
    got = report.overall
    for name, interval in (
        ("roc_auc", got.roc_auc),
        ("lift", got.top_decile_lift),
        ("profit", got.profit_per_customer),
    ):
        want = expected[name]
        assert np.allclose(
            [interval.value, interval.low, interval.high],
            [want.value, want.low, want.high],
            rtol=1e-12,
            atol=1e-12,
            equal_nan=True,
        ), name
        assert (interval.resamples, interval.undefined) == (want.resamples, want.undefined)
