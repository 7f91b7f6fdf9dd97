"""Fit the model: tune (if configured), cross-validate, fit on the whole training split.

The head of the pipeline is tuned, cross-validated and fitted on the modelling
table's engineered columns (computed once, by ``featurize``); the saved model is
the fitted head behind the same stateless feature step, so it takes a plain
customer record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.calibration import CalibratedClassifierCV

from churn.core.params import TrainParams
from churn.train.cv import CrossValidation, cross_validate_pipeline, folds
from churn.train.families import PARAM_PREFIX
from churn.train.pipeline import Design, build_head, engineered_inputs, with_features


@dataclass(frozen=True)
class TrainingResult:
    """The fitted model, the cross-validation of its configuration, and the search (if any)."""

    model: Any
    cv: CrossValidation
    params: dict[str, Any]
    search: Any = None


def fit_model(table: pd.DataFrame, design: Design, params: TrainParams) -> TrainingResult:
    """Tune (if configured), cross-validate, then fit on the whole training split.

    ``table`` is the modelling table (``featurize``'s columns). With
    ``train.tuning.method`` none the family's hyperparameters are used as written;
    otherwise the best candidate of the search replaces the ones it searched.
    ``train.calibration`` then wraps the tuned head in a k-fold
    ``CalibratedClassifierCV`` (the reported CV is the uncalibrated head's).
    """
    X, y = engineered_inputs(table, design.columns), table[design.label]
    head = build_head(
        design.columns, params.model, params.estimator_params(), params.seed, params.features
    )
    chosen = params.estimator_params()
    result = None
    if params.tuning.method == "none":
        cv = cross_validate_pipeline(head, X, y, params.cv_folds, params.seed)
    else:
        from churn.train import tuning  # scipy.stats (and optuna) only when tuning

        prefix = PARAM_PREFIX[params.model]
        result = tuning.search(
            head,
            X,
            y,
            params.space(),
            prefix,
            params.model,
            params.tuning,
            folds(params.cv_folds, params.seed),
            params.seed,
        )
        chosen = {**chosen, **result.best.params}
        head.set_params(**{prefix + k: v for k, v in result.best.params.items()})
        cv = CrossValidation("roc_auc", params.cv_folds, result.best.scores)
    fitted: Any = head
    if params.calibration != "none":
        fitted = CalibratedClassifierCV(
            head, method=params.calibration, cv=folds(params.cv_folds, params.seed)
        )
    fitted.fit(X, y)
    model = with_features(fitted, design.feature_step())
    # Stateless: fitting records the input columns (a plain record's).
    model.steps[0][1].fit(table[list(design.columns.features)])
    return TrainingResult(model, cv, chosen, result)


def train(table: pd.DataFrame, design: Design, params: TrainParams) -> tuple[Any, CrossValidation]:
    """Cross-validate (tuning first if configured), then fit on the whole training split."""
    result = fit_model(table, design, params)
    return result.model, result.cv


def training_metrics(result: TrainingResult, params: TrainParams) -> dict[str, Any]:
    """What ``metrics/train.json`` records: the family, its CV score, how it was tuned."""
    cv, search = result.cv, result.search
    return {
        "model": params.model,
        "cv": {
            "roc_auc_mean": round(cv.mean, 6),
            "roc_auc_std": round(cv.std, 6),
            "folds": cv.folds,
        },
        "tuning": {
            "method": params.tuning.method,
            "candidates": len(search.trials) if search else 0,
        },
        "hyperparameters": result.params,
    }


def candidate_rows(result: TrainingResult) -> list[dict[str, Any]]:
    """One row per tuning candidate (a plot of the search); without tuning, the one used."""
    trials = result.search.trials if result.search else []
    rows = [
        {
            "candidate": t.number,
            "roc_auc_mean": round(t.mean, 6),
            "roc_auc_std": round(t.std, 6),
            "params": dict(sorted(t.params.items())),
        }
        for t in trials
    ]
    return rows or [
        {
            "candidate": 0,
            "roc_auc_mean": round(result.cv.mean, 6),
            "roc_auc_std": round(result.cv.std, 6),
            "params": dict(sorted(result.params.items())),
        }
    ]
