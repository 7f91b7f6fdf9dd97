"""explore: summary statistics on small data with known answers, deterministic plots."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from churn.core.params import ExploreParams
from churn.explore.page import render_report
from churn.explore.plots import PLOTS, draw_plots
from churn.explore.stats import category_summary, correlation_matrix, numeric_summary, summarize
from tests.support.telco import TELCO as contract
from tests.support.telco import WORDS

PARAMS = ExploreParams(
    iqr_multiplier=1.5, histogram_bins=10, dpi=40, scatter_max_points=5000, seed=0
)


def customers(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` clean customer records (contract dtypes), churn depending on contract type."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        record = dict(contract.example)
        record[contract.id_column] = f"{i:04d}-ABCDE"
        record["tenure"] = int(rng.integers(0, 73))
        record["MonthlyCharges"] = float(np.round(rng.uniform(18, 120), 2))
        record["TotalCharges"] = float(np.round(record["tenure"] * record["MonthlyCharges"], 2))
        record["Contract"] = ("Month-to-month", "One year", "Two year")[i % 3]
        record["Partner"] = ("No", "Yes")[i % 2]
        record[contract.target] = "Yes" if i % 3 == 0 and i % 2 == 0 else "No"
        rows.append(record)
    return pd.DataFrame(rows)[list(contract.names)]


def test_numeric_summary_known_values():
    s = numeric_summary(pd.Series([1, 2, 3, 4, 100, None], dtype="Float64"))
    assert s["count"] == 5 and s["missing"] == 1
    assert s["missing_fraction"] == pytest.approx(1 / 6, abs=1e-6)
    assert s["mean"] == 22 and s["median"] == 3
    # deviations from 22: -21, -20, -19, -18, 78 -> squares sum 7610, / (n - 1)
    assert s["variance"] == pytest.approx(7610 / 4)
    assert s["std"] == pytest.approx((7610 / 4) ** 0.5, abs=1e-6)
    assert (s["min"], s["q1"], s["q3"], s["max"], s["iqr"]) == (1, 2, 4, 100, 2)
    assert (s["lower_fence"], s["upper_fence"]) == (-1, 7)
    assert (s["outliers_low"], s["outliers_high"], s["outliers"]) == (0, 1, 1)


def test_outlier_rule_follows_the_multiplier_and_sees_both_tails():
    values = pd.Series([-60.0, 10, 11, 12, 13, 14, 90])
    # q1 = 10.5, q3 = 13.5, IQR = 3
    assert numeric_summary(values, 1.5)["outliers_low"] == 1
    assert numeric_summary(values, 1.5)["outliers_high"] == 1
    assert numeric_summary(values, 30)["outliers"] == 0  # fences -79.5 and 103.5
    wide = numeric_summary(values, 25)  # fences -64.5 and 88.5: only 90 is outside
    assert (wide["outliers_low"], wide["outliers_high"]) == (0, 1)
    assert numeric_summary(pd.Series([5.0] * 4))["outliers"] == 0  # IQR 0, nothing apart


def test_numeric_summary_of_a_column_with_no_values():
    s = numeric_summary(pd.Series([None, None], dtype="Float64"))
    assert s["count"] == 0 and s["missing"] == 2 and s["missing_fraction"] == 1
    assert s["mean"] is None and s["median"] is None and s["outliers"] == 0


def test_category_summary_counts_shares_and_positive_rates():
    values = pd.Series(["a", "a", "b", "c", None], dtype="str")
    positive = pd.Series([1.0, 0.0, 1.0, 0.0, 1.0])
    s = category_summary(values, positive, order=("a", "b", "z"))
    assert s["missing"] == 1
    assert [(lv["value"], lv["count"], lv["positives"]) for lv in s["levels"]] == [
        ("a", 2, 1),
        ("b", 1, 1),
        ("z", 0, 0),  # allowed by the contract but absent: shown with no rate
        ("c", 1, 0),  # not in the contract's order: after it
    ]
    rates = {lv["value"]: lv["positive_rate"] for lv in s["levels"]}
    assert rates == {"a": 0.5, "b": 1.0, "z": None, "c": 0.0}
    assert [lv["share"] for lv in s["levels"]] == [0.5, 0.25, 0.0, 0.25]


def test_summarize_uses_the_contract_columns():
    df = customers(60)
    s = summarize(df, contract, PARAMS)
    assert s["rows"] == 60
    assert s["positives"] == 10 and s["positive_rate"] == pytest.approx(10 / 60, abs=1e-6)
    assert list(s["numeric"]) == list(contract.numeric_features)
    assert list(s["categorical"]) == list(contract.categorical_features)
    assert s["numeric"]["tenure"]["mean"] == pytest.approx(df["tenure"].mean(), abs=1e-6)
    assert s["numeric"]["tenure"]["median"] == pytest.approx(df["tenure"].median(), abs=1e-6)
    by_contract = {lv["value"]: lv for lv in s["categorical"]["Contract"]["levels"]}
    assert by_contract["Month-to-month"]["count"] == 20
    assert by_contract["Month-to-month"]["positive_rate"] == 0.5  # i % 3 == 0: half are even
    assert by_contract["Two year"]["positive_rate"] == 0.0
    churn_group = s["numeric_by_target"]["tenure"]["Yes"]
    assert churn_group["count"] == 10
    assert churn_group["mean"] == pytest.approx(df.loc[df.Churn == "Yes", "tenure"].mean())


def test_correlation_matrix_is_symmetric_with_unit_diagonal():
    corr = correlation_matrix(customers(90), contract)
    assert {"tenure", "MonthlyCharges", "TotalCharges", "Partner", contract.target} <= set(
        corr.columns
    )
    assert "Contract" not in corr.columns  # not a Yes/No feature
    assert np.allclose(corr.to_numpy(), corr.to_numpy().T, equal_nan=True)
    diagonal = pd.Series(np.diag(corr.to_numpy()), index=corr.index)
    varying = ["tenure", "MonthlyCharges", "TotalCharges", "Partner", contract.target]
    assert np.allclose(diagonal[varying], 1.0)
    assert diagonal[["SeniorCitizen", "PhoneService"]].isna().all()  # constant: undefined
    # churners are the customers with i % 6 == 0, all of them with Partner="No" (i even)
    assert corr.loc["Partner", contract.target] == pytest.approx(-(0.2**0.5), abs=1e-9)


@pytest.fixture(scope="module")
def pngs():
    return draw_plots(customers(120), contract, WORDS, PARAMS)


def test_plots_are_pngs_with_stable_bytes_and_no_software_tag(pngs):
    assert list(pngs) == [p.name for p in PLOTS]
    for name, png in pngs.items():
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert b"matplotlib" not in png and b"Software" not in png, name
    assert draw_plots(customers(120), contract, WORDS, PARAMS) == pngs


def test_plot_bytes_follow_the_data(pngs):
    other = draw_plots(customers(120, seed=1), contract, WORDS, PARAMS)
    assert other["histograms"] != pngs["histograms"]


def test_report_embeds_every_plot_and_escapes_values(pngs):
    df = customers(30)
    df.loc[0, "PaymentMethod"] = "<script>alert(1)</script>"
    html = render_report(
        summarize(df, contract, PARAMS),
        pngs,
        "data/<clean>.parquet",
        contract,
        WORDS,
        "problems/telco.yaml",
    )
    sources = re.findall(r'<img src="([^"]*)"', html)
    assert len(sources) == len(PLOTS)
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "data/&lt;clean&gt;.parquet" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
