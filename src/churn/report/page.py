"""The stakeholder report: one self-contained HTML page for readers who never run ``dvc``.

It tells the story of the pipeline's latest run in plain words: the problem and
its business metric (profit of a retention campaign), the data and its quality,
what exploration showed, the model and its contact threshold, the expected
business impact on the test split, limitations, and a model card with metrics
per customer segment.

Every number comes from a file the pipeline wrote (see ``evidence``); the only
numbers computed for it are the per-segment metrics of the model card
(``segments``). The page follows the rules of :mod:`churn.core.html` (inline CSS,
images as ``data:`` URIs, no scripts, no timestamps) and its PNGs are drawn by
``plots``, so the same inputs give the same bytes.
"""

from __future__ import annotations

from typing import Any

from churn.core.contract import Contract
from churn.core.html import (
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
from churn.report.evidence import Evidence

#: The report's title (the slide deck's too).
TITLE = "Customer churn: who to contact, and what it is worth"

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
    e = ev.decision.economics
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


def _explore(
    ev: Evidence, contract: Contract, pngs: dict[str, bytes], boxplots: bytes | None
) -> str:
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
                    + ("left" if k == contract.positive else "stayed")
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
    threshold = d.threshold
    contacted = d.contacted_share["test"]
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
            f"It is well below {ev.default_threshold:g} because a missed leaver costs far more "
            "than an unneeded offer. "
            if threshold < ev.default_threshold
            else ""
        )
        + "For comparison, the probability at which one contact breaks even is "
        f"{number(d.break_even_threshold, 3)}.</p>"
    )


def _impact(ev: Evidence, pngs: dict[str, bytes]) -> str:
    m = ev.metrics["test"]
    threshold = ev.decision.threshold
    tuned, default, everyone = (
        m["profit_tuned_threshold"],
        m["profit_default_threshold"],
        m["profit_contact_all"],
    )
    n = ev.split_rows.get("test")
    rows = [
        [f"Model, threshold {threshold:.2f} (recommended)", money(tuned), "—"],
        [
            f"Model, threshold {ev.default_threshold:.2f} (the usual default)",
            money(default),
            money(tuned - default),
        ],
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


def _model_card(ev: Evidence, contract: Contract, pngs: dict[str, bytes]) -> str:
    t, d = ev.train, ev.decision
    features = ", ".join(esc(n) for n in contract.feature_names)
    segments = "".join(
        f"<h3>By {esc(column)}</h3>{_segment_table(rows)}" for column, rows in ev.segments.items()
    )
    splits = ", ".join(f"{esc(k)} {number(n)}" for k, n in ev.split_rows.items())
    return (
        '<h2 id="model-card">8. Model card</h2>'
        "<h3>Intended use</h3><p>Rank current customers by their risk of leaving within a "
        "month, to choose whom a retention campaign contacts (threshold "
        f"{d.threshold:.2f}). Not intended for decisions about individual customers "
        "beyond an offer (pricing, credit, service levels), nor for customers unlike those "
        "of the training data.</p>"
        "<h3>Model</h3>"
        f"<p>{esc(_family(t['model']))}, scikit-learn pipeline "
        f"(<code>{esc(d.model_path)}</code>, md5 <code>{esc(d.model_md5)}</code>); the "
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


def render_report(
    ev: Evidence, contract: Contract, pngs: dict[str, bytes], boxplots: bytes | None = None
) -> str:
    """The stakeholder report: one HTML file, images embedded, no scripts."""
    title = TITLE
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
        f"<strong>{ev.decision.threshold:.2f}</strong>; expected profit "
        f"<strong>{money(m['profit_tuned_threshold'])} per customer</strong>, "
        f"versus {money(m['profit_contact_all'])} when contacting everyone.</p>",
        "<nav>" + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in sections) + "</nav>",
        _problem(ev),
        _data(ev),
        _explore(ev, contract, pngs, boxplots),
        _models(ev),
        _decision(ev),
        _impact(ev, pngs),
        _limitations(ev),
        _model_card(ev, contract, pngs),
    ]
    return page(title, "\n".join(body), extra_css=NARRATIVE_CSS)
