"""A stage on a snapshot larger than a batch keeps its memory bounded.

`python -m churn.clean` on 400,000 rows in batches of 50,000 (eight buckets) runs in
its own process, measured from a small trampoline (tests/support/measure.py).
Measured on the 2-core machine: about 420 MiB batched, about 640 MiB when the same
rows are one batch (compute.batch_rows 400,000): the bound below sits between them,
so the test fails when clean holds the whole table at once.
"""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import yaml

from churn.core import tables
from tests.conftest import PROBLEM_PARAMS, TELCO_CSV, collect_params
from tests.support.measure import measure
from tests.support.sandbox import REPO_ROOT, environment
from tests.support.synthetic import make_in_subprocess

# A 50 MiB source, collect and clean in subprocesses: about 30 s on a quiet machine.
pytestmark = pytest.mark.e2e

ROWS = 400_000
BATCH = 50_000
BOUND_MIB = 520


def test_clean_stays_under_a_bound_on_more_rows_than_a_batch(tmp_path):
    make_in_subprocess(TELCO_CSV, tmp_path / "big.csv", ROWS, seed=7)
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params.update(
        problem=PROBLEM_PARAMS,
        collect=collect_params({"kind": "csv", "path": "big.csv"}),
        compute={**params["compute"], "batch_rows": BATCH, "threads": 1},
    )
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = environment()
    subprocess.run(
        [sys.executable, "-m", "churn.collect", "--output", "raw.parquet"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    (tmp_path / "big.csv").unlink()
    run = measure(
        [
            *(sys.executable, "-m", "churn.clean", "--input", "raw.parquet"),
            *("--output", "clean.parquet", "--quarantine", "quarantine.parquet"),
            *("--metrics", "clean.json", "--summary", "clean_summary.json"),
        ],
        cwd=tmp_path,
        env=env,
    )
    assert run.exit_code == 0, run.stderr
    out = tables.parts(tmp_path / "clean.parquet")
    assert len(out) == ROWS // BATCH
    assert sum(pq.read_metadata(p).num_rows for p in out) == ROWS  # resampled: all valid
    assert run.peak_mib < BOUND_MIB, f"peak {run.peak_mib:.0f} MiB for {ROWS:,} rows"
