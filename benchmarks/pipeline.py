"""Benchmark the experiment loop: cold, parameter-change and no-op `dvc repro`, in units of R.

Runs on a throwaway copy of the repository (the work tree is not touched), with
the copy's own code on the import path, and prints, each as the median of
``--repeats`` runs with its wall and CPU seconds:

- cold: ``dvc repro -f`` with an empty DVC cache and no kept cross-validation
  scores (every stage runs, every family is scored);
- param change: one ``train`` parameter edited in params.yaml (``--param``, toggled
  between two ``--values``), then ``dvc repro``: train and everything after it, up
  to the updated metrics and stakeholder report;
- no-op: ``dvc repro`` with nothing changed;
- R: ``python -c "import pandas, sklearn.linear_model"``, measured in the same
  loop. Machines differ by 3x in speed; a figure divided by R compares across them.

Every figure is also printed as a multiple of R, with the load average (other work
on the machine inflates wall time; CPU time is less sensitive to it). Targets on
a 2-core machine: cold <= 10 s and <= 9 R, param change <= 4 s and <= 3.5 R,
no-op < 1 s. ``--stages`` adds each stage's wall time, CPU time and peak memory.

    python -m benchmarks.pipeline [--repeats 5] [--stages]
    python -m benchmarks.pipeline --rev main             # the code of a revision
    python -m benchmarks.pipeline --set train.model=logistic_regression
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support import sandbox
from tests.support.measure import measure

R_IMPORTS = "import pandas, sklearn.linear_model"
TARGETS = {
    "cold": "<= 10 s, <= 9 R",
    "param change": "<= 4 s, <= 3.5 R",
    "no-op": "< 1 s",
}


@dataclass
class Runs:
    """Wall and CPU seconds of repeated runs of one measurement."""

    wall: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def run(args: list[str], cwd: Path, env: dict[str, str], into: Runs) -> str:
    """Run ``args``, add its wall and CPU time to ``into``; its stderr on failure."""
    result = measure(args, cwd, env)
    if result.exit_code != 0:
        raise SystemExit(f"{' '.join(args)} failed (exit {result.exit_code}):\n{result.stderr}")
    into.wall.append(result.wall)
    into.cpu.append(result.cpu)
    return result.stderr


def set_param(params_file: Path, dotted: str, value: str) -> None:
    """Set ``dotted`` (e.g. train.logistic_regression.C) to ``value`` (parsed as YAML)."""
    params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    *parents, leaf = dotted.split(".")
    node = params
    for key in parents:
        if not isinstance(node.get(key), dict):
            raise SystemExit(f"params.yaml has no section {dotted.rsplit('.', 1)[0]!r}")
        node = node[key]
    node[leaf] = yaml.safe_load(value)
    params_file.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def stages_run(stderr: str) -> list[str]:
    """The stages a ``dvc repro`` ran, from their closing log lines ("[train] done in ...")."""
    return re.findall(r"^\[([\w@.-]+)\] done in", stderr, flags=re.MULTILINE)


def line(name: str, runs: Runs, r: float) -> str:
    figures = ", ".join(f"{t:.2f}" for t in runs.wall)
    return (
        f"{name:<13}{runs.median:7.2f} s {runs.median / r:6.2f} R   cpu {runs.median_cpu:6.2f} s"
        f"   (runs: {figures})   target {TARGETS.get(name, '')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs of each measurement")
    parser.add_argument("--rev", help="benchmark this git revision instead of the work tree")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="params.yaml override applied to the copy first (repeatable)",
    )
    parser.add_argument(
        "--param", default="train.logistic_regression.C", help="the train parameter to change"
    )
    parser.add_argument(
        "--values", nargs=2, default=["0.5", "1.0"], help="the two values it toggles between"
    )
    parser.add_argument(
        "--stages", action="store_true", help="also time each stage alone (peak memory too)"
    )
    args = parser.parse_args()

    print(f"load average at start: {load_average()}; {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="churn-bench-") as tmp:
        box = sandbox.create(Path(tmp) / "repo", rev=args.rev)
        # The copy's code, not the checkout the environment was installed from.
        env = {**sandbox.environment(), "PYTHONPATH": str(box.path / "src")}
        params_file = box.path / "params.yaml"
        for override in args.set:
            key, _, value = override.partition("=")
            set_param(params_file, key, value)
        print(
            f"code: {args.rev or 'work tree'}; train.model = "
            f"{yaml.safe_load(params_file.read_text())['train']['model']}",
            flush=True,
        )
        dvc = [str(Path(sys.executable).parent / "dvc")]
        cache = box.path / ".dvc" / "cache"
        # Cold is cold: no DVC cache (nor its run cache), no kept cross-validation scores.
        score_cache = box.path / ".cache"
        # Warm-up (not counted): compiles the copy's bytecode, fills the OS file cache.
        run([*dvc, "repro", "-f"], box.path, env, Runs([], []))

        r, cold, change, noop = (Runs([], []) for _ in range(4))
        changed: list[str] = []
        for i in range(args.repeats):
            run([sys.executable, "-c", R_IMPORTS], box.path, env, r)
            subprocess.run(["rm", "-rf", str(cache), str(score_cache)], check=True)
            run([*dvc, "repro", "-f"], box.path, env, cold)
            set_param(params_file, args.param, args.values[i % 2])
            changed = stages_run(run([*dvc, "repro"], box.path, env, change))
            run([*dvc, "repro"], box.path, env, noop)
            print(
                f"run {i + 1}/{args.repeats}: R {r.wall[-1]:.2f} s, cold {cold.wall[-1]:.2f} s, "
                f"param change {change.wall[-1]:.2f} s, no-op {noop.wall[-1]:.2f} s; "
                f"load {load_average()}",
                flush=True,
            )
        stage_rows = []
        if args.stages:
            lock = yaml.safe_load((box.path / "dvc.lock").read_text())
            for name, stage in lock["stages"].items():
                runs, peaks = Runs([], []), []
                for _ in range(args.repeats):
                    result = measure(shlex.split(stage["cmd"]), box.path, env)
                    runs.wall.append(result.wall)
                    runs.cpu.append(result.cpu)
                    peaks.append(result.peak_mib)
                stage_rows.append((name, runs, max(peaks)))

    rr = r.median
    print(f"\nR = {rr:.2f} s: median of {args.repeats} runs of python -c {R_IMPORTS!r}")
    print(f"load average at end: {load_average()}\n")
    print(line("cold", cold, rr))
    print(line("param change", change, rr))
    print(f"{'':<13}{args.param} toggled {args.values}; reran: {', '.join(changed)}")
    print(line("no-op", noop, rr))
    if stage_rows:
        print(f"\n{'stage':<12}{'wall s':>8}{'R':>7}{'cpu s':>8}{'peak MiB':>10}")
        for name, runs, peak in stage_rows:
            print(
                f"{name:<12}{runs.median:>8.2f}{runs.median / rr:>7.2f}"
                f"{runs.median_cpu:>8.2f}{peak:>10.0f}"
            )
        total = sum(runs.median for _, runs, _ in stage_rows)
        print(f"{'sum':<12}{total:>8.2f}{total / rr:>7.2f}")


if __name__ == "__main__":
    main()
