"""Benchmark batch scoring: time per row and peak memory as the input grows.

For each size (default 100,000 and 1,000,000 rows) makes a CSV (a seeded resample of the
bundled Telco rows with new unique identifiers), then runs ``python -m churn.score`` on it
as its own process, with the workspace model, into a fresh prediction log, and measures
wall time, CPU time and peak resident memory (``tests.support.measure``). Flat time per
row and a peak that does not grow with the rows are what bounded cost and bounded memory
mean; the identifier column and the contacted rows' identifiers and probabilities are the
only parts held for the whole input.

Needs the workspace model (``make repro``).

    python -m benchmarks.score [--sizes 100000 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from tests.support.measure import measure
from tests.support.sandbox import REPO_ROOT, environment
from tests.support.synthetic import make_in_subprocess


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0, help="seed of the resample")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="churn-bench-score-") as tmp:
        work = Path(tmp)
        for size in args.sizes:
            start = time.perf_counter()
            source = make_in_subprocess(
                REPO_ROOT / "data/external/telco_customer_churn.csv",
                work / f"in-{size}.csv",
                size,
                args.seed,
            )
            made = time.perf_counter() - start
            log = work / f"log-{size}.sqlite"
            run = measure(
                [
                    *(sys.executable, "-m", "churn.score", "--input", str(source)),
                    *("--period", "2024-05", "--output-dir", str(work / f"out-{size}")),
                    *("--prediction-log", str(log)),
                ],
                REPO_ROOT,
                environment(),
            )
            if run.exit_code != 0:
                raise SystemExit(f"scoring {size:,} rows failed:\n{run.stderr}")
            db = sqlite3.connect(log)
            logged = db.execute("SELECT count(*) FROM predictions").fetchone()[0]
            db.close()
            rows.append(
                (size, made, run.wall, run.cpu, run.peak_mib, logged, log.stat().st_size / 2**20)
            )
            source.unlink()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the end; block_rows from params.yaml")
    print(
        f"{'rows':>10}{'wall s':>9}{'CPU s':>9}{'µs/row (CPU)':>14}{'peak MiB':>10}"
        f"{'logged':>11}{'log MiB':>9}"
    )
    for size, _, wall, cpu, peak, logged, log_mib in rows:
        print(
            f"{size:>10,}{wall:>9.1f}{cpu:>9.1f}{1e6 * cpu / size:>14.1f}{peak:>10.0f}"
            f"{logged:>11,}{log_mib:>9.0f}"
        )


if __name__ == "__main__":
    main()
