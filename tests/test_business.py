"""The retention decision on hand-computed cases: profit, threshold, lift, gains, EMP."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from churn.evaluate.business import (
    Economics,
    best_threshold,
    cumulative_gains,
    decision_report,
    expected_maximum_profit,
    lift_at,
    profit_at_threshold,
    profit_curve,
    profit_per_customer,
    threshold_grid,
)

ECON = Economics(clv=200.0, offer_cost=10.0, contact_cost=1.0, acceptance_rate=0.3)


def test_break_even_threshold_matches_the_field_notes():
    # (d + f) / (gamma * (CLV - d) + d) = 11 / 67
    assert ECON.break_even_threshold == pytest.approx(11 / 67)
    assert round(ECON.break_even_threshold, 3) == 0.164


def test_profit_per_customer_by_hand():
    # Contact 2 churners and 1 loyal customer out of 5:
    # 2 * (0.3 * 190 - 1) - 1 * 11 = 112 - 11 = 101, over 5 customers = 20.2
    y = np.array([1, 1, 0, 0, 1])
    contacted = np.array([1, 1, 1, 0, 0])
    assert profit_per_customer(y, contacted, ECON) == pytest.approx(20.2)
    assert profit_per_customer(y, np.zeros(5), ECON) == 0.0


def test_threshold_choice_by_hand():
    y = np.array([1, 0, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.3, 0.2, 0.05])
    grid = np.array([0.0, 0.25, 0.5, 0.85, 0.95])
    # t=0: 2*56 - 3*11 = 79 -> 15.8; t=0.25: 112 - 11 = 101 -> 20.2;
    # t=0.5: 56 - 11 = 45 -> 9; t=0.85: 56 -> 11.2; t=0.95: 0
    assert [profit_at_threshold(y, p, t, ECON) for t in grid] == pytest.approx(
        [15.8, 20.2, 9.0, 11.2, 0.0]
    )
    assert best_threshold(y, p, grid, ECON) == (0.25, pytest.approx(20.2))
    curve = profit_curve(y, p, grid, ECON)
    assert curve[1] == {"threshold": 0.25, "profit_per_customer": 20.2, "contacted_share": 0.6}


def test_ties_choose_the_lowest_threshold():
    y = np.array([1, 0])
    p = np.array([0.9, 0.1])
    assert best_threshold(y, p, np.array([0.2, 0.5, 0.8]), ECON)[0] == 0.2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_curve_and_the_best_threshold_are_those_of_each_threshold_alone(dtype):
    # One sort per class instead of a pass per threshold: the same counts, so the same
    # bits, with scores tied on the grid's values and between rows, and a missing score.
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 5_000)
    p = np.round(rng.random(5_000), 2).astype(dtype)
    p[:50] = 0.35
    p[50] = np.nan
    grid = threshold_grid(0.01)
    expected = [profit_at_threshold(y, p, t, ECON) for t in grid]
    curve = profit_curve(y, p, grid, ECON)
    assert [row["profit_per_customer"] for row in curve] == [round(v, 6) for v in expected]
    assert [row["contacted_share"] for row in curve] == [
        round(float(np.mean(p >= t)), 6) for t in grid
    ]
    i = int(np.argmax(expected))
    assert best_threshold(y, p, grid, ECON) == (float(grid[i]), expected[i])


def test_threshold_grid_is_rounded_and_below_one():
    grid = threshold_grid(0.1)
    assert grid.tolist() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def test_top_decile_lift_by_hand():
    # 20 customers, 5 churners (rate 0.25); the top 2 by score are both churners: lift 4.
    y = np.zeros(20, dtype=int)
    y[[0, 3, 7, 12, 19]] = 1
    score = np.linspace(0.0, 1.0, 20)
    score[[0, 3]] = [2.0, 1.5]
    assert lift_at(y, score, 0.1) == pytest.approx(4.0)
    # A random ranking is worth lift 1 in expectation; a perfect one 1 / rate.
    assert lift_at(y, y, 0.25) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="no churners"):
        lift_at(np.zeros(10), np.arange(10))


def test_cumulative_gains_by_hand():
    y = np.array([1, 0, 1, 0])
    score = np.array([0.9, 0.8, 0.7, 0.1])
    rows = cumulative_gains(y, score, points=4)
    assert [r["churners_caught"] for r in rows] == [0.5, 0.5, 1.0, 1.0]
    assert [r["lift"] for r in rows] == [2.0, 1.0, pytest.approx(4 / 3, abs=1e-6), 1.0]


# EMP, hand-computed. Contacting the top k gives a per-customer profit linear in gamma.
# Case A: y=[1, 0], the churner ranked first. Lines: nobody 0; top 1: (190 g - 1) / 2;
# everyone: (190 g - 1) / 2 - 5.5. Envelope: 0 below g = 1/190, then (190 g - 1) / 2.
# With g ~ Uniform(0, 1) = Beta(1, 1):
#   EMP = 1/2 * [95 g^2 - g] from 1/190 to 1 = 1/2 * (94 + 1/380) = 47.00131579
# and the expected share contacted is 1/2 * P(g > 1/190) = 1/2 * 189/190.
def test_emp_hand_computed_uniform():
    emp = expected_maximum_profit([1, 0], [0.9, 0.1], ECON, 1.0, 1.0)
    assert emp.emp == pytest.approx(0.5 * (94 + 1 / 380), rel=1e-12)
    assert emp.contacted_share == pytest.approx(0.5 * 189 / 190, rel=1e-12)


# Case B: the ranking is wrong, y=[0, 1]. Lines: nobody 0; top 1: -5.5;
# everyone: 95 g - 6. Envelope: 0 below g = 6/95, then 95 g - 6.
#   EMP = [47.5 g^2 - 6 g] from 6/95 to 1 = 41.5 + 18/95 = 41.68947368
def test_emp_hand_computed_bad_ranking():
    emp = expected_maximum_profit([0, 1], [0.9, 0.1], ECON, 1.0, 1.0)
    assert emp.emp == pytest.approx(41.5 + 18 / 95, rel=1e-12)
    assert emp.contacted_share == pytest.approx(1 - 6 / 95, rel=1e-12)


def test_emp_with_the_papers_beta_prior():
    # Case A with Beta(6, 14): the break-even 1/190 has prior mass ~1e-11, so
    # EMP = 1/2 * (190 * E[g] - 1) = 1/2 * (190 * 0.3 - 1) = 28.
    emp = expected_maximum_profit([1, 0], [0.9, 0.1], ECON, 6.0, 14.0)
    assert emp.emp == pytest.approx(28.0, abs=1e-9)


def test_emp_matches_brute_force_quadrature():
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.27
    score = np.round(y * 0.3 + rng.random(400), 2)  # rounding makes ties
    gamma = np.linspace(0.0, 1.0, 100_001)
    weight = stats.beta(6, 14).pdf(gamma)
    # All cutoffs between distinct scores: contact everyone with score >= s.
    cutoffs = np.unique(score)
    churners = np.array([np.sum(y & (score >= s)) for s in cutoffs] + [0])
    loyal = np.array([np.sum(~y & (score >= s)) for s in cutoffs] + [0])
    lines = (np.outer(gamma, churners * 190.0) - (churners * 1.0 + loyal * 11.0)) / y.size
    brute = np.trapezoid(lines.max(axis=1) * weight, gamma)
    assert expected_maximum_profit(y, score, ECON, 6.0, 14.0).emp == pytest.approx(brute, rel=1e-6)


def test_emp_is_at_least_profit_of_any_fixed_policy_in_expectation():
    # With a constant gamma prior the EMP cannot be below the best fixed cutoff's profit.
    rng = np.random.default_rng(1)
    y = rng.random(300) < 0.3
    score = y * 0.5 + rng.random(300)
    emp = expected_maximum_profit(y, score, ECON, 6.0, 14.0).emp
    best = max(profit_at_threshold(y, score, t, ECON) for t in np.unique(score))
    assert emp >= best - 1e-9


def test_decision_report_keys_and_values():
    y = np.array([1, 0, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.3, 0.2, 0.05])
    report = decision_report(y, p, 0.25, 0.5, ECON, 6.0, 14.0)
    assert report["profit_tuned_threshold"] == pytest.approx(20.2)
    assert report["profit_default_threshold"] == pytest.approx(9.0)
    assert report["profit_contact_all"] == pytest.approx(15.8)
    assert report["contacted_share_tuned_threshold"] == pytest.approx(0.6)
    assert report["top_decile_lift"] == pytest.approx(2.5)  # top 1 of 5 is a churner, rate 0.4


def test_lift_counts_ties_at_the_cutoff_by_their_churn_rate():
    # Top 10% of 10 = 1 customer, but the 4 highest share one score (a tree leaf) and
    # half of them churn: expected 0.5 churners in the top 1, over a base rate of 0.3.
    y = np.array([1, 0, 0, 1, 1, 0, 0, 0, 0, 0])
    score = np.array([0.8, 0.8, 0.8, 0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    assert lift_at(y, score, 0.1) == pytest.approx(0.5 / 0.3)
    assert lift_at(y[::-1], score[::-1], 0.1) == pytest.approx(0.5 / 0.3)  # order-free
