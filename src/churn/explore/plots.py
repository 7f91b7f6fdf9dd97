"""The EDA plots of the clean table, as deterministic PNG bytes (``churn.core.figures``).

Histograms, box plots and a pair plot of the numeric features by target value,
the target rate by category, and the correlation heatmap. The pair plot draws a
seeded sample of big data, so the image stays readable and its bytes stable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from churn.core.contract import Contract
from churn.core.figures import draw_pngs, new_figure
from churn.core.params import ExploreParams
from churn.core.problem import Words
from churn.explore.stats import category_summary, correlation_matrix

if TYPE_CHECKING:  # matplotlib is imported lazily: only drawing needs it
    from matplotlib.figure import Figure

#: Colors of the negative and the positive group (color-blind safe blue / orange).
NEGATIVE, POSITIVE = "#1f77b4", "#ff7f0e"


def _color(contract: Contract, label: str) -> str:
    return POSITIVE if label == contract.positive else NEGATIVE


def _groups(df: pd.DataFrame, contract: Contract) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows) for each target value, in contract order."""
    target = df[contract.target]
    return [(label, df[target == label]) for label in contract.target_values]


def _numeric(df: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(df[name], errors="coerce").dropna().to_numpy(dtype="float64")


def plot_histograms(
    df: pd.DataFrame, contract: Contract, words: Words, params: ExploreParams
) -> Figure:
    names = contract.numeric_features
    fig = new_figure(5 * len(names), 3.8)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        ax.hist(_numeric(df, name), bins=params.histogram_bins, color="#4c72b0", edgecolor="white")
        ax.set_title(name)
        ax.set_xlabel(contract.by_name[name].description)
        ax.set_ylabel(words.units)
    fig.suptitle("Distribution of the numeric features")
    return fig


def plot_box_by_target(
    df: pd.DataFrame, contract: Contract, words: Words, params: ExploreParams
) -> Figure:
    names = contract.numeric_features
    fig = new_figure(5 * len(names), 4.2)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    groups = _groups(df, contract)
    for ax, name in zip(axes, names, strict=True):
        parts = ax.boxplot(
            [_numeric(rows, name) for _, rows in groups],
            tick_labels=[f"{contract.target}={label}" for label, _ in groups],
            whis=params.iqr_multiplier,  # the same rule as the outlier counts
            patch_artist=True,
            widths=0.6,
            medianprops={"color": "black", "linewidth": 1.5},
        )
        for patch, (label, _) in zip(parts["boxes"], groups, strict=True):
            patch.set_facecolor(_color(contract, label))
            patch.set_alpha(0.6)
        ax.set_title(name)
    fig.suptitle(f"Numeric features by {words.event} (whiskers: {params.iqr_multiplier:g} × IQR)")
    return fig


def plot_pairs(df: pd.DataFrame, contract: Contract, words: Words, params: ExploreParams) -> Figure:
    """Scatter plots of every pair of numeric features, colored by target; histograms inside."""
    if len(df) > params.scatter_max_points:  # a readable, fast plot on big data; seeded
        df = df.sample(params.scatter_max_points, random_state=params.seed).sort_index()
    names = contract.numeric_features
    n = len(names)
    fig = new_figure(3.3 * n, 3.1 * n)
    axes = fig.subplots(n, n, squeeze=False)
    groups = _groups(df, contract)
    for i, y in enumerate(names):
        for j, x in enumerate(names):
            ax = axes[i][j]
            for label, rows in groups:
                color = _color(contract, label)
                if i == j:
                    ax.hist(
                        _numeric(rows, x),
                        bins=params.histogram_bins,
                        density=True,
                        alpha=0.55,
                        color=color,
                        label=f"{contract.target}={label}",
                    )
                else:
                    both = rows[[x, y]].apply(pd.to_numeric, errors="coerce").dropna()
                    ax.scatter(
                        both[x],
                        both[y],
                        s=3,
                        alpha=0.35,
                        color=color,
                        label=f"{contract.target}={label}",
                    )
            if i == n - 1:
                ax.set_xlabel(x)
            if j == 0:
                ax.set_ylabel(y)
    axes[0][n - 1].legend(loc="upper right", markerscale=4, fontsize="small")
    shown = f"{len(df):,} {words.units}"
    fig.suptitle(f"Pairs of numeric features, colored by {words.event} ({shown})")
    return fig


def plot_target_rate_by_category(
    df: pd.DataFrame, contract: Contract, words: Words, params: ExploreParams
) -> Figure:
    names = contract.categorical_features
    ncols = 3  # wide enough for the long level names, still readable when scaled down
    nrows = -(-len(names) // ncols)
    fig = new_figure(5.2 * ncols, 2.4 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    positive = contract.encode_target(df[contract.target])
    overall = float(positive.mean())
    for ax, name in zip(axes, names, strict=False):
        levels = category_summary(df[name], positive, contract.by_name[name].allowed)["levels"]
        rates = [lv["positive_rate"] or 0.0 for lv in levels]
        labels = [f"{lv['value']} (n={lv['count']:,})" for lv in levels]
        ypos = np.arange(len(levels))
        ax.barh(ypos, rates, color="#dd8452")
        ax.set_yticks(ypos, labels, fontsize="small")
        ax.invert_yaxis()
        ax.axvline(overall, color="#333333", linestyle="--", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_title(name, fontsize="medium")
        for y, rate in zip(ypos, rates, strict=True):
            ax.text(rate + 0.01, y, f"{rate:.0%}", va="center", fontsize="small")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{words.event.capitalize()} rate by category (dashed line: overall {overall:.1%})"
    )
    return fig


def plot_correlation_heatmap(
    df: pd.DataFrame, contract: Contract, words: Words, params: ExploreParams
) -> Figure:
    corr = correlation_matrix(df, contract)
    n = len(corr)
    fig = new_figure(1.0 * n + 2.5, 0.85 * n + 1.5)
    ax = fig.subplots()
    image = ax.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(n), corr.columns, rotation=45, ha="right")
    ax.set_yticks(range(n), corr.index)
    for i in range(n):
        for j in range(n):
            value = corr.iat[i, j]
            text = "" if pd.isna(value) else f"{value:.2f}"
            ax.text(
                j, i, text, ha="center", va="center", fontsize="small",
                color="white" if abs(value) > 0.6 else "black",
            )  # fmt: skip
    fig.colorbar(image, ax=ax, shrink=0.8, label="Pearson r")
    ax.set_title(f"Correlations (Yes/No features and {words.event} as 0/1)")
    return fig


@dataclass(frozen=True)
class Plot:
    """One PNG of the EDA report; ``title`` and ``caption`` take the problem's words."""

    name: str  # file name without extension
    title: str
    caption: str
    draw: Callable[[pd.DataFrame, Contract, Words, ExploreParams], Figure]

    def titled(self, words: Words) -> tuple[str, str]:
        """The title and caption in the problem's words."""
        values = {**words.__dict__, "Event": words.event.capitalize()}
        return self.title.format(**values), self.caption.format(**values)


PLOTS: tuple[Plot, ...] = (
    Plot(
        "histograms",
        "Histograms of the numeric features",
        "How the numeric features are distributed over all {units}.",
        plot_histograms,
    ),
    Plot(
        "boxplots_by_target",
        "Box plots by {event}",
        "Each numeric feature for {units} who {not_happened} and who {happened} (black line: "
        "median); points beyond the whiskers are outliers of their group by the same IQR rule.",
        plot_box_by_target,
    ),
    Plot(
        "pairplot",
        "Pair plot of the numeric features",
        "Every pair of numeric features, colored by {event}; the diagonal shows each "
        "feature's density per group.",
        plot_pairs,
    ),
    Plot(
        "target_rate_by_category",
        "{Event} rate by category",
        "Share of {units} who {happened} in each level of every categorical feature.",
        plot_target_rate_by_category,
    ),
    Plot(
        "correlation_heatmap",
        "Correlation heatmap",
        "Pearson correlations between the numeric features, the Yes/No features and {event}.",
        plot_correlation_heatmap,
    ),
)


def draw_plots(
    df: pd.DataFrame, contract: Contract, words: Words, params: ExploreParams, processes: int = 1
) -> dict[str, bytes]:
    """Every plot of ``PLOTS`` as PNG bytes, by name (in ``processes`` worker processes)."""
    jobs = [(p.draw, (df, contract, words, params)) for p in PLOTS]
    pngs = draw_pngs(jobs, params.dpi, processes)
    return {p.name: png for p, png in zip(PLOTS, pngs, strict=True)}
