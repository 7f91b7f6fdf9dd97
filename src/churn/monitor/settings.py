"""The ``monitor`` section of params.yaml: the drift rule, the quality and performance
settings, and the retraining rule of the monitor stage (README, "Monitoring")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from churn.core.params import Section, Strict


class DriftAlarmParams(Strict):
    """The drift rule: BH-adjusted p < alpha AND effect above its calibrated threshold."""

    #: No-drift resamples of the reference per period size (the thresholds' precision).
    repeats: int = Field(ge=100, le=100_000)
    #: Largest share of no-drift periods with any column flagged.
    target: float = Field(gt=0, lt=1)
    #: Level of the Benjamini-Hochberg adjusted p-values.
    alpha: float = Field(gt=0, lt=1)
    #: The effect size compared with the thresholds: psi (every column in one unit) or
    #: distance (Wasserstein/sd for numbers, Jensen-Shannon for categories).
    effect: Literal["psi", "distance"] = "psi"
    #: A floor under every threshold: changes smaller than this never alarm.
    min_effect: float = Field(default=0.0, ge=0)


class QualityParams(Strict):
    #: A period whose share of quarantined rows exceeds this is flagged (investigate).
    max_quarantined_share: float = Field(ge=0, le=1)


class PerformanceParams(Strict):
    #: Bootstrap resamples of each interval.
    bootstrap: int = Field(ge=100, le=100_000)
    #: Coverage of the intervals.
    level: float = Field(gt=0.5, lt=1)
    #: Realized performance is computed once this many of a period's rows have outcomes.
    min_labelled: int = Field(ge=10)


class RetrainParams(Strict):
    """When realized performance calls for retraining."""

    #: Bars of each metric, the highest applies: gate (the problem file's) and champion
    #: (the deployed model's validation value minus ``margin``).
    bars: list[Literal["gate", "champion"]] = Field(min_length=1)
    #: Per metric (roc_auc, top_decile_lift): how far below the champion's validation value.
    margin: dict[Literal["roc_auc", "top_decile_lift"], float]
    #: interval: a period is below a bar when its whole bootstrap interval is;
    #: point: when its value is (more sensitive, more false alarms on small periods).
    evidence: Literal["interval", "point"] = "interval"
    #: Retrain when this many labelled periods in a row are below a bar.
    periods: int = Field(ge=1)


class MonitorParams(Section):
    section = "monitor"

    seed: int
    #: Fewer predictions than this in a period: its drift is not judged (investigate).
    min_rows: int = Field(ge=1)
    drift: DriftAlarmParams
    quality: QualityParams
    performance: PerformanceParams
    retrain: RetrainParams
    #: Resolution of the dashboard's charts.
    dpi: int = Field(default=100, ge=30, le=300)
