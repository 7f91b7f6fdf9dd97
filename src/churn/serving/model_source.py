"""The served model: loaded from the workspace or from a git revision, always verified.

Either way the model file is unpickled only after its md5 matches the ``dvc.lock``
of the same revision (``churn.artifacts.load_model``). The revision's files
(``dvc.lock``, ``models/decision.json``, ``metrics/``) also give ``GET /model`` its facts:
version, training metrics, decision threshold (``models/decision.json``, checked to
belong to the loaded model) and training-data hash.

A "model registry" here is git itself: tag a commit whose ``dvc.lock`` records the
model (``git tag churn-v1``) and serve it with ``--rev churn-v1``; the bytes come
from the DVC cache or remote through ``dvc.api``.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from churn.artifacts import ArtifactError, load_model

MODEL_PATH = "models/model.joblib"
LOCK = "dvc.lock"
DECISION = "models/decision.json"
#: The one version of decision.json this code reads (written by stages/evaluate.py).
DECISION_SCHEMA_VERSION = 1
TRAIN_STAGE = "train"
METRICS_FILES = {"train": "metrics/train.json", "evaluate": "metrics/evaluate/metrics.json"}

Reader = Callable[[str], bytes | None]


@dataclass(frozen=True)
class Decision:
    """The contact threshold of ``models/decision.json`` and what it was chosen for."""

    threshold: float
    source: str  # where it came from, e.g. "models/decision.json (workspace)"
    chosen_on: str
    objective: str
    expected_profit_per_customer: dict[str, float]


def decision_threshold(read: Reader, model_md5: str, where: str = "the workspace") -> Decision:
    """The decision threshold the service applies to the churn probability.

    The business-optimal threshold that ``evaluate`` wrote to ``models/decision.json``
    of the same revision (``read``). Raises ``ArtifactError`` when the file is missing,
    has a schema version this code does not know, or was written for another model
    (its ``model.md5`` is not ``model_md5``): serving a threshold tuned on another
    model's probabilities would contact the wrong customers.
    """
    raw = read(DECISION)
    if raw is None:
        raise ArtifactError(
            f"{DECISION} not found in {where}: the service needs the decision threshold "
            "that the evaluate stage writes.\n"
            "  what to do: `dvc repro evaluate` (and commit models/decision.json with dvc.lock)"
        )
    try:
        decision = json.loads(raw)
        version = decision.get("schema_version")
    except (ValueError, AttributeError):
        raise ArtifactError(f"{DECISION} in {where} is not a JSON object") from None
    if version != DECISION_SCHEMA_VERSION:
        raise ArtifactError(
            f"{DECISION} in {where} has schema_version {version!r}; this service reads "
            f"schema_version {DECISION_SCHEMA_VERSION}.\n"
            "  what to do: serve it with the code of the same revision, or `dvc repro evaluate`"
        )
    try:
        chosen_for = decision["model"]["md5"]
        threshold = float(decision["threshold"])
        profit = {k: float(v) for k, v in decision["expected_profit_per_customer"].items()}
        chosen_on, objective = str(decision["chosen_on"]), str(decision["objective"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(
            f"{DECISION} in {where} lacks or has an invalid key {exc}: expected threshold, "
            "chosen_on, objective, model.md5 and expected_profit_per_customer "
            f"(schema_version {DECISION_SCHEMA_VERSION})"
        ) from None
    if not 0.0 <= threshold <= 1.0:  # also refuses NaN
        raise ArtifactError(
            f"{DECISION} in {where}: threshold {threshold} - expected a probability in [0, 1]"
        )
    if chosen_for != model_md5:
        raise ArtifactError(
            f"{DECISION} in {where} holds a threshold chosen for model {chosen_for}, "
            f"but the loaded model is {model_md5}: refusing to apply another model's "
            "threshold.\n"
            "  what to do: `dvc repro evaluate` to choose the threshold for this model "
            "(or `dvc checkout` to restore the model the threshold belongs to)"
        )
    return Decision(
        threshold=threshold,
        source=f"{DECISION} ({where})",
        chosen_on=chosen_on,
        objective=objective,
        expected_profit_per_customer=profit,
    )


@dataclass(frozen=True)
class ServedModel:
    """A verified, loaded model and what is known about it."""

    pipeline: Any
    md5: str
    source: str  # "workspace" or the revision asked for
    git_rev: str | None  # full commit sha when loaded from a revision
    decision: Decision
    training_data_md5: str | None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        return self.decision.threshold

    @property
    def version(self) -> str:
        return self.md5 if self.git_rev is None else f"{self.md5}@{self.git_rev[:12]}"

    @property
    def family(self) -> str | None:
        return self.metrics.get("train", {}).get("model")


def _workspace_reader(root: Path) -> Reader:
    def read(path: str) -> bytes | None:
        try:
            return (root / path).read_bytes()
        except FileNotFoundError:
            return None

    return read


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)


def _revision_reader(root: Path, rev: str) -> Reader:
    """Files of commit ``rev``: git-tracked ones from git, DVC-tracked ones through dvc.api."""

    def read(path: str) -> bytes | None:
        shown = _git(root, "show", f"{rev}:{path}")
        if shown.returncode == 0:
            return shown.stdout
        import dvc.api  # slow import: only when serving a revision
        from dvc.exceptions import DvcException

        try:
            with dvc.api.open(path, repo=str(root), rev=rev, mode="rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
        except DvcException as exc:
            raise ArtifactError(
                f"{path} at revision {rev!r} could not be fetched by DVC: {exc}\n"
                "  what to do: `dvc fetch --rev <rev>` (or `dvc pull`) with a reachable remote"
            ) from None

    return read


def _training_data_md5(lock: dict[str, Any]) -> str | None:
    """md5 of the training split that the ``train`` stage read (its data dependency)."""
    deps = lock.get("stages", {}).get(TRAIN_STAGE, {}).get("deps", [])
    for dep in deps:
        if dep["path"].endswith(".parquet"):
            return dep.get("md5")
    return None


def load(root: str | Path = ".", rev: str | None = None) -> ServedModel:
    """Load and verify the model of the workspace (``rev=None``) or of git revision ``rev``.

    Raises ``ArtifactError`` (with what to do) when the model is missing, unknown to
    ``dvc.lock`` or does not match it, or when ``rev`` is not a revision.
    """
    root = Path(root).resolve()
    git_rev = None
    if rev is None:
        read = _workspace_reader(root)
    else:
        resolved = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if resolved.returncode != 0:
            raise ArtifactError(
                f"{rev!r} is not a git revision of {root}: list tags with `git tag`"
            )
        git_rev = resolved.stdout.decode().strip()
        read = _revision_reader(root, git_rev)

    lock_bytes = read(LOCK)
    if lock_bytes is None:
        where = "the workspace" if rev is None else f"revision {rev!r}"
        raise ArtifactError(f"{LOCK} not found in {where}: run `dvc repro` to train a model")
    if rev is None:
        pipeline = load_model(root / MODEL_PATH, root / LOCK)
        md5 = _recorded(lock_bytes)
    else:
        model_bytes = read(MODEL_PATH)
        if model_bytes is None:
            raise ArtifactError(f"{MODEL_PATH} not found at revision {rev!r}")
        # Verify exactly as for the workspace: the revision's files in a scratch folder.
        with tempfile.TemporaryDirectory(prefix="churn-model-") as tmp:
            (Path(tmp) / MODEL_PATH).parent.mkdir(parents=True)
            (Path(tmp) / MODEL_PATH).write_bytes(model_bytes)
            (Path(tmp) / LOCK).write_bytes(lock_bytes)
            pipeline = load_model(Path(tmp) / MODEL_PATH, Path(tmp) / LOCK)
        md5 = _recorded(lock_bytes)

    where = "the workspace" if rev is None else f"revision {rev!r}"
    metrics = {}
    for name, path in METRICS_FILES.items():
        raw = read(path)
        if raw is not None:
            metrics[name] = json.loads(raw)
    return ServedModel(
        pipeline=pipeline,
        md5=md5,
        source="workspace" if rev is None else rev,
        git_rev=git_rev,
        decision=decision_threshold(read, md5, where),
        training_data_md5=_training_data_md5(yaml.safe_load(lock_bytes)),
        metrics=metrics,
    )


def _recorded(lock_bytes: bytes) -> str:
    """The md5 ``dvc.lock`` records for the model (already checked against the file)."""
    for stage in yaml.safe_load(lock_bytes).get("stages", {}).values():
        for out in stage.get("outs", []):
            if out["path"] == MODEL_PATH:
                return out["md5"]
    raise ArtifactError(f"{MODEL_PATH} is not an output of any stage in {LOCK}")
