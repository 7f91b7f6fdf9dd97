"""`make repro` monitors the SIMULATED stream: stage ``stream``, then ``monitor``, real dvc CLI.

Runs in the session's ``pipeline_repo`` (one cold `dvc repro` shared with other tests):
the stream stage has cut its months from the test split there; the monitor stage is forced
to run again, which must give the committed bytes, and its verdicts must match the scenario
each month was built under.
"""

from __future__ import annotations

import hashlib
import json
import re

import pandas as pd
import pytest
import yaml

from churn.core import tables
from churn.core.compute import LocalEngine
from tests.browser import evaluate
from tests.support import sandbox
from tests.support.sandbox import REPO_ROOT

pytestmark = pytest.mark.e2e

OUTPUTS = (
    "metrics/monitor/periods.json",
    "metrics/monitor/verdicts.json",
    "reports/monitor/dashboard.html",
    "dvc.lock",
)
SHIFTED = {"Contract", "MonthlyCharges"}


def digest(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def monitored(pipeline_repo):
    """The monitor stage forced to run again; the verdicts; the digests before and after."""
    root = pipeline_repo.path
    before = {name: digest(root / name) for name in OUTPUTS}
    result = pipeline_repo.dvc("repro", "-f", "-s", "monitor")
    after = {name: digest(root / name) for name in OUTPUTS}
    verdicts = json.loads((root / "metrics/monitor/verdicts.json").read_text())
    return pipeline_repo, result, before, after, verdicts


def test_the_months_come_from_the_test_split_only_and_are_disjoint(pipeline_repo):
    root = pipeline_repo.path
    stream = root / "data/monitor/stream"
    manifest = json.loads((stream / "manifest.json").read_text())
    declared = yaml.safe_load((root / "params.yaml").read_text())["stream"]
    assert manifest["simulated"] is True
    assert [(m["period"], m["scenario"]) for m in manifest["months"]] == [
        (m["period"], m["scenario"]) for m in declared["months"]
    ]
    splits = {
        name: set(pd.read_parquet(root / f"data/processed/splits/{name}.parquet")["customerID"])
        for name in ("train", "validation", "test")
    }
    seen: set[str] = set()
    for month in manifest["months"]:
        records = pd.read_csv(stream / month["files"]["records"]["path"], dtype=str)
        outcomes = pd.read_csv(stream / month["files"]["outcomes"]["path"], dtype=str)
        ids = set(records["customerID"])
        assert len(ids) == len(records) == declared["rows_per_month"]
        assert ids <= splits["test"] and not ids & (splits["train"] | splits["validation"])
        assert not ids & seen, f"{month['period']} shares customers with an earlier month"
        seen |= ids
        assert "Churn" not in records.columns and set(outcomes["customerID"]) == ids


def test_the_monitor_stage_gives_the_same_bytes_again(monitored):
    box, result, before, after, _ = monitored
    assert "Running stage 'monitor'" in result.stdout
    assert after == before
    assert box.run("git", "status", "--porcelain").stdout == ""


def test_each_scenario_gets_its_verdict_and_its_reasons(monitored):
    *_, verdicts = monitored
    assert verdicts["simulated"]["pool"] == "the raw records of the pipeline's test split"
    by_scenario: dict[str, list[dict]] = {}
    for period in verdicts["periods"]:
        by_scenario.setdefault(period["scenario"], []).append(period)
    [quiet] = by_scenario["no_drift"]
    assert quiet["verdict"] == "ok" and quiet["signals"]["input_drift"] == []
    [shift] = by_scenario["covariate_shift"]
    assert shift["verdict"] == "investigate"
    assert set(shift["signals"]["input_drift"]) == SHIFTED
    assert not shift["signals"]["below_bar"]
    [broken] = by_scenario["data_quality"]
    assert broken["signals"]["data_quality"] and broken["verdict"] == "investigate"
    assert any("PaymentMethod" in r and "MonthlyCharges" in r for r in broken["reasons"])
    first, second = by_scenario["concept_drift"]
    for month in (first, second):
        # Invisible in the inputs and in the estimate; visible once the outcomes arrived.
        assert month["signals"]["input_drift"] == [] and not month["signals"]["score_drift"]
        assert month["signals"]["below_bar"] == ["roc_auc"]
        assert month["realized"]["roc_auc_high"] < month["estimated"]["roc_auc"]
    assert first["verdict"] == "investigate" and second["verdict"] == "retrain"
    assert verdicts["retrain"]["due"] is True


def test_metrics_plots_and_the_dashboard_say_it_is_simulated(monitored):
    box, *_ = monitored
    shown = json.loads(box.dvc("metrics", "show", "--json").stdout)
    files = next(iter(shown.values()))["data"]
    periods = files["metrics/monitor/periods.json"]["data"]["periods"]
    assert [p["verdict"] for p in periods.values()] == [0, 1, 1, 1, 2]
    plots = box.dvc("plots", "show", "--json").stdout
    assert "Monitoring-ROC-AUC" in plots and "Monitoring-drift" in plots
    seen = evaluate(
        box.path / "reports/monitor/dashboard.html",
        "{text: document.body.innerText,"
        " widths: Array.from(document.images).map(i => i.naturalWidth)}",
    )
    text = re.sub(r"\s+", " ", seen["text"])
    assert "SIMULATED stream, not production data." in text
    assert "2024-06: concept drift" in text
    assert len(seen["widths"]) >= 3 and min(seen["widths"]) > 0


def test_the_committed_outputs_are_the_simulated_streams(monitored):
    # What a fresh clone shows without running anything: the same run as the stage gives.
    box, *_ = monitored
    for name in OUTPUTS[:3]:
        assert (REPO_ROOT / name).read_bytes() == (box.path / name).read_bytes(), name


def test_a_training_split_larger_than_the_sample_gives_a_sampled_reference(pipeline_repo, tmp_path):
    # In a copy: the session's pipeline keeps its params. A sample smaller than the
    # training split, as at millions of rows, and the monitor stage alone.
    box = sandbox.copy(pipeline_repo, tmp_path / "sampled")
    params_file = box.path / "params.yaml"
    params = yaml.safe_load(params_file.read_text())
    compute = params["compute"]
    compute["sample_rows"] = 1_000
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    result = box.dvc("repro", "-f", "-s", "monitor")
    train = box.path / "data/processed/splits/train.parquet"
    expected, rows = tables.read_sample(
        train, "customerID", 1_000, compute["seed"], LocalEngine(), compute["batch_rows"]
    )
    assert 500 < len(expected) < 1_500 < rows
    verdicts = json.loads((box.path / "metrics/monitor/verdicts.json").read_text())
    assert verdicts["reference_sample"] == {
        "rows": len(expected),
        "of": rows,
        "seed": compute["seed"],
    }
    said = result.stdout + result.stderr
    assert f"a seeded sample of {len(expected):,} of the training split's {rows:,} rows" in said
    assert [p["verdict"] for p in verdicts["periods"]]  # the months are still judged
