"""The Dockerfile, checked statically (Docker cannot run on the CI machines)."""

from __future__ import annotations

import re
import shlex

import yaml

from churn.serve.app import ROUTES
from tests.support.sandbox import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    text = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(name + " ")]


def dvc_outputs() -> set[str]:
    lock = yaml.safe_load((REPO_ROOT / "dvc.lock").read_text())
    return {o["path"] for s in lock["stages"].values() for o in s.get("outs", [])}


def test_base_user_lock_and_healthcheck():
    assert instructions("FROM") == ["python:3.11-slim"]
    [user] = instructions("USER")
    assert user not in ("root", "0")
    assert any("--require-hashes -r requirements.lock" in r for r in instructions("RUN"))
    [check] = instructions("HEALTHCHECK")
    url = re.search(r"http://127\.0\.0\.1:8000(/\w+)", check)
    assert url and url.group(1) in ROUTES
    assert "churn.serve" in instructions("CMD")[0]


def test_copied_files_exist_and_are_not_docker_ignored():
    ignore = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore  # an allow-list: everything else stays out of the build context
    sources = [src for args in instructions("COPY") for src in shlex.split(args)[:-1]]
    assert "models/model.joblib" in sources and "dvc.lock" in sources
    assert "models/decision.json" in sources  # the service refuses to start without it
    for src in sources:
        path = src.rstrip("/")
        assert path in allowed, f"{src} is copied but excluded by .dockerignore"
        # A DVC output exists after `make repro`; everything else is in git.
        assert path in dvc_outputs() or (REPO_ROOT / path).exists(), f"{src} does not exist"
