"""A large source (hundreds of MB) is collected in bounded memory."""

from __future__ import annotations

import sys

import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import PROBLEM_PARAMS, TELCO_CSV, collect_params
from tests.support.measure import measure
from tests.support.sandbox import environment
from tests.support.synthetic import make_in_subprocess

# Slow (about 20 s: it writes and reads a 400 MB file), so it runs with the e2e tests.
pytestmark = pytest.mark.e2e

ROWS = 3_000_000  # about 390 MiB of CSV


def test_collect_streams_a_large_csv_in_bounded_memory(tmp_path):
    source = make_in_subprocess(TELCO_CSV, tmp_path / "big.csv", ROWS, seed=7)
    size_mib = source.stat().st_size / 2**20
    assert size_mib > 300
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump(
            {
                "problem": PROBLEM_PARAMS,
                "collect": collect_params({"kind": "csv", "path": "big.csv"}),
            }
        )
    )
    try:
        run = measure(
            [sys.executable, "-m", "churn.collect", "--output", "raw.parquet"],
            cwd=tmp_path,
            env=environment(),
        )
        assert run.exit_code == 0, run.stderr
        # The file is streamed in 2 MiB blocks: memory does not grow with the file
        # (measured: about 270 MiB, mostly the interpreter and libraries, for 130 MiB
        # and for 330 MiB files alike).
        peak = run.peak_mib
        assert peak < min(size_mib, 450), f"peak {peak:.0f} MiB for {size_mib:.0f} MiB"
        meta = pq.read_metadata(tmp_path / "raw.parquet")
        assert meta.num_rows == ROWS
    finally:
        source.unlink(missing_ok=True)
        (tmp_path / "raw.parquet").unlink(missing_ok=True)
