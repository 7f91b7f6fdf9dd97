"""A model file is unpickled only when its bytes match dvc.lock."""

from __future__ import annotations

import joblib
import pytest
import yaml

from churn.core.artifacts import ArtifactError, file_md5, load_model


def write_lock(tmp_path, md5):
    lock = tmp_path / "dvc.lock"
    stages = {"train": {"outs": [{"path": "models/model.joblib", "md5": md5}]}}
    lock.write_text(yaml.safe_dump({"schema": "2.0", "stages": stages}))
    return lock


def test_matching_model_loads(tmp_path):
    model = tmp_path / "models" / "model.joblib"
    model.parent.mkdir()
    joblib.dump({"weights": [1, 2, 3]}, model)
    lock = write_lock(tmp_path, file_md5(model))
    assert load_model(model, lock) == {"weights": [1, 2, 3]}


class Boom:
    """Unpickling this would run code: the loader must refuse before that."""

    def __reduce__(self):
        return (pytest.fail, ("the tampered pickle was executed",))


def test_tampered_model_is_refused_before_unpickling(tmp_path):
    model = tmp_path / "models" / "model.joblib"
    model.parent.mkdir()
    joblib.dump({"weights": [1, 2, 3]}, model)
    lock = write_lock(tmp_path, file_md5(model))
    joblib.dump(Boom(), model)  # replaced after dvc.lock recorded the good one
    with pytest.raises(ArtifactError, match=r"(?s)does not match .*Refusing to load"):
        load_model(model, lock)


def test_missing_model_and_unknown_output(tmp_path):
    lock = write_lock(tmp_path, "0" * 32)
    with pytest.raises(ArtifactError, match="not found: run `dvc repro`"):
        load_model(tmp_path / "models" / "model.joblib", lock)
    other = tmp_path / "other.joblib"
    joblib.dump(1, other)
    with pytest.raises(ArtifactError, match="not an output of any stage"):
        load_model(other, lock)


def test_only_the_artifacts_module_unpickles():
    """Nothing in the project may load a pickle without the dvc.lock check of load_model."""
    import re

    from tests.support.sandbox import REPO_ROOT

    loader = re.compile(r"\b(joblib\.load|pickle\.loads?|cloudpickle|dill\.load|pd\.read_pickle)\b")
    offenders = []
    for folder in ("src", "benchmarks", "scripts"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if path.name == "artifacts.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if loader.search(line):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_dvc_yaml_declares_the_model_artifact():
    from tests.support.sandbox import REPO_ROOT

    pipeline = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())
    artifact = pipeline["artifacts"]["churn-model"]
    assert artifact["type"] == "model" and artifact["labels"] and artifact["desc"]
    assert artifact["path"] == pipeline["vars"][0]["paths"]["model"]
