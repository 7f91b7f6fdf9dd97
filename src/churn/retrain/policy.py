"""The retraining policy: whether to train a challenger now, and why, in words.

Three rules (``retrain.policy``); any one that fires is enough:

* **verdict**: the monitor's verdict is ``retrain`` in the newest ``retrain_periods``
  labelled periods in a row that the model in service scored. The monitor already says
  ``retrain`` only when realized performance stayed below its bars for
  ``monitor.retrain.periods`` labelled periods, so one period is the default here.
* **schedule**: the model in service was trained ``schedule_periods`` periods ago or more.
* **new labels**: at least ``min_new_labelled`` labelled rows arrived that the model in
  service was not trained on (nor challenged on).

Only periods after the ones the model in service has already seen count: a model promoted
on the newest months is not retrained again on the same verdicts. Pure: verdicts and facts
in, a ``PolicyDecision`` out; ``python -m churn.retrain status`` does the reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from churn.retrain.settings import PolicyParams

RETRAIN = "retrain"


@dataclass(frozen=True)
class Period:
    """What the policy needs from one period of the monitor's verdicts."""

    period: str
    verdict: str
    #: Rows of the period with an outcome (0: outcomes not arrived yet).
    labelled: int
    #: The model version that scored most of the period's rows (md5, or md5@commit).
    model_version: str | None
    reasons: tuple[str, ...] = ()

    @classmethod
    def from_verdict(cls, entry: dict[str, Any]) -> Period:
        versions = entry.get("model_versions") or {}
        main = max(sorted(versions), key=lambda v: versions[v]) if versions else None
        return cls(
            period=str(entry["period"]),
            verdict=str(entry["verdict"]),
            labelled=int(entry.get("labelled") or 0),
            model_version=main,
            reasons=tuple(entry.get("reasons") or ()),
        )


@dataclass(frozen=True)
class Champion:
    """The model in service, as far as the policy is concerned."""

    #: md5 of its model file (the part of a model version before ``@``).
    md5: str
    #: The registry's name for it (e.g. ``v1.1.0``), for messages.
    name: str
    #: The newest period it has seen (trained or challenged on); None: only the original data.
    seen_through: str | None


@dataclass(frozen=True)
class Rule:
    name: str
    fired: bool
    reason: str


@dataclass(frozen=True)
class PolicyDecision:
    retrain: bool
    rules: tuple[Rule, ...]
    #: The periods after those the model in service has seen, oldest first.
    new_periods: tuple[str, ...]
    new_labelled: int
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def reasons(self) -> list[str]:
        """Why (the rules that fired), or why not (every rule's reason)."""
        fired = [r.reason for r in self.rules if r.fired]
        return fired or [r.reason for r in self.rules]


def _md5(version: str | None) -> str | None:
    return version.split("@")[0] if version else None


def decide(periods: list[Period], champion: Champion, params: PolicyParams) -> PolicyDecision:
    """Apply the policy to the monitor's periods for the model in service."""
    ordered = sorted(periods, key=lambda p: p.period)
    new = [p for p in ordered if champion.seen_through is None or p.period > champion.seen_through]
    new_labelled = sum(p.labelled for p in new)
    rules = []

    # The verdict rule: the newest k labelled periods scored by the model in service.
    k = params.retrain_periods
    mine = [p for p in new if p.labelled and _md5(p.model_version) == champion.md5]
    newest = mine[-k:]
    if len(newest) < k:
        reason = (
            f"verdict: {len(mine)} labelled period(s) scored by {champion.name} since the "
            f"periods it has seen, fewer than the {k} the rule needs "
            "(retrain.policy.retrain_periods)"
        )
        fired = False
    else:
        fired = all(p.verdict == RETRAIN for p in newest)
        listed = ", ".join(f"{p.period} {p.verdict}" for p in newest)
        if fired:
            # The monitor's reasons that call for retraining (its words end in "retrain").
            why = "; ".join(
                dict.fromkeys(r for p in newest for r in p.reasons if r.endswith(RETRAIN))
            )
            reason = (
                f"verdict: the monitor says retrain in the newest {k} labelled period(s) "
                f"scored by {champion.name} ({listed})" + (f": {why}" if why else "")
            )
        else:
            reason = (
                f"verdict: not retrain in each of the newest {k} labelled period(s) scored by "
                f"{champion.name} ({listed})"
            )
    rules.append(Rule("verdict", fired, reason))

    if params.schedule_periods is not None:
        due = len(new) >= params.schedule_periods
        rules.append(
            Rule(
                "schedule",
                due,
                f"schedule: {len(new)} period(s) since the periods {champion.name} has seen, "
                f"{'at least' if due else 'fewer than'} retrain.policy.schedule_periods "
                f"({params.schedule_periods})",
            )
        )
    if params.min_new_labelled is not None:
        enough = new_labelled >= params.min_new_labelled
        rules.append(
            Rule(
                "new_labels",
                enough,
                f"new labels: {new_labelled:,} labelled row(s) that {champion.name} has not "
                f"seen, {'at least' if enough else 'fewer than'} "
                f"retrain.policy.min_new_labelled ({params.min_new_labelled:,})",
            )
        )
    return PolicyDecision(
        retrain=any(r.fired for r in rules),
        rules=tuple(rules),
        new_periods=tuple(p.period for p in new),
        new_labelled=new_labelled,
        figures={
            "champion": champion.name,
            "seen_through": champion.seen_through,
            "periods_monitored": len(ordered),
            "new_periods": len(new),
            "new_labelled": new_labelled,
            "verdicts": {p.period: p.verdict for p in new},
        },
    )
