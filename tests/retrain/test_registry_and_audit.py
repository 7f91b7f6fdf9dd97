"""The registry's git tags, the audit log's chain, and params edits that keep the file."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from churn.core.errors import ConfigError
from churn.retrain import audit
from churn.retrain.params_file import set_params
from churn.retrain.registry import Registry, RegistryError, artifact_name
from tests.support.sandbox import REPO_ROOT, environment


def git(path, *args):
    return subprocess.run(
        ["git", *args], cwd=path, env=environment(), check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path):
    """A git repository with this project's dvc.yaml and three commits."""
    shutil.copy(REPO_ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    git(tmp_path, "init", "-q", "-b", "main")
    commits = []
    for i in range(3):
        (tmp_path / "x").write_text(str(i))
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-q", "-m", f"commit {i}")
        commits.append(git(tmp_path, "rev-parse", "HEAD").strip())
    return tmp_path, commits


def test_the_artifact_is_the_model_that_dvc_yaml_declares(repo):
    path, _ = repo
    assert artifact_name(path) == "churn-model"
    (path / "dvc.yaml").write_text("stages: {}\n")
    with pytest.raises(ConfigError, match="declares no artifact of type model"):
        artifact_name(path)


def test_register_assign_and_roll_back(repo):
    path, (c0, c1, c2) = repo
    registry = Registry(path)
    assert registry.in_stage("prod") is None and registry.next_version() == "v1.0.0"
    v1 = registry.register(c0, "first")
    registry.assign(v1, "prod", "first in prod")
    v2 = registry.register(c1, "second: reasons and figures")
    assert (v1.tag, v2.tag) == ("churn-model@v1.0.0", "churn-model@v1.1.0")
    assert registry.in_stage("prod") == v1
    registry.assign(v2, "prod", "promoted")
    assert registry.in_stage("prod") == v2
    assert registry.previous_in_stage("prod") == v1
    # Rollback: a new assignment of the previous version; history is kept.
    back = registry.assign(registry.previous_in_stage("prod"), "prod", "rolled back")
    assert back.tag == "churn-model#prod#3" and registry.in_stage("prod") == v1
    assert [a.version.name for a in registry.assignments("prod")] == ["v1.0.0", "v1.1.0", "v1.0.0"]
    # The counter decides, not the tags' timestamps (all made within one second here).
    assert registry.previous_in_stage("prod") == v2
    assert registry.message(v2.tag) == "second: reasons and figures"
    assert git(path, "cat-file", "-t", v2.tag).strip() == "tag"  # annotated
    with pytest.raises(RegistryError, match=r"already registered as churn-model@v1\.0\.0"):
        registry.register(c0, "again")
    with pytest.raises(RegistryError, match=r"no version 'v9.0.0' \(registered: v1.0.0, v1.1.0\)"):
        registry.version("v9.0.0")
    assert registry.register(c2, "third").name == "v1.2.0"


def test_gto_reads_the_same_registry(repo):
    """The tags follow GTO's format: `gto show` lists the versions and the stage."""
    path, (c0, c1, _) = repo
    registry = Registry(path)
    registry.assign(registry.register(c0, "first"), "prod", "in prod")
    registry.register(c1, "second")
    out = subprocess.run(
        ["gto", "show", "--json"], cwd=path, env=environment(), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)["churn-model"]
    assert shown["version"] == "v1.1.0" and shown["stage"]["prod"] == "v1.0.0"


def test_the_audit_log_appends_and_its_chain_finds_a_changed_line(tmp_path):
    path = tmp_path / "logs" / "audit.jsonl"
    audit.append(path, "policy", "retrain", by="policy", reasons=["verdict"], figures={"k": 1})
    audit.append(path, "challenge", "accepted", by="policy", reasons=["gain"], figures={})
    audit.append(path, "promote", "promoted", by="alice", reasons=["approved"])
    entries = audit.read(path)
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[2]["by"] == "alice" and entries[0]["figures"] == {"k": 1}
    assert audit.verify(path) == []
    lines = path.read_text().splitlines()
    tampered = json.loads(lines[1])
    tampered["decision"] = "refused"
    path.write_text("\n".join([lines[0], json.dumps(tampered, sort_keys=True), lines[2]]) + "\n")
    assert audit.verify(path) == ["line 3: the line before it was changed, removed or moved"]
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    problems = audit.verify(path)
    assert problems[0].startswith("line 2: seq 3") and len(problems) == 2


def test_setting_params_keeps_comments_layout_and_other_keys(tmp_path):
    path = tmp_path / "params.yaml"
    shutil.copy(REPO_ROOT / "params.yaml", path)
    before = path.read_text().splitlines()
    set_params(
        path,
        {
            "collect.source": {"kind": "csv", "path": "data/retrain/window"},
            "collect.watch": "data/retrain/window",
            "gate.enforce": False,
            "retrain.compare_with": ["champion"],
        },
    )
    after = path.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert [b.strip() for _, b in changed] == [
        "path: data/retrain/window",
        "watch: data/retrain/window",
        "enforce: false",
        "compare_with: [champion]",
    ]
    params = yaml.safe_load(path.read_text())
    assert params["collect"]["source"] == {"kind": "csv", "path": "data/retrain/window"}
    with pytest.raises(ConfigError, match="no section 'nothing'"):
        set_params(path, {"nothing.here": 1})
