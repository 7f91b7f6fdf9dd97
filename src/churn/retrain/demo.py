"""The whole loop on a simulated stream, in a copy of the repository (``make retrain-demo``).

score -> monitor -> retrain -> challenge -> promote -> serve, with the project's real
commands in subprocesses, as an operator would run them:

1. copy the repository, point the pipeline at the stream's training source, ``dvc repro``,
   commit, and register the model (``python -m churn.retrain register``: ``v1.0.0`` in
   ``prod``);
2. start the service on a loopback port with a reload token, serving the registry's version
   (``python -m churn.serve --rev <artifact>@v1.0.0``);
3. the first months (no drift): each month scored through its channel (the service or
   ``python -m churn.score --rev``), its outcomes loaded, the monitor run; then
   ``python -m churn.retrain run``: the policy decides not to retrain;
4. the remaining months (concept drift): the same, and ``run`` retrains: the window, the
   challenger's experiment, the challenge; approval is manual, so the demo approves as a
   person would (``promote --experiment ... --approved-by ...``), which commits, pushes,
   registers ``v1.1.0`` and switches the running service.

The stream is SIMULATED (``churn.simulate.stream``): see its spec's comments.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from churn.core.paths import workspace_paths
from churn.core.problem import load_problem
from churn.monitor.outcomes import read_source
from churn.retrain import audit
from churn.retrain.params_file import set_params
from churn.serve.reload import RELOAD_TOKEN_ENV
from churn.simulate.demo import (
    STREAM_DIR,
    Workspace,
    copy_repository,
    environment,
    free_port,
    monitor,
    read_spec,
)
from churn.simulate.replay import replay, wait_ready
from churn.simulate.stream import Month, StreamSpec, build_stream, write_stream

SPEC = Path("examples/retraining/telco_stream.yaml")
APPROVER = "demo (a person would review the compare report first)"


@dataclass
class LoopDemo:
    """One workspace and its service; each method is one step of the loop."""

    root: Path
    workspace: Path
    spec_path: Path = SPEC
    rows_per_month: int | None = None
    #: params.yaml keys set in the workspace before anything runs (e.g. faster monitoring).
    params: dict[str, Any] = field(default_factory=dict)
    say: Callable[[str], None] = print
    replace: bool = False

    def __post_init__(self) -> None:
        self.workspace = self.workspace.resolve()
        self.token = secrets.token_hex(16)
        self.server: subprocess.Popen | None = None
        self.url: str | None = None
        spec = read_spec(self.spec_path)
        if self.rows_per_month is not None:
            spec = spec.model_copy(update={"rows_per_month": self.rows_per_month})
        self.spec: StreamSpec = spec
        self.months: list[Month] = []

    # --- plumbing -----------------------------------------------------------------------

    @property
    def ws(self) -> Workspace:
        return Workspace(self.workspace, self.say)

    def env(self) -> dict[str, str]:
        return {**environment(), RELOAD_TOKEN_ENV: self.token}

    def retrain(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``python -m churn.retrain <args>`` in the workspace, with the reload token."""
        result = subprocess.run(
            [sys.executable, "-m", "churn.retrain", *args],
            cwd=self.workspace,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"`python -m churn.retrain {' '.join(args)}` failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def audit_log(self) -> list[dict[str, Any]]:
        params = yaml.safe_load((self.workspace / "params.yaml").read_text())
        return audit.read(self.workspace / params["retrain"]["audit_log"])

    # --- the steps ----------------------------------------------------------------------

    def setup(self) -> None:
        """The copy, its first model (the whole pipeline), registered and in ``prod``."""
        copy_repository(self.root, self.workspace, self.replace)
        ws = self.ws
        ws.run("git", "init", "-q", "-b", "main")
        source = self.spec.model.model_dump(mode="json", exclude_none=True)
        updates: dict[str, Any] = {"collect.source": source, "collect.watch": source["path"]}
        if "stream" in yaml.safe_load((self.workspace / "params.yaml").read_text()):
            # The pipeline's own simulated months are dropped: here the months reach the
            # prediction log through the service and batch scoring, and the monitor reads it.
            updates["stream.months"] = []
        set_params(self.workspace / "params.yaml", {**updates, **self.params})
        ws.commit("a copy of the repository, trained on the stream's training source")
        self.say(f"[loop] workspace {self.workspace}")
        self.say(f"[loop] the first model, on {self.spec.model.describe()}: dvc repro")
        ws.run("dvc", "repro")
        ws.commit("the first model")
        out = self.retrain("register", "--by", "demo").stdout.strip()
        self.say(f"[loop] {out}")
        problem = load_problem(root=self.workspace)
        pool = read_source(self.spec.pool, root=self.workspace)
        self.months = build_stream(pool, problem.contract, self.spec)
        rel = self.spec_path.resolve().relative_to(self.root.resolve()).as_posix()
        write_stream(self.months, self.spec, self.workspace / STREAM_DIR, rel)
        self.say(
            f"[loop] simulated stream: {len(self.months)} months of {self.spec.rows_per_month} "
            f"{problem.words.units} ({STREAM_DIR}/manifest.json)"
        )

    def in_service(self) -> str:
        """The registry's tag of the version in service."""
        from churn.retrain.registry import Registry

        stage = yaml.safe_load((self.workspace / "params.yaml").read_text())["retrain"][
            "promotion"
        ]["stage"]
        version = Registry(self.workspace).in_stage(stage)
        assert version is not None, "nothing in service"
        return version.tag

    def start_service(self) -> str:
        """The service on a loopback port, serving the version in service, reload enabled."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = subprocess.Popen(
            [
                *(sys.executable, "-m", "churn.serve", "--root", str(self.workspace)),
                *("--port", str(port), "--rev", self.in_service(), "--log-level", "warning"),
            ],
            cwd=self.workspace,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_ready(self.url)
        self.say(f"[loop] the service serves {self.in_service()} at {self.url}")
        return self.url

    def stop_service(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None

    def phases(self) -> list[list[Month]]:
        """The leading months without drift, then the rest."""
        first = 0
        while first < len(self.months) and self.months[first].spec.scenario == "no_drift":
            first += 1
        return [m for m in (self.months[:first], self.months[first:]) if m]

    def score(self, months: list[Month]) -> None:
        """Each month through its channel, with the version in service; then its outcomes."""
        problem = load_problem(root=self.workspace)
        contract, words = problem.contract, problem.words
        batch_size = yaml.safe_load((self.workspace / "params.yaml").read_text())["serve"][
            "max_batch_size"
        ]
        for month in months:
            period = month.spec.period
            path = self.workspace / STREAM_DIR / "months" / f"{period}.csv"
            if month.spec.channel == "service" and self.url:
                sent = replay(self.url, path, contract, words.units, period, batch_size)
                how = f"{sent.sent} {words.units} through the service"
            else:
                self.ws.python(
                    *("-m", "churn.score", "--input", str(path.relative_to(self.workspace))),
                    *("--period", period, "--rev", self.in_service()),
                )
                how = f"batch scoring with {self.in_service()}"
            self.say(f"[loop] {period} ({month.spec.scenario}): {how}")
        for month in months:
            self.ws.python(
                "-m",
                "churn.monitor.outcomes",
                "--input",
                f"{STREAM_DIR}/outcomes/{month.spec.period}.csv",
            )

    def monitor(self) -> dict[str, Any]:
        verdicts = monitor(self.ws)
        self.ws.commit("monitoring")
        listed = ", ".join(f"{p['period']} {p['verdict']}" for p in verdicts["periods"])
        self.say(f"[loop] monitor: {listed}")
        return verdicts

    def run_policy(self, *extra: str) -> str:
        """``python -m churn.retrain run``: its output."""
        out = self.retrain("run", "--service-url", self.url or "", *extra).stdout
        for line in out.strip().splitlines():
            self.say(f"[loop]   {line}")
        return out

    def challenger(self) -> dict[str, Any] | None:
        """The last challenge in the audit log (None: none)."""
        entries = [e for e in self.audit_log() if e["action"] == "challenge"]
        return entries[-1] if entries else None

    def promoted(self, challenge: dict[str, Any]) -> bool:
        """Whether the challenge's experiment was promoted already."""
        name = challenge["figures"]["experiment"]
        return any(
            e["action"] == "promote" and e["figures"].get("experiment") == name
            for e in self.audit_log()
        )

    def promote(self, experiment: str, approver: str = APPROVER) -> str:
        out = self.retrain(
            "promote", "--experiment", experiment, "--approved-by", approver,
            "--service-url", self.url or "",
        ).stdout  # fmt: skip
        for line in out.strip().splitlines():
            self.say(f"[loop]   {line}")
        return out


def run_demo(
    root: Path,
    workspace: Path,
    spec: Path = SPEC,
    *,
    rows_per_month: int | None = None,
    replace: bool = False,
    say: Callable[[str], None] = print,
) -> LoopDemo:
    """The whole loop; the workspace is left for inspection, the service stopped."""
    demo = LoopDemo(root, workspace, spec, rows_per_month, say=say, replace=replace)
    demo.setup()
    demo.start_service()
    try:
        for months in demo.phases():
            demo.score(months)
            demo.monitor()
            demo.run_policy()
            last = demo.challenger()
            if last and last["decision"] == "accepted" and not demo.promoted(last):
                say(f"[loop] approving {last['figures']['experiment']} (as a person would)")
                demo.promote(last["figures"]["experiment"])
    finally:
        demo.stop_service()
    return demo


def summary(demo: LoopDemo) -> str:
    lines = ["", "The audit log (python -m churn.retrain log):"]
    for e in demo.audit_log():
        lines.append(f"  #{e['seq']} {e['action']}: {e['decision']} (by {e['by']})")
        lines += [f"      - {r}" for r in e["reasons"]]
    from churn.retrain.registry import Registry

    paths = workspace_paths(demo.workspace)
    artifact = Registry(demo.workspace).artifact
    lines += [
        "",
        f"The workspace: {demo.workspace}",
        f"  the registry: cd {demo.workspace} && git tag -n30 -l '{artifact}*'",
        f"  the stakeholder report: {demo.workspace / 'reports/stakeholder/report.html'}",
        f"  the monitoring dashboard: {demo.workspace / paths['monitor_dashboard']}",
        f"  the experiments: cd {demo.workspace} && dvc exp show --md --only-changed",
    ]
    return "\n".join(lines)
