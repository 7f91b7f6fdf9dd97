"""The service as deployed: uvicorn in a subprocess on 127.0.0.1, called over HTTP."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from churn.serve.prediction_log import read
from tests.serve.conftest import Server, get
from tests.support.telco import TELCO as contract

pytestmark = pytest.mark.e2e


def test_endpoints_over_http(server):
    assert get(server.port, "/health") == (200, b'{"status":"ok","detail":null}')
    status, body = server.post("/predict", dict(contract.example))
    assert status == 200 and 0 < body["probability"] < 1
    status, body = server.post("/predict", {**dict(contract.example), "tenure": "many"})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "tenure"]
    status, text = get(server.port, "/metrics")
    assert status == 200 and b"churn_predicted_probability_bucket" in text


def test_bounded_load_on_loopback_has_no_errors(server):
    """3,000 predictions from 8 concurrent keep-alive connections, all answered and logged."""
    n, workers = 3000, 8
    record = dict(contract.example)
    local = threading.local()

    def call(i: int) -> tuple[int, str]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        r = local.session.post(
            f"{server.url}/predict",
            json={**record, "tenure": i % 73, "TotalCharges": float(i % 73) * 85.5},
            headers={"X-Request-ID": f"load-{i}"},
            timeout=30,
        )
        return r.status_code, r.headers.get("x-request-id", "")

    start = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(call, range(n)))
    elapsed = time.monotonic() - start
    assert [s for s, _ in results if s != 200] == []
    assert elapsed < 120, f"{n} requests took {elapsed:.1f} s"
    logged = {r["request_id"] for r in read(server.log)}
    assert {f"load-{i}" for i in range(n)} <= logged


def test_every_answered_prediction_survives_a_sigkill(served_repo, tmp_path):
    """Kill -9 the server mid-load: the log is readable and holds every answered prediction."""
    server = Server(served_repo.path, tmp_path / "crash.sqlite")
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        session = requests.Session()
        i = 0
        while not stop.is_set():
            rid = f"w{worker}-{i}"
            i += 1
            try:
                r = session.post(
                    f"{server.url}/predict",
                    json=dict(contract.example),
                    headers={"X-Request-ID": rid},
                    timeout=10,
                )
            except requests.RequestException:
                return  # the server is gone
            if r.status_code == 200:
                with lock:
                    answered.append(rid)

    threads = [threading.Thread(target=load, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 30
        while len(answered) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.proc.pid, signal.SIGKILL)  # mid-load: requests are in flight
        server.proc.wait(timeout=30)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        server.stop()
    assert len(answered) >= 300
    db = sqlite3.connect(server.log)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    logged = {r["request_id"] for r in read(server.log)}
    missing = set(answered) - logged
    assert not missing, f"{len(missing)} answered predictions are not in the log"
    # The service starts again on the same log and appends to it.
    again = Server(served_repo.path, server.log)
    try:
        assert again.post("/predict", dict(contract.example))[0] == 200
    finally:
        again.stop()
    assert len(read(server.log)) == len(logged) + 1


def test_fuzzing_from_the_openapi_schema_finds_no_server_error(server):
    """Schemathesis generates valid and invalid requests for every operation from the
    served OpenAPI document: no 5xx, and every response conforms to the document."""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )
    seen: set[tuple[str, str, int]] = set()

    @given(case=cases)
    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        response = case.call_and_validate(base_url=server.url, timeout=30)
        seen.add((case.method, case.path, response.status_code))

    check()
    assert not [s for s in seen if s[2] >= 500]
    statuses = {(m, p): set() for m, p, _ in seen}
    for m, p, code in seen:
        statuses[(m, p)].add(code)
    # Both answers were exercised on the prediction endpoints: accepted and rejected input.
    assert {200, 422} <= statuses[("POST", "/predict")], statuses
    assert {200, 422} <= statuses[("POST", "/predict/batch")], statuses
