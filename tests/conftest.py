"""Shared fixtures: the bundled Telco data, helpers to write small source files, databases."""

from __future__ import annotations

import csv
import subprocess
import sys
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


@pytest.fixture(scope="session")
def pipeline_repo(tmp_path_factory: pytest.TempPathFactory) -> sandbox.Sandbox:
    """A copy of the repository where `dvc repro` ran, committed and tagged ``PIPELINE_TAG``.

    One cold run of the whole pipeline per session, shared by the tests that need its
    outputs (the service, the analysis notebook); they must leave it as they found it.
    """
    box = sandbox.create(tmp_path_factory.mktemp("pipeline") / "repo")
    box.dvc("repro")
    box.commit("trained model")
    box.run("git", "tag", PIPELINE_TAG)
    return box


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
