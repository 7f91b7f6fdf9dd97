"""The local engine's worker processes: kept for a stage's block, or one pool per call."""

from __future__ import annotations

import os

from churn.core.compute import LocalEngine, engine
from churn.core.params import ComputeParams


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
