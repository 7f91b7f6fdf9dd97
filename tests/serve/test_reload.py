"""Switching the served model while the service runs: who may, what changes, what fails."""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from fastapi.testclient import TestClient

from churn.core.problem import read_problem
from churn.serve import model_source
from churn.serve.app import create_app
from churn.serve.prediction_log import read
from churn.serve.reload import RELOAD_PATH, RELOAD_TOKEN_ENV, Reloader
from tests.serve.conftest import TAG, Server
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import TELCO as contract

TOKEN = "a-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LOOPBACK = ("127.0.0.1", 50000)


@pytest.fixture
def reloading(served_repo, served_model, serve_settings, log_path):
    """The app serving the workspace model, able to load any revision of the repository."""

    def load(rev):
        return model_source.load(served_repo.path, rev)

    app = create_app(served_model, serve_settings, log_path, Reloader(TOKEN, load))
    return app


def test_without_a_token_there_is_no_reload_endpoint(client):
    assert client.post(RELOAD_PATH, json={"rev": TAG}, headers=AUTH).status_code == 404
    assert RELOAD_PATH not in client.get("/openapi.json").json()["paths"]


def test_only_loopback_clients_with_the_token_may_reload(reloading):
    with TestClient(reloading) as remote:  # the test client's address is not loopback
        answer = remote.post(RELOAD_PATH, json={"rev": TAG}, headers=AUTH)
        assert answer.status_code == 403 and "host only" in answer.json()["detail"]
    with TestClient(reloading, client=LOOPBACK) as local:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-0123456789"},
            {"Authorization": TOKEN},
        ):
            answer = local.post(RELOAD_PATH, json={"rev": TAG}, headers=headers)
            assert answer.status_code == 401, headers
            assert RELOAD_TOKEN_ENV in answer.json()["detail"]
        assert local.post(RELOAD_PATH, content=b"[1]", headers=AUTH).status_code == 422
        assert RELOAD_PATH not in local.get("/openapi.json").json()["paths"]


def test_a_short_token_is_refused_at_start(served_model):
    with pytest.raises(ValueError, match="at least 16 characters"):
        Reloader("short", lambda rev: served_model)


def test_reload_switches_the_model_and_the_log_records_which_answered(reloading, log_path):
    with TestClient(reloading, client=LOOPBACK) as local:
        before = local.post("/predict", json=dict(contract.example)).json()
        answer = local.post(RELOAD_PATH, json={"rev": TAG}, headers=AUTH)
        assert answer.status_code == 200, answer.text
        switched = answer.json()
        assert switched["previous_version"] == before["model_version"]
        assert switched["model_version"].endswith("@" + switched["model_version"][-12:])
        assert switched["model_version"] != before["model_version"]
        assert switched["load_seconds"] > 0 and 0 <= switched["switch_seconds"] < 0.01
        after = local.post("/predict", json=dict(contract.example)).json()
        assert after["model_version"] == switched["model_version"]
        assert local.get("/model").json()["source"] == TAG
        assert local.get("/ready").json()["detail"] == f"model {switched['model_version']}"
        metrics = local.get("/metrics").text
        assert f'version="{switched["model_version"]}"' in metrics
        assert f'version="{before["model_version"]}"' not in metrics
    logged = [row["model_version"] for row in read(log_path)]
    assert logged == [before["model_version"], after["model_version"]]


def test_a_revision_that_cannot_load_leaves_the_old_model_serving(reloading):
    with TestClient(reloading, client=LOOPBACK) as local:
        version = local.get("/model").json()["version"]
        answer = local.post(RELOAD_PATH, json={"rev": "no-such-tag"}, headers=AUTH)
        assert answer.status_code == 422
        assert "'no-such-tag' is not a git revision" in answer.json()["detail"]
        assert (
            local.post("/predict", json=dict(contract.example)).json()["model_version"] == version
        )


def test_a_model_with_another_contract_needs_a_restart(served_model, serve_settings, log_path):
    credit = read_problem(REPO_ROOT / "examples" / "german_credit" / "problem.yaml")

    def load(rev):
        return dataclasses.replace(served_model, problem=credit)

    app = create_app(served_model, serve_settings, log_path, Reloader(TOKEN, load))
    with TestClient(app, client=LOOPBACK) as local:
        answer = local.post(RELOAD_PATH, json={"rev": None}, headers=AUTH)
        assert answer.status_code == 409 and "restart" in answer.json()["detail"]


@pytest.mark.e2e
def test_no_request_fails_while_the_real_server_switches(served_repo, tmp_path):
    """8 clients post predictions without pause on loopback while the service switches
    from the workspace model to the tagged revision: every request answered 200, each by
    one model, and the new model answers once the switch returned."""
    server = Server(served_repo.path, tmp_path / "log.sqlite", env={RELOAD_TOKEN_ENV: TOKEN})
    stop = threading.Event()
    seen: list[tuple[int, str, int]] = []  # status, model version, client
    lock = threading.Lock()

    def load(worker: int) -> None:
        session = requests.Session()
        i = 0
        while not stop.is_set():
            i += 1
            r = session.post(
                f"{server.url}/predict",
                json=dict(contract.example),
                headers={"X-Request-ID": f"w{worker}-{i}"},
                timeout=30,
            )
            with lock:
                seen.append((r.status_code, r.json().get("model_version", ""), worker))

    try:
        before = requests.get(f"{server.url}/model", timeout=10).json()["version"]
        with ThreadPoolExecutor(8) as pool:
            for w in range(8):
                pool.submit(load, w)
            time.sleep(1.0)
            started = time.perf_counter()
            answer = requests.post(
                f"{server.url}{RELOAD_PATH}", json={"rev": TAG}, headers=AUTH, timeout=120
            )
            took = time.perf_counter() - started
            count_at_switch = len(seen)
            time.sleep(1.0)
            stop.set()
        assert answer.status_code == 200, answer.text
        new = answer.json()["model_version"]
        assert new != before and new.endswith(new.split("@")[1])
        statuses = {s for s, _, _ in seen}
        assert statuses == {200}, statuses
        versions = [v for _, v, _ in seen]
        assert set(versions) == {before, new}
        # Each client sees the old model, then the new one, never the old one again.
        for client in range(8):
            mine = [v for _, v, c in seen if c == client]
            assert mine == sorted(mine, key=lambda v: v == new), client
        # Once the switch returned, only the request each client had in flight may still
        # be answered by the old model (others' new answers can arrive before it).
        late = [c for _, v, c in seen[count_at_switch:] if v == before]
        assert len(late) == len(set(late)) <= 8, late
        assert versions.count(before) > 0 and versions.count(new) > 0
        print(f"switch under load: {took:.2f} s for the call, {answer.json()}")
    finally:
        stop.set()
        server.stop()
    logged = read(server.log)
    assert {r["model_version"] for r in logged} == {before, new}
    assert len(logged) == len(seen)
