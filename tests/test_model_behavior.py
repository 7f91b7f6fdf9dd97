"""Behavioral tests of the model (Ribeiro et al. 2020, "Beyond accuracy: CheckList").

A model is trained in the fixture from the bundled data with the shipped
``params.yaml`` feature steps and a fast family, then probed with hand-made
customer records: minimum functionality, directional expectations, invariance.
"""

from __future__ import annotations

import pandas as pd
import pytest

from churn.core.params import TrainParams, load
from churn.train.fit import train
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import DESIGN, feature_table
from tests.support.telco import TELCO as contract


@pytest.fixture(scope="module")
def model(telco_clean):
    table = feature_table(telco_clean)
    params = load(TrainParams, REPO_ROOT / "params.yaml")
    fast = params.model_copy(
        update={
            "model": "logistic_regression",
            "cv_folds": 2,
            "tuning": params.tuning.model_copy(update={"method": "none"}),
        }
    )
    fitted, _ = train(table, DESIGN, fast)
    return fitted


def churn_probability(model, **changes) -> float:
    record = {**dict(contract.example), **changes}
    return float(model.predict_proba(pd.DataFrame([record]))[:, 1][0])


LOYAL = {
    "tenure": 70,
    "Contract": "Two year",
    "PaymentMethod": "Bank transfer (automatic)",
    "InternetService": "DSL",
    "OnlineSecurity": "Yes",
    "TechSupport": "Yes",
    "PaperlessBilling": "No",
    "Partner": "Yes",
    "Dependents": "Yes",
    "MonthlyCharges": 60.0,
    "TotalCharges": 70 * 60.0,
}
AT_RISK = {
    "tenure": 2,
    "Contract": "Month-to-month",
    "PaymentMethod": "Electronic check",
    "InternetService": "Fiber optic",
    "OnlineSecurity": "No",
    "TechSupport": "No",
    "PaperlessBilling": "Yes",
    "Partner": "No",
    "Dependents": "No",
    "MonthlyCharges": 95.0,
    "TotalCharges": 2 * 95.0,
}


def test_minimum_functionality_loyal_and_at_risk_profiles(model):
    assert churn_probability(model, **LOYAL) < 0.1
    assert churn_probability(model, **AT_RISK) > 0.6


@pytest.mark.parametrize("tenure", [1, 12, 36])
def test_two_year_contract_lowers_risk(model, tenure):
    base = {"tenure": tenure, "TotalCharges": tenure * 85.5}
    monthly = churn_probability(model, **base, Contract="Month-to-month")
    two_year = churn_probability(model, **base, Contract="Two year")
    assert two_year < monthly - 0.05


def test_fiber_month_to_month_electronic_check_raises_risk(model):
    calm = {
        "Contract": "One year",
        "InternetService": "DSL",
        "PaymentMethod": "Credit card (automatic)",
        "MonthlyCharges": 85.5,
    }
    risky = {
        "Contract": "Month-to-month",
        "InternetService": "Fiber optic",
        "PaymentMethod": "Electronic check",
        "MonthlyCharges": 85.5,
    }
    assert churn_probability(model, **risky) > churn_probability(model, **calm) + 0.1


def test_longer_tenure_lowers_risk(model):
    short = churn_probability(model, tenure=3, TotalCharges=3 * 85.5)
    long = churn_probability(model, tenure=60, TotalCharges=60 * 85.5)
    assert long < short


def test_customer_id_is_invariant(model):
    record = dict(contract.example)
    a = pd.DataFrame([{"customerID": "0001-AAAAA", **record}])
    b = pd.DataFrame([{"customerID": "9999-ZZZZZ", **record}])
    assert model.predict_proba(a)[0, 1] == pytest.approx(model.predict_proba(b)[0, 1], abs=1e-12)


@pytest.mark.parametrize("profile", [{}, LOYAL, AT_RISK])
def test_gender_barely_changes_a_prediction(model, profile):
    female = churn_probability(model, **profile, gender="Female")
    male = churn_probability(model, **profile, gender="Male")
    assert abs(female - male) < 0.02
