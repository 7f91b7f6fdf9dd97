"""The real app (in-process, FastAPI TestClient) over a model trained by the real pipeline."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from churn.core.artifacts import ArtifactError
from churn.serve import model_source, predictor
from churn.serve.prediction_log import read
from tests.serve.conftest import TAG, copy_for_start
from tests.support import sandbox
from tests.support.telco import TELCO as contract

pytestmark = pytest.mark.e2e


def customer(**changes) -> dict:
    return {**dict(contract.example), **changes}


def metric(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text output (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})? (\S+)", line)
        if m and ",".join(sorted((m.group(1) or "").split(","))) == want:
            return float(m.group(2))
    return 0.0


def test_health_ready_and_model(client, lock, served_repo):
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/ready").json()["status"] == "ready"
    info = client.get("/model").json()
    model_out = next(o for o in lock["stages"]["train"]["outs"] if o["path"].endswith(".joblib"))
    train_dep = next(d for d in lock["stages"]["train"]["deps"] if d["path"].endswith("parquet"))
    assert info["version"] == model_out["md5"]
    assert info["source"] == "workspace" and info["git_rev"] is None
    assert info["training_data_md5"] == train_dep["md5"]
    decision = json.loads((served_repo.path / "models/decision.json").read_text())
    assert decision["model"]["md5"] == info["version"]
    assert info["threshold"] == decision["threshold"]  # the business-optimal threshold
    assert info["threshold_source"] == "models/decision.json (the workspace)"
    assert info["threshold_chosen_on"] == "validation"
    assert info["expected_profit_per_customer"] == decision["expected_profit_per_customer"]
    evaluated = json.loads((served_repo.path / "metrics/evaluate/metrics.json").read_text())
    assert info["metrics"]["evaluate"] == evaluated
    assert info["model_family"] == "logistic_regression"
    assert info["features"] == list(contract.feature_names)


def test_the_period_is_the_month_received_unless_the_client_names_one(client, log_path):
    assert client.post("/predict", json=customer()).status_code == 200
    named = client.post(
        "/predict/batch",
        json={"customers": [customer(), customer(tenure=3)]},
        headers={"X-Period": "2024-05"},
    )
    assert named.status_code == 200, named.text
    first, *batch = read(log_path)
    assert first["period"] == first["received_at"][:7] and first["channel"] == "service"
    assert [r["period"] for r in batch] == ["2024-05", "2024-05"]
    refused = client.post("/predict", json=customer(), headers={"X-Period": "May 2024!"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["header", "X-Period"]
    assert len(read(log_path)) == 3


def test_predict_answers_logs_and_counts(client, log_path):
    response = client.post(
        "/predict",
        json=customer(customerID="7590-VHVEG"),
        headers={"X-Request-ID": "req-1"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["x-request-id"] == body["request_id"] == "req-1"
    assert 0 < body["probability"] < 1
    assert body["churn"] == (body["probability"] >= body["threshold"])
    [row] = read(log_path)
    assert row["request_id"] == "req-1" and row["customerID"] == "7590-VHVEG"
    assert row["probability"] == body["probability"]
    assert row["decision"] == int(body["churn"])
    assert row["model_version"] == body["model_version"]
    assert {k: row[k] for k in contract.feature_names} == dict(contract.example)
    text = client.get("/metrics").text
    assert metric(text, "churn_http_requests_total", path="/predict", method="POST", status="200")
    assert metric(text, "churn_predicted_probability_count") == 1
    assert metric(text, "churn_http_request_duration_seconds_count", path="/predict", method="POST")
    # A made-up request id header is not trusted as is.
    odd = client.post("/predict", json=customer(), headers={"X-Request-ID": "a b;c"})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.json()["request_id"])


def test_invalid_requests_get_422_with_field_level_messages(client, serve_settings, log_path):
    bad = customer(Contract="Three year", tenure=-3)
    del bad["gender"]
    response = client.post("/predict", json=bad)
    assert response.status_code == 422
    errors = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
    assert errors.keys() == {("body", "Contract"), ("body", "tenure"), ("body", "gender")}
    assert "'Month-to-month', 'One year' or 'Two year'" in errors[("body", "Contract")]
    assert "greater than or equal to 0" in errors[("body", "tenure")]
    assert errors[("body", "gender")] == "Field required"

    too_many = {"customers": [customer()] * (serve_settings.max_batch_size + 1)}
    response = client.post("/predict/batch", json=too_many)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "customers"] and error["type"] == "too_long"

    response = client.post("/predict/batch", json={"customers": [customer(), customer(tenure="x")]})
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "customers", 1, "tenure"]]
    not_json = client.post(
        "/predict", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not log_path.exists() or read(log_path) == []  # nothing invalid was logged
    text = client.get("/metrics").text
    assert metric(text, "churn_http_errors_total", path="/predict", kind="invalid") == 2
    assert metric(text, "churn_http_errors_total", path="/predict/batch", kind="invalid") == 2


def test_batch_predictions_are_logged_in_order(client, log_path):
    customers = [customer(tenure=t, TotalCharges=85.5 * t) for t in (0, 1, 24, 72)]
    body = client.post("/predict/batch", json={"customers": customers}).json()
    probabilities = [p["probability"] for p in body["predictions"]]
    rows = read(log_path)
    assert [r["item"] for r in rows] == [0, 1, 2, 3]
    assert {r["request_id"] for r in rows} == {body["request_id"]}
    assert [r["probability"] for r in rows] == probabilities
    assert probabilities[0] > probabilities[-1]  # new customers churn more than loyal ones


def test_no_train_serve_skew_on_the_test_split(client, served_repo):
    """The API gives the probabilities the evaluate stage wrote, for the same model."""
    root = served_repo.path
    evaluated = pd.read_parquet(root / "data/predictions/test.parquet")
    split = pd.read_parquet(root / "data/processed/splits/test.parquet")
    rows = evaluated[[contract.id_column]].merge(split, on=contract.id_column, how="left")
    assert len(rows) == len(evaluated) > 1000
    records = json.loads(
        rows[[contract.id_column, *contract.feature_names]].to_json(orient="records")
    )
    expected = evaluated["probability"].to_numpy()

    body = client.post("/predict/batch", json={"customers": records[:1000]}).json()
    body2 = client.post("/predict/batch", json={"customers": records[1000:]}).json()
    batch = [p["probability"] for p in body["predictions"] + body2["predictions"]]
    assert [p["customerID"] for p in body["predictions"]] == [
        r["customerID"] for r in records[:1000]
    ]
    np.testing.assert_allclose(batch, expected, rtol=0, atol=1e-12)
    # Decisions: exactly probability >= the threshold of models/decision.json.
    threshold = json.loads((root / "models/decision.json").read_text())["threshold"]
    assert {body["threshold"], body2["threshold"]} == {threshold}
    decisions = [p["churn"] for p in body["predictions"] + body2["predictions"]]
    assert decisions == [p >= threshold for p in batch]
    assert 0 < sum(decisions) < len(decisions)  # the threshold splits the customers
    # Against evaluate's probabilities: only a probability within 1e-12 of the threshold
    # could flip (none does on this split).
    assert decisions == list(expected >= threshold)

    # One at a time too (a one-row matrix product may differ in the last bit).
    answers = [client.post("/predict", json=r).json() for r in records[:200]]
    single = [a["probability"] for a in answers]
    np.testing.assert_allclose(single, expected[:200], rtol=0, atol=1e-12)
    assert [a["churn"] for a in answers] == [p >= threshold for p in single]


def test_openapi_is_generated_from_the_contract_and_docs_work_offline(client):
    spec = client.get("/openapi.json").json()
    props = spec["components"]["schemas"]["Customer"]["properties"]
    assert props["PaymentMethod"]["enum"] == list(contract.by_name["PaymentMethod"].allowed)
    assert {"/predict", "/predict/batch", "/health", "/ready", "/metrics", "/model"} <= set(
        spec["paths"]
    )
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from the network"
            assert client.get(asset).status_code == 200, asset


def test_model_from_a_git_tag_comes_from_dvc_and_is_verified(served_repo, served_model, lock):
    workspace_model = served_repo.path / "models" / "model.joblib"
    moved = workspace_model.with_suffix(".moved")
    workspace_model.rename(moved)  # the tag's model must come from DVC, not the workspace
    # ... and the tag's threshold from the tag's decision.json, not the workspace's.
    decision_file = served_repo.path / "models" / "decision.json"
    committed = decision_file.read_text()
    changed = {**json.loads(committed), "threshold": 0.987}
    decision_file.write_text(json.dumps(changed))
    try:
        tagged = model_source.load(served_repo.path, rev=TAG)
    finally:
        moved.rename(workspace_model)
        decision_file.write_text(committed)
    commit = served_repo.run("git", "rev-parse", TAG).stdout.strip()
    assert tagged.git_rev == commit and tagged.source == TAG
    assert tagged.md5 == served_model.md5
    assert tagged.version == f"{served_model.md5}@{commit[:12]}"
    assert tagged.training_data_md5 == served_model.training_data_md5
    assert tagged.threshold == json.loads(committed)["threshold"] == served_model.threshold
    assert tagged.decision.source == f"models/decision.json (revision {TAG!r})"
    x = pd.DataFrame([dict(contract.example)])
    assert tagged.pipeline.predict_proba(x)[0, 1] == served_model.pipeline.predict_proba(x)[0, 1]
    with pytest.raises(ArtifactError, match="not a git revision"):
        model_source.load(served_repo.path, rev="no-such-tag")


def start(root, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "churn.serve", "--root", str(root), "--port", "1", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=sandbox.environment(),
    )


def test_service_refuses_to_start_without_a_matching_model(served_repo, tmp_path):
    root = copy_for_start(served_repo, tmp_path / "copy")
    model = root / "models" / "model.joblib"
    model.write_bytes(model.read_bytes() + b"tampered")
    result = start(root)
    assert result.returncode == 1
    assert "model.joblib does not match" in result.stderr
    assert "Refusing to load it" in result.stderr
    assert "the service did not start" in result.stderr
    model.unlink()
    result = start(root)
    assert result.returncode == 1
    assert "models/model.joblib not found: run `dvc repro`" in result.stderr


def test_service_refuses_a_threshold_that_does_not_belong_to_the_model(served_repo, tmp_path):
    root = copy_for_start(served_repo, tmp_path / "copy")
    decision_file = root / "models" / "decision.json"
    decision = json.loads(decision_file.read_text())

    other = {**decision, "model": {**decision["model"], "md5": "0" * 32}}
    decision_file.write_text(json.dumps(other))
    result = start(root)
    assert result.returncode == 1
    assert f"threshold chosen for model {'0' * 32}" in result.stderr
    assert f"the loaded model is {decision['model']['md5']}" in result.stderr
    assert "dvc repro evaluate" in result.stderr

    decision_file.write_text(json.dumps({**decision, "schema_version": 2}))
    result = start(root)
    assert result.returncode == 1
    assert "has schema_version 2; this service reads schema_version 1" in result.stderr

    decision_file.unlink()
    result = start(root)
    assert result.returncode == 1
    assert "models/decision.json not found in the workspace" in result.stderr
    assert "the service did not start" in result.stderr


def test_compiled_pipeline_gives_the_pipelines_probabilities_bit_for_bit(served_model, served_repo):
    """The service's fast path (numpy arrays to the fitted column transformer's parts)
    computes exactly what the fitted pipeline computes: batch and one row at a time."""
    pipeline = served_model.pipeline
    compiled = predictor.compile_pipeline(pipeline, contract)
    assert compiled is not None
    batcher = predictor.MicroBatcher(pipeline, contract)
    try:
        assert batcher.compiled and batcher.pipeline is not pipeline
    finally:
        batcher.close()
    split = pd.read_parquet(served_repo.path / "data/processed/splits/test.parquet")
    records = split[list(contract.feature_names)].to_dict(orient="records")
    expected = predictor.predict_proba(pipeline, records, contract)
    assert np.array_equal(predictor.predict_proba(compiled, records, contract), expected)
    for i in range(0, len(records), 10):
        one = records[i : i + 1]
        assert predictor.predict_proba(compiled, one, contract) == predictor.predict_proba(
            pipeline, one, contract
        )

    # A layout it does not know is served by the pipeline itself.
    weighted = copy.deepcopy(pipeline)
    weighted.steps[1][1].transformer_weights = {"numeric": 2.0}
    assert predictor.compile_pipeline(weighted, contract) is None
    assert predictor.compile_pipeline(weighted.steps[2][1], contract) is None
