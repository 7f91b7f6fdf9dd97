"""The engines that run a stage's work, slice by slice: here, or on a Dask cluster.

A stage cuts its input into slices (``churn.core.tables``) and hands the engine a
function that reads one slice and one that processes it (writing its part of the
outputs and returning a small summary: counts, check results). The engine applies
them to every slice and returns the summaries in slice order; the stage merges them.

* ``LocalEngine``: the slices in ``compute.threads`` worker processes on this
  machine (in the stage's own process with one), each process one slice at a time,
  so peak memory is that of a few slices, whatever the number of rows. A stage's
  ``engine`` block starts the processes once, for all its calls.
* ``DaskEngine``: every slice on a Dask worker, as a partition of a
  ``dask.dataframe`` built with ``from_map`` from the same reader, processed by the
  same function. Workers read and write the same paths as the stage, so they must
  see the same file system (a LocalCluster does; README, "On a cluster").

Because both engines cut the same slices and apply the same functions, switching
``compute.engine`` does not change what is computed (tests/test_engines.py).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from churn.core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from churn.core.params import ComputeParams, DaskParams

log = logging.getLogger("churn")

#: How long a stage waits for the scheduler of compute.dask.scheduler to answer.
CONNECT_TIMEOUT = "20s"

T = TypeVar("T")
R = TypeVar("R")


def _read_and_process(
    read: Callable[[T], pd.DataFrame], process: Callable[[pd.DataFrame, T], R], item: T
) -> R:
    return process(read(item), item)


class LocalEngine:
    """Slices on this machine: in ``processes`` worker processes, or in this one.

    With ``keep_pool`` the worker processes outlive a call and serve the next one (a
    stage that maps twice starts them once, and they keep the modules they imported):
    ``close`` ends them (``engine`` does, at the end of its block). Without it, each
    call starts and ends its own.
    """

    name = "local"

    def __init__(self, processes: int = 1, keep_pool: bool = False):
        self.processes = processes
        self.keep_pool = keep_pool
        self._pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        """End the kept worker processes, if any."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def map(
        self,
        read: Callable[[T], pd.DataFrame],
        items: Sequence[T],
        process: Callable[[pd.DataFrame, T], R],
        meta: pd.DataFrame | None = None,
    ) -> list[R]:
        """``process(read(item), item)`` for every item; results in order."""
        return self.run(partial(_read_and_process, read, process), items)

    def run(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn(item)`` for every item; results in order."""
        items = list(items)
        if self.processes <= 1 or len(items) <= 1:
            return [fn(item) for item in items]
        if self.keep_pool:
            if self._pool is None:
                self._pool = _pool(self.processes)
            return list(self._pool.map(fn, items))
        with _pool(min(self.processes, len(items))) as pool:
            return list(pool.map(fn, items))


def _pool(workers: int) -> ProcessPoolExecutor:
    # Fresh processes (forkserver), not forks of this one: a fork of a process whose
    # OpenMP or BLAS threads have run can hang in its first parallel region.
    context = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def runs_in_workers(path: str | Path, compute: ComputeParams) -> bool:
    """Whether the local engine runs the table at ``path`` in several worker processes
    (more than one slice of ``compute.batch_rows``, and ``compute.threads`` above one).

    A stage whose input is that large also draws its figures in those processes
    (``figures.draw_pngs``): on small data, starting them would cost more than drawing
    here (the bundled data's whole pipeline, twice at once as the tests run it: 37 and
    36 s drawing here, 45 and 41 s with the processes).
    """
    from churn.core import tables

    return (
        compute.engine == "local"
        and compute.threads > 1
        and len(tables.slices(path, compute.batch_rows)) > 1
    )


def figure_processes(path: str | Path, compute: ComputeParams) -> int:
    """How many processes draw the figures of a stage whose input is the table at
    ``path``: ``compute.threads`` when that table runs in worker processes
    (``runs_in_workers``), else one (this process)."""
    return compute.threads if runs_in_workers(path, compute) else 1


def start_workers_early(flag: str, *preload: str, table: str = "", figures: bool = False) -> None:
    """Start, now, the process that this stage's workers are forked from, with its modules
    imported, when the stage will run its input in several worker processes.

    A stage calls it on its first line, before its own imports (``flag`` is the argument
    that names its input table, or the folder holding ``table``; ``preload`` what the
    workers import lazily, besides the stage's own module; ``figures``: they also draw the
    stage's figures, so matplotlib too). The fork server
    then imports the stage's modules on the other core while the stage imports them here,
    and every worker starts with nothing left to import (without it, each worker imported
    them first while the stage waited: at a million rows in slices of 250,000, evaluate
    took 5.1 s instead of 4.2, validate 5.1 instead of 4.7). It does nothing when the local
    engine would run the input in this process (``runs_in_workers``: one slice,
    ``compute.threads: 1``), on the Dask engine, or when the arguments or params are wrong:
    the stage reports those.
    """
    import argparse

    arguments = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    arguments.add_argument(flag, dest="value")
    value = arguments.parse_known_args()[0].value
    if not value:
        return
    try:
        from churn.core.params import ComputeParams, load

        path = Path(value) / table if table else Path(value)
        if not runs_in_workers(path, load(ComputeParams)):
            return
    except Exception:  # the stage itself reports a bad param or a missing input
        return
    import sys
    from multiprocessing import forkserver

    stage = getattr(sys.modules["__main__"].__spec__, "name", None)  # churn.<stage>.__main__
    modules = [stage, *preload] if stage else list(preload)
    if figures:
        modules += ["matplotlib.figure", "matplotlib.backends.backend_agg"]
    multiprocessing.get_context("forkserver").set_forkserver_preload(modules)
    forkserver.ensure_running()


def exact_partitions() -> Any:
    """Dask settings under which a partition is exactly what its function returned.

    By default ``dask.dataframe`` converts text columns to its own string type: the
    local and Dask engines would then write different bytes.
    """
    import dask

    return dask.config.set({"dataframe.convert-string": False})


class Reader:
    """``read`` behind a signature of one argument.

    ``dask.dataframe.from_map`` pushes column projections into a function that takes a
    ``columns`` argument (``tables.read_slice`` does): the partitions must be exactly
    what ``read`` returns, as on the local engine.
    """

    def __init__(self, read: Callable[[Any], pd.DataFrame]):
        self.read = read

    def __call__(self, item: Any) -> pd.DataFrame:
        return self.read(item)


class DaskEngine:
    """Slices as the partitions of a ``dask.dataframe``, processed on a Dask cluster."""

    name = "dask"

    def __init__(self, client: Any):
        self.client = client

    def map(
        self,
        read: Callable[[T], pd.DataFrame],
        items: Sequence[T],
        process: Callable[[pd.DataFrame, T], R],
        meta: pd.DataFrame | None = None,
    ) -> list[R]:
        """``process(partition, item)`` on the workers for each partition of the frame
        ``dask.dataframe.from_map(read, items)``; results in order."""
        import dask
        import dask.dataframe as dd

        if not items:
            return []
        with exact_partitions():
            frame = dd.from_map(Reader(read), list(items), meta=meta, enforce_metadata=False)
            tasks = [
                dask.delayed(process, pure=False)(part, item)
                for part, item in zip(frame.to_delayed(), items, strict=True)
            ]
            return self.client.gather(self.client.compute(tasks))

    def run(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn(item)`` on the workers for every item; results in order."""
        return self.client.gather(self.client.map(fn, list(items), pure=False))


Engine = LocalEngine | DaskEngine


def _client(params: DaskParams, threads_per_worker: int | None = None) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the lock installs them
        raise ConfigError(
            'compute.engine is dask but dask.distributed is not installed: pip install -e ".[dask]"'
        ) from None
    if params.scheduler:
        try:
            client = Client(params.scheduler, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise ConfigError(
                f"compute.dask.scheduler: no Dask scheduler answers at {params.scheduler!r} "
                f"({exc}); start one (dask scheduler) or set it to null for a local cluster"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    # A cluster of worker processes on this machine, for this stage only, on loopback.
    with (
        LocalCluster(
            n_workers=params.workers,
            threads_per_worker=threads_per_worker or params.threads_per_worker,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.WARNING,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextlib.contextmanager
def engine(params: ComputeParams) -> Iterator[Engine]:
    """The engine ``compute.engine`` names, open for the ``with`` block."""
    if params.engine == "local":
        local = LocalEngine(params.threads, keep_pool=True)
        try:
            yield local
        finally:
            local.close()
        return
    with contextlib.contextmanager(_client)(params.dask) as client:
        log.info("dask engine: scheduler %s", client.scheduler.address)
        yield DaskEngine(client)
