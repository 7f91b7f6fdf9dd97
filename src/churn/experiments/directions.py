"""Which way each metric improves: the direction behind every better/worse mark of a comparison.

The metrics files of every stage (train, clean, evaluate) are compared by the
same table, so a new metric gets its direction here once.
"""

from __future__ import annotations

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
    # metrics/monitor/periods.json (per period): a lower verdict (0 ok, 1 investigate,
    # 2 retrain), fewer drifted columns and less quarantine are better.
    "verdict": False,
    "drifted_columns": False,
    "score_drifted": False,
    "quarantined_share": False,
    "profit_per_customer": True,
    # metrics/challenge.json: champion against challenger on the same evidence.
    "profit_gain": True,
    "profit_gain_low": True,
    "profit_gain_high": True,
    "roc_auc_gain": True,
    "roc_auc_gain_low": True,
    "roc_auc_gain_high": True,
    "accepted": True,
    "gate_passed": True,
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
