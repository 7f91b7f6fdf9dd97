"""Benchmark the pipeline: cold and no-op `dvc repro`, then wall time and peak memory per stage.

Runs on a throwaway copy of the repository (the work tree is not touched) and
prints a table. Targets on a 2-core machine: cold repro < 20 s, no-op < 1.5 s.

    python -m benchmarks.pipeline [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from tests.support import sandbox


def timed(box: sandbox.Sandbox, *args: str) -> float:
    start = time.perf_counter()
    box.run(*args)
    return time.perf_counter() - start


def run_measured(command: str, cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of one shell command and its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        shlex.split(command),
        cwd=cwd,
        env=sandbox.environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed:\n{proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="churn-bench-") as tmp:
        box = sandbox.create(Path(tmp) / "repo")
        cold = []
        for _ in range(args.repeats):
            subprocess.run(["rm", "-rf", str(box.path / ".dvc" / "cache")], check=True)
            cold.append(timed(box, "dvc", "repro", "-f"))
        noop = [timed(box, "dvc", "repro") for _ in range(args.repeats)]

        lock = yaml.safe_load((box.path / "dvc.lock").read_text())
        stages = {}
        for name, stage in lock["stages"].items():
            runs = [run_measured(stage["cmd"], box.path) for _ in range(args.repeats)]
            stages[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))

    print(
        f"cold dvc repro (empty cache, -f): median {statistics.median(cold):6.2f} s  "
        f"(runs: {', '.join(f'{t:.2f}' for t in cold)})   target < 20 s"
    )
    print(
        f"no-op dvc repro:                  median {statistics.median(noop):6.2f} s  "
        f"(runs: {', '.join(f'{t:.2f}' for t in noop)})   target < 1.5 s"
    )
    print(f"\n{'stage':<12}{'wall s (median)':>16}{'peak RSS MiB':>14}")
    for name, (wall, rss) in stages.items():
        print(f"{name:<12}{wall:>16.2f}{rss:>14.0f}")
    print(f"{'sum':<12}{sum(w for w, _ in stages.values()):>16.2f}")


if __name__ == "__main__":
    main()
