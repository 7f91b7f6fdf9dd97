"""End to end with the real dvc CLI: a database source, and bad sources that stop the run."""

from __future__ import annotations

import pytest

from tests.conftest import read_telco_text, write_csv
from tests.support import sandbox
from tests.test_pipeline_e2e import STAGES, point_collect_at, ran, set_param
from tests.test_sql_source import CONTRACT_QUERY, make_database

pytestmark = pytest.mark.e2e

WITH_FINGERPRINT = ["source_state@source", *STAGES]


def test_dvc_repro_notices_a_changed_database_table(tmp_path, monkeypatch, sql_databases):
    box = sandbox.create(tmp_path / "repo")
    db = make_database(sql_databases, "crm", read_telco_text().head(2500))
    monkeypatch.setenv("CHURN_DB_URL", db.url)
    set_param(
        box,
        "collect.source",
        {
            "kind": "sql",
            "url_env": "CHURN_DB_URL",
            "query": CONTRACT_QUERY + ' ORDER BY "customerID"',
        },
    )
    # A 2,500-row sample trains a weaker model: record the gate's verdict, don't stop on it.
    set_param(box, "gate.enforce", False)
    # Its 375 test rows cannot hold the simulated stream's five months of 210: no stream.
    set_param(box, "stream.months", [])
    set_param(box, "collect.watch", "data/raw/source_state.json")
    set_param(box, "collect.fingerprint", ["source"])
    # The whole pipeline on SQLite; on PostgreSQL up to clean, to keep the suite short: what
    # differs is how rows are read and fingerprinted, and clean's output is the same data.
    target, stages = [], WITH_FINGERPRINT
    if db.kind == "postgresql":
        target, stages = ["clean"], WITH_FINGERPRINT[: WITH_FINGERPRINT.index("clean") + 1]
    assert ran(box.dvc("repro", *target)) == stages

    # The same table: the fingerprint is the same, nothing after it reruns.
    again = box.dvc("repro", *target)
    assert ran(again) == ["source_state@source"]
    assert "Stage 'collect' didn't change, skipping" in again.stdout

    # One changed row: collect and everything downstream rerun.
    db.execute("""UPDATE customers SET "MonthlyCharges" = 99.5 WHERE "customerID" = '7590-VHVEG'""")
    assert ran(box.dvc("repro", *target)) == stages
    assert ran(box.dvc("repro", *target)) == ["source_state@source"]

    # The database's location (the URL is the secret here) is in no versioned file.
    for name in ("dvc.lock", "params.yaml", "metrics/clean.json"):
        assert not [text for text in db.reveals if text in (box.path / name).read_text()]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("latin1", "is not valid UTF-8 text"),
        ("truncated", "expected: 21 comma-separated fields"),
    ],
)
def test_an_unreadable_source_stops_at_collect_with_no_model(tmp_path, damage, message):
    box = sandbox.create(tmp_path / "repo")
    path = write_csv(read_telco_text().head(1500), box.path / "data" / "incoming" / "bad.csv")
    data = path.read_bytes()
    if damage == "latin1":
        path.write_bytes(data.replace(b"Female", b"F\xe9male", 1))
    else:
        path.write_bytes(data[:-40])
    point_collect_at(box, "data/incoming/bad.csv")
    result = box.dvc("repro", check=False)
    assert result.returncode != 0
    assert ran(result) == ["collect"]
    output = result.stdout + result.stderr
    assert "file data/incoming/bad.csv" in output and message in output
    assert "Traceback" not in output
    assert not (box.path / "models" / "model.joblib").exists()
    assert not (box.path / "data" / "raw" / "customers.parquet").exists()
