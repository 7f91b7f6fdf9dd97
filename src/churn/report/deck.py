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

from churn.core.html import money, number, percent
from churn.core.problem import Problem, Words
from churn.report.evidence import Evidence
from churn.report.page import FAMILY_NAMES, title

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


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plain(text: str) -> str:
    """The problem file's story without its emphasis tags (a slide has no HTML)."""
    for tag in ("em", "strong"):
        text = text.replace(f"<{tag}>", "").replace(f"</{tag}>", "")
    return text


def _cover(ev: Evidence, w: Words) -> Slide:
    d, m = ev.decision, ev.metrics["test"]
    return Slide(
        title=title(w),
        cover=True,
        subtitle=(
            f"Recommendation: {w.verb} {w.units} whose predicted {w.event} probability is at "
            f"least {d.threshold:.2f}. Expected profit {money(m['profit_tuned_threshold'])} "
            f"per {w.unit}, against {money(m['profit_contact_all'])} when {w.doing} everyone."
        ),
        notes=f"Model md5 {d.model_md5} ({d.model_path}); figures on the test {w.units}.",
    )


def _problem(ev: Evidence, problem: Problem) -> Slide:
    w, labels = problem.words, problem.report.economics
    e = ev.decision.economics
    gain = e["acceptance_rate"] * (e["customer_lifetime_value"] - e["offer_cost"])
    gain -= e["contact_cost"]
    loss = e["offer_cost"] + e["contact_cost"]

    def row(key: str, value: str) -> tuple[str, str]:
        return (labels.get(key, key.replace("_", " ")), value)

    return Slide(
        title="The problem and its economics",
        bullets=(
            _plain(problem.action.story),
            f"Success is measured in money: the expected profit of the campaign per {w.unit}.",
            f"{_cap(w.doing)} a {w.unit} who would have {w.happened} earns {money(gain)} on "
            f"average; {w.doing} one who would have {w.not_happened} costs {money(loss)}.",
        ),
        table=(
            (f"assumption ({problem.path}, business)", "value"),
            row("customer_lifetime_value", money(e["customer_lifetime_value"])),
            row("offer_cost", money(e["offer_cost"])),
            row("contact_cost", money(e["contact_cost"])),
            row("acceptance_rate", percent(e["acceptance_rate"], 0)),
        ),
        notes="Money amounts are in the currency of these assumptions.",
    )


def _data(ev: Evidence, w: Words) -> Slide:
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
            (w.units, number(c["rows_in"])),
            ("usable after cleaning", number(c["rows_clean"])),
            (f"{w.happened} ({w.event} rate)", percent(s["positive_rate"])),
        ),
        bullets=(
            checks,
            f"{number(c['exact_duplicates_removed'])} exact duplicate rows removed; "
            f"{number(c['rows_quarantined'])} rows ({percent(c['quarantined_fraction'], 2)}) "
            "set aside because they could not be repaired.",
            f"{number(repaired)} values repaired by documented rules "
            f"({len(c.get('repairs', {}))} rules).",
            f"The model learns on one part of the {w.units} and is checked on parts it never "
            f"saw ({w.units} per part: {splits}). Results are on the test part.",
        ),
    )


def _drivers(ev: Evidence, w: Words) -> Slide:
    categorical = ev.stats.get("categorical", {})
    bullets = []
    for name in (n for n in ev.drivers if n in categorical):
        levels = [lv for lv in categorical[name]["levels"] if lv.get("positive_rate") is not None]
        if len(levels) < 2:
            continue
        high = max(levels, key=lambda lv: lv["positive_rate"])
        low = min(levels, key=lambda lv: lv["positive_rate"])
        bullets.append(
            f"{name}: {percent(high['positive_rate'], 0)} {w.happened} among {high['value']}, "
            f"{percent(low['positive_rate'], 0)} among {low['value']}."
        )
    return Slide(
        title=f"What drives {w.event}",
        bullets=tuple(bullets),
        picture="drivers",
        notes=f"Dashed line: all {w.units} ({percent(ev.stats['positive_rate'])} {w.happened}).",
    )


def _positives(ev: Evidence, problem: Problem) -> Slide:
    w, positive = problem.words, problem.contract.positive
    bullets = []
    for name, by_class in ev.stats.get("numeric_by_target", {}).items():
        median = (by_class.get(positive) or {}).get("median")
        others = [v.get("median") for k, v in by_class.items() if k != positive]
        if median is None or len(others) != 1 or others[0] is None:
            continue
        bullets.append(
            f"{name}: median {number(median, 1)} for those who {w.happened}, "
            f"{number(others[0], 1)} for those who {w.not_happened}."
        )
    return Slide(
        title=f"Who {w.happened}: {w.units} who {w.happened} and who {w.not_happened}",
        bullets=tuple(bullets),
        picture=BOXPLOTS,
        notes=f"Boxes span the middle half of the {w.units}; the line is the median.",
    )


def _model(ev: Evidence, w: Words) -> Slide:
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
    selection = t.get("selection")
    if selection:
        # train.model: auto: every family on the same folds (the report's table, shorter).
        families = selection["families"]
        table: tuple[tuple[str, ...], ...] = (
            ("model family", "cross-validation", "below the best"),
            *(
                (
                    _family(name) + (" (deployed)" if name == selection["winner"] else ""),
                    f"{_auc(f['roc_auc_mean'])} ± {_auc(f['roc_auc_std'])}",
                    "best" if name == selection["best"] else _auc(f["difference_from_best"]),
                )
                for name in selection["candidates"]
                for f in [families[name]]
            ),
        )
        chosen = (
            f"{_cap(_family(t['model']))} deployed: the simplest family within the noise of "
            f"the best. On new {w.units}: ROC-AUC {_auc(m['validation']['roc_auc'])} "
            f"(validation), {_auc(m['test']['roc_auc'])} (test).",
            f"{_cap(w.doing)} the riskiest 10% of {w.units} reaches "
            f"{number(m['test']['top_decile_lift'], 2)} times as many {w.positives} as "
            f"{w.doing} 10% at random.",
        )
        return Slide(title="The model", table=table, bullets=chosen)
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
            f"ROC-AUC: the chance that the model gives a higher risk to a random {w.unit} who "
            f"{w.happened} than to a random one who {w.not_happened} (0.5 is a coin toss, "
            "1.0 is perfect).",
            f"{_family(t['model'])} ({hyper}), checked by {number(cv['folds'])}-fold "
            f"cross-validation. {tuned}",
            f"{_cap(w.doing)} the riskiest 10% of {w.units} reaches "
            f"{number(m['test']['top_decile_lift'], 2)} times as many {w.positives} as "
            f"{w.doing} 10% at random.",
        ),
    )


def _threshold(ev: Evidence, w: Words) -> Slide:
    d = ev.decision
    e = d.economics
    gain = e["acceptance_rate"] * (e["customer_lifetime_value"] - e["offer_cost"])
    gain -= e["contact_cost"]
    loss = e["offer_cost"] + e["contact_cost"]
    below = (
        (
            f"It is well below {ev.default_threshold:g}: {w.doing} a {w.unit} who would have "
            f"{w.happened} earns {money(gain)}, an unneeded {w.verb} costs {money(loss)}.",
        )
        if d.threshold < ev.default_threshold and gain > loss
        else ()
    )
    return Slide(
        title="The decision threshold",
        key_figures=(
            (f"{w.verb} threshold", f"{d.threshold:.2f}"),
            (f"{w.units} {w.done} (test)", percent(d.contacted_share["test"])),
        ),
        bullets=(
            f"{_cap(w.verb)} a {w.unit} when the model's {w.event} probability is at least "
            f"{d.threshold:.2f}.",
            f"Chosen as the highest expected profit on the {d.chosen_on} {w.units}, then "
            f"checked, unchanged, on the test {w.units}.",
            *below,
            f"One {w.verb} breaks even at a probability of {number(d.break_even_threshold, 3)}.",
        ),
        picture="gains",
        notes=f"{_cap(w.doing)} {w.units} from the highest risk down reaches {w.positives} "
        f"much faster than picking {w.units} at random (dashed line).",
    )


def _profit(ev: Evidence, w: Words) -> Slide:
    m = ev.metrics["test"]
    tuned, default, everyone = (
        m["profit_tuned_threshold"],
        m["profit_default_threshold"],
        m["profit_contact_all"],
    )
    return Slide(
        title="The expected profit",
        key_figures=(
            (f"profit per {w.unit} (test)", money(tuned)),
            (f"per 1,000 {w.units}", money(1000 * tuned, 0)),
        ),
        table=(
            ("strategy", f"profit per {w.unit}", "gain of the rule"),
            (f"Model, threshold {ev.decision.threshold:.2f}", money(tuned), "—"),
            (
                f"Model, threshold {ev.default_threshold:.2f} (default)",
                money(default),
                money(tuned - default),
            ),
            (f"{_cap(w.verb)} everyone (no model)", money(everyone), money(tuned - everyone)),
        ),
        bullets=(
            "Averaged over the uncertainty about the acceptance rate, the expected maximum "
            f"profit is {money(m['emp'])} per {w.unit}.",
        ),
        picture="profit",
        notes=f"Each point of the curve: {w.verb} everyone above that threshold. Too low a "
        f"threshold wastes the campaign on {w.units} who would have {w.not_happened}; too "
        f"high a one misses {w.positives}.",
    )


def _missed(ev: Evidence) -> list[str]:
    return [
        f"{column} = {r['segment']}"
        for column, rows in ev.segments.items()
        for r in rows
        if r["positives_reached"] is not None and r["positives_reached"] < 0.5
    ]


def _segments(ev: Evidence, w: Words) -> Slide:
    column = next(iter(ev.segments))
    bullets = [
        f"{r['segment']}: {percent(r['positive_rate'], 0)} {w.happened}, "
        f"{percent(r['contacted_share'], 0)} {w.done}, "
        f"{percent(r['positives_reached'], 0)} of its {w.positives} reached."
        for r in ev.segments[column]
    ]
    return Slide(
        title=f"Whom the campaign {w.done}, by {column}",
        bullets=tuple(bullets),
        picture="segments",
        notes="The model card of the HTML report has the table for every segment column "
        f"({', '.join(ev.segments)}).",
    )


def _risks(ev: Evidence, problem: Problem) -> Slide:
    w = problem.words
    missed = _missed(ev)
    n = ev.split_rows.get("test")
    return Slide(
        title="The risks",
        bullets=(
            "The profit rests on the assumptions, above all the acceptance rate: pilot the "
            "campaign and measure it.",
            f"The test part is small ({number(n) if n else 'a few thousand'} {w.units}): its "
            "figures carry sampling noise.",
            *problem.report.limitations,
            *(
                (
                    f"The campaign reaches fewer than half of the {w.positives} in: "
                    + "; ".join(missed)
                    + ".",
                )
                if missed
                else ()
            ),
            f"Segments with more {w.positives} are {w.done} more often: check that the "
            "action is fair and welcome for the groups it concentrates on.",
        ),
    )


def slides(ev: Evidence, problem: Problem) -> list[Slide]:
    """The deck's content, in order: the report's sections for a meeting."""
    w = problem.words
    return [
        _cover(ev, w),
        _problem(ev, problem),
        _data(ev, w),
        _drivers(ev, w),
        _positives(ev, problem),
        _model(ev, w),
        _threshold(ev, w),
        _profit(ev, w),
        _segments(ev, w),
        _risks(ev, problem),
    ]
