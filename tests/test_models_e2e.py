"""End to end with the real dvc CLI: the business outputs, a queued sweep ranked by
`make exp-best`, and the quality gate stopping the pipeline."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.test_pipeline_e2e import ran, set_param

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def box(pipeline_copy):
    return pipeline_copy("models-e2e")


def test_decision_file_and_business_metrics(box):
    decision = json.loads((box.path / "models/decision.json").read_text())
    metrics = json.loads((box.path / "metrics/evaluate/metrics.json").read_text())
    assert 0 < decision["threshold"] < 1 and decision["chosen_on"] == "validation"
    assert 0 < decision["contacted_share"]["test"] < 1
    lock = yaml.safe_load((box.path / "dvc.lock").read_text())
    model_md5 = next(
        o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == "models/model.joblib"
    )
    assert decision["model"] == {"path": "models/model.joblib", "md5": model_md5}
    test = metrics["test"]
    # The threshold chosen on validation beats 0.5 and contacting everyone on test too.
    assert test["profit_tuned_threshold"] > test["profit_default_threshold"]
    assert test["profit_tuned_threshold"] > test["profit_contact_all"]
    assert test["emp"] >= test["profit_tuned_threshold"] - 1.0
    assert test["top_decile_lift"] >= 2.5
    plots = box.dvc("plots", "show", "--json").stdout
    for name in ("Profit", "Cumulative-gains", "Lift", "permutation_importance"):
        assert name in plots
    assert (box.path / "reports/explain/permutation_importance.png").read_bytes()[:4] == b"\x89PNG"


def test_queued_sweep_then_exp_best_ranks_it(box):
    queued = box.dvc(
        "exp",
        "run",
        "--queue",
        "-S",
        "train.model=logistic_regression,decision_tree",
        "-S",
        "gate.enforce=false",
    )
    assert queued.stdout.count("Queued experiment") == 2
    box.dvc("exp", "run", "--run-all", "-j", "1")
    result = box.make("exp-best", "METRIC=test.roc_auc")
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| rank | experiment | rev | test.roc_auc |")
    body = rows[1:]  # the separator line starts with "|-": not in rows
    models = [row.split("|")[-2].strip() for row in body]
    assert {"logistic_regression", "decision_tree"} <= set(models)
    values = [float(row.split("|")[4]) for row in body]
    assert values == sorted(values, reverse=True)
    # The tree is the weaker family on this data: ranked last.
    assert models[-1] == "decision_tree" and "FAILED" not in result.stdout


def test_gate_fails_clearly_when_the_bar_is_above_the_model(box):
    achieved = json.loads((box.path / "metrics/evaluate/metrics.json").read_text())["test"]
    set_param(box, "gate.min_test_roc_auc", 0.99, file="problems/telco.yaml")
    result = box.dvc("repro", check=False)
    assert result.returncode != 0
    assert ran(result) == ["gate"]  # nothing else reruns for a new bar
    output = result.stdout + result.stderr
    assert "does not clear the quality gate" in output
    assert f"test ROC-AUC {achieved['roc_auc']:.4f} < 0.99 (gate.min_test_roc_auc)" in output
    assert "failed to reproduce 'gate'" in output
    set_param(box, "gate.enforce", False)
    assert box.dvc("repro").returncode == 0
    assert json.loads((box.path / "metrics/gate.json").read_text()) == {"passed": False}
    box.run("git", "checkout", "--", "params.yaml", "problems/telco.yaml")
