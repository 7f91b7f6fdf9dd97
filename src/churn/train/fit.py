"""Fit the model: choose the family or tune it (if configured), cross-validate, fit.

The head of the pipeline is tuned, cross-validated and fitted on the modelling
table's engineered columns (computed once, by ``featurize``); the saved model is
the fitted head behind the same stateless feature step, so it takes a plain
record. With ``train.model: auto`` every family of ``train.selection`` is
cross-validated on the same folds and the winner (``selection.choose``) is fitted.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churn.core.params import TrainParams
from churn.evaluate.business import Economics, best_threshold
from churn.train.cv import SCORING, CrossValidation, folds
from churn.train.families import PARAM_PREFIX
from churn.train.pipeline import Design, build_head, engineered_inputs, with_features
from churn.train.score_cache import ScoreCache
from churn.train.selection import Choice, FamilyScore, choose, rule_text, score_families


@dataclass(frozen=True)
class TrainingResult:
    """The fitted model, the cross-validation of its configuration, and the search (if any)."""

    #: None when the caller fits the chosen family itself (``fit_model(fitted_elsewhere=)``).
    model: Any
    cv: CrossValidation
    params: dict[str, Any]
    search: Any = None
    #: The family fitted (the winner with ``train.model: auto``).
    family: str = ""
    #: Every candidate's cross-validation, simplest first (without tuning).
    scores: dict[str, FamilyScore] | None = None
    #: How the winner was chosen (``train.model: auto`` only).
    choice: Choice | None = None
    #: The training labels (for the out-of-fold profit of each family).
    labels: np.ndarray | None = None


def fit_model(
    table: pd.DataFrame,
    design: Design,
    params: TrainParams,
    fitted_elsewhere: Collection[str] = (),
) -> TrainingResult:
    """Choose or tune (if configured), cross-validate, then fit on the whole training split.

    ``table`` is the modelling table (``featurize``'s columns). With
    ``train.tuning.method`` none the family's hyperparameters are used as written
    (``train.model: auto``: every family's, and the winner is fitted); otherwise the
    best candidate of the search replaces the ones it searched. ``train.calibration``
    then wraps the head in a k-fold ``CalibratedClassifierCV`` (the reported CV is
    the uncalibrated head's).

    When the family chosen is one of ``fitted_elsewhere`` (uncalibrated), the final
    fit is left to the caller and ``model`` is None: ``full_fit`` fits it again on
    every row of a split larger than the sample, and a fit on the sample would be
    thrown away (0.9 s for a 50,000-row sample, profiled).
    """
    X, y = engineered_inputs(table, design.columns), table[design.label]
    result = choice = scores = None
    if params.tuning.method == "none":
        heads = {
            family: build_head(
                design.columns, family, params.family_params(family), params.seed, params.features
            )
            for family in params.candidates()
        }
        cache = ScoreCache.open(X, y, params.cv_folds, params.seed)
        scores = score_families(
            heads, X, y, params.cv_folds, params.seed, params.selection.n_jobs, cache
        )
        family = params.model
        if family == "auto":
            choice = choose(scores, params.selection.standard_errors)
            family = choice.winner
        head, chosen = heads[family], params.family_params(family)
        cv = CrossValidation(SCORING, params.cv_folds, scores[family].scores)
    else:
        family = params.model
        head = build_head(
            design.columns, family, params.estimator_params(), params.seed, params.features
        )
        chosen = params.estimator_params()
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
    if family in fitted_elsewhere and params.calibration == "none":
        return TrainingResult(
            None, cv, chosen, result, family, scores, choice, y.to_numpy(dtype=np.int64)
        )
    fitted: Any = head
    if params.calibration != "none":
        from sklearn.calibration import CalibratedClassifierCV

        fitted = CalibratedClassifierCV(
            head, method=params.calibration, cv=folds(params.cv_folds, params.seed)
        )
    fitted.fit(X, y)
    model = with_features(fitted, design.feature_step())
    # Stateless: fitting records the input columns (a plain record's).
    model.steps[0][1].fit(table[list(design.columns.features)])
    return TrainingResult(
        model, cv, chosen, result, family, scores, choice, y.to_numpy(dtype=np.int64)
    )


def train(table: pd.DataFrame, design: Design, params: TrainParams) -> tuple[Any, CrossValidation]:
    """Cross-validate (tuning first if configured), then fit on the whole training split."""
    result = fit_model(table, design, params)
    return result.model, result.cv


def training_metrics(
    result: TrainingResult, params: TrainParams, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """What ``metrics/train.json`` records: the family, its CV score, how it was tuned.

    With ``train.model: auto``, also how the family was chosen and every family's
    row of ``family_rows`` (without fit times, which vary from run to run).
    """
    cv, search = result.cv, result.search
    metrics: dict[str, Any] = {
        "model": result.family,
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
    if result.choice is not None:
        metrics["selection"] = {
            "rule": rule_text(params.selection.standard_errors),
            "best": result.choice.best,
            "winner": result.choice.winner,
            # Simplest first (the families below are written in key order).
            "candidates": [row["family"] for row in rows],
            "families": {
                row["family"]: {k: v for k, v in row.items() if k != "family"} for row in rows
            },
        }
    return metrics


def family_rows(
    result: TrainingResult, econ: Economics, thresholds: np.ndarray
) -> list[dict[str, Any]]:
    """One row per family scored (simplest first): the table of ``metrics/train_families.json``.

    ``profit_oof`` is the expected profit per row (the problem's unit) of the family's out-of-fold
    probabilities (each from the fold that did not train on the row) at the threshold
    of ``thresholds`` that maximises it there (``threshold_oof``), as evaluate chooses
    the deployed model's threshold on validation: a business view of each family at no
    extra fit. After a search (tuning) only the fitted family's CV is known.
    """
    if result.scores is None:
        return [
            {
                "family": result.family,
                "chosen": True,
                "roc_auc_mean": round(result.cv.mean, 6),
                "roc_auc_std": round(result.cv.std, 6),
                "profit_oof": None,
                "threshold_oof": None,
            }
        ]
    rows = []
    for name, score in result.scores.items():
        threshold, profit = best_threshold(result.labels, score.out_of_fold, thresholds, econ)
        row: dict[str, Any] = {
            "family": name,
            "chosen": name == result.family,
            "roc_auc_mean": round(score.mean, 6),
            "roc_auc_std": round(score.std, 6),
            "profit_oof": round(profit, 6),
            "threshold_oof": round(float(threshold), 6),
        }
        if result.choice is not None:
            comparison = result.choice.comparisons[name]
            row["difference_from_best"] = round(comparison.difference, 6)
            row["difference_se"] = round(comparison.standard_error, 6)
            row["within_margin"] = comparison.within
        rows.append(row)
    return rows


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
