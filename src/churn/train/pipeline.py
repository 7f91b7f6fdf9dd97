"""The model pipeline: from a plain customer record to a churn probability.

``features -> preprocess [-> select] -> model``: the engineered features of the
problem's feature set (stateless, ``churn.features``), then scaling and one-hot
encoding (plus optional spline or polynomial terms) fitted on the training split
only, an optional feature selection step, then the estimator chosen in
``params.yaml``. The part after ``features`` (``build_head``) is what
cross-validation, tuning and fitting work on, given the engineered columns that
``featurize`` wrote; the saved model puts the feature step in front
(``with_features``), so it takes a plain record.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
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
from churn.core.problem import Features
from churn.features.sets import ModelColumns, feature_set, model_columns, set_params
from churn.features.step import FeatureStep
from churn.train.families import FAMILIES


@dataclass(frozen=True)
class Design:
    """What every model of a problem is built from: its columns, feature step and label."""

    columns: ModelColumns
    #: The problem's feature set as the pipeline's first step (stateless).
    feature_set: str
    feature_params: dict[str, Any]
    #: The 0/1 label column of the modelling table.
    label: str

    def feature_step(self) -> FeatureStep:
        return FeatureStep(self.feature_set, dict(self.feature_params))


def design_for(contract: Contract, features: Features) -> Design:
    """The design of ``contract`` with the problem file's ``features`` (checked)."""
    fs = feature_set(features.set)
    set_params(fs, features.params)  # a clear error now, not at the first prediction
    return Design(
        columns=model_columns(contract, fs, features.expand),
        feature_set=fs.name,
        feature_params=dict(features.params),
        label=contract.label,
    )


def engineered_inputs(table: pd.DataFrame, columns: ModelColumns) -> pd.DataFrame:
    """The columns the head of the pipeline takes: the features, then the engineered ones.

    The order is that of the feature step's output, so a head fitted on the modelling
    table is exactly the head of a pipeline fitted on plain records.
    """
    columns = columns.all
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
    from sklearn.feature_selection import chi2

    X = np.asarray(X, dtype=np.float64)
    return chi2(X - X.min(axis=0), y)


def preprocessor(
    columns: ModelColumns, features: FeatureStepParams | None = None
) -> ColumnTransformer:
    """Scaling and one-hot encoding, plus the optional expansion of numeric columns.

    Explicit column lists (no column selectors): the fitted pipeline must take
    exactly the contract's columns. The expansion applies to ``columns.expand`` (the
    problem file's ``features.expand``); with none, there is no expansion.
    """
    features = features or FeatureStepParams()
    numeric = list(columns.numeric)
    steps: list[tuple[str, Any, list[str]]] = [("numeric", StandardScaler(), numeric)]
    expand_columns = list(columns.expand)
    if features.expansion != "none" and expand_columns:
        unknown = sorted(set(expand_columns) - set(numeric))
        if unknown:
            raise ConfigError(
                f"features.expand (problem file): {unknown} - expected numeric columns "
                f"from {numeric}"
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
        steps.append(("expanded", expand, expand_columns))
    steps.append(
        (
            "categorical",
            OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
            list(columns.categorical),
        )
    )
    # With an expansion, prefixed names: "tenure" from PolynomialFeatures would clash
    # with the plain scaled "tenure".
    return ColumnTransformer(steps, remainder="drop", verbose_feature_names_out=len(steps) > 2)


def selector(features: FeatureStepParams, seed: int) -> Any | None:
    """The feature selection step, or None when ``selection`` is none."""
    if features.selection == "none":
        return None
    # Imported only when a selection step is used (the ensembles are slow to import).
    from sklearn.ensemble import ExtraTreesClassifier
    from sklearn.feature_selection import SelectFromModel, SelectKBest, mutual_info_classif

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
    columns: ModelColumns,
    model: str,
    params: dict[str, Any],
    seed: int,
    features: FeatureStepParams | None = None,
) -> Pipeline:
    """The unfitted ``preprocess [-> select] -> model`` for one family (engineered inputs)."""
    if model not in FAMILIES:
        raise ValueError(f"unknown model family {model!r}; choose one of {sorted(FAMILIES)}")
    features = features or FeatureStepParams()
    steps: list[tuple[str, Any]] = [("preprocess", preprocessor(columns, features))]
    select = selector(features, seed)
    if select is not None:
        steps.append(("select", select))
    steps.append(("model", FAMILIES[model](params, seed)))
    return Pipeline(steps)


def with_features(head: Any, feature_step: FeatureStep) -> Pipeline:
    """``features -> head``: a model that takes plain records (``head`` may be fitted)."""
    front = ("features", feature_step)
    if isinstance(head, Pipeline):
        return Pipeline([front, *head.steps])
    return Pipeline([front, ("model", head)])


def build_pipeline(
    design: Design,
    model: str,
    params: dict[str, Any],
    seed: int,
    features: FeatureStepParams | None = None,
) -> Pipeline:
    """The unfitted pipeline for one model family, from a plain record."""
    head = build_head(design.columns, model, params, seed, features)
    return with_features(head, design.feature_step())
