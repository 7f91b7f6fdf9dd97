"""The challenge record (``models/challenge.json``): why the model of a commit is what it is.

Written by the ``challenge@champion`` stage in a challenger's experiment: the status
(``accepted`` or ``refused``), the reasons in words, the rule, the champion and challenger,
the window the challenger was trained on and the figures on every body of evidence. A
commit whose model was never challenged (the pipeline's first model) holds the record
``UNCHALLENGED``; the stakeholder report, the compare report, promotion and the retraining
policy (which periods the model in service has seen) all read this one file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from churn.core.errors import ArtifactError

RECORD_SCHEMA = 1
UNCHALLENGED = "unchallenged"
ACCEPTED, REFUSED = "accepted", "refused"
#: The champion's files in the assembled folder (``data/retrain/champion``).
CHAMPION_FILE = "champion.json"


def unchallenged() -> dict[str, Any]:
    """The record of a model trained by the pipeline on its configured source only."""
    return {
        "schema_version": RECORD_SCHEMA,
        "status": UNCHALLENGED,
        "reasons": [
            "trained by the pipeline on its configured source; no challenge has been run against it"
        ],
    }


def champion_files(folder: Path) -> tuple[Path, Path, Path]:
    """The champion's model, decision file and facts in an assembled folder."""
    return folder / "model.joblib", folder / "decision.json", folder / CHAMPION_FILE


def parse_record(raw: bytes | None, where: str) -> dict[str, Any]:
    """A challenge record, checked; a missing one is the record of an unchallenged model."""
    if raw is None:
        return unchallenged()
    try:
        record = json.loads(raw)
    except ValueError:
        raise ArtifactError(f"the challenge record in {where} is not JSON") from None
    if not isinstance(record, dict) or record.get("schema_version") != RECORD_SCHEMA:
        raise ArtifactError(
            f"the challenge record in {where} has schema_version "
            f"{record.get('schema_version') if isinstance(record, dict) else None!r}; this "
            f"code reads {RECORD_SCHEMA}"
        )
    return record


def seen_through(record: dict[str, Any]) -> str | None:
    """The newest period the record's challenger saw (trained or judged on); None: none."""
    window = record.get("window") or {}
    return window.get("seen_through")


def read_record(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = None
    return parse_record(raw, str(path))
