"""The Dockerfile, checked statically (Docker cannot run on the CI machines).

The image installs only the runtime: ``requirements-runtime.lock``, the same pins as
``requirements.lock`` for exactly the dependencies of the package (no dev tools, no
optional extras). A subprocess imports what the service imports and loads fitted
models of every family: each package it loads must be in that lock.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib

import yaml
from packaging.requirements import Requirement

from churn.serve.app import ROUTES
from churn.train.families import FAMILIES
from tests.support import sandbox
from tests.support.sandbox import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


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
    assert any("--require-hashes -r requirements-runtime.lock" in r for r in instructions("RUN"))
    # The full lock (with the dev tools) is neither copied nor installed.
    used = " ".join(instructions("COPY") + instructions("RUN")).split()
    assert "requirements.lock" not in used
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


# --- the runtime lock ----------------------------------------------------------------------


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock(name: str) -> dict[str, tuple[str, set[str]]]:
    """A hashed lock (uv pip compile): package -> (version, the packages it is there for)."""
    entries: dict[str, tuple[str, set[str]]] = {}
    current, in_via = "", False
    for line in (REPO_ROOT / name).read_text().splitlines():
        if pin := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line):
            current, in_via = canonical(pin[1]), False
            entries[current] = (pin[2], set())
        elif (text := line.strip()).startswith("# via"):
            rest = text.removeprefix("# via").strip()
            in_via = not rest
            if rest:
                entries[current][1].add(rest)
        elif in_via and text.startswith("#   "):
            entries[current][1].add(text.removeprefix("#   ").strip())
        elif not text.startswith("#"):
            in_via = False
    return entries


def runtime_closure(full: dict[str, tuple[str, set[str]]]) -> set[str]:
    """The packages the project's own dependencies (and its build backend) need."""
    roots = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["build-system"]["requires"]]
    needed = {canonical(Requirement(r).name) for r in roots}
    while True:
        more = {p for p, (_, via) in full.items() if {canonical(v) for v in via} & needed}
        if more <= needed:
            return needed
        needed |= more


def test_the_image_installs_the_runtime_lock_and_nothing_else():
    full, runtime = lock("requirements.lock"), lock("requirements-runtime.lock")
    assert set(runtime) == runtime_closure(full)
    for package, (version, _) in runtime.items():
        assert full[package][0] == version, f"{package}: a different pin from requirements.lock"
    extras = PYPROJECT["project"]["optional-dependencies"]
    tools = {canonical(Requirement(r).name) for group in extras.values() for r in group}
    # Only what a runtime package itself requires: the build backend, here.
    assert tools & set(runtime) == {"setuptools"}
    assert {"pytest", "ruff", "hypothesis", "schemathesis", "ipykernel"}.isdisjoint(runtime)
    ignore = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert "!requirements-runtime.lock" in ignore and "!requirements.lock" not in ignore


#: Fits a small model of every family (and every optional step) and saves it with joblib.
FIT = """
import sys, joblib, pandas as pd
from churn.core.params import FeatureStepParams, TrainParams, load
from churn.core.problem import load_problem
from churn.train.families import FAMILIES
from churn.train.pipeline import build_pipeline, design_for
from sklearn.calibration import CalibratedClassifierCV
problem = load_problem()
contract, design = problem.contract, design_for(problem.contract, problem.features)
text = pd.read_csv("data/external/telco_customer_churn.csv", dtype=str, nrows=300)
data = pd.DataFrame({c.name: c.parse(text[c.name]) for c in contract.columns}).dropna()
data = data.astype({c: "float64" for c in contract.numeric_features})
data = data.astype({c.name: "int64" for c in contract.features if c.kind == "integer"})
X, y = contract.inputs(data), contract.labels(data)
params = load(TrainParams)
steps = [FeatureStepParams(expansion=e, selection=s, k=5)
         for e, s in [("splines", "none"), ("interactions", "mutual_info"),
                      ("polynomial", "chi2"), ("none", "model")]]
for i, family in enumerate(FAMILIES):
    hyper = getattr(params, family).model_dump()
    # Tiny models: which classes the file holds matters here, not how good they are.
    hyper.update({k: 5 for k in ("n_estimators", "max_iter") if k in hyper})
    model = build_pipeline(design, family, hyper, 0, steps[i % len(steps)])
    if i == 0:
        model = CalibratedClassifierCV(model, method="isotonic", cv=2)
    joblib.dump(model.fit(X, y), f"{sys.argv[1]}/{family}.joblib")
"""

#: What the service process loads: its imports, uvicorn's server parts, dvc (--rev), models.
LOAD = """
import glob, json, sys
import churn.serve.__main__
import uvicorn, uvicorn.lifespan.on, uvicorn.protocols.http.auto
uvicorn.Config(app=None).get_loop_factory()  # the event loop uvicorn picks (uvloop)
import dvc.api
import joblib
for path in glob.glob(f"{sys.argv[1]}/*.joblib"):
    joblib.load(path)
print(json.dumps(sorted({m.partition(".")[0] for m in sys.modules})))
"""


def test_every_package_the_service_loads_is_in_the_runtime_lock(tmp_path):
    from importlib.metadata import packages_distributions

    def python(code: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)],
            cwd=REPO_ROOT,
            env={**sandbox.environment(), "OMP_NUM_THREADS": "1"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    python(FIT)
    assert sorted(p.stem for p in tmp_path.glob("*.joblib")) == sorted(FAMILIES)
    loaded = set(json.loads(python(LOAD).splitlines()[-1])) - set(sys.stdlib_module_names)
    owners = packages_distributions()
    runtime = set(lock("requirements-runtime.lock"))
    missing = {}
    for module in sorted(loaded):
        dists = {canonical(d) for d in owners.get(module, [])} - {"churn"}
        if module.startswith("__editable__") or module in ("churn", "__main__") or not dists:
            continue
        if not dists & runtime:
            missing[module] = sorted(dists)
    assert not missing, f"loaded by the service but not in requirements-runtime.lock: {missing}"
    assert {"sklearn", "fastapi", "uvicorn", "uvloop", "httptools", "joblib"} <= loaded
