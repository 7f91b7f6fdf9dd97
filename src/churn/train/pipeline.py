"""The model pipeline: from a plain customer record to a churn probability.

``features -> preprocess [-> select] -> model``: the engineered features
(stateless, ``churn.features``), then scaling and one-hot encoding (plus optional
spline or polynomial terms) fitted on the training split only, an optional
feature selection step, then the estimator chosen in ``params.yaml``. The part
after ``features`` (``build_head``) is what cross-validation, tuning and fitting
work on, given the engineered columns that ``featurize`` wrote; the saved model
puts the feature step in front (``with_features``), so it takes a plain record.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.feature_selection import SelectFromModel, SelectKBest, chi2, mutual_info_classif
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    PolynomialFeatures,
    SplineTransformer,
    StandardScaler,
)

from churn.core.contract import Contract
from churn.core.errors import ConfigError
from churn.core.params import FeatureStepParams
from churn.features import (
    ENGINEERED,
    ENGINEERED_CATEGORICAL,
    ENGINEERED_NUMERIC,
    ChurnFeatures,
)
from churn.train.families import FAMILIES


def numeric_columns(contract: Contract) -> list[str]:
    """The numeric inputs of the preprocessing: the contract's and the engineered ones."""
    return [*contract.numeric_features, *ENGINEERED_NUMERIC]


def categorical_columns(contract: Contract) -> list[str]:
    """The categorical inputs of the preprocessing: the contract's and the engineered ones."""
    return [*contract.categorical_features, *ENGINEERED_CATEGORICAL]


def engineered_inputs(table: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The columns the head of the pipeline takes: the features, then the engineered ones.

    The order is that of ``ChurnFeatures``' output, so a head fitted on the modelling
    table is exactly the head of a pipeline fitted on plain records.
    """
    columns = [*contract.feature_names, *ENGINEERED]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ConfigError(
            f"the training table lacks the columns {missing}: train reads the modelling "
            "table that the featurize stage writes (through split)"
        )
    return table[columns]


def chi2_shifted(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chi-squared scores after shifting each column to start at 0.

    ``chi2`` needs non-negative features; scaled numeric columns are not. The shift
    keeps the ranking meaningful for one-hot and spline columns (already >= 0).
    """
    X = np.asarray(X, dtype=np.float64)
    return chi2(X - X.min(axis=0), y)


def preprocessor(
    contract: Contract, features: FeatureStepParams | None = None
) -> ColumnTransformer:
    """Scaling and one-hot encoding, plus the optional expansion of numeric columns.

    Explicit column lists (no column selectors): the fitted pipeline must take
    exactly the contract's columns.
    """
    features = features or FeatureStepParams()
    numeric = numeric_columns(contract)
    steps: list[tuple[str, Any, list[str]]] = [("numeric", StandardScaler(), numeric)]
    if features.expansion != "none":
        unknown = sorted(set(features.expand_columns) - set(numeric))
        if unknown or not features.expand_columns:
            raise ConfigError(
                f"train.features.expand_columns: {unknown or 'empty'} - expected a non-empty "
                f"list of numeric columns from {numeric}"
            )
        if features.expansion == "splines":
            expand: Any = SplineTransformer(n_knots=features.n_knots, degree=3)
        else:
            expand = Pipeline(
                [
                    ("scale", StandardScaler()),
                    (
                        "terms",
                        PolynomialFeatures(
                            degree=features.degree,
                            interaction_only=features.expansion == "interactions",
                            include_bias=False,
                        ),
                    ),
                ]
            )
        steps.append(("expanded", expand, list(features.expand_columns)))
    steps.append(
        (
            "categorical",
            OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
            categorical_columns(contract),
        )
    )
    # With an expansion, prefixed names: "tenure" from PolynomialFeatures would clash
    # with the plain scaled "tenure".
    return ColumnTransformer(
        steps, remainder="drop", verbose_feature_names_out=features.expansion != "none"
    )


def selector(features: FeatureStepParams, seed: int) -> Any | None:
    """The feature selection step, or None when ``selection`` is none."""
    if features.selection == "mutual_info":
        return SelectKBest(partial(mutual_info_classif, random_state=seed), k=features.k)
    if features.selection == "chi2":
        return SelectKBest(chi2_shifted, k=features.k)
    if features.selection == "model":
        forest = ExtraTreesClassifier(
            n_estimators=100, min_samples_leaf=5, random_state=seed, n_jobs=1
        )
        return SelectFromModel(forest, max_features=features.k, threshold=-np.inf)
    return None


def build_head(
    contract: Contract,
    model: str,
    params: dict[str, Any],
    seed: int,
    features: FeatureStepParams | None = None,
) -> Pipeline:
    """The unfitted ``preprocess [-> select] -> model`` for one family (engineered inputs)."""
    if model not in FAMILIES:
        raise ValueError(f"unknown model family {model!r}; choose one of {sorted(FAMILIES)}")
    features = features or FeatureStepParams()
    steps: list[tuple[str, Any]] = [("preprocess", preprocessor(contract, features))]
    select = selector(features, seed)
    if select is not None:
        steps.append(("select", select))
    steps.append(("model", FAMILIES[model](params, seed)))
    return Pipeline(steps)


def with_features(head: Any, tenure_band_edges: Sequence[int]) -> Pipeline:
    """``features -> head``: a model that takes plain records (``head`` may be fitted)."""
    front = ("features", ChurnFeatures(tuple(tenure_band_edges)))
    if isinstance(head, Pipeline):
        return Pipeline([front, *head.steps])
    return Pipeline([front, ("model", head)])


def build_pipeline(
    contract: Contract,
    model: str,
    params: dict[str, Any],
    seed: int,
    tenure_band_edges: Sequence[int],
    features: FeatureStepParams | None = None,
) -> Pipeline:
    """The unfitted pipeline for one model family, from a plain record."""
    return with_features(build_head(contract, model, params, seed, features), tenure_band_edges)
