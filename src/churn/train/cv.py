"""Cross-validation on the training split: stratified k-fold ROC-AUC, seeded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

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
