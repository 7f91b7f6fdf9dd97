"""The retraining loop's steps on a real repository: git, the DVC CLI, the registry.

* ``champion``: the model in service (the registry's stage, or HEAD before anything is
  registered), its files read from its commit (git, or the DVC cache through dvc.api);
* ``assemble``: the window, the evidence and the champion written to ``data/retrain`` and
  tracked with ``dvc add`` (so the challenger's data is versioned like any other input);
* ``train_challenger``: the challenger's params set in ``params.yaml`` and ``dvc exp run``:
  the whole pipeline on the window, then the ``challenge@champion`` stage; the workspace is
  then restored to HEAD, the experiment stays (``dvc exp show``);
* ``promote``: the experiment applied, committed, pushed to the DVC remote, registered
  (``<artifact>@vX.Y.0``) and put in service (``<artifact>#<stage>#n``);
* ``rollback``: the version in service before the current one, put in service again.

Every command-line step runs the project's own tools in subprocesses, as a person would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from churn.collect.base import Source
from churn.collect.snapshot import with_row_id
from churn.collect.sources import CollectParams
from churn.core.artifacts import file_md5, verify
from churn.core.decision import Decision
from churn.core.errors import ChurnError, ConfigError
from churn.core.io import read_parquet, write_json, write_parquet
from churn.core.params import load
from churn.core.paths import LOCK_FILE, workspace_paths
from churn.core.problem import Problem
from churn.retrain.labelled import labelled_rows
from churn.retrain.record import ACCEPTED, champion_files, parse_record, read_record, seen_through
from churn.retrain.registry import Registry, Version
from churn.retrain.settings import RetrainParams
from churn.retrain.window import Window, assemble, write_csv
from churn.serve import model_source

#: Sub-folders and files of the assembled folder (``paths.retrain`` in dvc.yaml).
WINDOW, EVIDENCE, CHAMPION, MANIFEST = "window", "evidence.parquet", "champion", "manifest.json"
#: The challenge stage's name in the experiment (``foreach: ${retrain.compare_with}``).
CHALLENGE_STAGE = "challenge@champion"
#: The stage that writes the model's decision file: a registered model needs it up to date.
MODEL_STAGE = "evaluate"


class LoopError(ChurnError):
    """A step of the loop cannot run (a dirty work tree, a failed experiment, ...)."""


def environment() -> dict[str, str]:
    """This environment with the running Python's bin folder first (its dvc, its python)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    return env


@dataclass
class Repo:
    root: Path

    def run(self, *args: str, check: bool = True, timeout: float = 3600) -> str:
        result = subprocess.run(
            list(args),
            cwd=self.root,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-25:]
            raise LoopError(
                f"`{' '.join(args)}` failed ({result.returncode}) in {self.root}:\n  "
                + "\n  ".join(tail)
            )
        return result.stdout

    def git(self, *args: str, check: bool = True) -> str:
        return self.run("git", *args, check=check)

    def dvc(self, *args: str, check: bool = True) -> str:
        return self.run("dvc", *args, check=check)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def changes(self) -> list[str]:
        return [line for line in self.git("status", "--porcelain").splitlines() if line]

    def require_clean(self, step: str, allow: tuple[str, ...] = ()) -> None:
        changes = [c for c in self.changes() if c[3:] not in allow]
        if changes:
            shown = "\n  ".join(changes[:10])
            raise LoopError(
                f"{step} needs a clean work tree (it commits or restores files); "
                f"uncommitted changes:\n  {shown}\n"
                "  what to do: commit or stash them first"
            )

    def paths(self) -> dict[str, str]:
        return workspace_paths(self.root)

    def params(self) -> RetrainParams:
        return load(RetrainParams, self.root / "params.yaml")


# --- The champion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Champion:
    """The model in service: where it is registered, its model file, what it has seen."""

    rev: str
    commit: str
    #: The registry's version (None: nothing registered yet, HEAD's model stands in).
    version: Version | None
    md5: str
    threshold: float
    record: dict[str, Any]

    @property
    def name(self) -> str:
        return self.version.name if self.version else f"HEAD {self.commit[:12]} (not registered)"

    @property
    def seen_through(self) -> str | None:
        return seen_through(self.record)

    def facts(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tag": self.version.tag if self.version else None,
            "commit": self.commit,
            "md5": self.md5,
            "seen_through": self.seen_through,
        }


def champion(repo: Repo, stage: str) -> Champion:
    """The version in ``stage`` (or HEAD when nothing is registered), verified."""
    version = Registry(repo.root).in_stage(stage)
    rev = version.tag if version else "HEAD"
    served = model_source.load(repo.root, rev)  # verifies the model against its dvc.lock
    read = model_source.revision_reader(repo.root, served.git_rev)
    paths = model_source.read_paths(read, f"revision {rev!r}")
    record_path = paths.get("challenge_record")
    record = parse_record(read(record_path) if record_path else None, f"revision {rev!r}")
    return Champion(rev, served.git_rev, version, served.md5, served.threshold, record)


def champion_bytes(repo: Repo, champ: Champion) -> dict[str, bytes]:
    """The champion's model, decision file and test split, from its commit."""
    read = model_source.revision_reader(repo.root, champ.commit)
    paths = model_source.read_paths(read, f"revision {champ.rev!r}")
    wanted = {
        "model": paths["model"],
        "decision": paths["decision"],
        "test": f"{paths['splits']}/test.parquet",
    }
    out = {}
    for key, path in wanted.items():
        data = read(path)
        if data is None:
            raise LoopError(
                f"{path} of {champ.name} ({champ.rev}) is neither in git nor in the DVC cache\n"
                f"  what to do: `dvc fetch --rev {champ.rev}` (or `dvc pull`)"
            )
        out[key] = data
    return out


# --- The window -----------------------------------------------------------------------------


def original_source(repo: Repo, params: RetrainParams) -> Source | None:
    """The data the first model was trained on (None for a sliding window)."""
    if params.window.kind == "sliding":
        return None
    if params.window.original is not None:
        return params.window.original
    collect = load(CollectParams, repo.root / "params.yaml")
    window = f"{repo.paths()['retrain']}/{WINDOW}"
    if getattr(collect.source, "path", None) == window:
        raise ConfigError(
            "params.yaml: retrain.window.original is null and collect.source is the "
            f"retraining window ({window}): set retrain.window.original to the data the first "
            "model was trained on"
        )
    return collect.source


def read_original(source: Source, root: Path, problem: Problem) -> Any:
    """The original source as text (with the made identifier, if the problem has none)."""
    contract = problem.contract
    batches = []
    for batch in source.blocks(root):
        if contract.made_id:
            batch = with_row_id(batch, contract.id_column)
        batches.append(batch)
    return pa.Table.from_batches(batches).to_pandas() if batches else None


def read_manifest(repo: Repo) -> dict[str, Any]:
    """The manifest of the assembled folder, which must be tracked as it is (``dvc add``)."""
    folder = repo.paths()["retrain"]
    path = repo.root / folder / MANIFEST
    if not path.exists():
        raise LoopError(f"{path} not found: assemble it with `python -m churn.retrain window`")
    status = repo.dvc("status", f"{folder}.dvc", "--json").strip()
    if status not in ("{}", ""):
        raise LoopError(
            f"{folder} differs from {folder}.dvc ({status}): track it with `dvc add {folder}`"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def assemble_window(
    repo: Repo, params: RetrainParams, problem: Problem, champ: Champion
) -> tuple[Window, dict[str, Any]]:
    """Write ``data/retrain`` (window, evidence, champion, manifest) and ``dvc add`` it."""
    paths = repo.paths()
    folder = repo.root / paths["retrain"]
    source = original_source(repo, params)
    original = read_original(source, repo.root, problem) if source is not None else None
    labelled, predicted = labelled_rows(
        Path(paths["monitor_log_state"]), problem.contract, repo.root
    )
    files = champion_bytes(repo, champ)
    if folder.exists():
        shutil.rmtree(folder)
    (folder / CHAMPION).mkdir(parents=True)
    test_path = folder / "champion-test.parquet"
    test_path.write_bytes(files["test"])
    test = read_parquet(test_path)
    test_path.unlink()
    window = assemble(original, labelled, test, problem.contract, params.window)
    for name, rows in window.files.items():
        write_csv(rows, folder / WINDOW / name)
    write_parquet(window.evidence, folder / EVIDENCE)
    model_path, decision_path, facts_path = champion_files(folder / CHAMPION)
    model_path.write_bytes(files["model"])
    decision_path.write_bytes(files["decision"])
    write_json(champ.facts(), facts_path)
    manifest = {
        **window.manifest,
        "original": source.describe() if source is not None else None,
        "predictions_per_period": predicted,
        "labelled_per_period": {
            str(k): int(v) for k, v in labelled["period"].value_counts().sort_index().items()
        },
        "champion": champ.facts(),
    }
    write_json(manifest, folder / MANIFEST)
    repo.dvc("add", paths["retrain"])
    return window, manifest


# --- The challenger -------------------------------------------------------------------------


def experiment_names(repo: Repo) -> set[str]:
    out = repo.git("for-each-ref", "--format=%(refname:lstrip=-1)", "refs/exps")
    return set(out.split())


def experiment_name(repo: Repo, base: str) -> str:
    taken = experiment_names(repo)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def challenger_params(repo: Repo, params: RetrainParams) -> dict[str, Any]:
    """The keys of params.yaml the challenger's experiment changes."""
    window = f"{repo.paths()['retrain']}/{WINDOW}"
    updates: dict[str, Any] = {
        "collect.source": {"kind": "csv", "path": window},
        "collect.watch": window,
        "collect.fingerprint": [],
        "retrain.compare_with": ["champion"],
        # A weaker challenger must still reach the challenge, to be refused with figures.
        "gate.enforce": False,
    }
    source = original_source(repo, params)
    if params.window.original is None and source is not None:
        # Pin what "original" means before collect.source becomes the window.
        updates["retrain.window.original"] = source.model_dump(mode="json", exclude_none=True)
    return updates


def train_challenger(
    repo: Repo, name: str, updates: dict[str, Any], until_challenge: bool = False
) -> None:
    """``dvc exp run -n name`` with ``updates`` set in params.yaml (the workspace keeps it).

    ``until_challenge``: only the stages the challenge needs (collect ... gate, challenge);
    the others (explanations, exploration, the reports, monitoring) run at promotion.
    """
    from churn.retrain.params_file import set_params

    set_params(repo.root / "params.yaml", updates)
    repo.dvc("exp", "run", "-n", name, *([CHALLENGE_STAGE] if until_challenge else []))


def restore(repo: Repo) -> None:
    """Back to HEAD: tracked files, then the DVC outputs HEAD's dvc.lock records.

    The work tree was clean before the experiment, so every untracked file now is one the
    experiment made (its ``.dvc`` file, new metrics): removed. Outputs HEAD never produced
    (e.g. stages not run in this copy) cannot be checked out and are left as they are; the
    model and its decision file must match HEAD's ``dvc.lock`` again.
    """
    repo.git("checkout", "HEAD", "--", ".")
    repo.git("clean", "-f", "-d", "-q")
    repo.dvc("checkout", "--force", check=False)
    paths = repo.paths()
    verify(repo.root / paths["model"], repo.root / LOCK_FILE)
    decision = Decision.parse((repo.root / paths["decision"]).read_bytes(), paths["decision"])
    decision.require_model(file_md5(repo.root / paths["model"]))


def challenge_result(repo: Repo) -> tuple[dict[str, Any], dict[str, Any]]:
    """The workspace's challenge record and metrics (after the experiment)."""
    paths = repo.paths()
    record = read_record(repo.root / paths["challenge_record"])
    metrics_path = repo.root / paths["challenge_metrics"]
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    return record, metrics


def compare_report(repo: Repo, base: str, output: Path) -> Path:
    """The pull-request report of the experiment in the workspace against ``base``."""
    repo.run(
        sys.executable, "-m", "churn.experiments", "compare", "--base", base,
        "--output", str(output),
    )  # fmt: skip
    return output / "report.md"


# --- Promotion and rollback -------------------------------------------------------------------


def apply_experiment(repo: Repo, name: str) -> None:
    if name not in experiment_names(repo):
        raise LoopError(
            f"no experiment named {name!r}: list them with `dvc exp show` (or "
            "`python -m churn.retrain log`)"
        )
    repo.dvc("exp", "apply", name)


def commit_promotion(repo: Repo, message: str) -> str:
    """Enforce the gate again, check the pipeline is up to date, commit; the commit's sha."""
    from churn.retrain.params_file import set_params

    set_params(repo.root / "params.yaml", {"gate.enforce": True})
    repo.dvc("repro")  # reruns only the gate (same outputs): it must pass now
    stale = repo.dvc("status", "--json").strip()
    if stale not in ("{}", ""):
        raise LoopError(f"the pipeline is not up to date after the experiment: {stale}")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", message)
    return repo.head()


def record_is_accepted(record: dict[str, Any]) -> bool:
    return record.get("status") == ACCEPTED
