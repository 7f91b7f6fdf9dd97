"""The decision file: the contact threshold that ``evaluate`` chooses and the service applies.

One class writes it (``Decision.write``, in the evaluate stage) and reads it back
(``Decision.parse``, in the service), so its layout is defined once. A decision
belongs to one model: it records the model file's md5, and ``require_model``
refuses to apply it to another model, whose probabilities it was not chosen on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from churn.core.errors import ArtifactError
from churn.core.io import write_json

#: The one layout of the decision file that this code writes and reads.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Decision:
    """Contact a customer when the predicted probability is at least ``threshold``."""

    threshold: float
    #: The split the threshold was chosen on, and what it maximises there.
    chosen_on: str
    objective: str
    #: The model the threshold was chosen for.
    model_path: str
    model_md5: str
    #: Where one contact breaks even for calibrated probabilities.
    break_even_threshold: float
    #: The business params the threshold was chosen with.
    economics: dict[str, Any]
    #: Expected profit per customer and share contacted at ``threshold``, by split.
    expected_profit_per_customer: dict[str, float]
    contacted_share: dict[str, float]
    #: Where this decision was read from (for messages); not written.
    source: str = field(default="", compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "threshold": self.threshold,
            "chosen_on": self.chosen_on,
            "objective": self.objective,
            "model": {"path": self.model_path, "md5": self.model_md5},
            "break_even_threshold": self.break_even_threshold,
            "economics": self.economics,
            "expected_profit_per_customer": self.expected_profit_per_customer,
            "contacted_share": self.contacted_share,
        }

    def write(self, path: str | Path) -> None:
        write_json(self.as_json(), path)

    @classmethod
    def parse(cls, raw: bytes | None, path: str, where: str = "the workspace") -> Decision:
        """The decision in ``raw`` (the bytes of ``path`` in ``where``), checked.

        Raises ``ArtifactError`` when the file is missing, is not a JSON object,
        has a schema version this code does not know, lacks a key, or holds a
        threshold that is not a probability.
        """
        if raw is None:
            raise ArtifactError(
                f"{path} not found in {where}: the service needs the decision threshold "
                "that the evaluate stage writes.\n"
                f"  what to do: `dvc repro evaluate` (and commit {path} with dvc.lock)"
            )
        try:
            data = json.loads(raw)
            version = data.get("schema_version")
        except (ValueError, AttributeError):
            raise ArtifactError(f"{path} in {where} is not a JSON object") from None
        if version != SCHEMA_VERSION:
            raise ArtifactError(
                f"{path} in {where} has schema_version {version!r}; this service reads "
                f"schema_version {SCHEMA_VERSION}.\n"
                "  what to do: serve it with the code of the same revision, or `dvc repro evaluate`"
            )
        try:
            decision = cls(
                threshold=float(data["threshold"]),
                chosen_on=str(data["chosen_on"]),
                objective=str(data["objective"]),
                model_path=str(data["model"].get("path", "")),
                model_md5=str(data["model"]["md5"]),
                break_even_threshold=float(data.get("break_even_threshold", "nan")),
                economics=dict(data.get("economics", {})),
                expected_profit_per_customer={
                    k: float(v) for k, v in data["expected_profit_per_customer"].items()
                },
                contacted_share={k: float(v) for k, v in data.get("contacted_share", {}).items()},
                source=f"{path} ({where})",
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArtifactError(
                f"{path} in {where} lacks or has an invalid key {exc}: expected threshold, "
                "chosen_on, objective, model.md5 and expected_profit_per_customer "
                f"(schema_version {SCHEMA_VERSION})"
            ) from None
        if not 0.0 <= decision.threshold <= 1.0:  # also refuses NaN
            raise ArtifactError(
                f"{path} in {where}: threshold {decision.threshold} - expected a probability "
                "in [0, 1]"
            )
        return decision

    def require_model(self, md5: str) -> None:
        """Refuse to apply this threshold to a model it was not chosen for."""
        if self.model_md5 != md5:
            raise ArtifactError(
                f"{self.source or 'the decision file'} holds a threshold chosen for model "
                f"{self.model_md5}, but the loaded model is {md5}: refusing to apply another "
                "model's threshold.\n"
                "  what to do: `dvc repro evaluate` to choose the threshold for this model "
                "(or `dvc checkout` to restore the model the threshold belongs to)"
            )
