"""What the stakeholder slide deck says: the report's story for a meeting room.

The deck tells what the HTML report tells, in the report's order, from the same
``Evidence`` and the same PNGs (``plots.draw_plots`` and exploration's box plots):
nothing here reads a file or computes a metric, it picks and words the evidence's
numbers, formatted as on the page (``churn.core.html``). ``slides`` gives each
slide's title, headline figures, bullets, table and picture; ``deck_pptx`` lays
them out as a ``.pptx`` file.
"""

from __future__ import annotations

from dataclasses import dataclass

from churn.core.contract import Contract
from churn.core.html import money, number, percent
from churn.report.evidence import Evidence
from churn.report.page import FAMILY_NAMES, TITLE
from churn.report.plots import DRIVERS

#: The name of exploration's box plots among the deck's pictures (the others are the
#: names of ``plots.PLOTS``).
BOXPLOTS = "boxplots"


@dataclass(frozen=True)
class Slide:
    """What one slide shows; ``render_deck`` decides where it goes."""

    title: str
    #: Headline numbers: (label, value) pairs, shown as large figures.
    key_figures: tuple[tuple[str, str], ...] = ()
    bullets: tuple[str, ...] = ()
    #: A table: the header row, then the rows (all text).
    table: tuple[tuple[str, ...], ...] = ()
    #: The picture's name in the PNGs given to ``render_deck`` (``None``: no picture).
    picture: str | None = None
    #: Speaker notes: what the presenter may add (the report's figure captions).
    notes: str = ""
    #: The cover slide: title and subtitle only.
    cover: bool = False
    subtitle: str = ""


def _family(name: str) -> str:
    return FAMILY_NAMES.get(name, name.replace("_", " "))


def _auc(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _cover(ev: Evidence) -> Slide:
    d, m = ev.decision, ev.metrics["test"]
    return Slide(
        title=TITLE,
        cover=True,
        subtitle=(
            f"Recommendation: contact customers whose predicted churn probability is at least "
            f"{d.threshold:.2f}. Expected profit {money(m['profit_tuned_threshold'])} per "
            f"customer, against {money(m['profit_contact_all'])} when contacting everyone."
        ),
        notes=f"Model md5 {d.model_md5} ({d.model_path}); figures on the test customers.",
    )


def _problem(ev: Evidence) -> Slide:
    d = ev.decision
    e = d.economics
    gain = e["acceptance_rate"] * (e["customer_lifetime_value"] - e["offer_cost"])
    gain -= e["contact_cost"]
    loss = e["offer_cost"] + e["contact_cost"]
    return Slide(
        title="The problem and its economics",
        bullets=(
            "Some customers leave every month. A retention campaign contacts customers and "
            "offers them an incentive to stay.",
            "The model estimates each customer's probability of leaving; the campaign "
            "contacts those above a threshold.",
            "Success is measured in money: the expected profit of the campaign per customer.",
            f"Contacting a customer who would have left earns {money(gain)} on average; "
            f"contacting one who would have stayed costs {money(loss)}.",
        ),
        table=(
            ("assumption (params.yaml, business)", "value"),
            ("Value of a customer who stays", money(e["customer_lifetime_value"])),
            ("Cost of the retention offer (when accepted)", money(e["offer_cost"])),
            ("Cost of contacting a customer", money(e["contact_cost"])),
            ("Would-be leavers who accept the offer", percent(e["acceptance_rate"], 0)),
        ),
        notes="Money amounts are in the currency of the customer lifetime value.",
    )


def _data(ev: Evidence) -> Slide:
    v, c, s = ev.validation, ev.clean, ev.stats
    failed = [x for x in v.get("expectations", []) if not x.get("success")]
    checks = f"{number(v['evaluated'])} automatic checks on the raw data: " + (
        "all passed." if not failed else f"{len(failed)} failed (see the HTML report)."
    )
    repaired = sum(c.get("repairs", {}).values())
    splits = ", ".join(f"{k} {number(n)}" for k, n in ev.split_rows.items())
    return Slide(
        title="The data",
        key_figures=(
            ("customers", number(c["rows_in"])),
            ("usable after cleaning", number(c["rows_clean"])),
            ("left (churn rate)", percent(s["churn_rate"])),
        ),
        bullets=(
            checks,
            f"{number(c['exact_duplicates_removed'])} exact duplicate rows removed; "
            f"{number(c['rows_quarantined'])} rows ({percent(c['quarantined_fraction'], 2)}) "
            "set aside because they could not be repaired.",
            f"{number(repaired)} values repaired by documented rules "
            f"({len(c.get('repairs', {}))} rules).",
            f"The model learns on one part of the customers and is checked on parts it never "
            f"saw (customers per part: {splits}). Results are on the test part.",
        ),
    )


def _drivers(ev: Evidence) -> Slide:
    categorical = ev.stats.get("categorical", {})
    bullets = []
    for name in (n for n in DRIVERS if n in categorical):
        levels = [lv for lv in categorical[name]["levels"] if lv.get("churn_rate") is not None]
        if len(levels) < 2:
            continue
        high = max(levels, key=lambda lv: lv["churn_rate"])
        low = min(levels, key=lambda lv: lv["churn_rate"])
        bullets.append(
            f"{name}: {percent(high['churn_rate'], 0)} left among {high['value']}, "
            f"{percent(low['churn_rate'], 0)} among {low['value']}."
        )
    return Slide(
        title="What drives churn",
        bullets=tuple(bullets),
        picture="drivers",
        notes=f"Dashed line: all customers ({percent(ev.stats['churn_rate'])} left).",
    )


def _leavers(ev: Evidence, contract: Contract) -> Slide:
    bullets = []
    for name, by_class in ev.stats.get("numeric_by_churn", {}).items():
        left = (by_class.get(contract.positive) or {}).get("median")
        others = [v.get("median") for k, v in by_class.items() if k != contract.positive]
        if left is None or len(others) != 1 or others[0] is None:
            continue
        bullets.append(
            f"{name}: median {number(left, 1)} for those who left, "
            f"{number(others[0], 1)} for those who stayed."
        )
    return Slide(
        title="Who leaves: customers who left and who stayed",
        bullets=tuple(bullets),
        picture=BOXPLOTS,
        notes="Boxes span the middle half of the customers; the line is the median.",
    )


def _model(ev: Evidence) -> Slide:
    t, m = ev.train, ev.metrics
    cv = t["cv"]
    hyper = ", ".join(
        f"{k}={'none' if v is None else v}" for k, v in sorted(t["hyperparameters"].items())
    )
    tuning = t.get("tuning", {})
    if tuning.get("method", "none") == "none" or len(ev.tuning) <= 1:
        tuned = "Settings fixed in params.yaml (no automatic search in this run)."
    else:
        tuned = (
            f"An automatic search ({tuning['method']}) tried {len(ev.tuning)} settings "
            "and kept the best."
        )
    return Slide(
        title="The model",
        table=(
            ("model family", "cross-validation", "validation", "test"),
            (
                _family(t["model"]),
                f"{_auc(cv['roc_auc_mean'])} ± {_auc(cv['roc_auc_std'])}",
                _auc(m["validation"]["roc_auc"]),
                _auc(m["test"]["roc_auc"]),
            ),
        ),
        bullets=(
            "ROC-AUC: the chance that the model gives a higher risk to a random leaver than "
            "to a random stayer (0.5 is a coin toss, 1.0 is perfect).",
            f"{_family(t['model'])} ({hyper}), checked by {number(cv['folds'])}-fold "
            f"cross-validation. {tuned}",
            f"Contacting the riskiest 10% of customers reaches "
            f"{number(m['test']['top_decile_lift'], 2)} times as many leavers as contacting "
            "10% at random.",
        ),
    )


def _threshold(ev: Evidence) -> Slide:
    d = ev.decision
    below = (
        (
            f"It is well below {ev.default_threshold:g}: a missed leaver costs far more than "
            "an unneeded offer.",
        )
        if d.threshold < ev.default_threshold
        else ()
    )
    return Slide(
        title="The decision threshold",
        key_figures=(
            ("contact threshold", f"{d.threshold:.2f}"),
            ("customers contacted (test)", percent(d.contacted_share["test"])),
        ),
        bullets=(
            f"Contact a customer when the model's churn probability is at least {d.threshold:.2f}.",
            f"Chosen as the highest expected profit on the {d.chosen_on} customers, then "
            "checked, unchanged, on the test customers.",
            *below,
            f"One contact breaks even at a probability of {number(d.break_even_threshold, 3)}.",
        ),
        picture="gains",
        notes="Contacting customers from the highest risk down reaches leavers much faster "
        "than picking customers at random (dashed line).",
    )


def _profit(ev: Evidence) -> Slide:
    m = ev.metrics["test"]
    tuned, default, everyone = (
        m["profit_tuned_threshold"],
        m["profit_default_threshold"],
        m["profit_contact_all"],
    )
    return Slide(
        title="The expected profit",
        key_figures=(
            ("profit per customer (test)", money(tuned)),
            ("per 1,000 customers", money(1000 * tuned, 0)),
        ),
        table=(
            ("strategy", "profit per customer", "gain of the rule"),
            (f"Model, threshold {ev.decision.threshold:.2f}", money(tuned), "—"),
            (
                f"Model, threshold {ev.default_threshold:.2f} (default)",
                money(default),
                money(tuned - default),
            ),
            ("Contact everyone (no model)", money(everyone), money(tuned - everyone)),
        ),
        bullets=(
            f"Averaged over the uncertainty about who accepts the offer, the expected maximum "
            f"profit is {money(m['emp'])} per customer.",
        ),
        picture="profit",
        notes="Each point of the curve: contact everyone above that threshold. Too low a "
        "threshold wastes offers on loyal customers; too high a one misses leavers.",
    )


def _missed(ev: Evidence) -> list[str]:
    return [
        f"{column} = {r['segment']}"
        for column, rows in ev.segments.items()
        for r in rows
        if r["churners_caught"] is not None and r["churners_caught"] < 0.5
    ]


def _segments(ev: Evidence) -> Slide:
    column = next(iter(ev.segments))
    bullets = [
        f"{r['segment']}: {percent(r['churn_rate'], 0)} left, "
        f"{percent(r['contacted_share'], 0)} contacted, "
        f"{percent(r['churners_caught'], 0)} of its leavers reached."
        for r in ev.segments[column]
    ]
    return Slide(
        title=f"Whom the campaign contacts, by {column}",
        bullets=tuple(bullets),
        picture="segments",
        notes="The model card of the HTML report has the table for every segment column "
        f"({', '.join(ev.segments)}).",
    )


def _risks(ev: Evidence) -> Slide:
    missed = _missed(ev)
    n = ev.split_rows.get("test")
    return Slide(
        title="The risks",
        bullets=(
            "The profit rests on the assumptions, above all the share of leavers who accept "
            "the offer: pilot the campaign and measure it.",
            f"The test part is small ({number(n) if n else 'a few thousand'} customers): its "
            "figures carry sampling noise.",
            "The data is one historical snapshot: behaviour, prices and offers change; "
            "retrain and recheck regularly.",
            "The model predicts who is likely to leave, not who will be persuaded to stay.",
            *(
                (
                    "The campaign reaches fewer than half of the leavers in: "
                    + "; ".join(missed)
                    + ".",
                )
                if missed
                else ()
            ),
            "Segments that leave more often are contacted more often: check that the offer "
            "is fair and welcome for the groups it concentrates on.",
        ),
    )


def slides(ev: Evidence, contract: Contract) -> list[Slide]:
    """The deck's content, in order: the report's sections for a meeting."""
    return [
        _cover(ev),
        _problem(ev),
        _data(ev),
        _drivers(ev),
        _leavers(ev, contract),
        _model(ev),
        _threshold(ev),
        _profit(ev),
        _segments(ev),
        _risks(ev),
    ]
