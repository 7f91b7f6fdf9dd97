"""The served model: loaded from the workspace or from a git revision, always verified.

Either way the model file is unpickled only after its md5 matches the ``dvc.lock``
of the same revision (``churn.core.artifacts.load_model``). The revision's files
(``dvc.lock``, the decision file, the metrics files; their paths come from that
revision's ``dvc.yaml``) also give ``GET /model`` its facts: version, training
metrics, decision threshold (checked to belong to the loaded model) and
training-data hash.

A "model registry" here is git itself: tag a commit whose ``dvc.lock`` records the
model (``git tag churn-v1``) and serve it with ``--rev churn-v1``; the bytes come
from the DVC cache or remote through ``dvc.api``.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from churn.core.artifacts import load_model
from churn.core.decision import Decision
from churn.core.errors import ArtifactError, ConfigError
from churn.core.io import load_yaml
from churn.core.paths import LOCK_FILE, Reader, read_paths
from churn.core.problem import Problem, ProblemParams, parse_problem

#: The stage whose data dependency is the training data (its md5 is reported).
TRAIN_STAGE = "train"


def decision_threshold(read: Reader, model_md5: str, where: str, path: str) -> Decision:
    """The decision threshold the service applies to the churn probability.

    The business-optimal threshold that ``evaluate`` wrote to the decision file
    (``path``) of the same revision (``read``). Raises ``ArtifactError`` when the
    file is missing, has a schema version this code does not know, or was written
    for another model (its md5 is not ``model_md5``): serving a threshold tuned on
    another model's probabilities would contact the wrong customers.
    """
    decision = Decision.parse(read(path), path, where)
    decision.require_model(model_md5)
    return decision


@dataclass(frozen=True)
class ServedModel:
    """A verified, loaded model and what is known about it."""

    pipeline: Any
    md5: str
    source: str  # "workspace" or the revision asked for
    git_rev: str | None  # full commit sha when loaded from a revision
    decision: Decision
    #: The problem file of the same revision: the request schema and the words.
    problem: Problem
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


def workspace_reader(root: Path) -> Reader:
    def read(path: str) -> bytes | None:
        try:
            return (root / path).read_bytes()
        except FileNotFoundError:
            return None

    return read


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)


def revision_reader(root: Path, rev: str) -> Reader:
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


def read_problem_at(read: Reader, where: str) -> Problem:
    """The problem file that params.yaml names, both as ``read`` sees them."""
    raw = read("params.yaml")
    if raw is None:
        raise ConfigError(f"params.yaml not found in {where}")
    params = load_yaml(raw) or {}
    try:
        path = ProblemParams.model_validate(params.get("problem")).file
    except ValueError:
        raise ConfigError(f"params.yaml in {where}: `problem.file` is missing") from None
    text = read(path)
    if text is None:
        raise ConfigError(f"the problem file {path} (params.yaml: problem.file) is not in {where}")
    return parse_problem(text.decode("utf-8"), path)


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
        read = workspace_reader(root)
    else:
        resolved = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if resolved.returncode != 0:
            raise ArtifactError(
                f"{rev!r} is not a git revision of {root}: list tags with `git tag`"
            )
        git_rev = resolved.stdout.decode().strip()
        read = revision_reader(root, git_rev)

    where = "the workspace" if rev is None else f"revision {rev!r}"
    paths = read_paths(read, where)  # the model, decision and metrics files, from dvc.yaml
    model_path = paths["model"]
    lock_bytes = read(LOCK_FILE)
    if lock_bytes is None:
        raise ArtifactError(f"{LOCK_FILE} not found in {where}: run `dvc repro` to train a model")
    if rev is None:
        pipeline = load_model(root / model_path, root / LOCK_FILE)
    else:
        model_bytes = read(model_path)
        if model_bytes is None:
            raise ArtifactError(f"{model_path} not found at revision {rev!r}")
        # Verify exactly as for the workspace: the revision's files in a scratch folder.
        with tempfile.TemporaryDirectory(prefix="churn-model-") as tmp:
            (Path(tmp) / model_path).parent.mkdir(parents=True)
            (Path(tmp) / model_path).write_bytes(model_bytes)
            (Path(tmp) / LOCK_FILE).write_bytes(lock_bytes)
            pipeline = load_model(Path(tmp) / model_path, Path(tmp) / LOCK_FILE)
    md5 = _recorded(lock_bytes, model_path)

    metrics_files = {
        "train": paths["train_metrics"],
        "evaluate": f"{paths['live']}/metrics.json",
    }
    metrics = {}
    for name, path in metrics_files.items():
        raw = read(path)
        if raw is not None:
            metrics[name] = json.loads(raw)
    return ServedModel(
        pipeline=pipeline,
        md5=md5,
        source="workspace" if rev is None else rev,
        git_rev=git_rev,
        decision=decision_threshold(read, md5, where, paths["decision"]),
        problem=read_problem_at(read, where),
        training_data_md5=_training_data_md5(load_yaml(lock_bytes)),
        metrics=metrics,
    )


def _recorded(lock_bytes: bytes, model_path: str) -> str:
    """The md5 ``dvc.lock`` records for the model (already checked against the file)."""
    for stage in load_yaml(lock_bytes).get("stages", {}).values():
        for out in stage.get("outs", []):
            if out["path"] == model_path:
                return out["md5"]
    raise ArtifactError(f"{model_path} is not an output of any stage in {LOCK_FILE}")
