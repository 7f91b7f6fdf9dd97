"""Train: the model pipeline, from a plain customer record to a churn probability.

``features -> preprocess [-> select] -> model``: the engineered features
(stateless), then scaling and one-hot encoding (plus optional spline or
polynomial terms) fitted on the training split only, an optional feature
selection step, then the estimator chosen in ``params.yaml``. Every learned step
is inside the one fitted pipeline, so cross-validation refits all of it per fold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.feature_selection import SelectFromModel, SelectKBest, chi2, mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    PolynomialFeatures,
    SplineTransformer,
    StandardScaler,
)
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from churn import contract
from churn.config import FeatureStepParams, TrainParams
from churn.errors import ConfigError
from churn.evaluation import FoldScores
from churn.features import ENGINEERED_CATEGORICAL, ENGINEERED_NUMERIC, ChurnFeatures

NUMERIC = [*contract.NUMERIC_FEATURES, *ENGINEERED_NUMERIC]
CATEGORICAL = [*contract.CATEGORICAL_FEATURES, *ENGINEERED_CATEGORICAL]


def _logistic_regression(params: dict[str, Any], seed: int) -> LogisticRegression:
    return LogisticRegression(**params, random_state=seed)


def _random_forest(params: dict[str, Any], seed: int) -> RandomForestClassifier:
    return RandomForestClassifier(**params, random_state=seed, n_jobs=1)


def _hist_gradient_boosting(params: dict[str, Any], seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**params, random_state=seed, early_stopping=False)


def _decision_tree(params: dict[str, Any], seed: int) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(**params, random_state=seed)


def _svm(params: dict[str, Any], seed: int) -> CalibratedClassifierCV:
    # An SVM gives margins, not probabilities: sigmoid calibration on internal folds turns
    # them into probabilities (cheaper and more stable than SVC(probability=True)).
    # LinearSVC fits 5k rows in tens of milliseconds; an RBF SVC takes about a second.
    params = dict(params)
    kernel, folds, gamma = (
        params.pop("kernel"),
        params.pop("calibration_folds"),
        params.pop("gamma"),
    )
    if kernel == "linear":
        base: Any = LinearSVC(**params, dual="auto", max_iter=20_000, random_state=seed)
    else:
        base = SVC(**params, kernel="rbf", gamma=gamma, cache_size=500, random_state=seed)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(base, method="sigmoid", cv=cv)


def _mlp(params: dict[str, Any], seed: int) -> MLPClassifier:
    params = {**params, "hidden_layer_sizes": tuple(params["hidden_layer_sizes"])}
    return MLPClassifier(**params, random_state=seed)


#: Model families by the name used in ``params.yaml`` (``train.model``).
FAMILIES: dict[str, Callable[[dict[str, Any], int], Any]] = {
    "logistic_regression": _logistic_regression,
    "random_forest": _random_forest,
    "hist_gradient_boosting": _hist_gradient_boosting,
    "decision_tree": _decision_tree,
    "svm": _svm,
    "mlp": _mlp,
}

#: Where a family's hyperparameters sit in the pipeline (for search CV's ``set_params``).
PARAM_PREFIX: dict[str, str] = {name: "model__" for name in FAMILIES} | {
    "svm": "model__estimator__"
}


def chi2_shifted(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chi-squared scores after shifting each column to start at 0.

    ``chi2`` needs non-negative features; scaled numeric columns are not. The shift
    keeps the ranking meaningful for one-hot and spline columns (already >= 0).
    """
    X = np.asarray(X, dtype=np.float64)
    return chi2(X - X.min(axis=0), y)


def preprocessor(features: FeatureStepParams | None = None) -> ColumnTransformer:
    """Scaling and one-hot encoding, plus the optional expansion of numeric columns.

    Explicit column lists (no column selectors): the fitted pipeline must take
    exactly the contract's columns.
    """
    features = features or FeatureStepParams()
    steps: list[tuple[str, Any, list[str]]] = [("numeric", StandardScaler(), NUMERIC)]
    if features.expansion != "none":
        unknown = sorted(set(features.expand_columns) - set(NUMERIC))
        if unknown or not features.expand_columns:
            raise ConfigError(
                f"train.features.expand_columns: {unknown or 'empty'} - expected a non-empty "
                f"list of numeric columns from {NUMERIC}"
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
            CATEGORICAL,
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


def build_pipeline(
    model: str,
    params: dict[str, Any],
    seed: int,
    tenure_band_edges: Sequence[int],
    features: FeatureStepParams | None = None,
) -> Pipeline:
    """The unfitted pipeline for one model family (and the optional feature steps)."""
    if model not in FAMILIES:
        raise ValueError(f"unknown model family {model!r}; choose one of {sorted(FAMILIES)}")
    features = features or FeatureStepParams()
    steps: list[tuple[str, Any]] = [
        ("features", ChurnFeatures(tuple(tenure_band_edges))),
        ("preprocess", preprocessor(features)),
    ]
    select = selector(features, seed)
    if select is not None:
        steps.append(("select", select))
    steps.append(("model", FAMILIES[model](params, seed)))
    return Pipeline(steps)


@dataclass(frozen=True)
class CrossValidation(FoldScores):
    metric: str
    folds: int
    scores: list[float]


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


@dataclass(frozen=True)
class TrainingResult:
    """The fitted model, the cross-validation of its configuration, and the search (if any)."""

    model: Any
    cv: CrossValidation
    params: dict[str, Any]
    search: Any = None


def fit_model(
    table: pd.DataFrame, params: TrainParams, tenure_band_edges: Sequence[int]
) -> TrainingResult:
    """Tune (if configured), cross-validate, then fit on the whole training split.

    With ``train.tuning.method`` none the family's hyperparameters are used as
    written; otherwise the best candidate of the search replaces the ones it searched.
    ``train.calibration`` then wraps the tuned pipeline in a k-fold
    ``CalibratedClassifierCV`` (the reported CV is the uncalibrated pipeline's).
    """
    X, y = model_inputs(table), table["churn"]
    pipeline = build_pipeline(
        params.model, params.estimator_params(), params.seed, tenure_band_edges, params.features
    )
    folds = StratifiedKFold(n_splits=params.cv_folds, shuffle=True, random_state=params.seed)
    chosen = params.estimator_params()
    result = None
    if params.tuning.method == "none":
        cv = cross_validate_pipeline(pipeline, X, y, params.cv_folds, params.seed)
    else:
        from churn import tuning  # scipy.stats (and optuna) only when tuning

        prefix = PARAM_PREFIX[params.model]
        result = tuning.search(
            pipeline,
            X,
            y,
            params.space(),
            prefix,
            params.model,
            params.tuning,
            folds,
            params.seed,
        )
        chosen = {**chosen, **result.best.params}
        pipeline.set_params(**{prefix + k: v for k, v in result.best.params.items()})
        cv = CrossValidation("roc_auc", params.cv_folds, result.best.scores)
    if params.calibration != "none":
        model: Any = CalibratedClassifierCV(pipeline, method=params.calibration, cv=folds)
    else:
        model = pipeline
    return TrainingResult(model.fit(X, y), cv, chosen, result)


def train(
    table: pd.DataFrame, params: TrainParams, tenure_band_edges: Sequence[int]
) -> tuple[Any, CrossValidation]:
    """Cross-validate (tuning first if configured), then fit on the whole training split."""
    result = fit_model(table, params, tenure_band_edges)
    return result.model, result.cv
