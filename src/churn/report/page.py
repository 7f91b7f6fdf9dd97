"""The stakeholder report: one self-contained HTML page for readers who never run ``dvc``.

It tells the story of the pipeline's latest run in plain words, in the problem
file's words: the problem and its business metric (the profit of the campaign that
acts on the predictions), the data and its quality, what exploration showed, the
model and its decision threshold, the expected business impact on the test split,
limitations, and a model card with metrics per segment.

Every number comes from a file the pipeline wrote (see ``evidence``); the only
numbers computed for it are the per-segment metrics of the model card
(``segments``). The page follows the rules of :mod:`churn.core.html` (inline CSS,
images as ``data:`` URIs, no scripts, no timestamps) and its PNGs are drawn by
``plots``, so the same inputs give the same bytes.
"""

from __future__ import annotations

from typing import Any

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
from churn.core.problem import Problem, Words
from churn.report.evidence import Evidence
from churn.report.update import render_update

FAMILY_NAMES = {
    "logistic_regression": "logistic regression",
    "random_forest": "random forest",
    "hist_gradient_boosting": "gradient-boosted trees (scikit-learn)",
    "decision_tree": "decision tree",
    "svm": "support vector machine",
    "mlp": "neural network (multi-layer perceptron)",
    "lightgbm": "gradient-boosted trees (LightGBM)",
}


def _auc(value: float | None) -> str:
    """A ROC-AUC with three decimals (trailing zeros kept: the columns line up)."""
    return "—" if value is None else f"{value:.3f}"


def _family(name: str) -> str:
    return FAMILY_NAMES.get(name, name.replace("_", " "))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _family_title(name: str) -> str:
    """The family's name at the start of a sentence."""
    return _cap(_family(name))


def _inline(text: str) -> str:
    """``text`` escaped, except the emphasis it may use (<em>, <strong>)."""
    html_ = esc(text)
    for tag in ("em", "strong"):
        html_ = html_.replace(f"&lt;{tag}&gt;", f"<{tag}>").replace(f"&lt;/{tag}&gt;", f"</{tag}>")
    return html_


def _problem(ev: Evidence, problem: Problem) -> str:
    w, labels = problem.words, problem.report.economics
    e = ev.decision.economics
    gain = e["acceptance_rate"] * (e["customer_lifetime_value"] - e["offer_cost"])
    gain -= e["contact_cost"]
    loss = e["offer_cost"] + e["contact_cost"]

    def row(key: str, value: str) -> list[str]:
        return [esc(labels.get(key, key.replace("_", " "))), value]

    return (
        '<h2 id="problem">1. The problem and how we measure success</h2>'
        f"<p>{_inline(problem.action.story)}</p>"
        "<p>Success is measured in money: the <strong>expected profit of the campaign per "
        f"{esc(w.unit)}</strong> ({esc(w.done)} or not). The assumptions, set in "
        f"<code>{esc(problem.path)}</code> (section <code>business</code>):</p>"
        + table(
            ["assumption", "value"],
            [
                row("customer_lifetime_value", money(e["customer_lifetime_value"])),
                row("offer_cost", money(e["offer_cost"])),
                row("contact_cost", money(e["contact_cost"])),
                row("acceptance_rate", percent(e["acceptance_rate"], 0)),
            ],
            numeric=[1],
            widths=("70%", "30%"),
        )
        + f"<p>So {esc(w.doing)} a {esc(w.unit)} who would have {esc(w.happened)} earns "
        f"{money(gain)} on average, and {esc(w.doing)} one who would have "
        f"{esc(w.not_happened)} costs {money(loss)}. "
        "Money amounts are in the currency of these assumptions.</p>"
    )


def _data(ev: Evidence, problem: Problem) -> str:
    w = problem.words
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
                (w.units, number(c["rows_in"])),
                ("usable after cleaning", number(c["rows_clean"])),
                (f"{w.happened} ({w.event} rate)", percent(s["positive_rate"])),
            ]
        )
        + f"<p>{esc(problem.report.data)} {number(s['positives'])} of "
        f"{number(s['rows'])} {esc(w.units)} {esc(w.happened)} "
        f"({percent(s['positive_rate'])}).</p>"
        f"<h3>Quality</h3><ul><li>{checks}</li>"
        f"<li>{number(c['exact_duplicates_removed'])} exact duplicate rows removed.</li>"
        f"<li>{quarantine}</li>"
        + (f"<li>Repairs:<ul>{repair_items}</ul></li>" if repair_items else "")
        + "</ul>"
        f'<p class="muted">The model learns on one part of the {esc(w.units)} and is checked '
        f"on parts it never saw ({esc(w.units)} per part: {splits}). Every result below is "
        "on the <em>test</em> part unless stated.</p>"
    )


def _widest_numeric(s: dict[str, Any], positive: str) -> tuple[str, dict[str, Any]] | None:
    """The numeric column whose medians differ most between the two groups, in IQRs."""
    best = None
    for name, groups in s.get("numeric_by_target", {}).items():
        iqr = (s.get("numeric", {}).get(name) or {}).get("iqr")
        medians = {k: g.get("median") for k, g in groups.items() if isinstance(g, dict)}
        if len(medians) != 2 or None in medians.values() or not iqr or positive not in medians:
            continue
        gap = abs(medians[positive] - next(v for k, v in medians.items() if k != positive))
        if best is None or gap / iqr > best[0]:
            best = (gap / iqr, name, medians)
    return None if best is None else (best[1], best[2])


def _explore(ev: Evidence, problem: Problem, pngs: dict[str, bytes], boxplots: bytes | None) -> str:
    w, contract, s = problem.words, problem.contract, ev.stats
    bullets, highest = [], []
    for n, name in enumerate(ev.drivers):
        levels = s.get("categorical", {}).get(name, {}).get("levels", [])
        if not levels:
            continue
        top = max(levels, key=lambda lv: lv["positive_rate"] or 0.0)
        highest.append(f"{top['value']} ({name})")
        if n == 0:
            parts = ", ".join(f"{esc(lv['value'])} {percent(lv['positive_rate'])}" for lv in levels)
            bullets.append(f"<li>{esc(name)} matters most: {esc(w.event)} rate {parts}.</li>")
    widest = _widest_numeric(s, contract.positive)
    if widest:
        name, medians = widest
        bullets.append(
            f"<li>{esc(_cap(w.positives))} differ most from the others in {esc(name)}: median "
            + ", ".join(
                f"{number(m, 0)} for those who "
                + esc(w.happened if k == contract.positive else w.not_happened)
                for k, m in medians.items()
            )
            + ".</li>"
        )
    html_ = [
        '<h2 id="exploration">3. What the data shows</h2>',
        f"<ul>{''.join(bullets)}</ul>" if bullets else "",
        figure(
            pngs["drivers"],
            f"{_cap(w.event)} rate by " + ", ".join(d for d in ev.drivers),
            "The highest " + w.event + " rates: " + ", ".join(highest) + ".",
        ),
    ]
    if boxplots is not None:
        html_.append(
            figure(
                boxplots,
                f"Numeric features of {w.units} who {w.happened} and who {w.not_happened}",
                f"Boxes span the middle half of the {w.units}, the line is the median.",
            )
        )
    return "".join(html_)


def _tuning_sentence(ev: Evidence) -> str:
    tuning = ev.train.get("tuning", {})
    if tuning.get("method", "none") == "none" or len(ev.tuning) <= 1:
        return (
            "Its settings were fixed in <code>params.yaml</code> (no automatic search in this run)."
        )
    best = max(ev.tuning, key=lambda r: r["roc_auc_mean"])
    worst = min(ev.tuning, key=lambda r: r["roc_auc_mean"])
    return (
        f"An automatic search ({esc(tuning['method'])}) tried {len(ev.tuning)} settings "
        f"(ROC-AUC {_auc(worst['roc_auc_mean'])} to "
        f"{_auc(best['roc_auc_mean'])}) and kept the best."
    )


def _why_the_winner(selection: dict[str, Any], folds: int, w: Words) -> str:
    """Why the deployed family won, in words, from the selection record of train.json."""
    families = selection["families"]
    best, winner = selection["best"], selection["winner"]
    order = selection["candidates"]
    simpler = order[: order.index(winner)]
    if winner == best:
        reason = (
            f"<strong>{esc(_family_title(winner))}</strong> had the highest cross-validated "
            f"ROC-AUC ({_auc(families[winner]['roc_auc_mean'])})"
            + (
                ", and every simpler family was further below it than the margin of noise"
                if simpler
                else ", and it is also the simplest family compared"
            )
            + ", so it was deployed."
        )
    else:
        f = families[winner]
        reason = (
            f"<strong>{esc(_family_title(best))}</strong> had the highest cross-validated ROC-AUC "
            f"({_auc(families[best]['roc_auc_mean'])}), but "
            f"<strong>{esc(_family(winner))}</strong> is simpler and only "
            f"{_auc(f['difference_from_best'])} below it on the same folds, within the "
            f"margin of noise ({_auc(f['difference_se'])}), so it was deployed: a more "
            "complex model must earn its place by more than chance."
        )
    return (
        f"<p>{reason}</p>"
        '<p class="muted">How the family is chosen (<code>train.model: auto</code>): every '
        f"family is scored by {number(folds)}-fold cross-validation on the training part, "
        "on the same folds. Each is compared with the best family fold by fold (the same "
        "fold is hard or easy for all of them, so the paired difference is far less noisy "
        "than either score), with a standard error that accounts for the overlap of the "
        "training folds. The deployed family is the first of the list, simplest first, "
        f"whose gap to the best is within that margin. Profit per {esc(w.unit)} is the expected "
        "profit of each family's out-of-fold predictions at its own best threshold. Fit "
        "times are in the training log, not on this page: they change from run to run, and "
        "this page has the same bytes for the same results.</p>"
    )


def _models(ev: Evidence, w: Words) -> str:
    t = ev.train
    cv = t["cv"]
    hyper = ", ".join(
        f"{esc(k)}={'none' if v is None else esc(v)}"
        for k, v in sorted(t["hyperparameters"].items())
    )
    intro = (
        '<h2 id="models">4. The models compared</h2>'
        "<p>The quality of the ranking is measured by the <strong>ROC-AUC</strong>: the "
        f"chance that the model gives a higher risk to a random {esc(w.unit)} who "
        f"{esc(w.happened)} than to a random one who {esc(w.not_happened)} (0.5 is a coin "
        "toss, 1.0 is perfect).</p>"
    )
    deployed = (
        f"<p>Deployed: <strong>{esc(_family(t['model']))}</strong> ({hyper}). "
        f"{_tuning_sentence(ev)} On {esc(w.units)} it never saw, its ROC-AUC is "
        f"{_auc(ev.metrics['validation']['roc_auc'])} (validation) and "
        f"{_auc(ev.metrics['test']['roc_auc'])} (test).</p>"
    )
    selection = t.get("selection")
    if selection:
        families = selection["families"]
        rows = [
            [
                f"<strong>{esc(_family(name))}</strong> (deployed)"
                if name == selection["winner"]
                else esc(_family(name)),
                f"{_auc(f['roc_auc_mean'])} ± {_auc(f['roc_auc_std'])}",
                "best"
                if name == selection["best"]
                else f"{_auc(f['difference_from_best'])} ± {_auc(f['difference_se'])}",
                "—" if f.get("profit_oof") is None else money(f["profit_oof"]),
            ]
            for name in selection["candidates"]
            for f in [families[name]]
        ]
        return (
            intro
            + f"<p>{number(len(families))} model families were compared, simplest first:</p>"
            + table(
                [
                    "model family",
                    "cross-validation ROC-AUC (training part)",
                    "below the best (± standard error)",
                    f"profit per {esc(w.unit)} (out-of-fold)",
                ],
                rows,
                numeric=[1, 2, 3],
            )
            + _why_the_winner(selection, cv["folds"], w)
            + deployed
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
        intro
        + table(
            ["model family", "cross-validation (training part)", "validation", "test"],
            rows,
            numeric=[1, 2, 3],
        )
        + f"<p>This run trains one family, <strong>{esc(_family(t['model']))}</strong> "
        f"({hyper}), checked by {number(cv['folds'])}-fold cross-validation. "
        f"{_tuning_sentence(ev)}</p>"
        '<p class="muted">This run names one family (<code>train.model</code>). With '
        "<code>train.model: auto</code> the pipeline compares every family on the same "
        "folds and deploys the simplest one that is as good as the best, and this section "
        "shows them all.</p>"
    )


def _decision(ev: Evidence, w: Words) -> str:
    d, m = ev.decision, ev.metrics["test"]
    threshold = d.threshold
    contacted = d.contacted_share["test"]
    e = d.economics
    gain = e["acceptance_rate"] * (e["customer_lifetime_value"] - e["offer_cost"])
    gain -= e["contact_cost"]
    loss = e["offer_cost"] + e["contact_cost"]
    why = ""
    if threshold < ev.default_threshold and gain > loss:
        why = (
            f"It is well below {ev.default_threshold:g} because {esc(w.doing)} a {esc(w.unit)} "
            f"who would have {esc(w.happened)} earns {money(gain)} while an unneeded "
            f"{esc(w.verb)} costs {money(loss)}. "
        )
    return (
        '<h2 id="decision">5. The decision rule</h2>'
        + key_figures(
            [
                (f"{w.verb} threshold", f"{threshold:.2f}"),
                (f"{w.units} {w.done} (test)", percent(contacted)),
                (f"profit per {w.unit} (test)", money(m["profit_tuned_threshold"])),
            ]
        )
        + f"<p>{esc(_cap(w.verb))} a {esc(w.unit)} when the model's {esc(w.event)} probability "
        f"is at least <strong>{threshold:.2f}</strong>. The threshold was chosen as the one "
        f"with the highest expected profit on the <em>validation</em> {esc(w.units)}, then "
        f"checked, unchanged, on the test {esc(w.units)}. "
        + why
        + f"For comparison, the probability at which one {esc(w.verb)} breaks even is "
        f"{number(d.break_even_threshold, 3)}.</p>"
    )


def _impact(ev: Evidence, w: Words, pngs: dict[str, bytes]) -> str:
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
        [
            f"{esc(_cap(w.verb))} every {esc(w.unit)} (no model)",
            money(everyone),
            money(tuned - everyone),
        ],
    ]
    per_k = f"{money(1000 * tuned, 0)} per 1,000 {esc(w.units)}"
    return (
        '<h2 id="impact">6. Expected business impact</h2>'
        + callout(
            f"With the recommended threshold the campaign is expected to earn "
            f"{money(tuned)} per {esc(w.unit)} ({per_k}), against {money(default)} at the "
            f"default threshold and {money(everyone)} when {esc(w.doing)} everyone."
        )
        + table(
            ["strategy", f"expected profit per {w.unit}", "gain of the recommended rule"],
            rows,
            numeric=[1, 2],
            widths=("56%", "22%", "22%"),
        )
        + f"<p>Measured on {number(n) if n else 'the'} test {esc(w.units)} the model never "
        f"saw. {esc(_cap(w.doing))} the riskiest 10% of {esc(w.units)} reaches "
        f"<strong>{number(m['top_decile_lift'], 2)} times</strong> as many "
        f"{esc(w.positives)} as {esc(w.doing)} 10% at random (the <em>lift</em>). Because "
        "the acceptance rate of section 1 is uncertain, the expected maximum profit averaged "
        f"over that uncertainty is {money(m['emp'])} per {esc(w.unit)}.</p>"
        + figure(
            pngs["profit"],
            f"Expected profit per {w.unit} for every threshold",
            f"Each point of the curve: {w.verb} everyone above that threshold. Too low a "
            f"threshold wastes the campaign on {w.units} who would have "
            f"{w.not_happened}; too high a one misses {w.positives}.",
        )
        + figure(
            pngs["gains"],
            f"How many {w.positives} the campaign reaches",
            f"{_cap(w.doing)} {w.units} from the highest risk down reaches "
            f"{w.positives} much faster than picking {w.units} at random "
            "(dashed line).",
        )
    )


def _limitations(ev: Evidence, problem: Problem) -> str:
    w = problem.words
    n = ev.split_rows.get("test")
    specific = "".join(f"<li>{esc(text)}</li>" for text in problem.report.limitations)
    return (
        '<h2 id="limitations">7. Limitations</h2><ul>'
        "<li>The profit figures rest on the assumptions of section 1, above all the "
        "acceptance rate. If the real rate differs, so does the profit; the campaign should "
        "be piloted and the rate measured.</li>"
        f"<li>The test part is small ({number(n) if n else 'a few thousand'} {esc(w.units)}): "
        "its figures carry sampling noise. The README (“How good are the models”) reports "
        "how much the test ROC-AUC moves across random splits "
        "(<code>benchmarks/models.py --split-seeds 20</code>).</li>"
        + specific
        + "<li>Small segments (see the model card) have wide uncertainty; do not read much "
        "into differences of a few points there.</li></ul>"
    )


def _segment_table(rows: list[dict[str, Any]], w: Words) -> str:
    return table(
        [
            "segment",
            w.units,
            f"{w.event} rate",
            "ROC-AUC",
            w.done,
            f"{w.positives} reached",
        ],
        [
            [
                esc(r["segment"]),
                number(r["rows"]),
                percent(r["positive_rate"]),
                _auc(r["roc_auc"]),
                percent(r["contacted_share"]),
                percent(r["positives_reached"]),
            ]
            for r in rows
        ],
        numeric=[1, 2, 3, 4, 5],
    )


def _missed_segments(ev: Evidence, w: Words) -> str:
    """A caveat naming the segments where the campaign reaches fewer than half the positives."""
    missed = [
        f"{esc(column)} = {esc(r['segment'])} ({percent(r['positives_reached'])} of "
        f"{number(round(r['positive_rate'] * r['rows']))} {esc(w.positives)})"
        for column, rows in ev.segments.items()
        for r in rows
        if r["positives_reached"] is not None and r["positives_reached"] < 0.5
    ]
    if not missed:
        return ""
    return (
        f"<li>The campaign reaches fewer than half of the {esc(w.positives)} in: "
        + "; ".join(missed)
        + f". Their risk scores are low because such {esc(w.units)} rarely "
        f"{esc(w.event)}; another kind of action may be needed for them.</li>"
    )


def _model_card(ev: Evidence, problem: Problem, pngs: dict[str, bytes]) -> str:
    w, contract, r = problem.words, problem.contract, problem.report
    t, d = ev.train, ev.decision
    features = ", ".join(esc(n) for n in contract.feature_names)
    segments = "".join(
        f"<h3>By {esc(column)}</h3>{_segment_table(rows, w)}"
        for column, rows in ev.segments.items()
    )
    splits = ", ".join(f"{esc(k)} {number(n)}" for k, n in ev.split_rows.items())
    sensitive = ""
    if r.sensitive:
        names = " and ".join(esc(s) for s in r.sensitive)
        sensitive = (
            f"<li>{_cap(names)} {'is a' if len(r.sensitive) == 1 else 'are'} model input"
            f"{'' if len(r.sensitive) == 1 else 's'}. Review whether "
            f"{'it' if len(r.sensitive) == 1 else 'they'} may be used for targeting in your "
            "jurisdiction before the campaign runs.</li>"
        )
    return (
        '<h2 id="model-card">8. Model card</h2>'
        f"<h3>Intended use</h3><p>{esc(r.intended_use)} (threshold {d.threshold:.2f}). "
        f"{esc(r.not_intended)}</p>"
        "<h3>Model</h3>"
        f"<p>{esc(_family(t['model']))}, scikit-learn pipeline "
        f"(<code>{esc(d.model_path)}</code>, md5 <code>{esc(d.model_md5)}</code>); the "
        "threshold is in <code>models/decision.json</code>.</p>"
        "<h3>Training data</h3>"
        f"<p>{number(ev.clean['rows_clean'])} {esc(w.units)} after cleaning, split at random "
        f"(stratified by {esc(w.event)}) into {splits}. Inputs: {features}.</p>"
        f"<h3>Metrics by segment (test {esc(w.units)})</h3>"
        f'<p class="muted">{esc(_cap(w.done))}: share of the segment at or above the '
        f"threshold. {esc(_cap(w.positives))} reached: share of the segment's "
        f"{esc(w.positives)} who are {esc(w.done)}. ROC-AUC within a segment measures the "
        f"ranking among that segment's {esc(w.units)} only.</p>"
        + figure(
            pngs["segments"],
            f"{_cap(w.event)} and {w.verb} rates by segment",
            f"The campaign focuses on the segments where {w.positives} are.",
        )
        + segments
        + "<h3>Caveats</h3><ul>"
        + _missed_segments(ev, w)
        + f"<li>Segments with more {esc(w.positives)} are {esc(w.done)} more often (tables "
        "above). That is the intent of the campaign, but check that the action is fair and "
        "welcome for the groups it concentrates on.</li>"
        + sensitive
        + f"<li>Probabilities are not calibrated guarantees: use them to rank {esc(w.units)}, "
        "and re-choose the threshold when the economics change (the pipeline does this from "
        f"<code>{esc(problem.path)}</code>).</li></ul>"
    )


def title(w: Words) -> str:
    """The report's title (the slide deck's too)."""
    return f"{w.name}: who to {w.verb}, and what it is worth"


def render_report(
    ev: Evidence, problem: Problem, pngs: dict[str, bytes], boxplots: bytes | None = None
) -> str:
    """The stakeholder report: one HTML file, images embedded, no scripts."""
    w = problem.words
    title_ = title(w)
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
    if ev.challenge:
        sections.append(("update", "Updates"))
    body = [
        f"<h1>{esc(title_)}</h1>",
        f'<p class="lead">A summary of the {esc(w.event)}-prediction pipeline for decision '
        f"makers. In short: {esc(w.verb)} {esc(w.units)} whose predicted {esc(w.event)} "
        f"probability is at least <strong>{ev.decision.threshold:.2f}</strong>; expected "
        f"profit <strong>{money(m['profit_tuned_threshold'])} per {esc(w.unit)}</strong>, "
        f"versus {money(m['profit_contact_all'])} when {esc(w.doing)} everyone.</p>",
        "<nav>" + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in sections) + "</nav>",
        _problem(ev, problem),
        _data(ev, problem),
        _explore(ev, problem, pngs, boxplots),
        _models(ev, w),
        _decision(ev, w),
        _impact(ev, w, pngs),
        _limitations(ev, problem),
        _model_card(ev, problem, pngs),
    ]
    if ev.challenge:
        body.append(render_update(ev.challenge, w, len(sections)))
    return page(title_, "\n".join(body), extra_css=NARRATIVE_CSS)
