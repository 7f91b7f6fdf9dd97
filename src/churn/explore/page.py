"""The EDA report: one self-contained HTML page (statistics tables, plots embedded)."""

from __future__ import annotations

from typing import Any

from churn.core.contract import Contract
from churn.core.html import esc, number, page, percent, png_data_uri, table
from churn.core.problem import Words
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


def _by_target_table(summary: dict[str, Any], contract: Contract) -> str:
    rows = []
    for name, groups in summary["numeric_by_target"].items():
        for label, s in groups.items():
            rows.append(
                [
                    esc(name),
                    esc(f"{contract.target}={label}"),
                    number(s["count"]),
                    number(s["mean"], 2),
                    number(s["median"], 2),
                    number(s["std"], 2),
                ]
            )
    return table(["feature", "group", "count", "mean", "median", "std"], rows, numeric=[2, 3, 4, 5])


def _categorical_table(summary: dict[str, Any], words: Words) -> str:
    rows = []
    for name, s in summary["categorical"].items():
        for lv in s["levels"]:
            rows.append(
                [
                    esc(name),
                    esc(lv["value"]),
                    number(lv["count"]),
                    percent(lv["share"]),
                    number(lv["positives"]),
                    percent(lv["positive_rate"]),
                ]
            )
        if s["missing"]:
            rows.append([esc(name), "<em>missing</em>", number(s["missing"]), "", "", ""])
    return table(
        ["feature", "value", words.units, "share", words.happened, f"{words.event} rate"],
        rows,
        numeric=[2, 3, 4, 5],
    )


def _sample_note(summary: dict[str, Any], words: Words) -> str:
    """'A seeded sample of the N customers: ' when the statistics are a sample's."""
    sample = summary.get("sample")
    if not sample:
        return ""
    return (
        f"Statistics of a seeded sample of the {number(sample['population_rows'])} "
        f"{esc(words.units)}: "
    )


def render_report(
    summary: dict[str, Any],
    pngs: dict[str, bytes],
    data: str,
    contract: Contract,
    words: Words,
    problem_file: str,
) -> str:
    """The EDA report: one HTML file, images embedded as ``data:`` URIs (works offline)."""
    title = f"Exploratory data analysis: {data}"
    shown = [(p, *p.titled(words)) for p in PLOTS if p.name in pngs]
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="lead">{_sample_note(summary, words)}{number(summary["rows"])} '
        f"{esc(words.units)}, {number(summary['positives'])} {esc(words.happened)} "
        f"({percent(summary['positive_rate'])}). "
        f"Column lists from the data contract (<code>{esc(problem_file)}</code>).</p>",
        "<nav>"
        + "".join(f'<a href="#{p.name}">{esc(t)}</a>' for p, t, _ in shown)
        + '<a href="#categories">Categories</a></nav>',
        "<h2>Numeric features</h2>",
        f'<p class="muted">Variance and std with n−1; outliers by Tukey\'s rule '
        f"(beyond {summary['iqr_multiplier']:g} × IQR from the quartiles).</p>",
        _numeric_table(summary),
        f"<h3>By {esc(words.event)}</h3>",
        _by_target_table(summary, contract),
    ]
    for plot, plot_title, caption in shown:
        body.append(
            f'<h2 id="{esc(plot.name)}">{esc(plot_title)}</h2><figure>'
            f'<img src="{png_data_uri(pngs[plot.name])}" alt="{esc(plot_title)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>"
        )
    body.append('<h2 id="categories">Categorical features</h2>')
    body.append(_categorical_table(summary, words))
    return page(title, "\n".join(body))
