"""Everything the stakeholder report shows, as read from the pipeline's outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from churn.core.decision import Decision


@dataclass(frozen=True)
class Evidence:
    """Everything the report shows, as read from the pipeline's outputs."""

    #: reports/validation/raw.json: the raw data's expectation results.
    validation: dict[str, Any]
    #: metrics/clean.json: repairs and quarantine counts.
    clean: dict[str, Any]
    #: reports/explore/stats.json: statistics of the clean table.
    stats: dict[str, Any]
    #: metrics/train.json: the family, its hyperparameters and its CV score.
    train: dict[str, Any]
    #: metrics/train_tuning.json: the tuning candidates (one row when not tuned).
    tuning: list[dict[str, Any]]
    #: models/decision.json: the contact threshold and the economics.
    decision: Decision
    #: metrics/evaluate/metrics.json: per split, the classification and business metrics.
    metrics: dict[str, dict[str, float]]
    #: Profit per customer by threshold, per split (evaluate's business plots).
    profit: dict[str, list[dict[str, float]]]
    #: Cumulative gains, per split (evaluate's business plots).
    gains: dict[str, list[dict[str, float]]]
    #: Test-split metrics per segment, by column (``all_segments``).
    segments: dict[str, list[dict[str, Any]]]
    #: Rows of the data set behind each split, by split name.
    split_rows: dict[str, int]
    #: The threshold the classification metrics use (params ``evaluate.threshold``),
    #: against which the report compares the business threshold.
    default_threshold: float
    #: Categorical columns shown as drivers of the target (``choose_drivers``).
    drivers: list[str]
    #: Test rows of the seeded sample the segments were computed on (None: every row).
    segment_sample: int | None = None
    #: models/challenge.json: why this model is the one in service (empty: not given).
    challenge: dict[str, Any] = field(default_factory=dict)


def choose_drivers(stats: dict[str, Any], listed: list[str], n: int = 3) -> list[str]:
    """The columns the report shows as drivers: ``listed`` if the problem file names them,
    else the ``n`` categorical columns whose levels' positive rates spread the widest.

    Levels holding under 5% of the rows are left out of the spread: a rare level's
    rate is noise, not a driver.
    """
    if listed:
        return list(listed)
    spreads = []
    for name, summary in stats.get("categorical", {}).items():
        rates = [
            lv["positive_rate"]
            for lv in summary["levels"]
            if lv["positive_rate"] is not None and lv["count"] >= 0.05 * stats["rows"]
        ]
        if len(rates) >= 2:
            spreads.append((-(max(rates) - min(rates)), name))
    return [name for _, name in sorted(spreads)[:n]]
