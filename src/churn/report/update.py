"""The report's section on model updates: why this model is the one in service.

From the challenge record (``models/challenge.json``): for the pipeline's first model, that
it has not been challenged yet and how it will be; for a retrained model, the champion it
was compared with, on which rows, the gain in profit per unit with its interval, the
ROC-AUC of both, and the rule's verdict in words.
"""

from __future__ import annotations

from typing import Any

from churn.core.html import callout, esc, key_figures, money, number, table
from churn.core.problem import Words

#: The bodies of evidence of a challenge, in the order shown.
PARTS = ("newest", "test", "all")


def _range(interval: dict[str, float], signed: bool = False) -> str:
    fmt = "{:+,.2f}" if signed else "{:,.2f}"
    return f"{fmt.format(interval['low'])} to {fmt.format(interval['high'])}"


def _auc(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _evidence_rows(record: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key in PARTS:
        e = record["evidence"].get(key)
        if e is None:
            continue
        champion, challenger, gain = e["champion"], e["challenger"], e["gain"]
        rows.append(
            [
                esc(e["name"]),
                number(e["rows"]),
                money(champion["profit_per_customer"]["value"]),
                money(challenger["profit_per_customer"]["value"]),
                f"<strong>{gain['profit_per_customer']['value']:+,.2f}</strong> "
                f"({_range(gain['profit_per_customer'], signed=True)})",
                _auc(champion["roc_auc"]["value"]),
                _auc(challenger["roc_auc"]["value"]),
                f"{gain['roc_auc']['value']:+.3f} ({gain['roc_auc']['low']:+.3f} to "
                f"{gain['roc_auc']['high']:+.3f})",
            ]
        )
    return rows


def render_update(record: dict[str, Any], w: Words, number_: int) -> str:
    """The section (``<h2 id="update">``) for the challenge ``record``."""
    head = f'<h2 id="update">{number_}. Model updates</h2>'
    if record.get("status") == "unchallenged":
        return (
            head + f"<p>This is the pipeline's first model: no newer model has been compared with "
            f"it yet. Once it is in service, monitoring compares its predictions with what "
            f"the {esc(w.units)} then did; when its performance falls below the quality bar, "
            f"a new model is trained on the newer {esc(w.units)} and replaces this one only "
            f"if it earns more per {esc(w.unit)} on {esc(w.units)} neither model was trained "
            "on (README, “Retraining”).</p>"
        )
    decide_on = record["rule"]["decide_on"]
    decisive = record["evidence"][decide_on]
    gain = decisive["gain"]["profit_per_customer"]
    level = f"{record['rule']['level']:.0%}"
    champion = record["champion"]
    accepted = record["status"] == "accepted"
    window = record.get("window") or {}
    trained = ", ".join(window.get("trained_periods") or []) or "none"
    original = window.get("original")
    verdict = (
        f"This model replaced {esc(champion.get('name') or 'the previous model')}: on "
        f"{esc(decisive['name'])} it earns "
        f"<strong>{gain['value']:+,.2f} per {esc(w.unit)}</strong> more ({level} interval "
        f"{_range(gain, signed=True)}), above the tolerance of "
        f"{record['rule']['tolerance']:g}, and it passed the quality gate."
        if accepted
        else f"This model was <strong>refused</strong>: it did not earn enough more than "
        f"{esc(champion.get('name') or 'the model in service')} on {esc(decisive['name'])} "
        "or did not pass the quality gate (reasons below)."
    )
    return (
        head
        + key_figures(
            [
                (
                    f"profit per {w.unit}, previous model",
                    money(decisive["champion"]["profit_per_customer"]["value"]),
                ),
                (
                    f"profit per {w.unit}, this model",
                    money(decisive["challenger"]["profit_per_customer"]["value"]),
                ),
                (f"gain per {w.unit} ({level} interval)", f"{gain['value']:+,.2f}"),
            ]
        )
        + callout(verdict)
        + f"<p>Both models scored the same {esc(w.units)}, which neither was trained on, each "
        "at its own decision threshold; the interval comes from resampling those "
        f"{esc(w.units)} and scoring both models on each resample (a paired bootstrap). "
        f"This model was trained on {'the original data and ' if original else ''}the "
        f"labelled periods {esc(trained)}.</p>"
        + table(
            [
                "evidence",
                f"{w.units}",
                "previous: profit",
                "this model: profit",
                f"gain per {w.unit} ({level} interval)",
                "previous: ROC-AUC",
                "this model: ROC-AUC",
                "difference",
            ],
            _evidence_rows(record),
            numeric=(1, 2, 3, 5, 6),
        )
        + "<h3>The rule's reasons</h3><ul>"
        + "".join(f"<li>{esc(r)}</li>" for r in record.get("reasons", []))
        + "</ul>"
    )
