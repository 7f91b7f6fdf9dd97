"""The whole monitoring loop on the simulated stream, in a copy of the repository.

1. copy the repository (the files git tracks, with uncommitted edits) to a workspace and
   point the pipeline at the stream's training source (``collect.source``);
2. train the monitored model: ``dvc repro gate`` (collect ... evaluate, and the gate);
3. build the stream from the pool the model never saw (``churn.simulate.stream``);
4. score each month through its channel: the real service (``python -m churn.serve`` on a
   loopback port, ``POST /predict/batch`` with ``X-Period``) or batch scoring
   (``python -m churn.score``); both write the workspace's prediction log;
5. record the log's extent and run the monitor stage (``dvc repro monitor``): the verdicts
   before any outcome arrived; commit;
6. load the outcomes (``python -m churn.monitor.outcomes``), monitor again, commit:
   ``dvc metrics diff HEAD~1`` in the workspace shows what the outcomes changed.

Every step runs the project's real commands in subprocesses, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from churn.core.errors import ConfigError
from churn.core.paths import workspace_paths
from churn.core.problem import load_problem
from churn.monitor.outcomes import read_source
from churn.simulate.replay import replay, wait_ready
from churn.simulate.stream import StreamSpec, build_stream, write_stream

#: A file that marks a folder as a demo workspace (only such a folder is ever replaced).
MARKER = ".churn-monitor-demo"
STREAM_DIR = "stream"


def environment() -> dict[str, str]:
    """This environment with the running Python's bin folder first (dvc, python)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    for key, value in (
        ("GIT_AUTHOR_NAME", "churn-demo"),
        ("GIT_AUTHOR_EMAIL", "churn-demo@localhost"),
        ("GIT_COMMITTER_NAME", "churn-demo"),
        ("GIT_COMMITTER_EMAIL", "churn-demo@localhost"),
    ):
        env.setdefault(key, value)
    return env


def read_spec(path: Path) -> StreamSpec:
    from churn.core.params import parse_section

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"stream spec {path} not found") from None
    return parse_section("stream", raw, StreamSpec, str(path))


@dataclass
class Workspace:
    path: Path
    say: Callable[[str], None] = print

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        result = subprocess.run(
            list(args),
            cwd=self.path,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(args)}` failed in {self.path} ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def python(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(sys.executable, *args)

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-q", "--allow-empty", "-m", message)


def copy_repository(root: Path, destination: Path, replace: bool) -> None:
    """The files git tracks in ``root`` (with uncommitted edits) copied to ``destination``."""
    if destination.exists():
        if not (replace and (destination / MARKER).exists()):
            raise ConfigError(
                f"{destination} exists: remove it, or pass --replace (only a folder this demo "
                f"made, holding {MARKER}, is replaced)"
            )
        shutil.rmtree(destination)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout
    destination.mkdir(parents=True)
    for rel in (p for p in listed.decode().split("\0") if p):
        source = root / rel
        if source.is_file():
            target = destination / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / MARKER).write_text("made by python -m churn.simulate demo\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_training_source(workspace: Path, spec: StreamSpec) -> None:
    """Point ``collect`` at the stream's training source, and the monitor at the log.

    The pipeline's own simulated months (params.yaml ``stream``) are dropped: here the
    months reach the prediction log through the service and batch scoring, as they would
    in production, and the monitor reads that log.
    """
    path = workspace / "params.yaml"
    params = yaml.safe_load(path.read_text())
    source = spec.model.model_dump(exclude_defaults=False)
    params["collect"]["source"] = source
    params["collect"]["watch"] = source.get("path", "data/raw/source_state.json")
    params["stream"]["months"] = []
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def monitor(ws: Workspace) -> dict:
    """Record the log's extent, run the monitor stage, and read the verdicts."""
    paths = workspace_paths(ws.path)
    ws.python("-m", "churn.monitor.log_state", "--output", paths["monitor_log_state"])
    ws.run("dvc", "repro", "monitor")
    return json.loads((ws.path / paths["monitor"] / "verdicts.json").read_text())


def run_demo(
    root: Path,
    workspace: Path,
    spec_path: Path,
    *,
    rows_per_month: int | None = None,
    months: int | None = None,
    replace: bool = False,
    say: Callable[[str], None] = print,
) -> dict:
    """Run the loop; return the final verdicts document (and leave the workspace)."""
    spec = read_spec(spec_path)
    updates = {}
    if rows_per_month is not None:
        updates["rows_per_month"] = rows_per_month
    if months is not None:
        updates["months"] = spec.months[:months]
    spec = StreamSpec.model_validate({**spec.model_dump(), **updates})
    workspace = workspace.resolve()
    copy_repository(root, workspace, replace)
    ws = Workspace(workspace, say)
    ws.run("git", "init", "-q", "-b", "main")
    set_training_source(workspace, spec)
    ws.commit("a copy of the repository, trained on the stream's training source")
    say(f"[demo] workspace {workspace}")
    say(f"[demo] training the monitored model on {spec.model.describe()} (dvc repro gate)")
    ws.run("dvc", "repro", "gate")
    ws.commit("the monitored model")
    problem = load_problem(root=workspace)
    contract, words = problem.contract, problem.words
    pool = read_source(spec.pool, root=workspace)
    trained = read_source(spec.model, root=workspace)
    shared = set(pool[contract.id_column]) & set(trained[contract.id_column])
    if shared:
        raise ConfigError(
            f"{spec_path}: the pool shares {len(shared):,} identifiers with the training "
            f"source (e.g. {sorted(shared)[0]}): the model would score rows it saw"
        )
    stream = build_stream(pool, contract, spec)
    rel_spec = spec_path.resolve().relative_to(root.resolve()).as_posix()
    write_stream(stream, spec, workspace / STREAM_DIR, rel_spec)
    say(
        f"[demo] simulated stream: {len(stream)} months of {spec.rows_per_month} "
        f"{words.units} from {spec.pool.describe()} ({STREAM_DIR}/manifest.json)"
    )
    serve_params = yaml.safe_load((workspace / "params.yaml").read_text())["serve"]
    online = [m for m in stream if m.spec.channel == "service"]
    if online:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                *("-m", "churn.serve", "--root", str(workspace), "--port", str(port)),
                *("--log-level", "warning"),
            ],
            cwd=workspace,
            env=environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_ready(url)
            for month in online:
                sent = replay(
                    url,
                    workspace / STREAM_DIR / "months" / f"{month.spec.period}.csv",
                    contract,
                    words.units,
                    month.spec.period,
                    serve_params["max_batch_size"],
                )
                say(
                    f"[demo] {month.spec.period} ({month.spec.scenario}): {sent.sent} "
                    f"{words.units} through the service ({sent.requests} requests to "
                    f"/predict/batch), {sent.refused_by_contract} refused by the contract"
                )
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    for month in (m for m in stream if m.spec.channel == "batch"):
        period = month.spec.period
        ws.python(
            "-m", "churn.score", "--input", f"{STREAM_DIR}/months/{period}.csv", "--period", period
        )
        summary = json.loads((workspace / "data" / "scores" / period / "summary.json").read_text())
        say(
            f"[demo] {period} ({month.spec.scenario}): {summary['rows_scored']} {words.units} "
            f"through batch scoring, {summary['rows_quarantined']} quarantined"
        )
    before = monitor(ws)
    ws.commit("monitoring before the outcomes arrived")
    say("[demo] monitored before outcomes: " + _verdicts(before))
    ws.python("-m", "churn.monitor.outcomes", "--input", f"{STREAM_DIR}/outcomes")
    after = monitor(ws)
    ws.commit("monitoring with the outcomes")
    say("[demo] monitored with outcomes:   " + _verdicts(after))
    return after


def _verdicts(document: dict) -> str:
    return ", ".join(f"{p['period']} {p['verdict']}" for p in document["periods"])
