"""The stakeholder report's plots, as deterministic PNG bytes (``churn.core.figures``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from churn.core.figures import draw_png, new_figure
from churn.report.evidence import Evidence

if TYPE_CHECKING:  # matplotlib is imported lazily: only drawing needs it
    from matplotlib.figure import Figure

#: Colors: the model's choice, the default threshold and "contact everyone" (color-blind safe).
BLUE, ORANGE, GREY = "#1f77b4", "#ff7f0e", "#7f7f7f"
#: Columns of the exploration statistics shown as churn drivers (when present).
DRIVERS = ("Contract", "InternetService", "PaymentMethod")


def plot_profit(ev: Evidence) -> Figure:
    """Expected profit per customer against the contact threshold, test split."""
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
        f"contact everyone: {m['profit_contact_all']:.2f}",
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
            f"{label}\n{y:.2f} per customer",
            (x, y),
            xytext=(10, -30),
            textcoords="offset points",
            color=color,
            fontsize="small",
        )
    ax.set_xlim(0, 1)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.1 * (high - low))  # room above the curve's peak
    ax.set_xlabel("Contact customers whose churn probability is at least this threshold")
    ax.set_ylabel("Expected profit per customer")
    ax.set_title("Expected campaign profit per customer (test customers)")
    ax.grid(alpha=0.3)
    return fig


def plot_gains(ev: Evidence) -> Figure:
    """Share of churners reached when contacting the riskiest customers first, test split."""
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
        f"chosen threshold: contact {contacted:.0%},\nreach {reached:.0%} of churners",
        (contacted, reached),
        xytext=(12, -30),
        textcoords="offset points",
        color=BLUE,
        fontsize="small",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Share of customers contacted (highest risk first)")
    ax.set_ylabel("Share of churners reached")
    ax.set_title("Cumulative gains (test customers)")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def plot_drivers(ev: Evidence) -> Figure:
    """Churn rate by the levels of a few telling columns (from the exploration statistics)."""
    names = [n for n in DRIVERS if n in ev.stats.get("categorical", {})]
    overall = ev.stats["churn_rate"]
    fig = new_figure(4.4 * max(1, len(names)), 3.0)
    axes = np.atleast_1d(fig.subplots(1, max(1, len(names))))
    for ax, name in zip(axes, names, strict=False):
        levels = ev.stats["categorical"][name]["levels"]
        rates = [lv["churn_rate"] or 0.0 for lv in levels]
        ypos = np.arange(len(levels))
        ax.barh(ypos, rates, color="#dd8452")
        ax.set_yticks(ypos, [lv["value"] for lv in levels], fontsize="small")
        ax.invert_yaxis()
        ax.axvline(overall, color="#333333", linestyle="--", linewidth=1)
        ax.set_xlim(0, max(0.6, max(rates) + 0.12))
        ax.set_title(name, fontsize="medium")
        for y, rate in zip(ypos, rates, strict=True):
            ax.text(rate + 0.01, y, f"{rate:.0%}", va="center", fontsize="small")
    fig.suptitle(f"Share of customers who left, by group (dashed: all customers, {overall:.1%})")
    return fig


def plot_segments(ev: Evidence) -> Figure:
    """Churn rate and share contacted per segment of the first segment column, test split."""
    column = next(iter(ev.segments))
    rows = ev.segments[column]
    y = np.arange(len(rows))
    fig = new_figure(7, 0.6 * len(rows) + 1.6)
    ax = fig.subplots()
    ax.barh(y - 0.2, [r["churn_rate"] for r in rows], height=0.4, color=ORANGE, label="left")
    ax.barh(
        y + 0.2, [r["contacted_share"] for r in rows], height=0.4, color=BLUE, label="contacted"
    )
    ax.set_yticks(y, [r["segment"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("Share of the segment's test customers")
    ax.set_title(f"Who leaves and whom the campaign contacts, by {column}")
    ax.legend(loc="lower right")
    return fig


#: The report's plots, by name, in page order.
PLOTS = {
    "drivers": plot_drivers,
    "profit": plot_profit,
    "gains": plot_gains,
    "segments": plot_segments,
}


def draw_plots(ev: Evidence, dpi: int) -> dict[str, bytes]:
    """Every plot of ``PLOTS`` as deterministic PNG bytes, by name."""
    return {name: draw_png(draw, ev, dpi=dpi) for name, draw in PLOTS.items()}
