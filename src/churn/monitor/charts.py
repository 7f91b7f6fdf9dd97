"""The dashboard's charts over time, as deterministic PNG bytes (``churn.core.figures``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from churn.core.figures import new_figure
from churn.core.problem import Words
from churn.monitor.assess import Assessment, Baseline, realized_value
from churn.monitor.verdict import Verdict

if TYPE_CHECKING:  # matplotlib is imported lazily: only drawing needs it
    from matplotlib.figure import Figure

BLUE, ORANGE, GREY, RED, GREEN = "#1f77b4", "#ff7f0e", "#7f7f7f", "#cf222e", "#1a7f37"
VERDICT_COLORS = {"ok": GREEN, "investigate": "#bf8700", "retrain": RED}


def _periods(assessments: list[Assessment]) -> tuple[list[str], np.ndarray]:
    labels = [a.period for a in assessments]
    return labels, np.arange(len(labels))


def _verdict_strip(ax, x: np.ndarray, verdicts: list[Verdict]) -> None:
    """A colored band under the x axis: each period's verdict."""
    for xi, v in zip(x, verdicts, strict=True):
        ax.axvspan(xi - 0.5, xi + 0.5, ymin=0, ymax=0.03, color=VERDICT_COLORS[v.verdict], lw=0)


def plot_volume(assessments: list[Assessment], verdicts: list[Verdict], w: Words) -> Figure:
    """Predictions per period by channel, and the share of input rows quarantined."""
    labels, x = _periods(assessments)
    fig = new_figure(9, 3.6)
    ax = fig.subplots()
    bottom = np.zeros(len(x))
    channels = sorted({c for a in assessments for c in a.channels})
    colors = {"service": BLUE, "batch": "#9ecae1"}
    for channel in channels:
        counts = np.array([a.channels.get(channel, 0) for a in assessments], dtype=float)
        ax.bar(x, counts, bottom=bottom, color=colors.get(channel, GREY), label=channel, width=0.6)
        bottom += counts
    quarantined = np.array([a.quality.rows_quarantined for a in assessments], dtype=float)
    ax.bar(x, quarantined, bottom=bottom, color=RED, label="quarantined", width=0.6)
    ax.set_xticks(x, labels)
    ax.set_ylabel(f"{w.units.capitalize()} per period")
    ax.set_title(f"Volume: {w.units} predicted (by channel) and quarantined")
    ax.legend(loc="upper left", fontsize="small", ncols=3)
    ax.grid(axis="y", alpha=0.3)
    top = max(1.0, float((bottom + quarantined).max()) if len(x) else 1.0)
    ax.set_ylim(0, top * 1.25)
    for xi, a in zip(x, assessments, strict=True):
        if a.quality.rows_quarantined:
            ax.annotate(
                f"{a.quality.quarantined_share:.1%}",
                (xi, bottom[xi] + quarantined[xi]),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                color=RED,
                fontsize="small",
            )
    _verdict_strip(ax, x, verdicts)
    return fig


def plot_performance(
    assessments: list[Assessment], verdicts: list[Verdict], base: Baseline, w: Words
) -> Figure:
    """ROC-AUC, profit per unit and event rate: realized (with intervals) vs estimated."""
    labels, x = _periods(assessments)
    fig = new_figure(9, 8.4)
    axes = fig.subplots(3, 1, sharex=True)
    panels = (
        ("roc_auc", "ROC-AUC", lambda a: a.estimate.expected_roc_auc),
        (
            "profit_per_customer",
            f"Profit per {w.unit}",
            lambda a: a.estimate.expected_profit_per_customer,
        ),
    )
    for ax, (metric, title, estimated) in zip(axes[:2], panels, strict=False):
        values = np.array([realized_value(a, metric) for a in assessments], dtype=float)
        if len(x):
            value, low, high = values.T
            ok = ~np.isnan(value)
            ax.errorbar(
                x[ok],
                value[ok],
                yerr=[value[ok] - low[ok], high[ok] - value[ok]],
                fmt="o-",
                color=BLUE,
                capsize=4,
                label="realized (bootstrap interval)",
            )
            ax.plot(
                x,
                [estimated(a) for a in assessments],
                "s--",
                color=ORANGE,
                label="estimated before outcomes (CBPE)",
            )
        bar = base.bars.get(metric)
        if bar is not None:
            ax.axhline(bar.value, color=RED, linestyle=":", linewidth=1.2)
            ax.annotate(
                f"bar {bar.value:.3f}",
                (0.995, bar.value),
                xycoords=("axes fraction", "data"),
                ha="right",
                va="bottom",
                color=RED,
                fontsize="small",
            )
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize="small")
    ax = axes[2]
    if len(x):
        realized = [a.realized.overall.churn_rate if a.realized else math.nan for a in assessments]
        ax.plot(x, realized, "o-", color=BLUE, label=f"realized {w.event} rate")
        ax.plot(
            x,
            [a.estimate.expected_churn_rate for a in assessments],
            "s--",
            color=ORANGE,
            label="expected from the probabilities",
        )
    ax.set_title(f"{w.event.capitalize()} rate", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    ax.set_xticks(x, labels)
    for ax in axes:
        _verdict_strip(ax, x, verdicts)
    return fig


def plot_segments(assessments: list[Assessment], columns: tuple[str, ...], w: Words) -> Figure:
    """Per segment column, each level's realized event rate (solid) and the rate its
    probabilities expected (dashed), per period: where concept drift shows first."""
    labels, x = _periods(assessments)
    fig = new_figure(max(9.0, 4.2 * len(columns)), 3.8)
    axes = fig.subplots(1, len(columns), squeeze=False)[0]
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
    for ax, column in zip(axes, columns, strict=True):
        levels = sorted({lv for a in assessments for lv in a.segment_expected.get(column, {})})
        for k, level in enumerate(levels):
            color = palette[k % len(palette)]
            expected = [
                a.segment_expected.get(column, {}).get(level, math.nan) for a in assessments
            ]
            realized = []
            for a in assessments:
                perf = a.realized.segments.get(column, {}).get(level) if a.realized else None
                realized.append(perf.churn_rate if perf else math.nan)
            ax.plot(x, realized, "o-", color=color, label=level)
            ax.plot(x, expected, "--", color=color, alpha=0.7, linewidth=1)
        ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
        ax.set_title(f"By {column}", fontsize=10)
        ax.set_ylabel(f"{w.event} rate")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="x-small")
    return fig
