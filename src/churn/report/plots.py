"""The stakeholder report's plots, as deterministic PNG bytes (``churn.core.figures``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from churn.core.figures import draw_pngs, new_figure
from churn.core.problem import Words
from churn.report.evidence import Evidence

if TYPE_CHECKING:  # matplotlib is imported lazily: only drawing needs it
    from matplotlib.figure import Figure

#: Colors: the model's choice, the default threshold and "act on everyone" (color-blind safe).
BLUE, ORANGE, GREY = "#1f77b4", "#ff7f0e", "#7f7f7f"


def plot_profit(ev: Evidence, w: Words) -> Figure:
    """Expected profit per unit against the decision threshold, test split."""
    rows = ev.profit["test"]
    t = [r["threshold"] for r in rows]
    fig = new_figure(8, 4.2)
    ax = fig.subplots()
    ax.plot(t, [r["profit_per_customer"] for r in rows], color=BLUE, linewidth=2)
    chosen = ev.decision.threshold
    m = ev.metrics["test"]
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.axhline(m["profit_contact_all"], color=GREY, linestyle=":", linewidth=1.2)
    ax.annotate(
        f"{w.verb} everyone: {m['profit_contact_all']:.2f}",
        (0.99, m["profit_contact_all"]),
        xycoords=("axes fraction", "data"),
        ha="right",
        va="bottom",
        color=GREY,
        fontsize="small",
    )
    for x, y, color, label in (
        (chosen, m["profit_tuned_threshold"], BLUE, f"chosen threshold {chosen:.2f}"),
        (
            ev.default_threshold,
            m["profit_default_threshold"],
            ORANGE,
            f"default threshold {ev.default_threshold:.2f}",
        ),
    ):
        ax.plot([x], [y], "o", color=color, markersize=8)
        ax.annotate(
            f"{label}\n{y:.2f} per {w.unit}",
            (x, y),
            xytext=(10, -30),
            textcoords="offset points",
            color=color,
            fontsize="small",
        )
    ax.set_xlim(0, 1)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.1 * (high - low))  # room above the curve's peak
    ax.set_xlabel(
        f"{w.verb.capitalize()} {w.units} whose {w.event} probability is at least this threshold"
    )
    ax.set_ylabel(f"Expected profit per {w.unit}")
    ax.set_title(f"Expected campaign profit per {w.unit} (test {w.units})")
    ax.grid(alpha=0.3)
    return fig


def plot_gains(ev: Evidence, w: Words) -> Figure:
    """Share of positives reached when acting on the riskiest units first, test split."""
    rows = ev.gains["test"]
    share = [0.0] + [r["contacted_share"] for r in rows]
    caught = [0.0] + [r["churners_caught"] for r in rows]
    fig = new_figure(6, 4.2)
    ax = fig.subplots()
    ax.plot(share, caught, color=BLUE, linewidth=2, label="model's ranking")
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", label="random choice")
    contacted = ev.decision.contacted_share["test"]
    reached = float(np.interp(contacted, share, caught))
    ax.plot([contacted], [reached], "o", color=BLUE, markersize=8)
    ax.annotate(
        f"chosen threshold: {w.verb} {contacted:.0%},\nreach {reached:.0%} of {w.positives}",
        (contacted, reached),
        xytext=(12, -30),
        textcoords="offset points",
        color=BLUE,
        fontsize="small",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"Share of {w.units} {w.done} (highest risk first)")
    ax.set_ylabel(f"Share of {w.positives} reached")
    ax.set_title(f"Cumulative gains (test {w.units})")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def plot_drivers(ev: Evidence, w: Words) -> Figure:
    """The target rate by the levels of a few telling columns (exploration statistics)."""
    names = [n for n in ev.drivers if n in ev.stats.get("categorical", {})]
    overall = ev.stats["positive_rate"]
    fig = new_figure(4.4 * max(1, len(names)), 3.0)
    axes = np.atleast_1d(fig.subplots(1, max(1, len(names))))
    for ax, name in zip(axes, names, strict=False):
        levels = ev.stats["categorical"][name]["levels"]
        rates = [lv["positive_rate"] or 0.0 for lv in levels]
        ypos = np.arange(len(levels))
        ax.barh(ypos, rates, color="#dd8452")
        ax.set_yticks(ypos, [lv["value"] for lv in levels], fontsize="small")
        ax.invert_yaxis()
        ax.axvline(overall, color="#333333", linestyle="--", linewidth=1)
        ax.set_xlim(0, max(0.6, max(rates) + 0.12))
        ax.set_title(name, fontsize="medium")
        for y, rate in zip(ypos, rates, strict=True):
            ax.text(rate + 0.01, y, f"{rate:.0%}", va="center", fontsize="small")
    fig.suptitle(
        f"Share of {w.units} who {w.happened}, by group (dashed: all {w.units}, {overall:.1%})"
    )
    return fig


def plot_segments(ev: Evidence, w: Words) -> Figure:
    """Positive rate and share acted on per segment of the first segment column, test split."""
    column = next(iter(ev.segments))
    rows = ev.segments[column]
    y = np.arange(len(rows))
    fig = new_figure(7, 0.6 * len(rows) + 1.6)
    ax = fig.subplots()
    ax.barh(y - 0.2, [r["positive_rate"] for r in rows], height=0.4, color=ORANGE, label=w.happened)
    ax.barh(y + 0.2, [r["contacted_share"] for r in rows], height=0.4, color=BLUE, label=w.done)
    ax.set_yticks(y, [r["segment"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"Share of the segment's test {w.units}")
    ax.set_title(f"Who {w.happened} and whom the campaign {w.done}, by {column}")
    ax.legend(loc="lower right")
    return fig


#: The report's plots, by name, in page order.
PLOTS = {
    "drivers": plot_drivers,
    "profit": plot_profit,
    "gains": plot_gains,
    "segments": plot_segments,
}


def draw_plots(ev: Evidence, words: Words, dpi: int, processes: int = 1) -> dict[str, bytes]:
    """Every plot of ``PLOTS`` as deterministic PNG bytes, by name (in ``processes``
    worker processes, ``figures.draw_pngs``)."""
    pngs = draw_pngs([(draw, (ev, words)) for draw in PLOTS.values()], dpi, processes)
    return dict(zip(PLOTS, pngs, strict=True))
