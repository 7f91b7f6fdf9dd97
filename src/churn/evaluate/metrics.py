"""Classification metrics of one split, and their dvclive record (metrics and standard plots)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    precision_recall_fscore_support,
    roc_auc_score,
)


def classification_metrics(
    y_true: np.ndarray, probability: np.ndarray, threshold: float
) -> dict[str, float]:
    """Accuracy, precision, recall and F1 at ``threshold``; ROC-AUC and average precision."""
    y_true = np.asarray(y_true)
    predicted = (np.asarray(probability) >= threshold).astype(int)
    # One pass for the three (what precision_score, recall_score and f1_score each call).
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, predicted, average="binary", zero_division=0
    )
    return {
        "accuracy": round(float(accuracy_score(y_true, predicted)), 6),
        "precision": round(float(precision), 6),
        "recall": round(float(recall), 6),
        "f1": round(float(f1), 6),
        "roc_auc": round(float(roc_auc_score(y_true, probability)), 6),
        "average_precision": round(float(average_precision_score(y_true, probability)), 6),
    }


def log_split(
    live: Any,
    split: str,
    metrics: dict[str, float],
    y_true: np.ndarray,
    probability: np.ndarray,
    threshold: float,
    plotted: np.ndarray | None = None,
) -> None:
    """Log one split's ``metrics`` (``classification_metrics``) and sklearn plots to a
    dvclive ``Live`` under ``<kind>/<split>``.

    The metrics use every row. The plots use the rows ``plotted`` marks (a seeded
    sample of a large split: dvclive writes a confusion-matrix plot as one record per
    row), and then the metrics record how many as ``<split>/plot_rows``.
    """
    for name, value in metrics.items():
        live.log_metric(f"{split}/{name}", value, plot=False)
    if plotted is not None:
        y_true, probability = np.asarray(y_true)[plotted], np.asarray(probability)[plotted]
        live.log_metric(f"{split}/plot_rows", int(plotted.sum()), plot=False)
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
