"""featurize and split: stateless features, stratified seeded partitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.core.errors import ConfigError
from churn.features.sets import FEATURE_SETS, check, feature_set, set_params
from churn.features.step import FeatureStep
from churn.features.telco import SERVICE_COLUMNS, engineer, tenure_band_labels
from churn.split.stratified import split
from tests.support.telco import TELCO as contract
from tests.support.telco import feature_table

EDGES = [12, 24, 48]


def record(**overrides):
    return pd.DataFrame([{**dict(contract.example), **overrides}])


def test_engineered_values_by_hand():
    row = engineer(record(tenure=10, MonthlyCharges=80.0, TotalCharges=700.0), EDGES).iloc[0]
    assert row["avg_monthly_spend"] == pytest.approx(70.0)
    assert row["monthly_vs_average"] == pytest.approx(10.0)
    # example record: phone, fiber internet, online backup, streaming TV = 4 services
    assert row["num_services"] == 4
    assert row["tenure_band"] == "0-12"


def test_new_customer_average_is_this_months_charge():
    row = engineer(record(tenure=0, MonthlyCharges=50.0, TotalCharges=0.0), EDGES).iloc[0]
    assert row["avg_monthly_spend"] == 50.0 and row["monthly_vs_average"] == 0.0


@pytest.mark.parametrize(
    ("tenure", "band"),
    [(0, "0-12"), (12, "0-12"), (13, "13-24"), (48, "25-48"), (49, "49+"), (72, "49+")],
)
def test_tenure_bands(tenure, band):
    assert engineer(record(tenure=tenure), EDGES).iloc[0]["tenure_band"] == band
    assert band in tenure_band_labels(EDGES)


def engineer_with_pandas(df: pd.DataFrame, edges) -> pd.DataFrame:
    """The engineered features written plainly in pandas (pd.cut): the reference that the
    numpy-based ``engineer`` must match exactly, values and dtypes."""
    out = df.copy()
    tenure = out["tenure"].astype("float64")
    monthly = out["MonthlyCharges"].astype("float64")
    total = out["TotalCharges"].astype("float64")
    out["avg_monthly_spend"] = np.where(tenure > 0, total / tenure.where(tenure > 0, 1.0), monthly)
    out["monthly_vs_average"] = monthly - out["avg_monthly_spend"]
    services = sum((out[c] == "Yes").astype("int64") for c in SERVICE_COLUMNS)
    out["num_services"] = services + (out["InternetService"] != "No").astype("int64")
    bins = [-np.inf, *edges, np.inf]
    bands = pd.cut(tenure, bins=bins, labels=tenure_band_labels(edges))
    out["tenure_band"] = bands.astype("str")
    return out


@pytest.mark.parametrize("edges", [EDGES, [6], [1, 2, 3, 100]])
def test_engineer_matches_the_pandas_formulation_exactly(telco_clean, edges):
    df = telco_clean.sample(frac=1.0, random_state=0)  # a shuffled, non-range index
    df = df.astype({"tenure": "float64"})
    df.iloc[:3, df.columns.get_loc("tenure")] = [np.nan, 12.0, 12.5]  # NaN, edge, between
    expected = engineer_with_pandas(df, edges)
    got = engineer(df, edges)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["tenure_band"].iloc[0] is not None and pd.isna(got["tenure_band"].iloc[0])
    # Recomputing on a table that has the columns already gives the same table.
    pd.testing.assert_frame_equal(engineer(got, edges), expected, check_exact=True)


def test_transformer_is_stateless_and_idempotent(telco_clean):
    X = telco_clean[list(contract.feature_names)]
    once = FeatureStep("telco", {"tenure_band_edges": EDGES}).fit(X).transform(X)
    twice = FeatureStep("telco", {"tenure_band_edges": EDGES}).fit(once).transform(once)
    pd.testing.assert_frame_equal(once, twice)
    fitted_on_other = FeatureStep("telco", {"tenure_band_edges": EDGES}).fit(X.head(3)).transform(X)
    pd.testing.assert_frame_equal(once, fitted_on_other)


def test_feature_table_has_label(telco_clean):
    table = feature_table(telco_clean)
    assert table[contract.label].mean() == pytest.approx(0.2654, abs=1e-3)
    assert table[contract.id_column].is_unique


def test_split_proportions_stratification_and_determinism(telco_clean):
    table = feature_table(telco_clean)
    parts = split(table, contract, 0.7, 0.15, 0.15, seed=7)
    sizes = {k: len(v) for k, v in parts.items()}
    assert sum(sizes.values()) == len(table)
    assert sizes["train"] == pytest.approx(0.7 * len(table), abs=2)
    assert sizes["test"] == pytest.approx(0.15 * len(table), abs=2)
    ids = [set(p[contract.id_column]) for p in parts.values()]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    rates = [p[contract.label].mean() for p in parts.values()]
    assert np.ptp(rates) < 0.005
    again = split(table, contract, 0.7, 0.15, 0.15, seed=7)
    for name in parts:
        pd.testing.assert_frame_equal(parts[name], again[name])
    other = split(table, contract, 0.7, 0.15, 0.15, seed=8)
    assert set(other["test"][contract.id_column]) != ids[2]


def test_split_of_a_table_in_identifier_order_sorts_positions_not_text(telco_clean, monkeypatch):
    # A table in identifier order (featurize's output) has each part's rows ordered by
    # position instead of by identifier: the parts must be exactly those the text sort gives.
    import churn.split.stratified as stratified

    table = feature_table(telco_clean).sort_values(contract.id_column, ignore_index=True)
    assert stratified._strictly_increasing(table[contract.id_column])
    fast = split(table, contract, 0.7, 0.15, 0.15, seed=3)
    monkeypatch.setattr(stratified, "_strictly_increasing", lambda ids: False)
    slow = split(table, contract, 0.7, 0.15, 0.15, seed=3)
    for name in fast:
        pd.testing.assert_frame_equal(fast[name], slow[name], check_exact=True)
    ids = table[contract.id_column]
    assert not stratified._strictly_increasing(ids.iloc[::-1])
    assert not stratified._strictly_increasing(pd.concat([ids.iloc[:2], ids.iloc[1:3]]))


def test_the_model_computes_exactly_the_features_featurize_wrote(telco_clean):
    # featurize writes the engineered columns train fits on; the saved model's first step
    # recomputes them from a plain record (what the service and evaluate send): no skew.
    table = feature_table(telco_clean)
    X = contract.inputs(table)
    step = FeatureStep("telco", {"tenure_band_edges": EDGES}).fit(X)
    pd.testing.assert_frame_equal(step.transform(X), table[list(step.get_feature_names_out())])


def test_feature_sets_are_checked_against_the_contract():
    assert set(FEATURE_SETS) >= {"none", "telco"}
    with pytest.raises(ConfigError, match="unknown feature set 'telcom'"):
        feature_set("telcom")
    with pytest.raises(ConfigError, match=r"features.params.tenure_band_edges"):
        set_params(feature_set("telco"), {"tenure_band_edges": "monthly"})
    with pytest.raises(ConfigError, match="takes no params"):
        set_params(feature_set("none"), {"x": 1})
    check(feature_set("telco"), contract)  # the Telco contract has what the set reads
    fewer = contract.__class__(
        columns=tuple(c for c in contract.columns if c.name != "MonthlyCharges"),
        id_column=contract.id_column,
        target=contract.target,
        positive=contract.positive,
        label=contract.label,
    )
    with pytest.raises(ConfigError, match=r"needs the input columns \['MonthlyCharges'\]"):
        check(feature_set("telco"), fewer)


def test_the_generic_set_adds_nothing(telco_clean):
    X = contract.inputs(telco_clean)
    out = FeatureStep("none").fit(X).transform(X)
    assert list(out.columns) == list(contract.feature_names)


@pytest.mark.parametrize("seed", [0, 42, 7])
def test_split_holds_the_rows_scikit_learns_train_test_split_would(telco_clean, seed):
    # The split is computed with numpy alone (scikit-learn is slow to import); the rows of
    # each part must stay those of the two stratified train_test_split calls it replaces.
    from sklearn.model_selection import train_test_split

    table = feature_table(telco_clean)
    rest, test = train_test_split(
        table, test_size=0.15, stratify=table[contract.label], random_state=seed
    )
    train, validation = train_test_split(
        rest, test_size=0.15 / 0.85, stratify=rest[contract.label], random_state=seed
    )
    parts = split(table, contract, 0.70, 0.15, 0.15, seed)
    for name, expected in (("train", train), ("validation", validation), ("test", test)):
        ids = sorted(expected[contract.id_column])
        assert parts[name][contract.id_column].tolist() == ids, name


def test_stratified_positions_match_scikit_learn_on_three_classes():
    from sklearn.model_selection import train_test_split

    from churn.split.stratified import stratified_positions

    rng = np.random.default_rng(3)
    for seed in range(20):
        labels = rng.choice([0, 1, 2], size=int(rng.integers(30, 400)), p=[0.6, 0.3, 0.1])
        if np.bincount(labels).min() < 2:
            continue
        rows = np.arange(labels.size)
        expected = train_test_split(rows, test_size=0.2, stratify=labels, random_state=seed)
        actual = stratified_positions(labels, 0.2, seed)
        assert [a.tolist() for a in actual] == [e.tolist() for e in expected]


@pytest.mark.parametrize(
    "labels",
    [
        np.array([1, 0, 0, 1, 1, 0, 1], dtype=np.int64),
        np.array([7, -3, 5, 7, -3, 7], dtype=np.int32),  # gaps and a negative class
        np.array([2, 0, 2, 2], dtype=np.uint8),
        np.array([0, 1 << 20, 0]),  # a range too wide to count: np.unique itself
        np.array(["No", "Yes", "No"]),  # text: np.unique itself
    ],
)
def test_classes_are_those_of_numpy_unique(labels):
    from churn.split.stratified import _classes

    got = _classes(labels)
    expected = np.unique(labels, return_inverse=True, return_counts=True)
    for a, e in zip(got, expected, strict=True):
        assert a.dtype == e.dtype and a.tolist() == e.tolist()
