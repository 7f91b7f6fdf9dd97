"""The stakeholder report: one self-contained HTML page for readers who never run ``dvc``.

It tells the story of the pipeline's latest run in plain words: the problem and
its business metric (profit of a retention campaign), the data and its quality,
what exploration showed, the model and its contact threshold, the expected
business impact on the test split, limitations, and a model card with metrics
per customer segment.

Every number comes from a file the pipeline wrote (see ``Evidence``); the only
numbers computed here are the per-segment metrics of the model card
(``segment_metrics``), from the test split's predictions. The page follows the
rules of :mod:`churn.html_report` (inline CSS, images as ``data:`` URIs, no
scripts, no timestamps) and its PNGs are drawn like the exploration plots
(:func:`churn.exploration.render_png`), so the same inputs give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churn import contract
from churn.errors import DataError
from churn.html_report import (
    NARRATIVE_CSS,
    callout,
    esc,
    figure,
    key_figures,
    money,
    number,
    page,
    percent,
    table,
)

if TYPE_CHECKING:  # matplotlib is imported lazily: only drawing needs it
    from matplotlib.figure import Figure

#: Colors: the model's choice, the 0.5 default and "contact everyone" (color-blind safe).
BLUE, ORANGE, GREY = "#1f77b4", "#ff7f0e", "#7f7f7f"
#: matplotlib settings that make the image bytes reproducible (as in exploration.py).
RC = {"svg.hashsalt": "churn-report", "svg.fonttype": "path", "font.family": "DejaVu Sans"}
#: Columns of the exploration statistics shown as churn drivers (when present).
DRIVERS = ("Contract", "InternetService", "PaymentMethod")


# --- segment metrics (model card) ----------------------------------------------------------


def join_predictions(
    predictions: pd.DataFrame, split: pd.DataFrame, *, predictions_file: str, split_file: str
) -> pd.DataFrame:
    """The split's rows with their predicted ``probability``, joined on the customer id.

    Both files come from the same evaluate run, so every customer must appear in
    both with the same label; anything else means stale or mixed-up files.
    """
    key = contract.ID_COLUMN
    for name, df, needed in (
        (predictions_file, predictions, (key, "churn", "probability")),
        (split_file, split, (key, "churn")),
    ):
        missing = [c for c in needed if c not in df.columns]
        if missing:
            raise DataError(
                "a required column is missing",
                file=name,
                column=", ".join(missing),
                expected=f"columns {list(needed)}",
            )
    merged = split.merge(
        predictions[[key, "churn", "probability"]],
        on=key,
        how="outer",
        suffixes=("", "_predicted"),
        indicator=True,
        validate="one_to_one",
    )
    unmatched = merged.index[merged["_merge"] != "both"]
    if len(unmatched):
        raise DataError(
            f"{len(unmatched)} customers appear in only one of the two files",
            file=f"{predictions_file} and {split_file}",
            column=key,
            rows=[int(i) for i in unmatched],
            expected="the same customers in the predictions and the split (rerun evaluate)",
        )
    mismatch = merged.index[merged["churn"] != merged["churn_predicted"]]
    if len(mismatch):
        raise DataError(
            "the churn label differs between the predictions and the split",
            file=f"{predictions_file} and {split_file}",
            column="churn",
            rows=[int(i) for i in mismatch],
            expected="identical labels (rerun evaluate)",
        )
    return merged.drop(columns=["churn_predicted", "_merge"])


def segment_metrics(df: pd.DataFrame, column: str, threshold: float) -> list[dict[str, Any]]:
    """Per level of ``column``: customers, churn rate, ROC-AUC, share contacted, churners caught.

    ``df`` has the column, ``churn`` (0/1) and ``probability``. Levels follow the
    contract's order. ROC-AUC is ``None`` where a level has only churners or only
    stayers (it is undefined there); so is "churners caught" without churners.
    """
    allowed = contract.BY_NAME[column].allowed if column in contract.BY_NAME else ()
    present = [v for v in pd.unique(df[column].dropna())]
    levels = [v for v in allowed if v in set(present)] + sorted(
        v for v in present if v not in set(allowed)
    )
    rows = []
    for level in levels:
        part = df[df[column] == level]
        y = part["churn"].to_numpy().astype(int)
        p = part["probability"].to_numpy(dtype=np.float64)
        contacted = p >= threshold
        both_classes = 0 < y.sum() < y.size
        rows.append(
            {
                "segment": str(level),
                "customers": int(y.size),
                "churn_rate": round(float(y.mean()), 6),
                "mean_probability": round(float(p.mean()), 6),
                "roc_auc": round(float(roc_auc_score(y, p)), 6) if both_classes else None,
                "contacted_share": round(float(contacted.mean()), 6),
                "churners_caught": (round(float(contacted[y == 1].mean()), 6) if y.sum() else None),
            }
        )
    return rows


def all_segments(df: pd.DataFrame, columns: list[str], threshold: float) -> dict[str, list]:
    """``segment_metrics`` for each column, by column name."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            "a segment column is missing from the test split",
            column=", ".join(missing),
            expected="the categorical columns named in params report.segments",
        )
    return {c: segment_metrics(df, c, threshold) for c in columns}


# --- evidence ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """Everything the report shows, as read from the pipeline's outputs."""

    #: reports/validation/raw.json: the raw data's expectation results.
    validation: dict[str, Any]
    #: metrics/clean.json: repairs and quarantine counts.
    clean: dict[str, Any]
    #: reports/explore/stats.json: statistics of the clean table.
    stats: dict[str, Any]
    #: metrics/train.json: the family, its hyperparameters and its CV score.
    train: dict[str, Any]
    #: metrics/train_tuning.json: the tuning candidates (one row when not tuned).
    tuning: list[dict[str, Any]]
    #: models/decision.json: the contact threshold and the economics.
    decision: dict[str, Any]
    #: metrics/evaluate/metrics.json: per split, the classification and business metrics.
    metrics: dict[str, dict[str, float]]
    #: Profit per customer by threshold, per split (evaluate's business plots).
    profit: dict[str, list[dict[str, float]]]
    #: Cumulative gains, per split (evaluate's business plots).
    gains: dict[str, list[dict[str, float]]]
    #: Test-split metrics per segment, by column (``all_segments``).
    segments: dict[str, list[dict[str, Any]]]
    #: Rows of the data set behind each split, by split name.
    split_rows: dict[str, int]


# --- plots ---------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    # The object-oriented API (no pyplot): no global state, no GUI backend.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_profit(ev: Evidence) -> Figure:
    """Expected profit per customer against the contact threshold, test split."""
    rows = ev.profit["test"]
    t = [r["threshold"] for r in rows]
    fig = _figure(8, 4.2)
    ax = fig.subplots()
    ax.plot(t, [r["profit_per_customer"] for r in rows], color=BLUE, linewidth=2)
    chosen = ev.decision["threshold"]
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
        (0.5, m["profit_default_threshold"], ORANGE, "default threshold 0.50"),
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
    fig = _figure(6, 4.2)
    ax = fig.subplots()
    ax.plot(share, caught, color=BLUE, linewidth=2, label="model's ranking")
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", label="random choice")
    contacted = ev.decision["contacted_share"]["test"]
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
    fig = _figure(4.4 * max(1, len(names)), 3.0)
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
    fig = _figure(7, 0.6 * len(rows) + 1.6)
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
    from matplotlib import rc_context

    from churn.exploration import render_png

    pngs = {}
    for name, draw in PLOTS.items():
        with rc_context(RC):
            fig = draw(ev)
        pngs[name] = render_png(fig, dpi)
    return pngs


# --- the page ------------------------------------------------------------------------------

FAMILY_NAMES = {
    "logistic_regression": "logistic regression",
    "random_forest": "random forest",
    "hist_gradient_boosting": "gradient-boosted trees",
    "decision_tree": "decision tree",
    "svm": "support vector machine",
    "mlp": "neural network (multi-layer perceptron)",
}


def _auc(value: float | None) -> str:
    """A ROC-AUC with three decimals (trailing zeros kept: the columns line up)."""
    return "—" if value is None else f"{value:.3f}"


def _family(name: str) -> str:
    return FAMILY_NAMES.get(name, name.replace("_", " "))


def _problem(ev: Evidence) -> str:
    e = ev.decision["economics"]
    gain = e["acceptance_rate"] * (e["customer_lifetime_value"] - e["offer_cost"])
    gain -= e["contact_cost"]
    loss = e["offer_cost"] + e["contact_cost"]
    return (
        '<h2 id="problem">1. The problem and how we measure success</h2>'
        "<p>Some customers cancel their contract every month (they <em>churn</em>). A "
        "retention campaign contacts customers and offers them an incentive to stay. "
        "Contacting everyone is expensive and wasted on customers who were going to stay "
        "anyway, so the model estimates each customer's probability of leaving and the "
        "campaign contacts only those above a <strong>threshold</strong>.</p>"
        "<p>Success is measured in money: the <strong>expected profit of the campaign per "
        "customer</strong> (contacted or not). The assumptions, set in "
        "<code>params.yaml</code> (section <code>business</code>):</p>"
        + table(
            ["assumption", "value"],
            [
                [
                    "Value of a customer who stays (lifetime value)",
                    money(e["customer_lifetime_value"]),
                ],
                ["Cost of the retention offer (paid when accepted)", money(e["offer_cost"])],
                ["Cost of contacting a customer", money(e["contact_cost"])],
                [
                    "Share of would-be leavers who accept the offer and stay",
                    percent(e["acceptance_rate"], 0),
                ],
            ],
            numeric=[1],
            widths=("70%", "30%"),
        )
        + f"<p>So contacting a customer who would have left earns {money(gain)} on average, "
        f"and contacting one who would have stayed costs {money(loss)}. "
        "Money amounts are in the currency of the customer lifetime value.</p>"
    )


def _data(ev: Evidence) -> str:
    v, c, s = ev.validation, ev.clean, ev.stats
    failed = [x for x in v.get("expectations", []) if not x.get("success")]
    checks = (
        f"{number(v['evaluated'])} automatic checks ran on the raw data "
        f"(allowed values, ranges, unique ids, blank values…); "
        + (
            "all passed."
            if not failed
            else f"{len(failed)} failed: "
            + "; ".join(esc(f"{x['column'] or 'table'} {x['description']}") for x in failed)
            + "."
        )
    )
    repairs = c.get("repairs", {})
    repair_items = "".join(
        f"<li>{esc(name.replace('_', ' '))}: {number(n)} rows</li>"
        for name, n in sorted(repairs.items())
    )
    reasons = c.get("quarantine_reasons", {})
    quarantine = (
        f"{number(c['rows_quarantined'])} rows ({percent(c['quarantined_fraction'], 2)}) "
        "were set aside (quarantined) because they could not be repaired"
        + (
            ": " + ", ".join(f"{esc(k)} {number(n)}" for k, n in sorted(reasons.items()))
            if reasons
            else ""
        )
        + "."
    )
    splits = ", ".join(f"{esc(k)} {number(n)}" for k, n in ev.split_rows.items())
    return (
        '<h2 id="data">2. The data</h2>'
        + key_figures(
            [
                ("customers", number(c["rows_in"])),
                ("usable after cleaning", number(c["rows_clean"])),
                ("left (churn rate)", percent(s["churn_rate"])),
            ]
        )
        + "<p>One row per customer of a telecom operator: contract, services, charges, "
        "tenure, a few demographic flags, and "
        f"whether the customer left during the last month. {number(s['churned'])} of "
        f"{number(s['rows'])} customers left ({percent(s['churn_rate'])}).</p>"
        f"<h3>Quality</h3><ul><li>{checks}</li>"
        f"<li>{number(c['exact_duplicates_removed'])} exact duplicate rows removed.</li>"
        f"<li>{quarantine}</li>"
        + (f"<li>Repairs:<ul>{repair_items}</ul></li>" if repair_items else "")
        + "</ul>"
        f'<p class="muted">The model learns on one part of the customers and is checked on '
        f"parts it never saw (customers per part: {splits}). Every result below is on the "
        "<em>test</em> part unless stated.</p>"
    )


def _explore(ev: Evidence, pngs: dict[str, bytes], boxplots: bytes | None) -> str:
    s = ev.stats
    contract_levels = {
        lv["value"]: lv for lv in s.get("categorical", {}).get("Contract", {}).get("levels", [])
    }
    bullets = []
    if contract_levels:
        parts = ", ".join(
            f"{esc(k)} {percent(lv['churn_rate'])}" for k, lv in contract_levels.items()
        )
        bullets.append(f"<li>The contract type matters most: churn rate {parts}.</li>")
    tenure = s.get("numeric_by_churn", {}).get("tenure")
    if tenure:
        medians = {k: v.get("median") for k, v in tenure.items() if isinstance(v, dict)}
        if len(medians) == 2:
            bullets.append(
                "<li>Customers who leave are mostly new: median tenure "
                + ", ".join(
                    f"{number(m, 0)} months for those who "
                    + ("left" if k == contract.POSITIVE_LABEL else "stayed")
                    for k, m in medians.items()
                )
                + ".</li>"
            )
    html_ = [
        '<h2 id="exploration">3. What the data shows</h2>',
        f"<ul>{''.join(bullets)}</ul>" if bullets else "",
        figure(
            pngs["drivers"],
            "Churn rate by contract, internet service and payment method",
            "Month-to-month contracts, fibre-optic internet and electronic-check payments "
            "go with much higher churn.",
        ),
    ]
    if boxplots is not None:
        html_.append(
            figure(
                boxplots,
                "Tenure and charges of customers who left and who stayed",
                "Boxes span the middle half of the customers, the line is the median. "
                "Leavers have short tenure and high monthly charges.",
            )
        )
    return "".join(html_)


def _models(ev: Evidence) -> str:
    t = ev.train
    cv = t["cv"]
    hyper = ", ".join(
        f"{esc(k)}={'none' if v is None else esc(v)}"
        for k, v in sorted(t["hyperparameters"].items())
    )
    tuning = t.get("tuning", {})
    if tuning.get("method", "none") == "none" or len(ev.tuning) <= 1:
        tuned = (
            "Its settings were fixed in <code>params.yaml</code> (no automatic search in this run)."
        )
    else:
        best = max(ev.tuning, key=lambda r: r["roc_auc_mean"])
        worst = min(ev.tuning, key=lambda r: r["roc_auc_mean"])
        tuned = (
            f"An automatic search ({esc(tuning['method'])}) tried {len(ev.tuning)} settings "
            f"(ROC-AUC {_auc(worst['roc_auc_mean'])} to "
            f"{_auc(best['roc_auc_mean'])}) and kept the best."
        )
    rows = [
        [
            f"<strong>{esc(_family(t['model']))}</strong> (deployed)",
            f"{_auc(cv['roc_auc_mean'])} ± {_auc(cv['roc_auc_std'])}",
            _auc(ev.metrics["validation"]["roc_auc"]),
            _auc(ev.metrics["test"]["roc_auc"]),
        ]
    ]
    return (
        '<h2 id="models">4. The models compared</h2>'
        "<p>The quality of the ranking is measured by the <strong>ROC-AUC</strong>: the "
        "chance that the model gives a higher risk to a random leaver than to a random "
        "stayer (0.5 is a coin toss, 1.0 is perfect).</p>"
        + table(
            ["model family", "cross-validation (training part)", "validation", "test"],
            rows,
            numeric=[1, 2, 3],
        )
        + f"<p>This run trains one family, <strong>{esc(_family(t['model']))}</strong> "
        f"({hyper}), checked by {number(cv['folds'])}-fold cross-validation. {tuned}</p>"
        '<p class="muted">The pipeline trains one family per run (<code>train.model</code>). '
        "The comparison of all families (logistic regression, decision tree, random forest, "
        "gradient-boosted trees, support vector machine, neural network), each tuned, is "
        "produced by <code>make bench-models</code> (it takes minutes, so it is not part of "
        "every run); see the README section “How good are the models”.</p>"
    )


def _decision(ev: Evidence) -> str:
    d, m = ev.decision, ev.metrics["test"]
    threshold = d["threshold"]
    contacted = d["contacted_share"]["test"]
    return (
        '<h2 id="decision">5. The decision rule</h2>'
        + key_figures(
            [
                ("contact threshold", f"{threshold:.2f}"),
                ("customers contacted (test)", percent(contacted)),
                ("profit per customer (test)", money(m["profit_tuned_threshold"])),
            ]
        )
        + f"<p>Contact a customer when the model's churn probability is at least "
        f"<strong>{threshold:.2f}</strong>. The threshold was chosen as the one with the "
        "highest expected profit on the <em>validation</em> customers, then checked, "
        "unchanged, on the test customers. "
        + (
            "It is well below 0.5 because a missed leaver costs far more than an unneeded offer. "
            if threshold < 0.5
            else ""
        )
        + "For comparison, the probability at which one contact breaks even is "
        f"{number(d['break_even_threshold'], 3)}.</p>"
    )


def _impact(ev: Evidence, pngs: dict[str, bytes]) -> str:
    m = ev.metrics["test"]
    threshold = ev.decision["threshold"]
    tuned, default, everyone = (
        m["profit_tuned_threshold"],
        m["profit_default_threshold"],
        m["profit_contact_all"],
    )
    n = ev.split_rows.get("test")
    rows = [
        [f"Model, threshold {threshold:.2f} (recommended)", money(tuned), "—"],
        ["Model, threshold 0.50 (the usual default)", money(default), money(tuned - default)],
        ["Contact every customer (no model)", money(everyone), money(tuned - everyone)],
    ]
    per_k = f"{money(1000 * tuned, 0)} per 1,000 customers"
    return (
        '<h2 id="impact">6. Expected business impact</h2>'
        + callout(
            f"With the recommended threshold the campaign is expected to earn "
            f"{money(tuned)} per customer ({per_k}), against {money(default)} at the "
            f"default threshold and {money(everyone)} when contacting everyone."
        )
        + table(
            ["strategy", "expected profit per customer", "gain of the recommended rule"],
            rows,
            numeric=[1, 2],
            widths=("56%", "22%", "22%"),
        )
        + f"<p>Measured on {number(n) if n else 'the'} test customers the model never saw. "
        f"Contacting the riskiest 10% of customers reaches "
        f"<strong>{number(m['top_decile_lift'], 2)} times</strong> as many leavers as "
        "contacting 10% at random (the <em>lift</em>). Because the share of leavers who "
        "accept the offer is uncertain, the expected maximum profit averaged over that "
        f"uncertainty is {money(m['emp'])} per customer.</p>"
        + figure(
            pngs["profit"],
            "Expected profit per customer for every threshold",
            "Each point of the curve: contact everyone above that threshold. Too low a "
            "threshold wastes offers on loyal customers; too high a one misses leavers.",
        )
        + figure(
            pngs["gains"],
            "How many leavers the campaign reaches",
            "Contacting customers from the highest risk down reaches leavers much faster "
            "than picking customers at random (dashed line).",
        )
    )


def _limitations(ev: Evidence) -> str:
    n = ev.split_rows.get("test")
    return (
        '<h2 id="limitations">7. Limitations</h2><ul>'
        "<li>The profit figures rest on the assumptions of section 1, above all the share "
        "of leavers who accept the offer. If the real acceptance rate differs, so does the "
        "profit; the campaign should be piloted and the rate measured.</li>"
        f"<li>The test part is small ({number(n) if n else 'a few thousand'} customers): "
        "its figures carry sampling noise. The README (“How good are the models”) reports "
        "how much the test ROC-AUC moves across random splits "
        "(<code>benchmarks/models.py --split-seeds 20</code>).</li>"
        "<li>The data is a single historical snapshot of one operator. Customer behaviour, "
        "prices and offers change; the model should be retrained and rechecked "
        "regularly.</li>"
        "<li>The model predicts who is likely to leave, not who will be persuaded to stay by "
        "the offer. Some contacted customers would have stayed anyway and some leavers "
        "cannot be persuaded.</li>"
        "<li>Small segments (see the model card) have wide uncertainty; do not read much "
        "into differences of a few points there.</li></ul>"
    )


def _segment_table(rows: list[dict[str, Any]]) -> str:
    return table(
        ["segment", "customers", "churn rate", "ROC-AUC", "contacted", "leavers reached"],
        [
            [
                esc(r["segment"]),
                number(r["customers"]),
                percent(r["churn_rate"]),
                _auc(r["roc_auc"]),
                percent(r["contacted_share"]),
                percent(r["churners_caught"]),
            ]
            for r in rows
        ],
        numeric=[1, 2, 3, 4, 5],
    )


def _missed_segments(ev: Evidence) -> str:
    """A caveat naming the segments where the campaign reaches fewer than half the leavers."""
    missed = [
        f"{esc(column)} = {esc(r['segment'])} ({percent(r['churners_caught'])} of "
        f"{number(round(r['churn_rate'] * r['customers']))} leavers)"
        for column, rows in ev.segments.items()
        for r in rows
        if r["churners_caught"] is not None and r["churners_caught"] < 0.5
    ]
    if not missed:
        return ""
    return (
        "<li>The campaign reaches fewer than half of the leavers in: "
        + "; ".join(missed)
        + ". Their risk scores are low because such customers rarely leave; another kind "
        "of action may be needed for them.</li>"
    )


def _model_card(ev: Evidence, pngs: dict[str, bytes]) -> str:
    t, d = ev.train, ev.decision
    features = ", ".join(esc(n) for n in contract.FEATURE_NAMES)
    segments = "".join(
        f"<h3>By {esc(column)}</h3>{_segment_table(rows)}" for column, rows in ev.segments.items()
    )
    splits = ", ".join(f"{esc(k)} {number(n)}" for k, n in ev.split_rows.items())
    return (
        '<h2 id="model-card">8. Model card</h2>'
        "<h3>Intended use</h3><p>Rank current customers by their risk of leaving within a "
        "month, to choose whom a retention campaign contacts (threshold "
        f"{d['threshold']:.2f}). Not intended for decisions about individual customers "
        "beyond an offer (pricing, credit, service levels), nor for customers unlike those "
        "of the training data.</p>"
        "<h3>Model</h3>"
        f"<p>{esc(_family(t['model']))}, scikit-learn pipeline "
        f"(<code>models/model.joblib</code>, md5 <code>{esc(d['model']['md5'])}</code>); the "
        "threshold is in <code>models/decision.json</code>.</p>"
        "<h3>Training data</h3>"
        f"<p>{number(ev.clean['rows_clean'])} customers after cleaning, split at random "
        f"(stratified by churn) into {splits}. Inputs: {features}.</p>"
        "<h3>Metrics by segment (test customers)</h3>"
        '<p class="muted">Contacted: share of the segment at or above the threshold. '
        "Leavers reached: share of the segment's leavers who are contacted. ROC-AUC within a "
        "segment measures the ranking among that segment's customers only.</p>"
        + figure(
            pngs["segments"],
            "Churn and contact rates by segment",
            "The campaign focuses on the segments where customers actually leave.",
        )
        + segments
        + "<h3>Caveats</h3><ul>"
        + _missed_segments(ev)
        + "<li>Segments that leave more often are contacted more often (tables above). That "
        "is the intent of the campaign, but check that the offer is fair and welcome for "
        "the groups it concentrates on.</li>"
        "<li>Gender and senior-citizen status are model inputs. Review whether they may be "
        "used for targeting in your jurisdiction before the campaign runs.</li>"
        "<li>Probabilities are not calibrated guarantees: use them to rank customers, and "
        "re-choose the threshold when the economics change (the pipeline does this from "
        "<code>params.yaml</code>).</li></ul>"
    )


def render_report(ev: Evidence, pngs: dict[str, bytes], boxplots: bytes | None = None) -> str:
    """The stakeholder report: one HTML file, images embedded, no scripts."""
    title = "Customer churn: who to contact, and what it is worth"
    m = ev.metrics["test"]
    sections = [
        ("problem", "Problem"),
        ("data", "Data"),
        ("exploration", "Exploration"),
        ("models", "Models"),
        ("decision", "Decision"),
        ("impact", "Impact"),
        ("limitations", "Limitations"),
        ("model-card", "Model card"),
    ]
    body = [
        f"<h1>{esc(title)}</h1>",
        '<p class="lead">A summary of the churn-prediction pipeline for decision makers. '
        f"In short: contact customers whose predicted churn probability is at least "
        f"<strong>{ev.decision['threshold']:.2f}</strong>; expected profit "
        f"<strong>{money(m['profit_tuned_threshold'])} per customer</strong>, "
        f"versus {money(m['profit_contact_all'])} when contacting everyone.</p>",
        "<nav>" + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in sections) + "</nav>",
        _problem(ev),
        _data(ev),
        _explore(ev, pngs, boxplots),
        _models(ev),
        _decision(ev),
        _impact(ev, pngs),
        _limitations(ev),
        _model_card(ev, pngs),
    ]
    return page(title, "\n".join(body), extra_css=NARRATIVE_CSS)
