"""Shared fixtures: the bundled Telco data, helpers to write small source files, databases."""

from __future__ import annotations

import csv
import fcntl
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from churn.collect.files import CsvSource
from churn.collect.snapshot import collect
from churn.collect.sources import SOURCE_STATE_FILE
from churn.validate.checks import ClassNeeds
from tests.support import sandbox
from tests.support.databases import PostgresDatabases, SqliteDatabases
from tests.support.postgres import start_cluster
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import TELCO


@pytest.fixture(scope="session", autouse=True)
def _no_score_cache_in_process():
    """In-process tests compute every cross-validation and write nothing to the checkout.

    The cache has its own tests (tests/test_score_cache.py); end-to-end copies use their
    own .cache, as a clone does (tests/support/sandbox.py drops the variable).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHURN_CACHE_DIR", "off")
        yield


TELCO_CSV = REPO_ROOT / "data" / "external" / "telco_customer_churn.csv"
#: What params.yaml asks of each target class: the 70/15/15 split, 5 CV folds, 1% share.
NEEDS = ClassNeeds(train=0.7, validation=0.15, test=0.15, cv_folds=5, max_share=0.99)


def read_telco_text() -> pd.DataFrame:
    """The bundled CSV as text, exactly as collect sees it (no lineage columns)."""
    return pd.read_csv(TELCO_CSV, dtype=str, keep_default_na=False)


def write_csv(df: pd.DataFrame, path: Path, line_end: str = "\r\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator=line_end)
        writer.writerow(df.columns)
        writer.writerows(df.itertuples(index=False))
    return path


def run_stage(name: str, workdir: Path, env: dict[str, str], *args: str):
    """Run ``python -m churn.<name>`` in ``workdir`` (which holds its params.yaml), as DVC would."""
    return subprocess.run(
        [sys.executable, "-m", f"churn.{name}", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


#: The ``problem`` params section of the worked example, usable from any working directory.
PROBLEM_PARAMS = {"file": str(REPO_ROOT / "problems" / "telco.yaml")}


def collect_params(source: dict) -> dict:
    """A ``collect`` params section for ``source``, with the matching ``watch``/``fingerprint``."""
    if source["kind"] in ("csv", "parquet"):
        return {"source": source, "watch": source["path"], "fingerprint": []}
    return {"source": source, "watch": SOURCE_STATE_FILE, "fingerprint": ["source"]}


def collect_csv(path: Path, tmp_path: Path) -> pd.DataFrame:
    """Collect a CSV file or folder into a raw snapshot and read it back."""
    out = tmp_path / "raw.parquet"
    collect(CsvSource(kind="csv", path=path.name), out, root=path.parent)
    return pd.read_parquet(out)


@pytest.fixture(scope="session")
def telco_text() -> pd.DataFrame:
    return read_telco_text()


@pytest.fixture(scope="session")
def telco_raw(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The raw snapshot of the bundled data, with lineage columns."""
    return collect_csv(TELCO_CSV, tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="session")
def telco_clean(telco_raw: pd.DataFrame) -> pd.DataFrame:
    from churn.clean.rules import clean

    cleaned, _, _ = clean(telco_raw, TELCO)
    return cleaned


#: The tag of the pipeline run in ``pipeline_repo``.
PIPELINE_TAG = "churn-v1"
#: The fixtures backed by the session's one cold `dvc repro` (``_prepared_pipeline``).
PIPELINE_FIXTURES = {"pipeline_repo", "pipeline_copy", "pipeline_first_run"}


def _shared_folder(tmp_path_factory: pytest.TempPathFactory, config: pytest.Config) -> Path:
    """This session's temporary folder, shared by the xdist workers when there are some."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


def _prepared_pipeline(
    tmp_path_factory: pytest.TempPathFactory, config: pytest.Config
) -> tuple[sandbox.Sandbox, subprocess.CompletedProcess]:
    """The one cold `dvc repro` of the session, committed and tagged, and what it printed.

    Under pytest-xdist the workers share it: the first to ask builds it under a file
    lock and records what the run printed next to it; the others wait, then read it.
    Nobody runs anything in it: each worker works in its own copy (``pipeline_repo``).
    """
    folder = _shared_folder(tmp_path_factory, config) / "prepared-pipeline"
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "first-run.json"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            box = sandbox.create(folder / "repo")
            result = box.dvc("repro")
            box.commit("trained model")
            box.run("git", "tag", PIPELINE_TAG)
            record.write_text(json.dumps({"stdout": result.stdout, "stderr": result.stderr}))
    printed = json.loads(record.read_text())
    first = subprocess.CompletedProcess(["dvc", "repro"], 0, printed["stdout"], printed["stderr"])
    return sandbox.Sandbox(folder / "repo"), first


@pytest.fixture(scope="session")
def pipeline_first_run(tmp_path_factory, pytestconfig) -> subprocess.CompletedProcess:
    """What the session's one cold `dvc repro` (the one behind ``pipeline_repo``) printed."""
    return _prepared_pipeline(tmp_path_factory, pytestconfig)[1]


@pytest.fixture(scope="session")
def pipeline_repo(tmp_path_factory, pytestconfig) -> sandbox.Sandbox:
    """A copy of the repository where `dvc repro` ran, committed and tagged ``PIPELINE_TAG``.

    One cold run of the whole pipeline per session (under xdist, one for all workers),
    copied once per worker, shared by the tests that only read its outputs (the service,
    the analysis notebook): they must leave it as they found it. A test that changes
    the repository takes a private copy with ``pipeline_copy``.
    """
    prepared, _ = _prepared_pipeline(tmp_path_factory, pytestconfig)
    return sandbox.copy(prepared, tmp_path_factory.mktemp("pipeline") / "repo")


@pytest.fixture(scope="session")
def pipeline_copy(tmp_path_factory, pytestconfig) -> Callable[[str], sandbox.Sandbox]:
    """``pipeline_copy(name)``: a private copy of ``pipeline_repo``'s run, free to change."""
    prepared, _ = _prepared_pipeline(tmp_path_factory, pytestconfig)

    def make(name: str) -> sandbox.Sandbox:
        return sandbox.copy(prepared, tmp_path_factory.mktemp(name) / "repo")

    return make


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """One BLAS/OpenMP thread, as in the stages: small fits are faster and stable."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgres: runs against the session's PostgreSQL server (tests/support/postgres.py)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep tests that share an expensive fixture on one xdist worker.

    `make test` runs on two workers with ``--dist loadgroup``: a test goes to whichever
    worker is free, but the tests of an end-to-end module that share a module-scoped
    fixture (a pipeline run, a `dvc exp` queue) stay together, or each worker would
    build it again. End-to-end tests with sandboxes of their own stay free to spread.
    Runs before xdist reads the groups (tryfirst). pytest 9.2 broke the grouping
    silently (pytest-dev/pytest-xdist#1386): pyproject.toml keeps pytest below it.
    """
    first = []
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        if not item.get_closest_marker("e2e"):
            if PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())):
                item.add_marker(pytest.mark.xdist_group("prepared-pipeline"))
                first.append(item)
            continue
        fixtures = getattr(item, "_fixtureinfo", None)
        defs = fixtures.name2fixturedefs.values() if fixtures else ()
        if any(d[-1].scope == "module" for d in defs if d):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    # The quick tests that read the session's pipeline run (the service's, the notebook's)
    # go first, together: one worker builds the run and then runs them while the other
    # works through the unit tests, instead of both waiting for the build.
    chosen = set(map(id, first))
    items[:] = first + [item for item in items if id(item) not in chosen]


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL server for the whole session, stopped and deleted at the end.

    Missing server binaries are an error, not a skip, here and in CI alike: `make test`
    installs them (`make system-deps`), and a skip would let the PostgreSQL tests vanish
    unnoticed. Deselect them explicitly with -m 'not postgres'.
    """
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def sql_databases(request, tmp_path_factory):
    """Creates test databases, once with SQLite and once with PostgreSQL."""
    if request.param == "sqlite":
        databases = SqliteDatabases(tmp_path_factory.mktemp("sqlite"))
    else:
        databases = PostgresDatabases(request.getfixturevalue("postgres_cluster"))
    try:
        yield databases
    finally:
        databases.close()
