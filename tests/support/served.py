"""A model fitted in-process and wrapped as the service and batch scoring receive it.

``ServedModel`` is what ``churn.serve.model_source.load`` returns after checking a model
against dvc.lock; tests that need a model but no pipeline run build one here (a fast
logistic regression on clean rows, with the shipped feature steps).
"""

from __future__ import annotations

import pandas as pd

from churn.core.decision import Decision
from churn.core.params import TrainParams, load
from churn.core.problem import Problem
from churn.features.sets import feature_set, set_params
from churn.featurize.table import build_feature_table
from churn.serve.model_source import ServedModel
from churn.train.fit import train
from churn.train.pipeline import design_for
from tests.support.sandbox import REPO_ROOT


def fit(problem: Problem, clean: pd.DataFrame):
    """A fitted pipeline for ``problem`` on its ``clean`` rows (logistic regression, 2 folds)."""
    features = feature_set(problem.features.set)
    table = build_feature_table(
        clean, problem.contract, features, set_params(features, problem.features.params)
    )
    params = load(TrainParams, REPO_ROOT / "params.yaml")
    fast = params.model_copy(
        update={
            "model": "logistic_regression",
            "cv_folds": 2,
            "tuning": params.tuning.model_copy(update={"method": "none"}),
        }
    )
    fitted, _ = train(table, design_for(problem.contract, problem.features), fast)
    return fitted


def served(problem: Problem, pipeline, threshold: float, md5: str = "0" * 32) -> ServedModel:
    """``pipeline`` as a verified model with decision ``threshold`` would be served."""
    decision = Decision(
        threshold=threshold,
        chosen_on="validation",
        objective="expected profit per customer",
        model_path="models/model.joblib",
        model_md5=md5,
        break_even_threshold=0.164,
        economics={},
        expected_profit_per_customer={"validation": 1.0, "test": 1.0},
        contacted_share={"validation": 0.5, "test": 0.5},
    )
    return ServedModel(
        pipeline=pipeline,
        md5=md5,
        source="workspace",
        git_rev=None,
        decision=decision,
        problem=problem,
        training_data_md5=None,
    )
