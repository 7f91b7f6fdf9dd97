"""End to end: the real `dvc` CLI on a temporary copy of this repository."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml

from tests.browser import evaluate
from tests.conftest import read_telco_text, write_csv
from tests.support import sandbox

pytestmark = pytest.mark.e2e

STAGES = [
    "collect",
    "validate",
    "clean",
    "featurize",
    "split",
    "train",
    "evaluate",
    "explain",
    "gate",
    "explore",
    "report",
    "stream",
    "monitor",
]
AFTER_TRAIN = ["train", "evaluate", "explain", "gate", "report", "monitor"]
# explain, gate and monitor write only small outputs committed with dvc.lock (cache:
# false): on a fresh clone they are up to date already, so a cold repro runs the others.
COLD = [s for s in STAGES if s not in ("explain", "gate", "monitor")]


def ran(result) -> list[str]:
    """The stages a `dvc repro` / `dvc exp run` actually executed, in order."""
    return re.findall(r"Running stage '([\w@-]+)'", result.stdout + result.stderr)


def lock_hashes(box) -> dict[str, str]:
    lock = yaml.safe_load((box.path / "dvc.lock").read_text())
    return {
        out["path"]: out["md5"]
        for stage in lock["stages"].values()
        for out in stage.get("outs", [])
    }


def set_param(box, dotted: str, value, file: str = "params.yaml") -> None:
    """Set key ``dotted`` of a params file of the sandbox (params.yaml, or the problem file)."""
    path = box.path / file
    data = yaml.safe_load(path.read_text())
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[leaf] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def point_collect_at(box, path: str) -> None:
    """Use the file ``path`` as the source (and as what DVC watches for collect)."""
    set_param(box, "collect.source.path", path)
    set_param(box, "collect.watch", path)


@pytest.fixture(scope="module")
def box(pipeline_copy):
    """A copy of the sandbox where the whole pipeline has run once, from an empty cache."""
    return pipeline_copy("e2e")


def test_cold_repro_runs_every_stage_once(pipeline_first_run):
    assert ran(pipeline_first_run) == COLD


def test_cold_repro_trains_a_model_good_enough(box):
    metrics = json.loads((box.path / "metrics/evaluate/metrics.json").read_text())
    assert metrics["test"]["roc_auc"] >= 0.83
    assert metrics["validation"]["roc_auc"] >= 0.83
    assert (box.path / "models/model.joblib").stat().st_size > 0
    shown = box.dvc("metrics", "show", "--json").stdout
    assert "roc_auc" in shown
    # train.model: auto: the table of families is a metric and a plot.
    train = json.loads(shown)[""]["data"]["metrics/train.json"]["data"]
    assert train["model"] == train["selection"]["winner"]
    assert {"logistic_regression", "lightgbm", "mlp"} <= set(train["selection"]["families"])
    plots = box.dvc("plots", "show", "--json").stdout
    assert "ROC" in plots and "Calibration" in plots
    assert "Model families" in plots


def test_cold_repro_writes_a_stakeholder_report_that_renders_offline(box):
    decision = json.loads((box.path / "models/decision.json").read_text())
    test = json.loads((box.path / "metrics/evaluate/metrics.json").read_text())["test"]
    seen = evaluate(
        box.path / "reports/stakeholder/report.html",
        "{text: document.body.innerText,"
        " widths: Array.from(document.images).map(i => i.naturalWidth)}",
    )
    assert len(seen["widths"]) == 5 and min(seen["widths"]) > 0, seen["widths"]
    assert f"at least {decision['threshold']:.2f}" in seen["text"]
    assert f"earn {test['profit_tuned_threshold']:.2f} per customer" in seen["text"]


def test_cold_repro_writes_a_slide_deck_with_the_run_numbers(box):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    decision = json.loads((box.path / "models/decision.json").read_text())
    test = json.loads((box.path / "metrics/evaluate/metrics.json").read_text())["test"]
    deck = Presentation(box.path / "reports/stakeholder/slides.pptx")
    titles = [s.shapes.title.text for s in deck.slides]
    assert len(titles) == 10 and titles[1] == "The problem and its economics", titles
    pictures = [
        shape
        for s in deck.slides
        for shape in s.shapes
        if shape.shape_type == MSO_SHAPE_TYPE.PICTURE
    ]
    assert len(pictures) == 5  # the report's five figures
    cover = " ".join(" ".join(sh.text_frame.text for sh in deck.slides[0].shapes).split())
    assert f"at least {decision['threshold']:.2f}" in cover
    assert f"{test['profit_tuned_threshold']:.2f} per customer" in cover


def test_second_repro_runs_nothing(box):
    result = box.dvc("repro")
    # Only the source fingerprint runs (always_changed: DVC cannot hash a database or an
    # API); it gives the same bytes, so collect and everything after it are skipped.
    assert ran(result) == []
    assert "Stage 'collect' didn't change, skipping" in result.stdout


def test_editing_a_module_that_train_imports_indirectly_makes_train_stale(box):
    # `python -m churn.train` imports churn.train.fit, which imports churn.train.cv.
    module = box.path / "src/churn/train/cv.py"
    original = module.read_text()
    try:
        module.write_text(original + "\n# an edit that dvc must notice\n")
        stale = json.loads(box.dvc("status", "--json").stdout)
        assert {"train": [{"changed deps": {"src/churn/train": "modified"}}]}.items() <= (
            stale.items()
        )
        assert not {"collect", "validate", "clean", "featurize", "split"} & set(stale)
    finally:
        module.write_text(original)
    assert json.loads(box.dvc("status", "--json").stdout) == {}


def test_changing_a_train_param_reruns_only_train_and_evaluate(box):
    set_param(box, "train.logistic_regression.C", 0.5)
    assert ran(box.dvc("repro")) == AFTER_TRAIN
    set_param(box, "split.seed", 7)
    assert ran(box.dvc("repro")) == ["split", *AFTER_TRAIN[:-1], "stream", "monitor"]
    box.run("git", "checkout", "--", "params.yaml")
    box.dvc("repro")  # back to the committed parameters (restored from the run cache)


def test_exp_run_creates_a_listed_experiment(box):
    box.commit("lock after first run")
    result = box.dvc("exp", "run", "-n", "e2e-c-small", "-S", "train.logistic_regression.C=0.05")
    assert ran(result) == AFTER_TRAIN
    shown = json.loads(box.dvc("exp", "show", "--json").stdout)
    names = {
        exp.get("name")
        for commit in shown
        for exp_ref in (commit.get("experiments") or [])
        for exp in exp_ref.get("revs", [])
    }
    assert "e2e-c-small" in names


def test_two_cold_runs_give_identical_outputs(box):
    first = lock_hashes(box)
    shutil.rmtree(box.path / ".dvc" / "cache")
    shutil.rmtree(box.path / ".cache", ignore_errors=True)  # no kept CV scores either
    box.dvc("repro", "-f")
    assert lock_hashes(box) == first
    # Again with every family's scores kept by that run: the same model and metrics.
    assert any((box.path / ".cache" / "churn" / "cv").glob("*.npz"))
    box.dvc("repro", "-f", "--single-item", "train")
    assert lock_hashes(box) == first


def test_source_breaking_the_contract_stops_at_validate(tmp_path):
    bad = sandbox.create(tmp_path / "repo")
    data = read_telco_text().head(2000).copy()
    data.loc[5, "customerID"] = data.loc[6, "customerID"]
    data.loc[9, "Contract"] = "Three year"
    write_csv(data, bad.path / "data" / "incoming" / "bad.csv")
    point_collect_at(bad, "data/incoming/bad.csv")
    result = bad.dvc("repro", check=False)
    assert result.returncode != 0
    assert ran(result) == ["collect", "validate"]
    output = result.stderr + result.stdout
    assert "failed to reproduce 'validate'" in output
    assert "'Three year'" in output and "data/incoming/bad.csv:11" in output
    assert "customerID" in output and "is unique" in output
    assert not (bad.path / "models" / "model.joblib").exists()
    assert not (bad.path / "data" / "interim" / "customers_clean.parquet").exists()
