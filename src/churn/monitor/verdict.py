"""A verdict per period: ok, investigate or retrain, with the reasons in words.

* **retrain**: a realized metric (ROC-AUC or top-decile lift, the gate's metrics) is below
  its bar in ``monitor.retrain.periods`` labelled periods in a row. The bar is the highest
  of the problem file's gate bar and the deployed model's validation value minus a margin
  (``monitor.retrain``). "Below" means the whole bootstrap interval is below the bar
  (``evidence: interval``; a monthly ROC-AUC moves by about 0.03 by chance at 250 rows),
  or the value is (``evidence: point``). Periods without outcomes yet neither count nor
  break the run.
* **investigate**: something moved that a person should look at before acting: input drift
  (a column flagged by the calibrated rule), drift of the predicted probability, a
  data-quality incident (more rows quarantined than ``monitor.quality``), too few rows to
  judge, or a realized metric below its bar in fewer periods in a row than retraining needs.
* **ok**: none of these.

Concept drift (the relation between the inputs and the outcome changes) moves neither the
inputs nor the scores, so it raises no drift alarm and leaves the estimated performance
where it was: only realized performance, once outcomes arrive, shows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from churn.core.problem import Words
from churn.monitor.assess import SCORE, Assessment, Bar, Baseline, realized_value
from churn.monitor.settings import MonitorParams

OK, INVESTIGATE, RETRAIN = "ok", "investigate", "retrain"
#: Verdicts by severity (the number in the metrics files).
LEVELS = {OK: 0, INVESTIGATE: 1, RETRAIN: 2}
METRIC_WORDS = {"roc_auc": "ROC-AUC", "top_decile_lift": "top-decile lift"}
#: The cleaning rules' reason codes, in words.
REASON_WORDS = {
    "missing": "blank",
    "unknown_category": "a value the contract does not allow",
    "unparseable": "not a number",
    "out_of_range": "outside the contract's range",
    "not_integer": "not a whole number",
    "bad_format": "a malformed identifier",
    "conflicting_duplicate_id": "the same identifier with different values",
}


@dataclass(frozen=True)
class Verdict:
    """The verdict of one period and why."""

    period: str
    verdict: str
    #: Why the verdict is not ok (empty when it is).
    reasons: tuple[str, ...]
    #: What else a reader should know (outcomes pending, another model version, ...).
    notes: tuple[str, ...]
    #: The same facts, machine-readable.
    signals: dict[str, object] = field(default_factory=dict)

    @property
    def level(self) -> int:
        return LEVELS[self.verdict]


def reason_in_words(code: str) -> str:
    """``unknown_category:Contract`` -> ``Contract: a value the contract does not allow``."""
    kind, _, column = code.partition(":")
    words = REASON_WORDS.get(kind, kind.replace("_", " "))
    return f"{column}: {words}" if column else words


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _bar_words(bar: Bar) -> str:
    parts = []
    if bar.champion is not None:
        parts.append(f"the deployed model's validation {bar.champion:.3f} minus {bar.margin:g}")
    if bar.gate is not None:
        parts.append(f"the gate's {bar.gate:g}")
    return "; ".join(parts)


def _below(a: Assessment, bar: Bar, evidence: str) -> bool | None:
    """Whether the period's realized metric is below the bar (None: not measured)."""
    value, _, high = realized_value(a, bar.metric)
    judged = high if evidence == "interval" else value
    if math.isnan(judged):
        return None
    return judged < bar.value


def judge(
    assessments: list[Assessment], base: Baseline, params: MonitorParams, words: Words
) -> list[Verdict]:
    """The verdict of every period, in order (retraining looks at the periods before)."""
    verdicts = []
    streak = {metric: 0 for metric in base.bars}
    level = f"{params.performance.level:.0%}"
    for a in sorted(assessments, key=lambda x: x.period):
        reasons: list[str] = []
        notes: list[str] = []
        retrain = False
        volume = a.rows < params.min_rows
        if volume:
            reasons.append(
                f"volume: {a.rows:,} {words.units} predicted, fewer than monitor.min_rows "
                f"({params.min_rows:,}): drift not judged"
            )
        quality = a.quality.quarantined_share > params.quality.max_quarantined_share
        if quality:
            top = sorted(a.quality.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
            listed = "; ".join(f"{reason_in_words(k)} ({v:,})" for k, v in top)
            reasons.append(
                f"data quality: {a.quality.quarantined_share:.1%} of the "
                f"{a.quality.rows_in:,} {words.units} checked were quarantined, more than "
                f"{params.quality.max_quarantined_share:.1%}: {listed}"
            )
        drifted = a.drifted_inputs
        if drifted:
            described = []
            for column in drifted:
                alarm = a.alarm(column)
                result = a.drift.column(column)
                test = "KS" if result.test == "ks" else "chi-square"
                described.append(
                    f"{column} ({alarm.effect_name} {alarm.effect:.3f} > {alarm.threshold:.3f}, "
                    f"BH-adjusted {test} {_p(alarm.p_value_adjusted)})"
                )
            total = len([x for x in a.alarms if x.column != SCORE])
            reasons.append(
                f"input drift in {len(drifted)} of {total} columns: " + ", ".join(described)
            )
        if a.score_drifted:
            alarm = a.alarm(SCORE)
            reference_mean = float(base.profile.score.values.mean())
            reasons.append(
                f"the predicted {words.event} probability drifted ({alarm.effect_name} "
                f"{alarm.effect:.3f} > {alarm.threshold:.3f}): mean {reference_mean:.3f} on "
                f"validation, {a.estimate.expected_churn_rate:.3f} in this period"
            )
        below_now = []
        for metric, bar in base.bars.items():
            below = _below(a, bar, params.retrain.evidence)
            if below is None:
                continue
            streak[metric] = streak[metric] + 1 if below else 0
            if below:
                below_now.append(metric)
                value, low, high = realized_value(a, metric)
                text = (
                    f"realized {METRIC_WORDS[metric]} {value:.3f} ({level} interval "
                    f"{low:.3f}-{high:.3f}) below its bar {bar.value:.3f} ({_bar_words(bar)})"
                )
                if streak[metric] >= params.retrain.periods:
                    retrain = True
                    text += f" for {streak[metric]} labelled periods in a row: retrain"
                else:
                    text += (
                        f": {streak[metric]} of the {params.retrain.periods} labelled periods "
                        "in a row that call for retraining"
                    )
                reasons.append(text)
        if a.realized is None:
            if a.outcomes:
                notes.append(
                    f"{a.outcomes:,} outcomes loaded, fewer than monitor.performance."
                    f"min_labelled ({params.performance.min_labelled:,}) match a prediction: "
                    "realized performance not computed"
                )
            else:
                notes.append(
                    "outcomes not arrived yet: performance is estimated from the probabilities "
                    "(assumes calibration and no concept drift)"
                )
        other = sorted(v for v in a.model_versions if v.split("@")[0] != base.model_version)
        if other:
            notes.append(
                f"scored by model(s) {', '.join(other)}, not the deployed one "
                f"({base.model_version}): compared with the deployed model's reference"
            )
        if a.unfinished:
            notes.append(f"{a.unfinished:,} predictions of batch runs that did not finish left out")
        verdict = RETRAIN if retrain else INVESTIGATE if reasons else OK
        verdicts.append(
            Verdict(
                period=a.period,
                verdict=verdict,
                reasons=tuple(reasons),
                notes=tuple(notes),
                signals={
                    "volume": volume,
                    "data_quality": quality,
                    "input_drift": drifted,
                    "score_drift": a.score_drifted,
                    "below_bar": below_now,
                    "periods_below_in_a_row": dict(streak),
                    "labelled": a.realized is not None,
                },
            )
        )
    return verdicts
