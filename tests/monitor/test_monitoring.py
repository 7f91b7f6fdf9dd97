"""The monitor's loop on a real SQLite prediction log written in the test.

Clean Telco rows cut in two: a reference (the "training split") and held-out rows the
periods are drawn from; a fixed toy score stands in for the model. Each period is written
to the log the way the service or batch scoring writes it, then read back, assessed and
judged with the stage's own functions.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest

from churn.core.errors import ConfigError, DataError
from churn.core.problem import read_problem
from churn.evaluate.business import Economics
from churn.monitor.alarms import ThresholdCache
from churn.monitor.assess import assess, bars_for, baseline
from churn.monitor.dashboard import render_dashboard
from churn.monitor.log_state import extent
from churn.monitor.performance import roc_auc, top_decile_lift
from churn.monitor.records import Extent, open_log, periods, read_period
from churn.monitor.results import period_metrics, verdicts_document
from churn.monitor.settings import MonitorParams
from churn.monitor.verdict import judge
from churn.serve.prediction_log import OUTCOMES, RUNS, connect, insert_statement, names
from tests.monitor.telco import toy_score
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import PROBLEM
from tests.support.telco import TELCO as contract

THRESHOLD = 0.3
PARAMS = MonitorParams.model_validate(
    {
        "seed": 1,
        "min_rows": 100,
        "drift": {"repeats": 800, "target": 0.05, "alpha": 0.05, "effect": "psi"},
        "quality": {"max_quarantined_share": 0.02},
        "performance": {"bootstrap": 200, "level": 0.95, "min_labelled": 100},
        "retrain": {
            "bars": ["gate", "champion"],
            "margin": {"roc_auc": 0.05, "top_decile_lift": 0.5},
            "evidence": "interval",
            "periods": 2,
        },
    }
)


@pytest.fixture(scope="module")
def parts(telco_clean):
    order = np.random.default_rng(3).permutation(len(telco_clean))
    table = telco_clean.iloc[order].reset_index(drop=True)
    return table.iloc[:4000].reset_index(drop=True), table.iloc[4000:].reset_index(drop=True)


@pytest.fixture(scope="module")
def base(parts):
    reference, held_out = parts
    score_ref = held_out.iloc[:1000]
    p, y = toy_score(score_ref), contract.labels(score_ref).to_numpy()
    validation = {"roc_auc": roc_auc(y, p), "top_decile_lift": top_decile_lift(y, p)}
    return baseline(
        contract,
        reference,
        p,
        model_version="m1",
        threshold=THRESHOLD,
        econ=Economics.from_params(PROBLEM.business),
        bars=bars_for(PARAMS, {"roc_auc": 0.70, "top_decile_lift": 1.5}, validation),
        segments=["Contract"],
    )


def write_predictions(db, rows: pd.DataFrame, period: str, channel: str, request_id: str):
    p = toy_score(rows)
    values = {
        "request_id": [request_id] * len(rows),
        "item": list(range(len(rows))),
        "received_at": ["2026-01-01T00:00:00+00:00"] * len(rows),
        "model_version": ["m1"] * len(rows),
        "period": [period] * len(rows),
        "channel": [channel] * len(rows),
        "probability": p.tolist(),
        "decision": (p >= THRESHOLD).astype(int).tolist(),
        "threshold": [THRESHOLD] * len(rows),
    }
    for name in (contract.id_column, *contract.feature_names):
        values[name] = rows[name].tolist()
    rows_out = list(zip(*(values[n] for n in names(contract)), strict=True))
    db.executemany(insert_statement(contract), rows_out)


def write_run(db, period: str, request_id: str, rows_in: int, quarantined: int):
    reasons = json.dumps({"unknown_category:PaymentMethod": quarantined})
    db.execute(
        f"INSERT INTO {RUNS} (request_id, run, period, finished_at, model_version, threshold, "
        "source, rows_in, rows_scored, rows_quarantined, exact_duplicates_removed, blanks, "
        "repairs, quarantine_reasons) VALUES (?, ?, ?, '', 'm1', ?, 'file.csv', ?, ?, ?, 0, "
        "'{}', '{}', ?)",
        (
            request_id,
            request_id,
            period,
            THRESHOLD,
            rows_in,
            rows_in - quarantined,
            quarantined,
            reasons,
        ),
    )


def write_outcomes(db, rows: pd.DataFrame, period: str, outcome: np.ndarray):
    db.executemany(
        f'INSERT INTO {OUTCOMES} ("{contract.id_column}", period, outcome, loaded_at, source) '
        "VALUES (?, ?, ?, '', 'test')",
        [(i, period, int(o)) for i, o in zip(rows[contract.id_column], outcome, strict=True)],
    )


@pytest.fixture(scope="module")
def log(parts, tmp_path_factory):
    """Six periods: no drift, covariate shift, data quality, two of concept drift, tiny."""
    _, held = parts
    held = held.iloc[1000:].reset_index(drop=True)  # 2,043 rows never used as reference
    rng = np.random.default_rng(5)
    cut = [held.iloc[i * 400 : (i + 1) * 400].reset_index(drop=True) for i in range(5)]
    path = tmp_path_factory.mktemp("log") / "predictions.sqlite"
    db = connect(path, contract)
    db.execute("BEGIN")
    # 2024-01: no drift, through the service; one customer asked twice; outcomes.
    write_predictions(db, cut[0], "2024-01", "service", "s1")
    write_predictions(db, cut[0].iloc[:1], "2024-01", "service", "s2")
    # ... and a batch run that never finished: its predictions do not count.
    write_predictions(db, cut[1].iloc[:30], "2024-01", "batch", "score:dead:1")
    write_outcomes(db, cut[0], "2024-01", contract.labels(cut[0]).to_numpy())
    # 2024-02: 20 points more month-to-month contracts, charges +10%.
    shifted = cut[1].copy()
    others = np.flatnonzero(shifted["Contract"] != "Month-to-month")
    shifted.loc[rng.choice(others, 80, replace=False), "Contract"] = "Month-to-month"
    shifted["MonthlyCharges"] = (shifted["MonthlyCharges"] * 1.1).round(2)
    write_predictions(db, shifted, "2024-02", "batch", "score:r2:1")
    write_run(db, "2024-02", "score:r2:1", 400, 0)
    write_outcomes(db, shifted, "2024-02", contract.labels(shifted).to_numpy())
    # 2024-03: a broken export: 50 of 450 rows quarantined by batch scoring.
    write_predictions(db, cut[2], "2024-03", "batch", "score:r3:1")
    write_run(db, "2024-03", "score:r3:1", 450, 50)
    write_outcomes(db, cut[2], "2024-03", contract.labels(cut[2]).to_numpy())
    # 2024-04, 2024-05: churn rises among two-year contracts; inputs as they were.
    for period, rows in (("2024-04", cut[3]), ("2024-05", cut[4])):
        write_predictions(db, rows, period, "batch", f"score:{period}:1")
        write_run(db, period, f"score:{period}:1", 400, 0)
        y = contract.labels(rows).to_numpy().copy()
        flip = (rows["Contract"] == "Two year").to_numpy() & (y == 0) & (rng.random(400) < 0.5)
        y[flip] = 1
        write_outcomes(db, rows, period, y)
    # 2024-06: too few rows to judge.
    write_predictions(db, held.iloc[2000:2040], "2024-06", "service", "s6")
    db.execute("COMMIT")
    db.close()
    return path


def monitor(path, base, state=None):
    state = state or extent(path)
    ext = Extent.parse(state, "state.json")
    db = open_log(ext, "state.json", root=path.parent.parent)
    cache = ThresholdCache(base.profile, repeats=800, seed=1, target=0.05, alpha=0.05)
    try:
        found = [
            assess(read_period(db, ext, contract, p), base, PARAMS, cache) for p in periods(db, ext)
        ]
    finally:
        db.close()
    return found, judge(found, base, PARAMS, PROBLEM.words), ext


@pytest.fixture(scope="module")
def judged(log, base):
    state = extent(log)
    state["prediction_log"] = f"{log.parent.name}/{log.name}"
    return monitor(log, base, state)


def verdict(judged, period):
    return next(v for v in judged[1] if v.period == period)


def test_no_drift_is_ok_and_repeats_and_unfinished_runs_do_not_count(judged):
    assessments, _, _ = judged
    first = assessments[0]
    assert first.rows == 400 and first.superseded == 1 and first.unfinished == 30
    assert first.channels == {"service": 400}
    v = verdict(judged, "2024-01")
    assert v.verdict == "ok", v.reasons
    assert first.realized is not None and first.realized.labelled == 400


def test_covariate_shift_flags_the_shifted_columns_and_the_score(judged):
    v = verdict(judged, "2024-02")
    assert v.verdict == "investigate"
    assert set(v.signals["input_drift"]) == {"Contract", "MonthlyCharges"}
    assert v.signals["score_drift"]
    assert "input drift in 2 of 19 columns" in v.reasons[0]


def test_a_data_quality_incident_is_flagged_with_its_reasons_in_words(judged):
    v = verdict(judged, "2024-03")
    assert v.verdict == "investigate" and v.signals["data_quality"]
    assert "11.1% of the 450 customers checked were quarantined" in v.reasons[0]
    assert "PaymentMethod: a value the contract does not allow (50)" in v.reasons[0]


def test_concept_drift_shows_in_realized_performance_only_and_retrains_after_two(judged):
    first, second = verdict(judged, "2024-04"), verdict(judged, "2024-05")
    for v in (first, second):
        assert v.signals["input_drift"] == [] and not v.signals["score_drift"]
        assert "roc_auc" in v.signals["below_bar"]
    assert first.verdict == "investigate" and "1 of the 2 labelled periods" in first.reasons[0]
    assert second.verdict == "retrain" and "for 2 labelled periods in a row" in second.reasons[0]


def test_a_period_too_small_to_judge_asks_for_a_look(judged):
    v = verdict(judged, "2024-06")
    assert v.verdict == "investigate" and v.signals["volume"]
    assert "outcomes not arrived yet" in v.notes[0]


def test_the_extent_fixes_what_is_read_and_deleted_rows_are_refused(log, base, judged):
    state = extent(log)
    db = sqlite3.connect(log)
    db.execute("BEGIN")
    db.execute(
        "INSERT INTO predictions (request_id, item, received_at, model_version, period, channel, "
        + ", ".join(f'"{c}"' for c in contract.feature_names)
        + ", probability, decision, threshold) SELECT 'late', item, received_at, model_version, "
        "'2024-07', channel, "
        + ", ".join(f'"{c}"' for c in contract.feature_names)
        + ", probability, decision, threshold FROM predictions WHERE period = '2024-01'"
    )
    db.execute("COMMIT")
    later, _, _ = monitor(log, base, state)
    assert [a.period for a in later] == [a.period for a in judged[0]]  # 2024-07 not read
    db.execute("DELETE FROM predictions WHERE id = 1")
    db.commit()
    db.close()
    with pytest.raises(DataError, match="rows were deleted from the log"):
        monitor(log, base, state)


def test_outputs_are_byte_stable_and_machine_readable(judged, base):
    assessments, verdicts, ext = judged
    doc = verdicts_document(
        assessments, verdicts, base, ext, retrain_periods=2, evidence="interval"
    )
    assert doc["schema_version"] == 1
    assert doc["retrain"] == {"due": False, "periods": ["2024-05"]}
    assert doc["latest"] == {"period": "2024-06", "verdict": "investigate"}
    metrics = period_metrics(assessments, verdicts)["periods"]
    assert metrics["2024-05"]["verdict"] == 2 and "realized" in metrics["2024-05"]
    assert "realized" not in metrics["2024-06"]
    first = render_dashboard(assessments, verdicts, base, PROBLEM, ext, dpi=50)
    second = render_dashboard(assessments, verdicts, base, PROBLEM, ext, dpi=50)
    assert first == second
    assert "<script" not in first and "http" not in first.replace("http://www.w3.org", "")


def test_too_few_resamples_for_the_columns_is_a_params_error(log, base):
    state = extent(log)
    ext = Extent.parse(state, "state.json")
    db = open_log(ext, "state.json", root=log.parent.parent)
    params = PARAMS.model_copy(update={"drift": PARAMS.drift.model_copy(update={"repeats": 100})})
    cache = ThresholdCache(base.profile, repeats=100, seed=1, target=0.05, alpha=0.05)
    with pytest.raises(ConfigError, match=r"monitor\.drift: repeats=100 is too few"):
        assess(read_period(db, ext, contract, "2024-01"), base, params, cache)
    db.close()


def test_the_dashboard_speaks_another_problems_words(base):
    credit = read_problem(REPO_ROOT / "examples" / "german_credit" / "problem.yaml")
    empty = Extent(REPO_ROOT / "logs" / "predictions.sqlite", False)
    html = render_dashboard([], [], base, credit, empty, dpi=50)
    assert "Credit risk: monitoring the deployed model" in html
    assert "No predictions in the prediction log yet" in html
    assert "churn" not in html.lower().replace("python -m churn", "")
