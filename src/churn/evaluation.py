"""Evaluate: classification metrics and the data behind the standard plots."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

#: Each metric and whether a larger value is better (used when comparing runs).
HIGHER_IS_BETTER: dict[str, bool] = {
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "roc_auc": True,
    "average_precision": True,
    # Loss-like metrics: lower is better.
    "log_loss": False,
    "brier_score": False,
    # metrics/train.json: cross-validated ROC-AUC; a smaller spread across folds is steadier.
    "roc_auc_mean": True,
    "roc_auc_std": False,
    # metrics/clean.json: fewer rows set aside is better.
    "quarantined_fraction": False,
    "rows_quarantined": False,
    # metrics/evaluate/metrics.json: the retention decision (per customer, higher is better).
    "profit_tuned_threshold": True,
    "profit_default_threshold": True,
    "profit_break_even_threshold": True,
    "profit_contact_all": True,
    "top_decile_lift": True,
    "emp": True,
}


def metric_direction(key: str) -> bool | None:
    """Whether a larger value of metric ``key`` is better; None when it has no direction.

    ``key`` may be a dotted path as DVC shows it (``test.roc_auc``, ``cv.roc_auc_std``):
    the full path is looked up first, then its last part, so one entry in
    ``HIGHER_IS_BETTER`` covers every split.
    """
    if key in HIGHER_IS_BETTER:
        return HIGHER_IS_BETTER[key]
    return HIGHER_IS_BETTER.get(key.rsplit(".", 1)[-1])


def classification_metrics(
    y_true: np.ndarray, probability: np.ndarray, threshold: float
) -> dict[str, float]:
    """Accuracy, precision, recall and F1 at ``threshold``; ROC-AUC and average precision."""
    y_true = np.asarray(y_true)
    predicted = (np.asarray(probability) >= threshold).astype(int)
    return {
        "accuracy": round(float(accuracy_score(y_true, predicted)), 6),
        "precision": round(float(precision_score(y_true, predicted, zero_division=0)), 6),
        "recall": round(float(recall_score(y_true, predicted, zero_division=0)), 6),
        "f1": round(float(f1_score(y_true, predicted, zero_division=0)), 6),
        "roc_auc": round(float(roc_auc_score(y_true, probability)), 6),
        "average_precision": round(float(average_precision_score(y_true, probability)), 6),
    }


def log_split(
    live: Any, split: str, y_true: np.ndarray, probability: np.ndarray, threshold: float
) -> dict[str, float]:
    """Log one split's metrics and sklearn plots to a dvclive ``Live`` under ``<kind>/<split>``."""
    metrics = classification_metrics(y_true, probability, threshold)
    for name, value in metrics.items():
        live.log_metric(f"{split}/{name}", value, plot=False)
    predicted = (probability >= threshold).astype(int)
    live.log_sklearn_plot("roc", y_true, probability, name=f"roc/{split}", drop_intermediate=True)
    live.log_sklearn_plot(
        "precision_recall",
        y_true,
        probability,
        name=f"precision_recall/{split}",
        drop_intermediate=True,
    )
    live.log_sklearn_plot("confusion_matrix", y_true, predicted, name=f"confusion_matrix/{split}")
    live.log_sklearn_plot(
        "calibration", y_true, probability, name=f"calibration/{split}", n_bins=10
    )
    return metrics


class FoldScores:
    """Mean and standard deviation of per-fold ``scores`` (cross-validation results)."""

    scores: list[float]

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        return float(np.std(self.scores))
