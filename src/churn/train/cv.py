"""Cross-validation on the training split: stratified k-fold ROC-AUC, seeded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_validate

#: The score every candidate and family is compared by.
SCORING = "roc_auc"


class FoldScores:
    """Mean and standard deviation of per-fold ``scores`` (cross-validation results)."""

    scores: list[float]

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        return float(np.std(self.scores))


@dataclass(frozen=True)
class CrossValidation(FoldScores):
    metric: str
    folds: int
    scores: list[float]


def folds(n_splits: int, seed: int) -> StratifiedKFold:
    """The shuffled, seeded stratified folds every score on the training split uses."""
    return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)


def cross_validate_pipeline(
    pipeline: Any, X: pd.DataFrame, y: pd.Series, n_splits: int, seed: int
) -> CrossValidation:
    """Stratified k-fold ROC-AUC of ``pipeline`` on the training split."""
    result = cross_validate(pipeline, X, y, cv=folds(n_splits, seed), scoring=SCORING, n_jobs=1)
    return CrossValidation(SCORING, n_splits, [float(s) for s in result["test_score"]])
