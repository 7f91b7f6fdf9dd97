"""The local engine's worker processes: kept for a stage's block, or one pool per call."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from churn.core.compute import LocalEngine, engine, figure_processes
from churn.core.params import ComputeParams
from tests.support.sandbox import REPO_ROOT


def pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def run(local: LocalEngine, items: list[int]) -> tuple[set[int], list[int]]:
    results = local.run(pid_and_square, items)
    return {pid for pid, _ in results}, [square for _, square in results]


def test_a_kept_pool_serves_every_call_until_closed():
    local = LocalEngine(2, keep_pool=True)
    try:
        first, squares = run(local, list(range(8)))
        assert squares == [x * x for x in range(8)]  # in order
        assert os.getpid() not in first and 1 <= len(first) <= 2
        second, _ = run(local, list(range(8, 16)))
        assert second <= first  # the same worker processes
        local.close()
        third, squares = run(local, [3, 4])  # a new pool after close
        assert squares == [9, 16] and not third & first
    finally:
        local.close()


def test_without_keep_pool_each_call_has_its_own_processes():
    local = LocalEngine(2)
    first, _ = run(local, list(range(4)))
    second, _ = run(local, list(range(4)))
    assert not first & second


def test_the_stage_engine_keeps_its_pool_for_the_block_and_ends_it():
    params = ComputeParams(engine="local", batch_rows=10_000, sample_rows=10_000, seed=0, threads=2)
    with engine(params) as local:
        assert isinstance(local, LocalEngine) and local.keep_pool
        first, _ = run(local, list(range(4)))
        second, _ = run(local, list(range(4)))
        assert second <= first
    assert local._pool is None  # ended with the block


def loaded(module: str, _item: int) -> bool:
    return module in sys.modules


STAGE = """
if __name__ == "__main__":
    import sys

    from churn.core.compute import start_workers_early

    start_workers_early("--input", "xml.dom.minidom", figures=sys.argv[-1] == "figures")

    from functools import partial

    from churn.core.compute import LocalEngine
    from tests.test_compute import loaded

    for module in ("xml.dom.minidom", "matplotlib.figure"):
        print(LocalEngine(2).run(partial(loaded, module), [0, 1]))
"""


@pytest.mark.parametrize(
    ("batch_rows", "figures", "ready", "drawing"),
    [
        (1_000, "", True, False),
        (5_000, "", False, False),
        (1_000, "figures", True, True),
        (5_000, "figures", False, False),
    ],
)
def test_workers_start_with_the_stage_modules_only_when_the_input_needs_them(
    tmp_path, batch_rows, figures, ready, drawing
):
    # A stage that will cut its input into several slices starts its fork server first,
    # with what its workers need imported (here a module nothing else imports); a stage
    # whose input is one slice starts nothing, and its workers import for themselves.
    # Workers that will also draw the stage's figures start with matplotlib imported.
    pd.DataFrame({"x": range(2_500)}).to_parquet(tmp_path / "t.parquet")
    (tmp_path / "params.yaml").write_text(
        f"compute: {{engine: local, batch_rows: {batch_rows}, sample_rows: 1000, threads: 2}}\n"
    )
    (tmp_path / "stage.py").write_text(STAGE)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "stage.py", "--input", "t.parquet", figures],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == [str([ready, ready]), str([drawing, drawing])]


@pytest.mark.parametrize(
    ("kind", "batch_rows", "threads", "processes"),
    [
        ("local", 1_000, 2, 2),  # three slices on two threads: the workers draw
        ("local", 5_000, 2, 1),  # one slice: this process draws
        ("local", 1_000, 1, 1),  # one thread: no workers
        ("dask", 1_000, 2, 1),  # the cluster's workers are not this machine's processes
    ],
)
def test_figures_are_drawn_in_the_workers_only_when_the_input_runs_in_them(
    tmp_path, kind, batch_rows, threads, processes
):
    pd.DataFrame({"x": range(2_500)}).to_parquet(tmp_path / "t.parquet")
    compute = ComputeParams(
        engine=kind, batch_rows=batch_rows, sample_rows=1_000, seed=0, threads=threads
    )
    assert figure_processes(tmp_path / "t.parquet", compute) == processes
