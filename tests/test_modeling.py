"""train and evaluate: each family fits a pipeline that takes a plain customer record."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.core.params import TrainParams, load
from churn.evaluate.metrics import classification_metrics
from churn.train.families import FAMILIES
from churn.train.fit import train
from churn.train.pipeline import build_pipeline
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import DESIGN, feature_table
from tests.support.telco import TELCO as contract


@pytest.fixture(scope="module")
def table(telco_clean):
    return feature_table(telco_clean)


@pytest.fixture(scope="module")
def params() -> TrainParams:
    # One family (the shipped params may say auto: every family, see test_selection.py).
    shipped = load(TrainParams, REPO_ROOT / "params.yaml")
    return shipped.model_copy(update={"model": "logistic_regression"})


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_learns_something(family, table, params):
    small = params.model_copy(update={"model": family, "cv_folds": 3})
    train_part, holdout = table.iloc[:3000], table.iloc[3000:4500]
    model, cv = train(train_part, DESIGN, small)
    probability = model.predict_proba(contract.inputs(holdout))[:, 1]
    assert classification_metrics(holdout["churn"], probability, 0.5)["roc_auc"] > 0.8
    assert len(cv.scores) == 3 and 0.75 < cv.mean < 0.95


def test_pipeline_takes_a_plain_record_and_ignores_unknown_categories(table, params):
    model, _ = train(table.iloc[:2000], DESIGN, params.model_copy(update={"cv_folds": 2}))
    record = pd.DataFrame([dict(contract.example)])
    p = model.predict_proba(record)[:, 1]
    assert 0 < p[0] < 1
    unseen = pd.DataFrame([{**dict(contract.example), "PaymentMethod": "Crypto"}])
    assert np.isfinite(model.predict_proba(unseen)).all()


def test_unknown_family_is_rejected():
    with pytest.raises(ValueError, match="unknown model family 'xgboost'"):
        build_pipeline(DESIGN, "xgboost", {}, 0)


def test_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.9])
    m = classification_metrics(y, p, 0.5)
    assert m["accuracy"] == 0.5 and m["precision"] == 0.5 and m["recall"] == 0.5
    assert m["roc_auc"] == 0.75
