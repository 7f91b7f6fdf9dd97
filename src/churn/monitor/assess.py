"""One period assessed against the deployed model's baseline: every number the verdict uses.

For a period's records (``churn.monitor.records``):

* **volume**: predictions counted, per channel and model version; repeats and unfinished
  batch runs left out;
* **data quality**: rows the contract checks quarantined (share of the period's input rows,
  by reason code) and blank raw values per column, from the batch runs (the service
  refuses an invalid request with 422 before anything is logged: its refusals are in its
  Prometheus metrics, not here);
* **drift** of every input column of the contract and of the predicted probability against
  the baseline (``churn.monitor.drift``), judged by thresholds calibrated for the period's
  size (``churn.monitor.alarms``);
* **estimated performance** from the probabilities alone (CBPE, ``churn.monitor.performance``:
  it assumes calibrated probabilities and no concept drift);
* **realized performance** once outcomes arrive: ROC-AUC, top-decile lift and profit per
  unit at the deployed threshold, with bootstrap intervals, overall and per level of each
  of the problem file's ``segments``.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn.core.contract import Contract
from churn.core.errors import ConfigError
from churn.evaluate.business import Economics
from churn.monitor.alarms import AlarmThresholds, ColumnAlarm, ThresholdCache, column_alarms
from churn.monitor.drift import PeriodDrift, ReferenceProfile, fit_reference, period_drift
from churn.monitor.performance import (
    PerformanceEstimate,
    RealizedPerformance,
    estimate_performance,
    realized_performance,
    segment_performance,
)
from churn.monitor.records import PeriodRecords
from churn.monitor.settings import MonitorParams
from churn.serve.prediction_log import SERVICE

#: The name of the predicted probability among the drift results.
SCORE = "score"
#: The metrics with a bar (the gate's), by their name in the metrics files.
GATED = ("roc_auc", "top_decile_lift")


@dataclass(frozen=True)
class Bar:
    """The value a realized metric must stay above, and where it comes from."""

    metric: str
    value: float
    gate: float | None
    champion: float | None
    margin: float | None


@dataclass(frozen=True)
class Baseline:
    """What every period is compared with: the deployed model and its reference data."""

    contract: Contract
    profile: ReferenceProfile
    model_version: str
    threshold: float
    econ: Economics
    bars: dict[str, Bar]
    segments: tuple[str, ...]


def threshold_cache(params: MonitorParams, base: Baseline) -> ThresholdCache:
    """The drift alarm thresholds of ``params.drift``, calibrated on ``base``'s reference."""
    drift = params.drift
    return ThresholdCache(
        base.profile,
        repeats=drift.repeats,
        seed=params.seed,
        target=drift.target,
        alpha=drift.alpha,
        effect=drift.effect,
        min_effect=drift.min_effect,
    )


def bars_for(
    params: MonitorParams, gate: dict[str, float], validation: dict[str, float]
) -> dict[str, Bar]:
    """Each gated metric's bar: the highest of the gate's and the champion's minus the margin."""
    bars = {}
    for metric in GATED:
        gate_value = gate.get(metric) if "gate" in params.retrain.bars else None
        margin = params.retrain.margin.get(metric)
        champion = None
        if "champion" in params.retrain.bars and metric in validation and margin is not None:
            champion = validation[metric]
        candidates = [v for v in (gate_value, None if champion is None else champion - margin)]
        candidates = [v for v in candidates if v is not None]
        if candidates:
            bars[metric] = Bar(metric, max(candidates), gate_value, champion, margin)
    return bars


def baseline(
    contract: Contract,
    reference: pd.DataFrame,
    reference_scores: np.ndarray,
    *,
    model_version: str,
    threshold: float,
    econ: Economics,
    bars: dict[str, Bar],
    segments: list[str],
) -> Baseline:
    """The baseline from the training split (inputs) and the validation probabilities (score)."""
    profile = fit_reference(
        reference,
        numeric=list(contract.numeric_features),
        categorical=list(contract.categorical_features),
        score=np.asarray(reference_scores, dtype=np.float64),
        score_name=SCORE,
    )
    return Baseline(contract, profile, model_version, threshold, econ, bars, tuple(segments))


@dataclass(frozen=True)
class Quality:
    """Data quality of a period's inputs."""

    #: Rows that reached the contract checks: batch rows read plus service predictions.
    rows_in: int
    rows_quarantined: int
    exact_duplicates_removed: int
    #: Reason code -> rows (a row may have several).
    reasons: dict[str, int]
    #: Rows read by batch runs, and their blank raw values per column.
    batch_rows_in: int
    blanks: dict[str, int]

    @property
    def quarantined_share(self) -> float:
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    def blank_share(self, column: str) -> float:
        return self.blanks.get(column, 0) / self.batch_rows_in if self.batch_rows_in else 0.0


@dataclass(frozen=True)
class Realized:
    """Realized performance of a period's labelled rows."""

    labelled: int
    #: Share of the period's counted predictions with an outcome.
    coverage: float
    overall: RealizedPerformance
    #: Segment column -> level -> performance.
    segments: dict[str, dict[str, RealizedPerformance]] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    """Everything measured for one period."""

    period: str
    rows: int
    logged: int
    superseded: int
    unfinished: int
    channels: dict[str, int]
    model_versions: dict[str, int]
    #: The decision threshold the period's predictions were made with (the most common).
    threshold: float
    quality: Quality
    #: None when the period has fewer rows than ``monitor.min_rows``.
    drift: PeriodDrift | None
    thresholds: AlarmThresholds | None
    alarms: tuple[ColumnAlarm, ...]
    estimate: PerformanceEstimate
    realized: Realized | None
    #: Outcomes loaded for the period (whether or not they match a prediction).
    outcomes: int
    #: Segment column -> level -> mean probability: the event rate the model expects there.
    segment_expected: dict[str, dict[str, float]] = field(default_factory=dict)

    def alarm(self, column: str) -> ColumnAlarm | None:
        return next((a for a in self.alarms if a.column == column), None)

    @property
    def drifted_inputs(self) -> list[str]:
        return [a.column for a in self.alarms if a.drifted and a.column != SCORE]

    @property
    def score_drifted(self) -> bool:
        score = self.alarm(SCORE)
        return bool(score and score.drifted)


def _quality(records: PeriodRecords) -> Quality:
    service = int((records.predictions["channel"] == SERVICE).sum())
    batch_in = records.sum_runs("rows_in")
    return Quality(
        rows_in=batch_in + service,
        rows_quarantined=records.sum_runs("rows_quarantined"),
        exact_duplicates_removed=records.sum_runs("exact_duplicates_removed"),
        reasons=records.run_counts("quarantine_reasons"),
        batch_rows_in=batch_in,
        blanks=records.run_counts("blanks"),
    )


def _seed(seed: int, period: str) -> int:
    # Stable across processes (crc32), different per period.
    return zlib.crc32(f"{seed}:{period}".encode())


def assess(
    records: PeriodRecords, base: Baseline, params: MonitorParams, cache: ThresholdCache
) -> Assessment:
    """Measure one period against the baseline (``cache``: thresholds by period size)."""
    contract = base.contract
    table = records.predictions
    n = len(table)
    probability = table["probability"].to_numpy(dtype=np.float64)
    thresholds_seen = table["threshold"].value_counts()
    threshold = float(thresholds_seen.index[0]) if n else base.threshold
    drift = thresholds = None
    alarms: tuple[ColumnAlarm, ...] = ()
    if n >= params.min_rows:
        drift = period_drift(base.profile, table, score=probability)
        try:
            thresholds = cache(n)
        except ValueError as exc:  # e.g. too few resamples for the number of columns
            raise ConfigError(f"params.yaml: monitor.drift: {exc}") from None
        alarms = column_alarms(drift, thresholds)
    realized = None
    idc = contract.id_column
    joined = table.merge(records.outcomes, on=idc, how="inner") if n else table.iloc[:0]
    if len(joined) >= params.performance.min_labelled:
        y = joined["outcome"].to_numpy(dtype=np.int64)
        p = joined["probability"].to_numpy(dtype=np.float64)
        seed = _seed(params.seed, records.period)
        options = {
            "n_boot": params.performance.bootstrap,
            "seed": seed,
            "level": params.performance.level,
        }
        overall = realized_performance(y, p, threshold, base.econ, **options).overall
        by_segment = {
            column: segment_performance(y, p, threshold, base.econ, joined[column], **options)
            for column in base.segments
        }
        realized = Realized(len(joined), len(joined) / n, overall, by_segment)
    return Assessment(
        period=records.period,
        rows=n,
        logged=records.logged,
        superseded=records.superseded,
        unfinished=records.unfinished,
        channels=records.channels,
        model_versions=records.model_versions,
        threshold=threshold,
        quality=_quality(records),
        drift=drift,
        thresholds=thresholds,
        alarms=alarms,
        estimate=estimate_performance(probability, threshold, base.econ),
        realized=realized,
        outcomes=len(records.outcomes),
        segment_expected={
            column: {
                str(level): float(mean)
                for level, mean in table.groupby(column, sort=True)["probability"].mean().items()
            }
            for column in base.segments
        },
    )


def realized_value(assessment: Assessment, metric: str) -> tuple[float, float, float]:
    """(value, low, high) of a realized metric; NaN when there is no realized performance."""
    if assessment.realized is None:
        return math.nan, math.nan, math.nan
    interval = {
        "roc_auc": assessment.realized.overall.roc_auc,
        "top_decile_lift": assessment.realized.overall.top_decile_lift,
        "profit_per_customer": assessment.realized.overall.profit_per_customer,
    }[metric]
    return interval.value, interval.low, interval.high
