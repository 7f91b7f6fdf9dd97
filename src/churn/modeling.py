"""Train: the model pipeline, from a plain customer record to a churn probability.

``features -> preprocess -> model``: the engineered features (stateless), then
scaling and one-hot encoding fitted on the training split only, then the
estimator chosen in ``params.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from churn import contract
from churn.config import TrainParams
from churn.features import ENGINEERED_CATEGORICAL, ENGINEERED_NUMERIC, ChurnFeatures

NUMERIC = [*contract.NUMERIC_FEATURES, *ENGINEERED_NUMERIC]
CATEGORICAL = [*contract.CATEGORICAL_FEATURES, *ENGINEERED_CATEGORICAL]


def _logistic_regression(params: dict[str, Any], seed: int) -> LogisticRegression:
    return LogisticRegression(**params, random_state=seed)


def _random_forest(params: dict[str, Any], seed: int) -> RandomForestClassifier:
    return RandomForestClassifier(**params, random_state=seed, n_jobs=1)


def _hist_gradient_boosting(params: dict[str, Any], seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**params, random_state=seed, early_stopping=False)


#: Model families by the name used in ``params.yaml`` (``train.model``).
FAMILIES: dict[str, Callable[[dict[str, Any], int], Any]] = {
    "logistic_regression": _logistic_regression,
    "random_forest": _random_forest,
    "hist_gradient_boosting": _hist_gradient_boosting,
}


def preprocessor() -> ColumnTransformer:
    """Scaling and one-hot encoding; explicit column lists (no column selectors)."""
    return ColumnTransformer(
        [
            ("numeric", StandardScaler(), NUMERIC),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
                CATEGORICAL,
            ),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def build_pipeline(
    model: str, params: dict[str, Any], seed: int, tenure_band_edges: Sequence[int]
) -> Pipeline:
    """The unfitted pipeline for one model family."""
    if model not in FAMILIES:
        raise ValueError(f"unknown model family {model!r}; choose one of {sorted(FAMILIES)}")
    return Pipeline(
        [
            ("features", ChurnFeatures(tuple(tenure_band_edges))),
            ("preprocess", preprocessor()),
            ("model", FAMILIES[model](params, seed)),
        ]
    )


@dataclass(frozen=True)
class CrossValidation:
    metric: str
    folds: int
    scores: list[float]

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        return float(np.std(self.scores))


def model_inputs(df: pd.DataFrame) -> pd.DataFrame:
    """The columns a model takes: the contract's feature columns, in contract order."""
    return df[list(contract.FEATURE_NAMES)]


def cross_validate_pipeline(
    pipeline: Pipeline, X: pd.DataFrame, y: pd.Series, folds: int, seed: int
) -> CrossValidation:
    """Stratified k-fold ROC-AUC of ``pipeline`` on the training split."""
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    result = cross_validate(pipeline, X, y, cv=cv, scoring="roc_auc", n_jobs=1)
    return CrossValidation("roc_auc", folds, [float(s) for s in result["test_score"]])


def train(
    table: pd.DataFrame, params: TrainParams, tenure_band_edges: Sequence[int]
) -> tuple[Pipeline, CrossValidation]:
    """Cross-validate, then fit the configured pipeline on the whole training split."""
    X, y = model_inputs(table), table["churn"]
    pipeline = build_pipeline(
        params.model, params.estimator_params(), params.seed, tenure_band_edges
    )
    cv = cross_validate_pipeline(pipeline, X, y, params.cv_folds, params.seed)
    return pipeline.fit(X, y), cv
