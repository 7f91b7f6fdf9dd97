"""Benchmark collect + validate + clean on a large file: wall time and peak memory per stage.

Makes a CSV of ``--rows`` rows (default 1,000,000): a seeded resample of the
bundled Telco data with new unique identifiers. Then runs the three stage
scripts, each as its own process with this repository's params.yaml pointed at
that file, and measures each one's wall time, CPU time and peak resident memory
(``os.wait4``'s ``ru_maxrss``, taken by a small trampoline process: see
tests.support.measure). Target on a 2-core machine: under 30 s in total and under 2 GB
peak for the three.

    python -m benchmarks.collect_validate_clean [--rows 1000000] [--seed 0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

from tests.support.measure import measure
from tests.support.sandbox import REPO_ROOT, environment
from tests.support.synthetic import make_in_subprocess

TARGET_SECONDS = 30
TARGET_MIB = 2048


def measured(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one process.

    CPU time is shown beside wall time because wall time grows when other work
    shares the cores; exits if the process fails.
    """
    run = measure(args, cwd, environment())
    if run.exit_code != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{run.stderr}")
    return run.wall, run.cpu, run.peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the CSV")
    parser.add_argument("--seed", type=int, default=0, help="seed of the resample")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep its files")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="churn-bench-cvc-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        source = make_in_subprocess(
            REPO_ROOT / "data/external/telco_customer_churn.csv",
            work / "big.csv",
            args.rows,
            args.seed,
        )
        made = time.perf_counter() - start
        params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
        params["collect"]["source"] = {"kind": "csv", "path": "big.csv"}
        params["problem"]["file"] = str(REPO_ROOT / params["problem"]["file"])
        params["validate"]["max_rows"] = max(params["validate"]["max_rows"], args.rows)
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

        py = sys.executable
        commands = {
            "collect": [py, "-m", "churn.collect", "--output", "raw.parquet"],
            "validate": [
                *(py, "-m", "churn.validate", "--input", "raw.parquet"),
                *("--summary", "raw.json"),
            ],
            "clean": [
                *(py, "-m", "churn.clean", "--input", "raw.parquet", "--output", "clean.parquet"),
                *("--quarantine", "quarantine.parquet", "--metrics", "clean_metrics.json"),
                *("--summary", "clean.json"),
            ],
        }
        results = {name: measured([str(a) for a in cmd], work) for name, cmd in commands.items()}
        size = source.stat().st_size / 2**20

    load = os.getloadavg()[0]
    print(
        f"input: {args.rows:,} rows, {size:.0f} MiB CSV (seed {args.seed}, made in {made:.1f} s); "
        f"{os.cpu_count()} CPUs, load average {load:.1f} at the end"
    )
    print(f"{'stage':<10}{'wall s':>9}{'CPU s':>9}{'peak RSS MiB':>15}")
    for name, (wall, cpu, rss) in results.items():
        print(f"{name:<10}{wall:>9.2f}{cpu:>9.2f}{rss:>15.0f}")
    total = sum(r[0] for r in results.values())
    cpu_total = sum(r[1] for r in results.values())
    peak = max(r[2] for r in results.values())
    print(f"{'total':<10}{total:>9.2f}{cpu_total:>9.2f}{peak:>15.0f}  (peak: largest stage)")
    verdict = "meets" if total < TARGET_SECONDS and peak < TARGET_MIB else "MISSES"
    print(f"target: < {TARGET_SECONDS} s and < {TARGET_MIB} MiB peak: {verdict} it")


if __name__ == "__main__":
    main()
