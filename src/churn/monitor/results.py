"""The monitor's machine-readable outputs: metrics per period, verdicts, plot series.

* ``periods.json`` (a DVC metrics file): per period the numbers, rounded, so that
  ``dvc metrics diff`` compares two monitoring runs (e.g. before and after a month's
  outcomes arrived, or two commits of a production repository);
* ``verdicts.json``: per period the verdict, its reasons and notes in words and the same
  facts as fields (``signals``), the bars and the rule; the contract for tools that act on
  the verdicts (e.g. retraining). Its layout is versioned (``schema_version``);
* plot series (``plots/*.json``): one row per period, for ``dvc plots show``.

Metric names keep the profit model's vocabulary (``profit_per_customer``) and a neutral
``event_rate`` whatever the problem, so that runs stay comparable; the words a reader sees
come from the problem file.
"""

from __future__ import annotations

import math
from typing import Any

from churn.monitor.assess import SCORE, Assessment, Baseline, realized_value
from churn.monitor.records import Extent
from churn.monitor.verdict import LEVELS, RETRAIN, Verdict

#: Layout version of verdicts.json (bump on any incompatible change).
VERDICTS_SCHEMA = 1
DIGITS = 6


def _r(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), DIGITS)


def _estimated(a: Assessment) -> dict[str, Any]:
    e = a.estimate
    return {
        "roc_auc": _r(e.expected_roc_auc),
        "top_decile_lift": _r(e.expected_top_decile_lift),
        "profit_per_customer": _r(e.expected_profit_per_customer),
        "event_rate": _r(e.expected_churn_rate),
        "contacted_share": _r(e.contacted_share),
    }


def _realized(a: Assessment) -> dict[str, Any] | None:
    if a.realized is None:
        return None
    out: dict[str, Any] = {"labelled": a.realized.labelled, "coverage": _r(a.realized.coverage)}
    for metric in ("roc_auc", "top_decile_lift", "profit_per_customer"):
        value, low, high = realized_value(a, metric)
        out[metric] = _r(value)
        out[f"{metric}_low"] = _r(low)
        out[f"{metric}_high"] = _r(high)
    out["roc_auc_se"] = _r(a.realized.overall.roc_auc_se)
    out["event_rate"] = _r(a.realized.overall.churn_rate)
    out["contacted_share"] = _r(a.realized.overall.contacted_share)
    return out


def period_metrics(assessments: list[Assessment], verdicts: list[Verdict]) -> dict[str, Any]:
    """The metrics file: one block of numbers per period."""
    by_period = {v.period: v for v in verdicts}
    out = {}
    for a in assessments:
        v = by_period[a.period]
        block: dict[str, Any] = {
            "verdict": v.level,
            "rows": a.rows,
            "rows_logged": a.logged,
            "channels": dict(a.channels),
            "quality": {
                "rows_in": a.quality.rows_in,
                "rows_quarantined": a.quality.rows_quarantined,
                "quarantined_share": _r(a.quality.quarantined_share),
            },
            "estimated": _estimated(a),
        }
        if a.drift is not None:
            block["drift"] = {
                "drifted_columns": len(a.drifted_inputs),
                "score_drifted": int(a.score_drifted),
                "psi": {c.column: _r(c.psi) for c in a.drift.columns},
            }
        realized = _realized(a)
        if realized is not None:
            block["realized"] = realized
        out[a.period] = block
    return {"periods": out}


def _alarms(a: Assessment) -> list[dict[str, Any]]:
    rows = []
    for alarm in a.alarms:
        result = a.drift.column(alarm.column)
        rows.append(
            {
                "column": alarm.column,
                "kind": result.kind,
                "drifted": alarm.drifted,
                "effect": alarm.effect_name,
                "value": _r(alarm.effect),
                "threshold": _r(alarm.threshold),
                "p_value_adjusted": _r(alarm.p_value_adjusted),
                "distance": _r(result.distance),
                "distance_name": result.distance_name,
                "reason": alarm.reason,
            }
        )
    return rows


def verdicts_document(
    assessments: list[Assessment],
    verdicts: list[Verdict],
    base: Baseline,
    extent: Extent,
    *,
    retrain_periods: int,
    evidence: str,
    simulated: dict[str, Any] | None = None,
    reference_sample: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """verdicts.json: every period's verdict with its reasons, signals and numbers.

    ``simulated``: the stream is SIMULATED (its directory, origin and each period's
    scenario); the document says so, and each period names its scenario.
    ``reference_sample``: the drift reference is a seeded sample of the training split
    (its rows, of how many, the seed); said only then, so small data keeps its bytes.
    """
    by_period = {a.period: a for a in assessments}
    periods = []
    for v in verdicts:
        a = by_period[v.period]
        periods.append(
            {
                "period": v.period,
                **({"scenario": simulated["scenarios"].get(v.period)} if simulated else {}),
                "verdict": v.verdict,
                "level": v.level,
                "reasons": list(v.reasons),
                "notes": list(v.notes),
                "signals": v.signals,
                "rows": a.rows,
                "model_versions": dict(a.model_versions),
                "outcomes": a.outcomes,
                "labelled": a.realized.labelled if a.realized else 0,
                "quality": {
                    "rows_in": a.quality.rows_in,
                    "rows_quarantined": a.quality.rows_quarantined,
                    "reasons": a.quality.reasons,
                    "blanks": a.quality.blanks,
                },
                "drift": _alarms(a),
                "calibrated_at": None if a.thresholds is None else a.thresholds.n,
                "estimated": _estimated(a),
                "realized": _realized(a),
            }
        )
    latest = verdicts[-1] if verdicts else None
    return {
        "schema_version": VERDICTS_SCHEMA,
        "model": {"version": base.model_version, "threshold": base.threshold},
        "simulated": simulated,
        **({"reference_sample": reference_sample} if reference_sample else {}),
        "prediction_log": {
            "path": extent.path.as_posix(),
            "exists": extent.exists,
            "tables": {t: {"rows": r, "last_id": i} for t, (r, i) in extent.tables.items()},
        },
        "rule": {
            "levels": LEVELS,
            "retrain_after_periods": retrain_periods,
            "evidence": evidence,
            "bars": {
                m: {
                    "value": _r(b.value),
                    "gate": b.gate,
                    "champion": _r(b.champion),
                    "margin": b.margin,
                }
                for m, b in base.bars.items()
            },
        },
        "periods": periods,
        "latest": None if latest is None else {"period": latest.period, "verdict": latest.verdict},
        "retrain": {
            "due": bool(latest and latest.verdict == RETRAIN),
            "periods": [v.period for v in verdicts if v.verdict == RETRAIN],
        },
    }


def plot_series(assessments: list[Assessment], base: Baseline) -> dict[str, list[dict]]:
    """Rows per period for the DVC plots (``metrics/monitor/plots/<name>.json``)."""
    volume, drift, performance, profit, rate = [], [], [], [], []
    bar = base.bars.get("roc_auc")
    for a in assessments:
        volume.append(
            {
                "period": a.period,
                "rows": a.rows,
                "quarantined_share": _r(a.quality.quarantined_share),
            }
        )
        if a.drift is not None:
            ratios = [
                x.effect / x.threshold
                for x in a.alarms
                if x.column != SCORE and x.threshold > 0 and not math.isnan(x.effect)
            ]
            drift.append(
                {
                    "period": a.period,
                    "drifted_columns": len(a.drifted_inputs),
                    "largest_effect_over_threshold": _r(max(ratios) if ratios else None),
                    "score_psi": _r(a.drift.column(SCORE).psi),
                }
            )
        value, low, high = realized_value(a, "roc_auc")
        performance.append(
            {
                "period": a.period,
                "estimated_roc_auc": _r(a.estimate.expected_roc_auc),
                "realized_roc_auc": _r(value),
                "realized_roc_auc_low": _r(low),
                "realized_roc_auc_high": _r(high),
                "bar": _r(bar.value) if bar else None,
            }
        )
        value, _, _ = realized_value(a, "profit_per_customer")
        profit.append(
            {
                "period": a.period,
                "estimated_profit_per_customer": _r(a.estimate.expected_profit_per_customer),
                "realized_profit_per_customer": _r(value),
            }
        )
        rate.append(
            {
                "period": a.period,
                "expected_event_rate": _r(a.estimate.expected_churn_rate),
                "realized_event_rate": _r(a.realized.overall.churn_rate if a.realized else None),
            }
        )
    return {
        "volume": volume,
        "drift": drift,
        "performance": performance,
        "profit": profit,
        "event_rate": rate,
    }
