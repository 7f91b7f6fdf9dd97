"""Per-column drift statistics on hand-made data, degenerate inputs, and Telco."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from churn.monitor.drift import (
    MISSING,
    PSI_EPSILON,
    adjust_p_values,
    categorical_drift,
    decile_edges,
    fit_categorical_reference,
    fit_numeric_reference,
    fit_reference,
    numeric_drift,
    period_drift,
    psi,
)
from tests.monitor.telco import CATEGORICAL, NUMERIC, toy_score


def psi_by_hand(ref_shares, cur_shares):
    total = 0.0
    for r, c in zip(ref_shares, cur_shares, strict=True):
        r, c = max(r, PSI_EPSILON), max(c, PSI_EPSILON)
        total += (c - r) * math.log(c / r)
    return total


def test_psi_known_values():
    # (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5) = 0.25 ln 3
    assert psi([50, 50], [25, 75]) == pytest.approx(0.25 * math.log(3))
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)
    # An empty reference bin counts as 1e-4: (0.1 - 1e-4) ln(0.1 / 1e-4) + (0.9 - 1) ln(0.9)
    expected = (0.1 - 1e-4) * math.log(0.1 / 1e-4) + (0.9 - 1.0) * math.log(0.9)
    assert psi([100, 0], [90, 10]) == pytest.approx(expected)
    assert psi([100, 0], [90, 10]) == pytest.approx(0.7006, abs=1e-4)
    # Stacks of count vectors give one PSI each (the calibration relies on it).
    stacked = psi(np.array([[50, 50], [100, 0]]), np.array([[25, 75], [90, 10]]))
    assert stacked == pytest.approx([0.25 * math.log(3), expected])


def test_numeric_psi_on_reference_deciles_by_hand():
    ref = fit_numeric_reference("x", np.arange(1, 101))
    assert ref.edges.tolist() == [10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert ref.counts.tolist() == [10] * 10 + [0]  # ten right-closed bins, no missing value
    result = numeric_drift(ref, [1] * 50 + [95] * 50)
    # Half the period in the bottom decile, half in the top one, eight bins empty.
    assert result.psi == pytest.approx(psi_by_hand([0.1] * 10, [0.5] + [0] * 8 + [0.5]))
    assert result.bins == 10
    assert result.distance == pytest.approx(
        stats.wasserstein_distance(np.arange(1, 101), [1] * 50 + [95] * 50)
        / np.std(np.arange(1, 101), ddof=1)
    )
    assert result.p_value == pytest.approx(
        stats.ks_2samp(np.arange(1, 101), [1] * 50 + [95] * 50, method="asymp").pvalue
    )


def test_ties_merge_deciles_and_the_effective_bins_are_recorded():
    # 50 zeros, 30 ones, then 2..21: the deciles are 0,0,0,0,0,1,1,1,11 -> edges 0, 1, 11.
    values = np.array([0] * 50 + [1] * 30 + list(range(2, 22)), dtype=float)
    assert decile_edges(values).tolist() == [0, 1, 11]
    ref = fit_numeric_reference("tenure", values)
    assert ref.effective_bins == 4
    assert ref.counts.tolist() == [50, 30, 10, 10, 0]
    assert numeric_drift(ref, values).psi == pytest.approx(0.0)
    assert numeric_drift(ref, values).bins == 4


def test_missing_values_are_a_bin_of_their_own():
    ref = fit_numeric_reference("TotalCharges", [" ", "10", "20", "30"] * 25)
    assert ref.counts[-1] == 25
    same = numeric_drift(ref, [np.nan, 10, 20, 30] * 5)
    assert same.psi == pytest.approx(0.0)
    assert same.missing_share_reference == same.missing_share_current == 0.25
    all_missing = numeric_drift(ref, [np.nan] * 20)
    assert all_missing.psi > 1
    assert math.isnan(all_missing.p_value) and math.isnan(all_missing.distance)
    assert "no non-missing value" in all_missing.note


def test_constant_reference_documented_answers():
    ref = fit_numeric_reference("c", [5.0] * 40)
    assert ref.effective_bins == 1
    same = numeric_drift(ref, [5.0] * 10)
    assert same.psi == pytest.approx(0.0)
    assert same.p_value == pytest.approx(1.0)
    assert math.isnan(same.distance) and "constant reference" in same.note
    # Any change of a constant column lands in a bin the reference does not hold.
    assert numeric_drift(ref, [6.0] * 10).psi > 1
    assert numeric_drift(ref, [4.0] * 10).psi > 1


def test_categorical_psi_unseen_category_js_and_chi_square():
    ref = fit_categorical_reference("PaymentMethod", ["A"] * 60 + ["B"] * 40)
    result = categorical_drift(ref, ["A"] * 50 + ["B"] * 30 + ["C"] * 20)
    assert result.unseen == ("C",)
    assert "absent from the reference" in result.note
    assert result.psi == pytest.approx(psi_by_hand([0.6, 0.4, 0.0], [0.5, 0.3, 0.2]))
    assert result.distance == pytest.approx(jensenshannon([0.6, 0.4, 0], [0.5, 0.3, 0.2], base=2))
    test = stats.chi2_contingency([[60, 40, 0], [50, 30, 20]], correction=False)
    assert result.statistic == pytest.approx(test.statistic)
    assert result.p_value == pytest.approx(test.pvalue)
    assert result.bins == 3


def test_categorical_missing_values_and_numbers_as_labels():
    ref = fit_categorical_reference("SeniorCitizen", [0, 1, None, 0])
    assert ref.categories == ("0", "1", MISSING)
    result = categorical_drift(ref, ["0", "1", None, "0"])
    assert result.psi == pytest.approx(0.0)
    assert result.missing_share_current == 0.25


def test_single_category_gives_p_one_not_a_crash():
    ref = fit_categorical_reference("PhoneService", ["Yes"] * 30)
    result = categorical_drift(ref, ["Yes"] * 7)
    assert result.p_value == 1.0 and result.statistic == 0.0 and result.psi == 0.0
    assert "single category" in result.note
    # A new category next to a single reference one is a 2 x 2 table again.
    changed = categorical_drift(ref, ["Yes"] * 5 + ["No"] * 5)
    assert changed.p_value < 0.01 and changed.unseen == ("No",)


def test_empty_period_gives_nan_and_says_so(telco):
    profile = fit_reference(telco.reference, NUMERIC, CATEGORICAL)
    drift = period_drift(profile, telco.held_out.iloc[:0])
    assert drift.n_current == 0
    for c in drift.columns:
        assert math.isnan(c.psi) and math.isnan(c.p_value) and math.isnan(c.p_value_adjusted)
        assert c.note == "empty period: no drift statistics"


def test_benjamini_hochberg_against_hand_computed_values():
    # Sorted: 0.005, 0.01, 0.03, 0.04 (m = 4): m p / rank = 0.02, 0.02, 0.04, 0.04.
    adjusted = adjust_p_values([0.01, 0.04, 0.03, 0.005, np.nan])
    assert adjusted[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert math.isnan(adjusted[4])  # untested columns do not count in m
    # Step-up: 3 * 0.04 / 1 = 0.12 is lowered to min(0.12, 3 * 0.045 / 2) = 0.0675.
    assert adjust_p_values([0.04, 0.045, 0.5]) == pytest.approx([0.0675, 0.0675, 0.5])


def test_period_drift_on_telco_adjusts_over_every_column(telco):
    profile = fit_reference(
        telco.reference, NUMERIC, CATEGORICAL, score=toy_score(telco.score_reference)
    )
    period = telco.held_out.iloc[:250]
    drift = period_drift(profile, period, score=toy_score(period))
    assert [c.column for c in drift.columns] == [*NUMERIC, *CATEGORICAL, "score"]
    raw = np.array([c.p_value for c in drift.columns])
    adjusted = np.array([c.p_value_adjusted for c in drift.columns])
    assert adjusted == pytest.approx(stats.false_discovery_control(raw, method="bh"))
    by_name = {c.column: c for c in drift.columns}
    # The blanks of TotalCharges are the reference's missing share (about 11 / 7,043).
    assert 0 < by_name["TotalCharges"].missing_share_reference < 0.005
    assert by_name["score"].kind == "score" and by_name["Contract"].test == "chi2"
    assert all(0 < c.bins <= 10 for c in drift.columns if c.kind != "categorical")
    frame = drift.to_frame()
    assert len(frame) == 20 and {"psi", "distance", "p_value_adjusted"} <= set(frame.columns)


def test_period_drift_refuses_what_it_cannot_compare(telco):
    profile = fit_reference(telco.reference, NUMERIC, CATEGORICAL, score=np.linspace(0, 1, 50))
    with pytest.raises(ValueError, match="pass the period's scores"):
        period_drift(profile, telco.held_out.iloc[:10])
    with pytest.raises(ValueError, match=r"no column\(s\) \['Contract'\]"):
        period_drift(profile, telco.held_out.drop(columns="Contract"), score=np.zeros(1057))
    inputs_only = fit_reference(telco.reference, NUMERIC, CATEGORICAL)
    with pytest.raises(ValueError, match="no score reference"):
        period_drift(inputs_only, telco.held_out.iloc[:10], score=np.zeros(10))
    with pytest.raises(ValueError, match="no value"):
        fit_numeric_reference("x", pd.Series([" ", " "]))
