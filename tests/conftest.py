"""Shared fixtures: the bundled Telco data, and helpers to write small source files."""

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
from churn.core.contract import TELCO
from churn.validate.checks import ClassNeeds
from tests.support.sandbox import REPO_ROOT

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


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """One BLAS/OpenMP thread, as in the stages: small fits are faster and stable."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
