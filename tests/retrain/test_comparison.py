"""The paired bootstrap and the promotion rule: right answers, and checks that can fail."""

from __future__ import annotations

import numpy as np
import pytest

from churn.evaluate.business import Economics, profit_at_threshold
from churn.monitor.performance import roc_auc
from churn.retrain.comparison import compare, judge, paired_bootstrap, resample_indices

ECON = Economics(clv=200.0, offer_cost=10.0, contact_cost=1.0, acceptance_rate=0.3)
GATE_OK = ["pass: test ROC-AUC 0.85 >= 0.83 (gate.min_test_roc_auc)"]
GATE_FAIL = ["FAIL: test ROC-AUC 0.51 < 0.83 (gate.min_test_roc_auc)"]


def data(n: int, seed: int, signal_a: float, signal_b: float, shared: float = 1.0):
    """Outcomes and two scores: each model sees the signal, plus noise they partly share."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    common = rng.normal(size=n) * shared
    a = signal_a * y + common + rng.normal(size=n) * 0.5
    b = signal_b * y + common + rng.normal(size=n) * 0.5
    squash = lambda s: 1 / (1 + np.exp(-s))  # noqa: E731
    return y.astype(int), squash(a - 1), squash(b - 1)


def auc_pair():
    return {"auc": (roc_auc, roc_auc)}


def test_the_same_model_twice_differs_by_exactly_zero():
    y, a, _ = data(300, 0, 1.0, 1.0)
    result = paired_bootstrap(y, a, a, auc_pair(), n_boot=200, seed=1)["auc"]
    assert result.difference.value == result.difference.low == result.difference.high == 0.0
    assert result.a.low < result.a.value < result.a.high


def test_a_clearly_better_model_has_a_positive_lower_bound():
    y, a, b = data(400, 1, 0.3, 2.0)
    result = paired_bootstrap(y, a, b, auc_pair(), n_boot=300, seed=1)["auc"]
    assert result.difference.value > 0.1
    assert result.difference.low > 0


def test_pairing_makes_the_interval_narrower_than_two_independent_resamples():
    """Resampling the two models' rows independently (the mistake this guards against)
    gives a much wider interval when their errors are shared."""
    y, a, b = data(400, 2, 1.0, 1.3, shared=2.0)
    paired = paired_bootstrap(y, a, b, auc_pair(), n_boot=400, seed=3)["auc"].difference
    rng = np.random.default_rng(3)
    diffs = []
    for _ in range(400):
        i, j = rng.integers(0, y.size, y.size), rng.integers(0, y.size, y.size)
        diffs.append(roc_auc(y[j], b[j]) - roc_auc(y[i], a[i]))
    low, high = np.quantile(diffs, [0.025, 0.975])
    assert (paired.high - paired.low) < 0.6 * (high - low)


def test_under_no_difference_the_lower_bound_is_rarely_above_zero():
    """Two equally good models (different noise): a 95% interval's lower bound exceeds 0
    in about 2.5% of data sets. 120 data sets: at most 8 (p < 0.01 if the rate were 2.5%)."""
    above = 0
    for seed in range(120):
        y, a, b = data(200, 100 + seed, 1.0, 1.0)
        result = paired_bootstrap(y, a, b, auc_pair(), n_boot=200, seed=seed)["auc"]
        above += result.difference.low > 0
    assert above <= 8


def test_strata_keep_their_sizes_in_every_resample():
    strata = np.array(["test"] * 7 + ["2024-09"] * 3)
    rng = np.random.default_rng(0)
    for _ in range(50):
        idx = resample_indices(strata, rng)
        assert (strata[idx] == "test").sum() == 7 and (strata[idx] == "2024-09").sum() == 3


def test_resamples_with_one_class_only_are_dropped_and_counted():
    y = np.array([0] * 19 + [1])
    s = np.linspace(0, 1, 20)
    result = paired_bootstrap(y, s, s, auc_pair(), n_boot=200, seed=0)["auc"]
    assert 0 < result.a.undefined < 200
    assert result.a.resamples + result.a.undefined == 200


def test_the_same_seed_gives_the_same_interval():
    y, a, b = data(200, 5, 1.0, 1.2)
    one = paired_bootstrap(y, a, b, auc_pair(), n_boot=100, seed=[7, 1])["auc"]
    two = paired_bootstrap(y, a, b, auc_pair(), n_boot=100, seed=[7, 1])["auc"]
    assert one == two


def test_compare_uses_each_models_own_threshold_for_the_profit():
    y, a, b = data(300, 6, 1.5, 1.5)
    result = compare("rows", y, a, b, (0.2, 0.5), ECON, n_boot=100, seed=0)
    assert result.profit.a.value == pytest.approx(profit_at_threshold(y, a, 0.2, ECON))
    assert result.profit.b.value == pytest.approx(profit_at_threshold(y, b, 0.5, ECON))
    assert result.contacted_share == (np.mean(a >= 0.2), np.mean(b >= 0.5))


def test_the_rule_promotes_only_a_clear_profit_gain_with_the_gate_passed():
    y, a, b = data(600, 7, 0.2, 2.5)
    better = compare("the newest periods", y, a, b, (0.15, 0.15), ECON, n_boot=300, seed=0)
    assert better.profit.difference.low > 0
    ok = judge(better, 0.0, True, GATE_OK, "customer")
    assert ok.accepted and "above the tolerance 0" in ok.reasons[0]
    gated = judge(better, 0.0, False, GATE_FAIL, "customer")
    assert not gated.accepted and gated.reasons[-1].startswith("quality gate: FAILED")
    strict = judge(better, better.profit.difference.low + 0.01, True, GATE_OK, "customer")
    assert not strict.accepted and "not above the tolerance" in strict.reasons[0]
    same = compare("the newest periods", y, a, a, (0.15, 0.15), ECON, n_boot=100, seed=0)
    assert not judge(same, 0.0, True, GATE_OK, "customer").accepted
