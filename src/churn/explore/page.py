"""The EDA report: one self-contained HTML page (statistics tables, plots embedded)."""

from __future__ import annotations

from typing import Any

from churn.core.html import esc, number, page, percent, png_data_uri, table
from churn.explore.plots import PLOTS

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
        "Column lists from the data contract (<code>src/churn/core/contract.py</code>).</p>",
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
