"""Explore: summary statistics and plots of the clean table, and an offline EDA report.

Column lists come from the data contract: the numeric features get summary
statistics (mean, median, variance, quartiles, missing values, outliers by
Tukey's IQR rule), histograms, box plots by churn and a pair plot; the
categorical features get per-level counts and churn rates. The correlation
heatmap covers the numeric features, the Yes/No features (as 0/1) and churn.

Everything is deterministic, because DVC versions the outputs: statistics are
rounded, PNGs are drawn by matplotlib's Agg renderer without the ``Software``
metadata (which names the matplotlib version), and the pair plot's sample is
seeded from params.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from churn import contract
from churn.config import ExploreParams
from churn.html_report import esc, number, page, percent, png_data_uri, table

if TYPE_CHECKING:  # matplotlib is imported lazily: only drawing needs it
    from matplotlib.figure import Figure

#: Statistics are rounded so that the JSON is readable and stable across platforms.
DIGITS = 6
#: Colors of the two churn groups (color-blind safe blue / orange).
COLORS = {"No": "#1f77b4", "Yes": "#ff7f0e"}
#: matplotlib settings that make the image bytes reproducible.
RC = {"svg.hashsalt": "churn-explore", "svg.fonttype": "path", "font.family": "DejaVu Sans"}


def _r(value: Any) -> float | None:
    """A float rounded to ``DIGITS`` (``None`` for NaN or a missing value)."""
    if value is None or pd.isna(value):
        return None
    return round(float(value), DIGITS)


def churn_flags(df: pd.DataFrame) -> pd.Series:
    """1.0 for a churner, 0.0 for a stayer, NaN where the label is missing."""
    target = df[contract.TARGET]
    return (target == contract.POSITIVE_LABEL).astype("float64").where(target.notna())


def yes_no_features() -> tuple[str, ...]:
    """Categorical features whose only values are the contract's Yes/No."""
    return tuple(
        c.name
        for c in contract.FEATURES
        if c.kind is contract.Kind.CATEGORY and tuple(c.allowed) == contract.YES_NO
    )


# --- statistics ----------------------------------------------------------------------------


def numeric_summary(values: pd.Series, iqr_multiplier: float = 1.5) -> dict[str, Any]:
    """Count, missing values, mean, median, variance (n-1), quartiles and IQR outliers.

    Quartiles use linear interpolation (numpy's default). A value is an outlier
    when it lies below ``q1 - k*IQR`` or above ``q3 + k*IQR``, ``k = iqr_multiplier``.
    """
    x = pd.to_numeric(values, errors="coerce").astype("float64")
    present = x.dropna()
    out: dict[str, Any] = {"count": len(present), "missing": len(x) - len(present)}
    out["missing_fraction"] = _r(out["missing"] / len(x)) if len(x) else None
    if present.empty:
        for key in ("mean", "median", "variance", "std", "min", "q1", "q3", "max", "iqr"):
            out[key] = None
        out.update(lower_fence=None, upper_fence=None, outliers_low=0, outliers_high=0)
        out["outliers"] = 0
        return out
    q1, median, q3 = (float(v) for v in np.quantile(present.to_numpy(), [0.25, 0.5, 0.75]))
    iqr = q3 - q1
    low, high = q1 - iqr_multiplier * iqr, q3 + iqr_multiplier * iqr
    out.update(
        mean=_r(present.mean()),
        median=_r(median),
        variance=_r(present.var(ddof=1)),
        std=_r(present.std(ddof=1)),
        min=_r(present.min()),
        q1=_r(q1),
        q3=_r(q3),
        max=_r(present.max()),
        iqr=_r(iqr),
        lower_fence=_r(low),
        upper_fence=_r(high),
        outliers_low=int((present < low).sum()),
        outliers_high=int((present > high).sum()),
    )
    out["outliers"] = out["outliers_low"] + out["outliers_high"]
    return out


def category_summary(
    values: pd.Series, churned: pd.Series, order: Sequence[str] = ()
) -> dict[str, Any]:
    """Per level: rows, share of rows, churners and churn rate; plus missing values.

    Levels come in ``order`` (the contract's allowed values) first, then any other
    value alphabetically; a level of ``order`` that does not occur has count 0.
    """
    present = values.notna()
    seen = set(values[present].astype(str))
    levels = [v for v in order] + sorted(seen - set(order))
    rows = int(present.sum())
    out_levels = []
    for level in levels:
        mask = present & (values.astype(str) == level)
        n = int(mask.sum())
        labelled = churned[mask].dropna()
        out_levels.append(
            {
                "value": level,
                "count": n,
                "share": _r(n / rows) if rows else None,
                "churned": int(labelled.sum()),
                "churn_rate": _r(labelled.mean()) if len(labelled) else None,
            }
        )
    return {"missing": int((~present).sum()), "levels": out_levels}


def correlation_matrix(df: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlations of the numeric features, the Yes/No features (0/1) and churn."""
    data = {name: pd.to_numeric(df[name], errors="coerce") for name in contract.NUMERIC_FEATURES}
    for name in yes_no_features():
        data[name] = (df[name] == "Yes").astype("float64").where(df[name].notna())
    data[contract.TARGET] = churn_flags(df)
    return pd.DataFrame(data).astype("float64").corr(method="pearson")


def summarize(df: pd.DataFrame, params: ExploreParams) -> dict[str, Any]:
    """Every statistic of the EDA report, JSON-ready (see ``numeric_summary``)."""
    churned = churn_flags(df)
    corr = correlation_matrix(df)
    return {
        "rows": len(df),
        "churn_rate": _r(churned.mean()),
        "churned": int(churned.sum()),
        "iqr_multiplier": params.iqr_multiplier,
        "numeric": {
            name: numeric_summary(df[name], params.iqr_multiplier)
            for name in contract.NUMERIC_FEATURES
        },
        "numeric_by_churn": {
            name: {
                label: numeric_summary(df.loc[df[contract.TARGET] == label, name])
                for label in contract.BY_NAME[contract.TARGET].allowed
            }
            for name in contract.NUMERIC_FEATURES
        },
        "categorical": {
            name: category_summary(df[name], churned, contract.BY_NAME[name].allowed)
            for name in contract.CATEGORICAL_FEATURES
        },
        "correlation": {
            row: {col: _r(corr.loc[row, col]) for col in corr.columns} for row in corr.index
        },
    }


# --- plots ---------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    # The object-oriented API (no pyplot): no global state, no GUI backend, Agg for PNG.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _groups(df: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows) for each churn label, stayers first so churners are drawn on top."""
    target = df[contract.TARGET]
    return [(label, df[target == label]) for label in contract.BY_NAME[contract.TARGET].allowed]


def _numeric(df: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(df[name], errors="coerce").dropna().to_numpy(dtype="float64")


def plot_histograms(df: pd.DataFrame, params: ExploreParams) -> Figure:
    names = contract.NUMERIC_FEATURES
    fig = _figure(5 * len(names), 3.8)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        ax.hist(_numeric(df, name), bins=params.histogram_bins, color="#4c72b0", edgecolor="white")
        ax.set_title(name)
        ax.set_xlabel(contract.BY_NAME[name].description)
        ax.set_ylabel("customers")
    fig.suptitle("Distribution of the numeric features")
    return fig


def plot_box_by_churn(df: pd.DataFrame, params: ExploreParams) -> Figure:
    names = contract.NUMERIC_FEATURES
    fig = _figure(5 * len(names), 4.2)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    groups = _groups(df)
    for ax, name in zip(axes, names, strict=True):
        parts = ax.boxplot(
            [_numeric(rows, name) for _, rows in groups],
            tick_labels=[f"Churn={label}" for label, _ in groups],
            whis=params.iqr_multiplier,  # the same rule as the outlier counts
            patch_artist=True,
            widths=0.6,
            medianprops={"color": "black", "linewidth": 1.5},
        )
        for patch, (label, _) in zip(parts["boxes"], groups, strict=True):
            patch.set_facecolor(COLORS.get(label, "#999999"))
            patch.set_alpha(0.6)
        ax.set_title(name)
    fig.suptitle(f"Numeric features by churn (whiskers: {params.iqr_multiplier:g} × IQR)")
    return fig


def plot_pairs(df: pd.DataFrame, params: ExploreParams) -> Figure:
    """Scatter plots of every pair of numeric features, colored by churn; histograms inside."""
    if len(df) > params.scatter_max_points:  # a readable, fast plot on big data; seeded
        df = df.sample(params.scatter_max_points, random_state=params.seed).sort_index()
    names = contract.NUMERIC_FEATURES
    n = len(names)
    fig = _figure(3.3 * n, 3.1 * n)
    axes = fig.subplots(n, n, squeeze=False)
    groups = _groups(df)
    for i, y in enumerate(names):
        for j, x in enumerate(names):
            ax = axes[i][j]
            for label, rows in groups:
                color = COLORS.get(label, "#999999")
                if i == j:
                    ax.hist(
                        _numeric(rows, x),
                        bins=params.histogram_bins,
                        density=True,
                        alpha=0.55,
                        color=color,
                        label=f"Churn={label}",
                    )
                else:
                    both = rows[[x, y]].apply(pd.to_numeric, errors="coerce").dropna()
                    ax.scatter(
                        both[x], both[y], s=3, alpha=0.35, color=color, label=f"Churn={label}"
                    )
            if i == n - 1:
                ax.set_xlabel(x)
            if j == 0:
                ax.set_ylabel(y)
    axes[0][n - 1].legend(loc="upper right", markerscale=4, fontsize="small")
    shown = f"{len(df):,} customers"
    fig.suptitle(f"Pairs of numeric features, colored by churn ({shown})")
    return fig


def plot_churn_rate_by_category(df: pd.DataFrame, params: ExploreParams) -> Figure:
    names = contract.CATEGORICAL_FEATURES
    ncols = 3  # wide enough for the long level names, still readable when scaled down
    nrows = -(-len(names) // ncols)
    fig = _figure(5.2 * ncols, 2.4 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    churned = churn_flags(df)
    overall = float(churned.mean())
    for ax, name in zip(axes, names, strict=False):
        levels = category_summary(df[name], churned, contract.BY_NAME[name].allowed)["levels"]
        rates = [lv["churn_rate"] or 0.0 for lv in levels]
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
    fig.suptitle(f"Churn rate by category (dashed line: overall {overall:.1%})")
    return fig


def plot_correlation_heatmap(df: pd.DataFrame, params: ExploreParams) -> Figure:
    corr = correlation_matrix(df)
    n = len(corr)
    fig = _figure(1.0 * n + 2.5, 0.85 * n + 1.5)
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
    ax.set_title("Correlations (Yes/No features and churn as 0/1)")
    return fig


@dataclass(frozen=True)
class Plot:
    """One PNG of the EDA report."""

    name: str  # file name without extension
    title: str
    caption: str
    draw: Callable[[pd.DataFrame, ExploreParams], Figure]


PLOTS: tuple[Plot, ...] = (
    Plot(
        "histograms",
        "Histograms of the numeric features",
        "How tenure and charges are distributed over all customers.",
        plot_histograms,
    ),
    Plot(
        "boxplots_by_churn",
        "Box plots by churn",
        "Each numeric feature for customers who stayed and who left (black line: median); "
        "points beyond the whiskers are outliers of their group by the same IQR rule.",
        plot_box_by_churn,
    ),
    Plot(
        "pairplot",
        "Pair plot of the numeric features",
        "Every pair of numeric features, colored by churn; the diagonal shows each "
        "feature's density per group.",
        plot_pairs,
    ),
    Plot(
        "churn_rate_by_category",
        "Churn rate by category",
        "Share of churners in each level of every categorical feature.",
        plot_churn_rate_by_category,
    ),
    Plot(
        "correlation_heatmap",
        "Correlation heatmap",
        "Pearson correlations between the numeric features, the Yes/No features and churn.",
        plot_correlation_heatmap,
    ),
)


def render_png(fig: Figure, dpi: int) -> bytes:
    """The figure as PNG bytes that depend only on its content (no software/version tag)."""
    from matplotlib import rc_context

    buffer = io.BytesIO()
    with rc_context(RC):
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def draw_plots(df: pd.DataFrame, params: ExploreParams) -> dict[str, bytes]:
    """Every plot of ``PLOTS`` as PNG bytes, by name."""
    from matplotlib import rc_context

    pngs = {}
    for plot in PLOTS:
        with rc_context(RC):
            fig = plot.draw(df, params)
        pngs[plot.name] = render_png(fig, params.dpi)
    return pngs


# --- report --------------------------------------------------------------------------------

NUMERIC_STATS = (
    ("count", "count"),
    ("missing", "missing"),
    ("mean", "mean"),
    ("median", "median"),
    ("variance", "variance"),
    ("std", "std"),
    ("min", "min"),
    ("q1", "Q1"),
    ("q3", "Q3"),
    ("max", "max"),
    ("iqr", "IQR"),
    ("outliers_low", "outliers below"),
    ("outliers_high", "outliers above"),
)


def _numeric_table(summary: dict[str, Any]) -> str:
    names = list(summary["numeric"])
    rows = [
        [esc(label), *(number(summary["numeric"][n][key], 2) for n in names)]
        for key, label in NUMERIC_STATS
    ]
    return table(["statistic", *names], rows, numeric=range(1, len(names) + 1))


def _by_churn_table(summary: dict[str, Any]) -> str:
    rows = []
    for name, groups in summary["numeric_by_churn"].items():
        for label, s in groups.items():
            rows.append(
                [
                    esc(name),
                    esc(f"Churn={label}"),
                    number(s["count"]),
                    number(s["mean"], 2),
                    number(s["median"], 2),
                    number(s["std"], 2),
                ]
            )
    return table(["feature", "group", "count", "mean", "median", "std"], rows, numeric=[2, 3, 4, 5])


def _categorical_table(summary: dict[str, Any]) -> str:
    rows = []
    for name, s in summary["categorical"].items():
        for lv in s["levels"]:
            rows.append(
                [
                    esc(name),
                    esc(lv["value"]),
                    number(lv["count"]),
                    percent(lv["share"]),
                    number(lv["churned"]),
                    percent(lv["churn_rate"]),
                ]
            )
        if s["missing"]:
            rows.append([esc(name), "<em>missing</em>", number(s["missing"]), "", "", ""])
    return table(
        ["feature", "value", "customers", "share", "churned", "churn rate"],
        rows,
        numeric=[2, 3, 4, 5],
    )


def render_report(summary: dict[str, Any], pngs: dict[str, bytes], data: str) -> str:
    """The EDA report: one HTML file, images embedded as ``data:`` URIs (works offline)."""
    title = f"Exploratory data analysis: {data}"
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="lead">{number(summary["rows"])} customers, '
        f"{number(summary['churned'])} churned ({percent(summary['churn_rate'])}). "
        "Column lists from the data contract (<code>src/churn/contract.py</code>).</p>",
        "<nav>"
        + "".join(f'<a href="#{p.name}">{esc(p.title)}</a>' for p in PLOTS if p.name in pngs)
        + '<a href="#categories">Categories</a></nav>',
        "<h2>Numeric features</h2>",
        f'<p class="muted">Variance and std with n−1; outliers by Tukey\'s rule '
        f"(beyond {summary['iqr_multiplier']:g} × IQR from the quartiles).</p>",
        _numeric_table(summary),
        "<h3>By churn</h3>",
        _by_churn_table(summary),
    ]
    for plot in PLOTS:
        if plot.name not in pngs:
            continue
        body.append(
            f'<h2 id="{esc(plot.name)}">{esc(plot.title)}</h2><figure>'
            f'<img src="{png_data_uri(pngs[plot.name])}" alt="{esc(plot.title)}">'
            f"<figcaption>{esc(plot.caption)}</figcaption></figure>"
        )
    body.append('<h2 id="categories">Categorical features</h2>')
    body.append(_categorical_table(summary))
    return page(title, "\n".join(body))
