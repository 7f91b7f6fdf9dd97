"""The monitoring dashboard: one self-contained HTML page, offline and byte-stable.

Inline CSS, charts embedded as ``data:`` PNGs, no scripts, no fonts or files fetched from
anywhere, no timestamps (the same inputs give the same bytes). Per-period details sit in
``<details>`` elements, which need no script to open. Words and columns come from the
problem file.
"""

from __future__ import annotations

import math

from churn.core.figures import draw_pngs
from churn.core.html import esc, figure, number, page, percent, table
from churn.core.problem import Problem
from churn.monitor import charts
from churn.monitor.assess import SCORE, Assessment, Baseline, realized_value
from churn.monitor.records import Extent
from churn.monitor.verdict import INVESTIGATE, OK, RETRAIN, Verdict, reason_in_words

EXTRA_CSS = """
.badge.investigate { color: var(--warn); background: var(--warn-bg);
                     border: 1px solid var(--warn); }
.badge.retrain { color: var(--bad); background: var(--bad-bg); border: 1px solid var(--bad); }
.badge.ok { text-transform: none; }
details { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; margin: 8px 0; }
details > summary { cursor: pointer; font-weight: 600; }
ul.reasons { margin: 0; padding-left: 18px; }
ul.reasons li { margin: 2px 0; }
.note { color: var(--muted); }
table.heat td, table.heat th { text-align: center; padding: 3px 6px; font-size: 12px; }
table.heat td:first-child, table.heat th:first-child { text-align: left; }
table.heat td.drifted { font-weight: 700; outline: 2px solid var(--bad); outline-offset: -2px; }
""".strip()

BADGE = {OK: "ok", INVESTIGATE: "investigate", RETRAIN: "retrain"}


def _badge(verdict: str) -> str:
    return f'<span class="badge {BADGE[verdict]}">{esc(verdict)}</span>'


def _interval(value: float, low: float, high: float, digits: int = 3) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:.{digits}f} <span class='muted'>[{low:.{digits}f}, {high:.{digits}f}]</span>"


def _reasons(v: Verdict) -> str:
    items = [f"<li>{esc(r)}</li>" for r in v.reasons]
    items += [f'<li class="note">{esc(n)}</li>' for n in v.notes]
    if not v.reasons:
        items.insert(
            0, "<li>no drift beyond the no-drift thresholds, data quality within bounds</li>"
        )
    return f'<ul class="reasons">{"".join(items)}</ul>'


def _timeline(assessments: list[Assessment], verdicts: list[Verdict], problem: Problem) -> str:
    w = problem.words
    rows = []
    attrs = []
    for a, v in zip(assessments, verdicts, strict=True):
        channels = ", ".join(f"{c} {n:,}" for c, n in a.channels.items()) or "—"
        drifted = a.drifted_inputs
        rows.append(
            [
                f"<strong>{esc(a.period)}</strong>",
                _badge(v.verdict),
                f"{a.rows:,}<br><span class='muted'>{esc(channels)}</span>",
                percent(a.quality.quarantined_share),
                esc(", ".join(drifted)) if drifted else ("—" if a.drift is None else "none"),
                "yes" if a.score_drifted else ("—" if a.drift is None else "no"),
                number(a.estimate.expected_roc_auc, 3),
                _interval(*realized_value(a, "roc_auc")),
                _reasons(v),
            ]
        )
        attrs.append({RETRAIN: 'class="fail"', INVESTIGATE: 'class="warn"'}.get(v.verdict, ""))
    headers = [
        "Period",
        "Verdict",
        f"{w.units.capitalize()} predicted",
        "Quarantined",
        "Drifted input columns",
        "Score drift",
        "Estimated ROC-AUC",
        "Realized ROC-AUC [interval]",
        "Why",
    ]
    return table(
        headers,
        rows,
        numeric=(2, 3, 6, 7),
        row_attrs=attrs,
        widths=("7%", "8%", "9%", "8%", "11%", "6%", "7%", "11%", "33%"),
    )


def _heat_color(ratio: float) -> str:
    """White (0) through yellow (1: at the threshold) to red (3 and above)."""
    r = min(max(ratio, 0.0), 3.0)
    if r <= 1:
        g, b = 255 - round(40 * r), 255 - round(155 * r)
        return f"rgb(255,{g},{b})"
    t = (r - 1) / 2
    return f"rgb({255 - round(55 * t)},{215 - round(175 * t)},{100 - round(60 * t)})"


def _drift_heatmap(assessments: list[Assessment], base: Baseline, w) -> str:
    """Columns x periods: effect size over its no-drift threshold, drifted cells outlined."""
    judged = [a for a in assessments if a.drift is not None]
    if not judged:
        return "<p class='muted'>No period has enough rows to judge drift.</p>"
    head = "".join(f"<th>{esc(a.period)}</th>" for a in judged)
    rows = []
    for column in base.profile.columns:
        name = f"predicted {w.event} probability" if column == SCORE else column
        cells = []
        for a in judged:
            alarm = a.alarm(column)
            if alarm is None or alarm.threshold <= 0 or math.isnan(alarm.effect):
                cells.append("<td>—</td>")
                continue
            ratio = alarm.effect / alarm.threshold
            color = "#fff" if ratio > 2.2 else "inherit"
            cls = ' class="drifted"' if alarm.drifted else ""
            title = esc(alarm.reason)
            cells.append(
                f'<td{cls} style="background:{_heat_color(ratio)};color:{color}" '
                f'title="{title}">{ratio:.1f}{" ✕" if alarm.drifted else ""}</td>'
            )
        rows.append(f"<tr><td>{esc(name)}</td>{''.join(cells)}</tr>")
    return (
        f'<table class="heat"><thead><tr><th>Column</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _drift_table(a: Assessment, w) -> str:
    rows = []
    attrs = []
    for alarm in a.alarms:
        result = a.drift.column(alarm.column)
        name = f"predicted {w.event} probability" if alarm.column == SCORE else alarm.column
        rows.append(
            [
                esc(name),
                esc(result.kind),
                number(result.psi, 4),
                number(alarm.threshold, 4),
                number(result.distance, 4)
                + f" <span class='muted'>({esc(result.distance_name)})</span>",
                esc("KS" if result.test == "ks" else "chi-square"),
                "—" if math.isnan(alarm.p_value_adjusted) else f"{alarm.p_value_adjusted:.2g}",
                "<strong>drifted</strong>" if alarm.drifted else "no",
            ]
        )
        attrs.append('class="warn"' if alarm.drifted else "")
    return table(
        [
            "Column",
            "Kind",
            "PSI",
            "No-drift threshold",
            "Distance",
            "Test",
            "BH-adjusted p",
            "Drift",
        ],
        rows,
        numeric=(2, 3, 4, 6),
        row_attrs=attrs,
    )


def _quality_table(a: Assessment) -> str:
    q = a.quality
    rows = [
        ["Rows checked (batch rows read + service predictions)", f"{q.rows_in:,}"],
        [
            "Quarantined by the contract checks",
            f"{q.rows_quarantined:,} ({percent(q.quarantined_share)})",
        ],
        ["Exact duplicates removed", f"{q.exact_duplicates_removed:,}"],
        ["Repeated predictions (latest kept)", f"{a.superseded:,}"],
    ]
    rows += [[esc(f"reason: {reason_in_words(k)}"), f"{v:,}"] for k, v in q.reasons.items()]
    blanks = {k: v for k, v in q.blanks.items() if v}
    rows += [
        [esc(f"blank raw values: {k}"), f"{v:,} ({percent(q.blank_share(k))} of batch rows)"]
        for k, v in blanks.items()
    ]
    return table(["Data quality", "Value"], rows, numeric=(1,), widths=("60%", "40%"))


def _segments_table(a: Assessment, w) -> str:
    if a.realized is None:
        return "<p class='muted'>Outcomes have not arrived for this period yet.</p>"
    rows = []
    for column, levels in a.realized.segments.items():
        for level, perf in levels.items():
            rows.append(
                [
                    esc(column),
                    esc(level),
                    f"{perf.n:,}",
                    percent(perf.churn_rate),
                    _interval(perf.roc_auc.value, perf.roc_auc.low, perf.roc_auc.high),
                    _interval(
                        perf.profit_per_customer.value,
                        perf.profit_per_customer.low,
                        perf.profit_per_customer.high,
                        2,
                    ),
                ]
            )
    return table(
        [
            "Segment",
            "Level",
            f"Labelled {w.units}",
            f"{w.event.capitalize()} rate",
            "ROC-AUC [interval]",
            f"Profit per {w.unit} [interval]",
        ],
        rows,
        numeric=(2, 3, 4, 5),
    )


def _period_details(a: Assessment, v: Verdict, problem: Problem) -> str:
    w = problem.words
    e = a.estimate
    estimate = table(
        ["Estimated before outcomes (CBPE)", "Value"],
        [
            ["ROC-AUC", number(e.expected_roc_auc, 3)],
            ["Top-decile lift", number(e.expected_top_decile_lift, 2)],
            [f"Profit per {w.unit}", number(e.expected_profit_per_customer, 2)],
            [f"{w.event.capitalize()} rate", percent(e.expected_churn_rate)],
            [f"Share {w.done}", percent(e.contacted_share)],
        ],
        numeric=(1,),
    )
    realized = "<p class='muted'>Outcomes have not arrived for this period yet.</p>"
    if a.realized is not None:
        o = a.realized.overall
        realized = table(
            ["Realized once outcomes arrived", "Value"],
            [
                [
                    "Labelled",
                    f"{a.realized.labelled:,} ({percent(a.realized.coverage)} of the period)",
                ],
                ["ROC-AUC [interval]", _interval(o.roc_auc.value, o.roc_auc.low, o.roc_auc.high)],
                ["Hanley-McNeil standard error of the ROC-AUC", number(o.roc_auc_se, 3)],
                [
                    "Top-decile lift [interval]",
                    _interval(
                        o.top_decile_lift.value, o.top_decile_lift.low, o.top_decile_lift.high, 2
                    ),
                ],
                [
                    f"Profit per {w.unit} [interval]",
                    _interval(
                        o.profit_per_customer.value,
                        o.profit_per_customer.low,
                        o.profit_per_customer.high,
                        2,
                    ),
                ],
                [f"{w.event.capitalize()} rate", percent(o.churn_rate)],
            ],
            numeric=(1,),
        )
    drift = "<p class='muted'>Too few rows to judge drift.</p>"
    if a.drift is not None:
        drift = (
            f"<p class='muted'>Thresholds calibrated for {a.thresholds.n:,}-row periods on "
            f"{a.thresholds.repeats:,} no-drift resamples (common quantile level "
            f"{a.thresholds.level:.4f}; false-alarm rate of the rule on those resamples "
            f"{a.thresholds.false_alarm_rate_rule:.1%}).</p>" + _drift_table(a, w)
        )
    return (
        f"<details id='period-{esc(a.period)}'><summary>{esc(a.period)}: {_badge(v.verdict)} "
        f"— {a.rows:,} {esc(w.units)}</summary>"
        f"{_reasons(v)}"
        f"<div class='cards'><div class='card'>{estimate}</div>"
        f"<div class='card'>{realized}</div></div>"
        f"<h3>Data quality and volume</h3>{_quality_table(a)}"
        f"<h3>Drift of every input column and of the score</h3>{drift}"
        f"<h3>Realized performance by segment</h3>{_segments_table(a, w)}"
        "</details>"
    )


METHOD = """
<h2 id="method">How this is computed</h2>
<ul>
<li><strong>Reference.</strong> Inputs are compared with the training split, the predicted
probability with the validation predictions of the deployed model.</li>
<li><strong>Drift.</strong> Per column an effect size, the population stability index on
the reference deciles, <code>PSI = &Sigma; (c<sub>i</sub> &minus; r<sub>i</sub>)
ln(c<sub>i</sub>/r<sub>i</sub>)</code> (Siddiqi 2006; Yurdakul 2018), with the Wasserstein
distance over the reference standard deviation (numbers) or the Jensen-Shannon distance
(categories) beside it; and a test, two-sample Kolmogorov-Smirnov (numbers) or Pearson's
chi-square (categories), its p-values adjusted for the number of columns by
Benjamini-Hochberg (1995). A column drifts when the adjusted p is below alpha <em>and</em>
the effect is above its threshold.</li>
<li><strong>Alarm thresholds</strong> are calibrated for each period size on no-drift
resamples of the training split (a resample against the rest of it), so that at most the
target share of no-drift periods raise any alarm; a fixed PSI cut-off would flag most
periods of a hundred rows.</li>
<li><strong>Estimated performance</strong> (before outcomes) follows NannyML's
confidence-based performance estimation: with calibrated probabilities the expected
confusion matrix at the threshold is a sum of probabilities. It assumes the probabilities
are calibrated for the period's population and that there is <em>no concept drift</em>:
when the relation between inputs and outcome changes, the estimate does not move; only
realized performance shows it.</li>
<li><strong>Realized performance</strong> (once outcomes arrive): ROC-AUC (Mann-Whitney;
Hanley and McNeil 1982 for its standard error), top-decile lift and profit per unit at the
deployed threshold (Verbraken et al. 2013), each with a percentile bootstrap interval
(Efron and Tibshirani 1993), overall and per segment.</li>
<li><strong>Verdicts.</strong> <em>retrain</em>: a realized metric below its bar in the
configured number of labelled periods in a row; <em>investigate</em>: input or score
drift, a data-quality incident, too few rows to judge, or a realized metric below its bar
in fewer periods; <em>ok</em>: none of these.</li>
</ul>
"""


def render_dashboard(
    assessments: list[Assessment],
    verdicts: list[Verdict],
    base: Baseline,
    problem: Problem,
    extent: Extent,
    *,
    dpi: int,
    simulated: dict | None = None,
    processes: int = 1,
) -> str:
    """The dashboard page (``simulated``: the stream is simulated; the page says so first;
    the charts drawn in ``processes`` worker processes, ``figures.draw_pngs``)."""
    w = problem.words
    title = f"{w.name}: monitoring the deployed model"
    bars = "; ".join(f"{m.replace('_', ' ')} {b.value:.3f}" for m, b in base.bars.items())
    lead = (
        f"Model {esc(base.model_version)}, decision threshold {base.threshold:g} "
        f"({esc(w.verb)} {esc(w.units)} at or above it). Periods from "
        f"{'the SIMULATED stream' if simulated else 'the prediction log'} "
        f"<code>{esc(extent.path.as_posix())}</code>. Bars for retraining: {esc(bars)}."
    )
    body = [f"<h1>{esc(title)}</h1>", f"<p class='lead'>{lead}</p>"]
    if simulated:
        months = ", ".join(
            f"{esc(p)}: {esc(s.replace('_', ' '))}" for p, s in simulated["scenarios"].items()
        )
        body.append(
            "<div class='verdict bad'>SIMULATED stream, not production data.</div>"
            f"<p>The periods below were made from real records the model never trained on, "
            f"{esc(str(simulated['pool']))}, cut into disjoint months and changed as each "
            f"month's declared scenario says ({months}); every month was scored through batch "
            f"scoring and its outcomes loaded. What was injected: "
            f"<code>{esc(simulated['stream'])}/manifest.json</code>.</p>"
        )
    if not assessments:
        body.append(
            "<div class='verdict ok'>No predictions in the prediction log yet.</div>"
            "<p>Score a file (<code>python -m churn.score --input FILE --period 2024-05</code>) "
            "or serve the model (<code>make serve</code>), load outcomes when they arrive "
            "(<code>python -m churn.monitor.outcomes --input FILE</code>), then run "
            "<code>make monitor</code>.</p>"
        )
        body.append(METHOD)
        return page(title, "\n".join(body), EXTRA_CSS)
    latest = verdicts[-1]
    css = {OK: "ok", INVESTIGATE: "bad", RETRAIN: "bad"}[latest.verdict]
    body.append(
        f"<div class='verdict {css}'>Latest period {esc(latest.period)}: "
        f"{esc(latest.verdict)}</div>"
    )
    body.append(
        "<nav><a href='#timeline'>Verdicts</a><a href='#charts'>Over time</a>"
        "<a href='#periods'>Each period</a><a href='#method'>How this is computed</a></nav>"
    )
    body.append("<h2 id='timeline'>Verdict per period</h2>")
    body.append(_timeline(assessments, verdicts, problem))
    body.append("<h2 id='charts'>Over time</h2>")
    charts_drawn = [
        (
            (charts.plot_volume, (assessments, verdicts, w)),
            "Volume and quarantine",
            f"{w.units.capitalize()} predicted per period (service and batch scoring) and rows "
            "the contract checks quarantined; the band under the axis is the verdict.",
        ),
        (
            (charts.plot_performance, (assessments, verdicts, base, w)),
            "Performance: estimated before outcomes, realized after",
            "Realized values with their bootstrap intervals; the estimate assumes calibrated "
            "probabilities and no concept drift; the dotted line is the bar for retraining.",
        ),
    ]
    if base.segments:
        charts_drawn.append(
            (
                (charts.plot_segments, (assessments, base.segments, w)),
                f"{w.event.capitalize()} rate by segment",
                f"Each level's realized {w.event} rate once outcomes arrived (solid) and the "
                "rate its predicted probabilities expected (dashed): a gap that opens in one "
                "segment while the inputs do not move is concept drift.",
            )
        )
    drawn = draw_pngs([job for job, _, _ in charts_drawn], dpi, processes)
    pngs = [(png, t, c) for png, (_, t, c) in zip(drawn, charts_drawn, strict=True)]
    body.append(figure(*pngs[0]))
    body.append(
        "<h3>Drift of every input column and of the score</h3>"
        + _drift_heatmap(assessments, base, w)
        + "<p class='muted'>Each cell: the period's effect size (PSI) over its no-drift "
        "threshold for a period of that size; above 1 is unusual, and a column the rule flags "
        "(its BH-adjusted p is also below alpha) is outlined and marked ✕. Hover a cell for "
        "the numbers.</p>"
    )
    body.extend(figure(png, t, c) for png, t, c in pngs[1:])
    body.append("<h2 id='periods'>Each period</h2>")
    for a, v in zip(assessments, verdicts, strict=True):
        body.append(_period_details(a, v, problem))
    body.append(METHOD)
    return page(title, "\n".join(body), EXTRA_CSS)
