"""Switching compute.engine changes where the work runs, not what it computes.

The same ~50,000 synthetic rows, with bad rows spread over every batch, go through
validate, clean, featurize, split, train and the test predictions twice: on the
local engine, and on a Dask LocalCluster of two single-threaded workers started
here. The validation summary, the clean table, the quarantine and the splits must
have the same bytes; the models (LightGBM on every row: locally, and with
lightgbm.dask) must agree in test ROC-AUC within 0.01 and both pass the gate.
Batches of 10,000 rows, so that every table has several parts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from churn.clean.buckets import clean_table
from churn.collect.files import CsvSource
from churn.collect.snapshot import collect
from churn.core import compute as compute_module
from churn.core.compute import DaskEngine, LocalEngine
from churn.core.errors import ConfigError
from churn.core.io import to_json
from churn.core.params import ComputeParams, SplitParams, TrainParams, ValidateParams, load
from churn.evaluate.business import lift_at
from churn.evaluate.metrics import classification_metrics
from churn.evaluate.predictions import predict_table
from churn.featurize.parts import featurize_table
from churn.gate.bars import check
from churn.split.parts import split_table
from churn.train.full_fit import train_table
from churn.validate.suite import validate_table
from tests.conftest import NEEDS, PROBLEM_PARAMS, TELCO_CSV
from tests.support.sandbox import REPO_ROOT, environment
from tests.support.synthetic import read_text, resample
from tests.support.telco import DESIGN, FEATURE_PARAMS, FEATURES, PROBLEM, TELCO

pytestmark = pytest.mark.e2e  # a Dask cluster, two pipelines and a subprocess: about a minute

ROWS = 50_000
BATCH = 10_000
VALIDATE = ValidateParams(
    min_rows=1_000, max_rows=1_000_000, max_blank_fraction=0.01, row_error_tolerance=0.01
)
SPLIT = SplitParams(seed=42, train=0.7, validation=0.15, test=0.15)
TRAIN = load(TrainParams, REPO_ROOT / "params.yaml").model_copy(update={"model": "lightgbm"})


def compute(engine: str, **dask) -> ComputeParams:
    return ComputeParams(
        engine=engine, batch_rows=BATCH, sample_rows=BATCH, seed=0, threads=1, dask=dask
    )


def dirty_source(folder: Path) -> Path:
    """Resampled Telco rows with bad rows in every batch, and duplicates across batches."""
    text = resample(read_text(TELCO_CSV), ROWS, seed=11).to_pandas()
    rng = np.random.default_rng(11)
    spread = rng.choice(ROWS, 200, replace=False)
    text.loc[spread[:40], "Contract"] = "Three year"
    text.loc[spread[40:70], "tenure"] = "n/a"
    text.loc[spread[70:90], "MonthlyCharges"] = "5000"
    text.loc[spread[90:110], "TotalCharges"] = " "  # blank while tenure > 0 (mostly)
    exact = text.loc[spread[110:150]]  # the same rows again, at the end: other batches
    conflicting = text.loc[spread[150:200]].assign(tenure="100")
    text = pd.concat([text, exact, conflicting], ignore_index=True)
    path = folder / "source.csv"
    text.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield cluster, client


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    source = dirty_source(folder)
    out = folder / "raw.parquet"
    collect(CsvSource(kind="csv", path=source.name), out, root=folder)
    return out


def run_pipeline(engine, params: ComputeParams, raw: Path, folder: Path) -> dict:
    summary = validate_table(raw, TELCO, VALIDATE, engine, BATCH, "raw", NEEDS)
    report, clean_summary = clean_table(
        raw, TELCO, engine, BATCH, folder / "clean.parquet", folder / "quarantine.parquet", "raw"
    )
    featurize_table(
        folder / "clean.parquet",
        folder / "features.parquet",
        TELCO,
        FEATURES,
        FEATURE_PARAMS,
        engine,
        BATCH,
    )
    split_table(folder / "features.parquet", folder / "splits", TELCO, SPLIT, engine, BATCH)
    trained = train_table(
        folder / "splits" / "train.parquet", DESIGN, TRAIN, params, engine, TELCO.id_column
    )
    scored = predict_table(
        trained.model,
        folder / "splits" / "test.parquet",
        folder / "predictions.parquet",
        TELCO,
        engine,
        BATCH,
        BATCH,
        0,
    )
    test = classification_metrics(scored.labels, scored.probabilities, 0.5)
    test["top_decile_lift"] = lift_at(scored.labels, scored.probabilities, 0.1)
    return {
        "validation": to_json(summary),
        "clean": to_json({**clean_summary, "data": "clean"}),  # not the folder's path
        "cleaning": report.as_metrics(),
        "trained": trained,
        "metrics": {"test": test},
    }


@pytest.fixture(scope="module")
def runs(cluster, raw, tmp_path_factory):
    _, client = cluster
    local = tmp_path_factory.mktemp("local")
    dask = tmp_path_factory.mktemp("dask")
    return (
        local,
        dask,
        run_pipeline(LocalEngine(), compute("local"), raw, local),
        run_pipeline(DaskEngine(client), compute("dask"), raw, dask),
    )


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for name in ("clean.parquet", "quarantine.parquet", "features.parquet", "splits")
        for p in sorted((folder / name).rglob("*.parquet"))
        if p.is_file()
    }


def test_both_engines_give_the_same_tables_and_summaries(runs):
    local_dir, dask_dir, local, dask = runs
    assert local["validation"] == dask["validation"]
    assert local["clean"] == dask["clean"]
    assert local["cleaning"] == dask["cleaning"]
    # Bad rows in every batch, duplicates across batches: all found, on either engine.
    assert local["cleaning"]["exact_duplicates_removed"] == 40
    assert local["cleaning"]["quarantine_reasons"]["conflicting_duplicate_id"] == 100
    assert local["cleaning"]["quarantine_reasons"]["unknown_category:Contract"] >= 39
    ours, theirs = files(local_dir), files(dask_dir)
    assert ours.keys() == theirs.keys()
    assert len([k for k in ours if k.startswith("clean.parquet/part-")]) == 6
    assert [k for k in ours if ours[k] != theirs[k]] == []


def test_both_engines_fit_every_row_and_pass_the_gate(runs):
    _, _, local, dask = runs
    for run in (local, dask):
        trained = run["trained"]
        assert trained.sampled and trained.fitted_rows == trained.rows > trained.sample_rows
        check(run["metrics"], PROBLEM.spec.gate)  # raises when a bar is missed
    # The same sample, so the same cross-validation; the full fits differ a little.
    assert local["trained"].result.cv == dask["trained"].result.cv
    auc = [run["metrics"]["test"]["roc_auc"] for run in (local, dask)]
    assert abs(auc[0] - auc[1]) <= 0.01, auc


def test_the_stage_switches_engine_with_one_param(cluster, runs, tmp_path):
    """`python -m churn.split` with compute.engine dask and the cluster's address."""
    scheduler, _ = cluster
    local_dir = runs[0]
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["problem"] = PROBLEM_PARAMS
    params["compute"].update(batch_rows=BATCH, engine="dask")
    params["compute"]["dask"]["scheduler"] = scheduler.scheduler_address
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = subprocess.run(
        [
            sys.executable,
            *("-m", "churn.split", "--input", str(local_dir / "features.parquet")),
            *("--output-dir", "splits"),
        ],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"dask engine: scheduler {scheduler.scheduler_address}" in done.stderr
    for name in ("train", "validation", "test"):
        ours = sorted((local_dir / "splits" / f"{name}.parquet").glob("*.parquet"))
        theirs = sorted((tmp_path / "splits" / f"{name}.parquet").glob("*.parquet"))
        assert [p.read_bytes() for p in ours] == [p.read_bytes() for p in theirs]


def test_a_scheduler_that_does_not_answer_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(compute_module, "CONNECT_TIMEOUT", "1s")
    params = compute("dask", scheduler="tcp://127.0.0.1:9")  # nothing listens there
    expected = r"no Dask scheduler answers at 'tcp://127.0.0.1:9'"
    with pytest.raises(ConfigError, match=expected), compute_module.engine(params):
        pass
