"""The ``retrain`` section of params.yaml: when to retrain, on what, and when to promote.

Read by ``python -m churn.retrain`` (the policy, the window, promotion) and, for its
``challenge`` block only, by the ``challenge`` stage.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from churn.collect.sources import AnySource
from churn.core.params import Section, Strict


class PolicyParams(Strict):
    """When a challenger is trained. Any one rule that fires is enough."""

    #: Retrain when the monitor's verdict is ``retrain`` in this many of the newest labelled
    #: periods in a row that the model in service scored (the monitor's own verdict already
    #: waits for ``monitor.retrain.periods`` periods below a bar).
    retrain_periods: int = Field(default=1, ge=1)
    #: Retrain when the model in service was trained this many periods ago or more
    #: (null: no schedule).
    schedule_periods: int | None = Field(default=None, ge=1)
    #: Retrain when at least this many labelled rows arrived that the model in service was
    #: not trained on (null: not a reason on its own).
    min_new_labelled: int | None = Field(default=None, ge=1)


class WindowParams(Strict):
    """The challenger's training data, assembled as a folder of batch files."""

    #: expanding: the original data plus every labelled period; sliding: the newest
    #: ``periods`` labelled periods only.
    kind: Literal["expanding", "sliding"] = "expanding"
    #: sliding: how many labelled periods (the newest) the window keeps.
    periods: int = Field(default=6, ge=1)
    #: The newest labelled periods kept out of training: the challenge's evidence.
    holdout_periods: int = Field(default=1, ge=1)
    #: The data the first model was trained on (any kind collect.source takes); null: the
    #: ``collect.source`` of params.yaml, as long as it is not a retraining window itself.
    original: AnySource | None = None


class ChallengeParams(Strict):
    """Champion against challenger, on data neither trained on (the challenge stage)."""

    #: The evidence the decision rests on: ``newest`` (the held-out newest labelled
    #: periods) or ``all`` (those and the champion's test split together).
    decide_on: Literal["newest", "all"] = "newest"
    #: Promote only when the lower bound of the interval of the gain in profit per unit
    #: (challenger minus champion) is above this.
    tolerance: float = 0.0
    #: Paired percentile bootstrap: resamples, interval level, seed.
    bootstrap: int = Field(default=2000, ge=100, le=100_000)
    level: float = Field(default=0.95, gt=0.5, lt=1)
    seed: int = 42


class PromotionParams(Strict):
    """What promotion does and who decides."""

    #: automatic: ``run`` promotes a challenger that the rule accepts; manual: ``run`` stops
    #: after the challenge and a person runs ``promote --approved-by NAME``.
    approval: Literal["automatic", "manual"] = "manual"
    #: The registry stage of the model in service (git tags ``<artifact>#<stage>#<n>``).
    stage: str = Field(default="prod", pattern=r"^[a-z][a-z0-9-]*$")
    #: The running service to switch (its ``/admin/reload``); null: no service to tell.
    service_url: str | None = None
    #: Push the promoted version's data and model to the DVC remote.
    push: bool = True


class RetrainParams(Section):
    section = "retrain"

    policy: PolicyParams = PolicyParams()
    window: WindowParams = WindowParams()
    challenge: ChallengeParams = ChallengeParams()
    promotion: PromotionParams = PromotionParams()
    #: Append-only record of every decision (JSON Lines), relative to the repository root.
    audit_log: str = "logs/retrain/audit.jsonl"
    #: ``[champion]`` adds the stage ``challenge@champion``; the retraining command sets it
    #: for the challenger's experiment. ``[]``: no challenge in the pipeline.
    compare_with: list[Literal["champion"]] = Field(default_factory=list, max_length=1)
