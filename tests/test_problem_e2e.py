"""A second problem, of another domain, end to end with no code change: German credit risk.

The real `dvc` CLI runs every stage on examples/german_credit/ after one params change
(the problem file and where its data is); then the service serves it with its own schema.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from churn.core.params import ServeParams, load
from churn.serve import model_source
from churn.serve.app import create_app
from tests.support import sandbox
from tests.test_pipeline_e2e import STAGES, ran

pytestmark = pytest.mark.e2e

EXAMPLE = "examples/german_credit"
SWITCH = (
    f"problem.file={EXAMPLE}/problem.yaml",
    f"collect.source.path={EXAMPLE}/german_credit.csv",
    f"collect.watch={EXAMPLE}/german_credit.csv",
    # The worked example's simulated months name its columns: none here, so the monitor
    # reads the prediction log.
    "stream.months=[]",
)


@pytest.fixture(scope="module")
def credit(tmp_path_factory):
    """A sandbox where `dvc exp run` ran the whole pipeline on the credit problem."""
    box = sandbox.create(tmp_path_factory.mktemp("credit") / "repo")
    result = box.dvc("exp", "run", "-n", "german-credit", *(f"-S{s}" for s in SWITCH))
    assert ran(result) == STAGES
    return box


def test_every_stage_ran_on_the_credit_data_with_its_own_contract(credit):
    raw = json.loads((credit.path / "reports/validation/raw.json").read_text())
    assert raw["success"] and raw["rows"] == 1000
    clean = json.loads((credit.path / "metrics/clean.json").read_text())
    assert clean["rows_clean"] == 1000 and clean["rows_quarantined"] == 0
    stats = json.loads((credit.path / "reports/explore/stats.json").read_text())
    assert stats["positives"] == 300 and "purpose" in stats["categorical"]
    metrics = json.loads((credit.path / "metrics/evaluate/metrics.json").read_text())
    assert metrics["test"]["roc_auc"] > 0.7
    assert json.loads((credit.path / "metrics/gate.json").read_text()) == {"passed": True}
    decision = json.loads((credit.path / "models/decision.json").read_text())
    assert decision["economics"]["contact_cost"] == 50.0  # the credit review's economics
    params = yaml.safe_load((credit.path / "params.yaml").read_text())
    assert params["problem"]["file"] == f"{EXAMPLE}/problem.yaml"


def test_the_report_speaks_the_credit_problems_words(credit):
    html = (credit.path / "reports/stakeholder/report.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Credit risk: who to review, and what it is worth" in text
    assert "review applicants whose predicted default probability is at least" in text
    assert "Margin lost when a review puts off an applicant who would have repaid" in text
    assert "By personal_status_and_sex" in text
    assert "customer" not in text.lower() and "churn" not in text.lower()
    # train.model: auto chose the family on this problem too, and the report shows why.
    train = json.loads((credit.path / "metrics/train.json").read_text())
    assert train["model"] == train["selection"]["winner"]
    assert len(train["selection"]["families"]) == 7
    assert "7 model families were compared" in text
    assert "profit per applicant (out-of-fold)" in text
    eda = (credit.path / "reports/explore/report.html").read_text()
    assert "1,000 applicants, 300 defaulted (30.0%)" in re.sub(r"<[^>]+>", "", eda)


def test_the_service_serves_the_credit_schema(credit, tmp_path):
    model = model_source.load(credit.path)
    settings = load(ServeParams, credit.path / "params.yaml")
    app = create_app(model, settings, tmp_path / "log.sqlite")
    with TestClient(app) as client:
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        assert "credit_amount" in schema["Applicant"]["properties"]
        assert "tenure" not in schema["Applicant"]["properties"]
        record = dict(model.problem.contract.example)
        answer = client.post("/predict", json=record)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) >= {"probability", "default", "row_id", "threshold"}
        assert body["default"] == (body["probability"] >= body["threshold"])
        batch = client.post("/predict/batch", json={"applicants": [record, record]})
        assert batch.status_code == 200 and len(batch.json()["predictions"]) == 2
        bad = client.post("/predict", json={**record, "purpose": "yacht"})
        assert bad.status_code == 422


def test_batch_scoring_outcomes_and_the_monitor_speak_the_credit_problems_words(credit):
    # The rows are the example's own (partly seen in training): this checks the words and
    # the columns, not the statistics.
    data = pd.read_csv(credit.path / EXAMPLE / "german_credit.csv", dtype=str)
    part = data.iloc[:300]
    part.drop(columns=["creditability"]).to_csv(credit.path / "applicants.csv", index=False)
    credit.run("python", "-m", "churn.score", "--input", "applicants.csv", "--period", "2024-01")
    scored = pd.read_parquet(credit.path / "data/scores/2024-01/scored.parquet")
    assert len(scored) == 300 and "default" in scored.columns and "row_id" in scored.columns
    outcomes = pd.DataFrame(
        {"row_id": scored["row_id"], "period": "2024-01", "creditability": part["creditability"]}
    )
    outcomes.to_csv(credit.path / "outcomes.csv", index=False)
    credit.run("python", "-m", "churn.monitor.outcomes", "--input", "outcomes.csv")
    credit.run("python", "-m", "churn.monitor.log_state")
    assert "monitor" in ran(credit.dvc("repro", "monitor"))
    verdicts = json.loads((credit.path / "metrics/monitor/verdicts.json").read_text())
    [period] = verdicts["periods"]
    assert period["rows"] == 300 and period["labelled"] == 300
    assert {d["column"] for d in period["drift"]} >= {"credit_amount", "purpose", "score"}
    html = (credit.path / "reports/monitor/dashboard.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Credit risk: monitoring the deployed model" in text
    assert "Applicants predicted" in text and "Default rate by segment" in text
    assert "customer" not in text.lower() and "churn" not in text.lower()
