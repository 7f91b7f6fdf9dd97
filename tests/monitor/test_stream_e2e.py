"""End to end: the simulated stream through the real service and batch scoring, then the
monitor stage with the real dvc CLI, before and after the outcomes arrive.

One workspace for the module (``python -m churn.simulate demo``'s loop, months of 300
rows): the monitored model is trained on the January-February batch files, and the seven
months drawn from the March-April files go through the service (``/predict/batch`` on
loopback) or ``python -m churn.score``; ``dvc repro monitor`` runs twice.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml

from churn.simulate.demo import run_demo
from tests.browser import evaluate, screenshot
from tests.support.sandbox import REPO_ROOT, environment

pytestmark = pytest.mark.e2e

SPEC = REPO_ROOT / "examples" / "monitoring" / "telco_stream.yaml"
ROWS = 300
SHIFTED = {"Contract", "MonthlyCharges"}


def git_show(path, rev: str, file: str) -> str:
    return subprocess.run(
        ["git", "show", f"{rev}:{file}"], cwd=path, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    """The workspace after the whole loop, and its verdicts before and after the outcomes."""
    workspace = tmp_path_factory.mktemp("stream") / "ws"
    after = run_demo(REPO_ROOT, workspace, SPEC, rows_per_month=ROWS, say=lambda _: None)
    before = json.loads(git_show(workspace, "HEAD~1", "metrics/monitor/verdicts.json"))
    manifest = json.loads((workspace / "stream" / "manifest.json").read_text())
    scenarios = {m["period"]: m["scenario"] for m in manifest["months"]}
    return workspace, scenarios, before, after, manifest


def periods_of(document: dict, scenarios: dict, scenario: str) -> list[dict]:
    return [p for p in document["periods"] if scenarios[p["period"]] == scenario]


def test_every_month_reached_the_log_through_its_channel(stream):
    workspace, _, _, after, manifest = stream
    by_period = {p["period"]: p for p in after["periods"]}
    for month in manifest["months"]:
        logged = by_period[month["period"]]
        if month["scenario"] == "data_quality":
            assert logged["rows"] + logged["quality"]["rows_quarantined"] == ROWS
        else:
            assert logged["rows"] == ROWS
    db = sqlite3.connect(workspace / "logs" / "predictions.sqlite")
    channels = dict(
        db.execute("SELECT period, group_concat(DISTINCT channel) FROM predictions GROUP BY period")
    )
    assert channels == {m["period"]: m["channel"] for m in manifest["months"]}


def test_the_service_and_batch_scoring_give_the_same_probabilities(stream, tmp_path):
    workspace, scenarios, *_ = stream
    period = next(p for p, s in scenarios.items() if s == "no_drift")
    subprocess.run(
        [
            *("python", "-m", "churn.score", "--input", f"stream/months/{period}.csv"),
            *("--period", period, "--output-dir", str(tmp_path / "rescored"), "--no-log"),
        ],
        cwd=workspace,
        env=environment(),
        check=True,
        capture_output=True,
    )
    batch = pd.read_parquet(tmp_path / "rescored" / "scored.parquet").set_index("customerID")
    db = sqlite3.connect(workspace / "logs" / "predictions.sqlite")
    served = pd.read_sql_query(
        "SELECT customerID, probability FROM predictions WHERE period = ? AND channel = 'service'",
        db,
        params=(period,),
    ).set_index("customerID")
    assert len(served) == ROWS
    np.testing.assert_allclose(
        served["probability"], batch.loc[served.index, "probability"], rtol=0, atol=1e-12
    )


def test_no_drift_months_raise_no_alarm_before_or_after_the_outcomes(stream):
    _, scenarios, before, after, _ = stream
    for document in (before, after):
        months = periods_of(document, scenarios, "no_drift")
        assert len(months) == 3
        for month in months:
            assert month["verdict"] == "ok", month["reasons"]
            assert not any(d["drifted"] for d in month["drift"])


def test_covariate_shift_flags_the_shifted_columns_and_not_the_others(stream):
    _, scenarios, _, after, _ = stream
    [month] = periods_of(after, scenarios, "covariate_shift")
    assert month["verdict"] == "investigate"
    assert set(month["signals"]["input_drift"]) == SHIFTED
    assert any("input drift in 2 of 19 columns" in r for r in month["reasons"])


def test_concept_drift_is_missed_by_input_drift_and_caught_by_realized_performance(stream):
    _, scenarios, before, after, _ = stream
    missed = periods_of(before, scenarios, "concept_drift")
    assert [m["verdict"] for m in missed] == ["ok", "ok"]
    for month in missed:
        assert month["signals"]["input_drift"] == [] and not month["signals"]["score_drift"]
        assert month["realized"] is None
    caught = periods_of(after, scenarios, "concept_drift")
    assert [m["verdict"] for m in caught] == ["investigate", "retrain"]
    bar = after["rule"]["bars"]["roc_auc"]["value"]
    no_drift = periods_of(after, scenarios, "no_drift")
    for month in caught:
        assert month["signals"]["input_drift"] == []
        assert month["realized"]["roc_auc_high"] < bar
        # The estimate before outcomes did not see it: it stays with the no-drift months'.
        assert (
            month["estimated"]["roc_auc"] > min(m["estimated"]["roc_auc"] for m in no_drift) - 0.02
        )
    assert after["retrain"] == {"due": True, "periods": [caught[1]["period"]]}


def test_the_data_quality_incident_is_flagged_with_its_reasons(stream):
    _, scenarios, before, after, manifest = stream
    for document in (before, after):
        [month] = periods_of(document, scenarios, "data_quality")
        assert month["verdict"] == "investigate" and month["signals"]["data_quality"]
        reasons = month["quality"]["reasons"]
        assert {"unknown_category:PaymentMethod", "missing:MonthlyCharges"} <= set(reasons)
        assert "out_of_range:tenure" in reasons
    [declared] = [m for m in manifest["months"] if m["scenario"] == "data_quality"]
    assert [c["corrupt"] for c in declared["injected"]["changes"]] == [
        "PaymentMethod",
        "MonthlyCharges",
        "tenure",
    ]


def test_metrics_diff_shows_what_the_outcomes_added_and_a_rerun_changes_no_byte(stream):
    workspace, *_ = stream
    diff = subprocess.run(
        ["dvc", "metrics", "diff", "HEAD~1", "--json"],
        cwd=workspace,
        env=environment(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    changed = json.loads(diff)["metrics/monitor/periods.json"]
    assert any(k.endswith(".realized.roc_auc") for k in changed)
    assert any(k.endswith(".verdict") for k in changed)
    dashboard = (workspace / "reports/monitor/dashboard.html").read_bytes()
    status = subprocess.run(
        ["dvc", "repro", "monitor", "-f"], cwd=workspace, env=environment(), capture_output=True
    )
    assert status.returncode == 0
    assert (workspace / "reports/monitor/dashboard.html").read_bytes() == dashboard
    assert (
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=workspace, capture_output=True, text=True
        ).stdout
        == ""
    )
    lock = yaml.safe_load((workspace / "dvc.lock").read_text())
    assert "monitor" in lock["stages"]


def test_the_dashboard_draws_offline_in_chromium(stream, tmp_path):
    workspace, *_ = stream
    page = workspace / "reports" / "monitor" / "dashboard.html"
    html = page.read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html
    seen = evaluate(
        page,
        "{text: document.body.innerText,"
        " widths: Array.from(document.images).map(i => i.naturalWidth)}",
    )
    assert len(seen["widths"]) == 3 and min(seen["widths"]) > 0, seen["widths"]
    assert "Latest period 2024-09: retrain" in seen["text"]
    assert "data quality" in seen["text"] and "Contract" in seen["text"]
    shot = screenshot(page, tmp_path / "dashboard.png", width=1400, height=3000)
    assert shot.stat().st_size > 50_000
