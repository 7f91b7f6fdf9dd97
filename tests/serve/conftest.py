"""Fixtures of the serving tests: a sandbox repository with a trained, tagged model,
the app over it, and a real uvicorn server on 127.0.0.1 in a subprocess."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from churn.core.params import ServeParams, load
from churn.serve import model_source
from churn.serve.app import create_app
from tests.conftest import PIPELINE_TAG
from tests.support import sandbox

#: The tag of the trained model that the revision tests serve.
TAG = PIPELINE_TAG


@pytest.fixture(scope="session")
def served_repo(pipeline_repo) -> sandbox.Sandbox:
    """A copy of the repository where `dvc repro` ran and the result is committed and tagged."""
    return pipeline_repo


@pytest.fixture(scope="session")
def served_model(served_repo) -> model_source.ServedModel:
    return model_source.load(served_repo.path)


@pytest.fixture(scope="session")
def serve_settings(served_repo):
    return load(ServeParams, served_repo.path / "params.yaml")


@pytest.fixture(scope="session")
def lock(served_repo) -> dict:
    return yaml.safe_load((served_repo.path / "dvc.lock").read_text())


@pytest.fixture
def log_path(tmp_path) -> Path:
    return tmp_path / "logs" / "predictions.sqlite"


@pytest.fixture
def client(served_model, serve_settings, log_path) -> Iterator[TestClient]:
    """The real app in-process (lifespan run: prediction log open)."""
    app = create_app(served_model, serve_settings, log_path)
    with TestClient(app) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 5) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """`python -m churn.serve` in a subprocess, on a free loopback port."""

    def __init__(self, root: Path, log: Path, *extra: str, env: dict | None = None) -> None:
        self.log = log
        # The server's output goes to a file: a pipe nobody reads would block it when full.
        log.parent.mkdir(parents=True, exist_ok=True)
        self.output_path = log.with_name(log.name + ".out")
        # A free port can be taken by another process (another pytest-xdist worker's
        # server) before this server binds it: then try another one.
        for _ in range(5):
            self.port = free_port()
            self._output = self.output_path.open("w")
            self.proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "churn.serve", "--root", str(root)),
                    *("--port", str(self.port), "--prediction-log", str(log)),
                    *("--log-level", "warning", *extra),
                ],
                env={**sandbox.environment(), **(env or {})},
                stdout=self._output,
                stderr=subprocess.STDOUT,
                text=True,
            )
            if self._wait_ready():
                return
            self._output.close()
            if "address already in use" not in self.output().lower():
                raise AssertionError(f"the server exited:\n{self.output()}")
        raise AssertionError(f"no free port for the server after 5 tries:\n{self.output()}")

    def _wait_ready(self) -> bool:
        """True once this server answers /ready; False if it exited first."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                # Ready, and still running: not another process that holds the port.
                if get(self.port, "/ready", timeout=1)[0] == 200 and self.proc.poll() is None:
                    return True
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("the server did not become ready in 60 s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, path: str, payload: object, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            body = json.dumps(payload).encode()
            conn.request(
                "POST", path, body, {"Content-Type": "application/json", **(headers or {})}
            )
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            conn.close()

    def output(self) -> str:
        """What the server has written to stdout and stderr so far."""
        return self.output_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._output.close()


@pytest.fixture(scope="module")
def server(served_repo, tmp_path_factory) -> Iterator[Server]:
    s = Server(served_repo.path, tmp_path_factory.mktemp("server-log") / "predictions.sqlite")
    yield s
    s.stop()


def copy_for_start(served_repo, destination: Path) -> Path:
    """The files the service reads at start (params, problem, pipeline, lock, metrics, model,
    decision) in a fresh folder."""
    for rel in (
        "params.yaml",
        "problems/telco.yaml",
        "dvc.yaml",
        "dvc.lock",
        "models/model.joblib",
        "models/decision.json",
        "metrics/train.json",
    ):
        (destination / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(served_repo.path / rel, destination / rel)
    return destination
