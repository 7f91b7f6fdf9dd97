"""The prediction log on a real SQLite file (no model needed)."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from churn.serve.prediction_log import (
    PredictionLog,
    PredictionLogError,
    columns,
    names,
    read,
)
from tests.support.telco import TELCO as contract

NAMES = names(contract)


def row(i: int) -> dict:
    return {
        **dict(contract.example),
        contract.id_column: None,
        "request_id": f"r{i}",
        "item": 0,
        "received_at": "2026-01-01T00:00:00.000000+00:00",
        "model_version": "m",
        "period": "2026-01",
        "channel": "service",
        "probability": i / 1000,
        "decision": 0,
        "threshold": 0.5,
    }


def test_columns_are_the_contract_features_plus_prediction_facts():
    assert [n for n in NAMES if n in contract.feature_names] == list(contract.feature_names)
    assert {"request_id", "received_at", "model_version", "probability", "decision"} <= set(NAMES)


def test_concurrent_writes_are_all_committed_once_their_futures_are_done(tmp_path):
    path = tmp_path / "log.sqlite"
    log = PredictionLog(path, contract, max_commit=16)
    with ThreadPoolExecutor(8) as pool:
        futures = list(pool.map(lambda i: log.write([row(i)]), range(500)))
    for f in futures:
        f.result(timeout=30)
    # Readable by another connection while the writer is open (WAL), before close.
    rows = read(path)
    assert sorted(r["request_id"] for r in rows) == sorted(f"r{i}" for i in range(500))
    assert rows[0]["tenure"] == dict(contract.example)["tenure"]
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    log.close()
    assert not log.alive
    with pytest.raises(PredictionLogError, match="closed"):
        log.write([row(0)]).result()


def test_a_failed_commit_fails_the_waiting_requests(tmp_path):
    path = tmp_path / "log.sqlite"
    log = PredictionLog(path, contract)
    log.write([row(1)]).result(timeout=10)
    other = sqlite3.connect(path)
    other.execute("DROP TABLE predictions")
    other.commit()
    other.close()
    with pytest.raises(PredictionLogError, match="could not write to the prediction log"):
        log.write([row(2)]).result(timeout=10)
    log.close()


def test_a_log_written_before_periods_existed_gets_them_from_the_month_received(tmp_path):
    path = tmp_path / "old.sqlite"
    old = [(n, t) for n, t in columns(contract) if n not in ("period", "channel")]
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE predictions (id INTEGER PRIMARY KEY, "
        + ", ".join(f'"{n}" {t}' for n, t in old)
        + ")"
    )
    values = {k: v for k, v in row(1).items() if k not in ("period", "channel")}
    db.execute(
        f"INSERT INTO predictions ({', '.join(f'{chr(34)}{k}{chr(34)}' for k in values)}) "
        f"VALUES ({', '.join('?' for _ in values)})",
        list(values.values()),
    )
    db.commit()
    db.close()
    log = PredictionLog(path, contract)
    log.write([row(2)]).result(timeout=10)
    log.close()
    rows = read(path)
    assert [(r["period"], r["channel"]) for r in rows] == [("2026-01", "service")] * 2
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert {"scoring_runs", "quarantine", "outcomes"} <= tables
