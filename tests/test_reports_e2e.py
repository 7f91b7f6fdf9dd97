"""End to end with the real dvc CLI: the explore stage's plots, and the validation report."""

from __future__ import annotations

import json

import pytest
import yaml

from churn.explore.plots import PLOTS
from tests.conftest import read_telco_text, write_csv
from tests.test_pipeline_e2e import point_collect_at, ran, set_param

pytestmark = pytest.mark.e2e

EXPLORE = "reports/explore"


def up_to_date(box, stage: str) -> bool:
    """Nothing to rerun up to ``stage``, but the source fingerprint (always changed)."""
    status = json.loads(box.dvc("status", stage, "--json").stdout or "{}")
    return all(changes == ["always changed"] for changes in status.values())


@pytest.fixture(scope="module")
def box(pipeline_copy, pipeline_first_run):
    """A copy of the session's pipeline run (the stages up to explore ran once, cold)."""
    assert {"collect", "validate", "clean", "explore"} <= set(ran(pipeline_first_run))
    return pipeline_copy("reports")


def test_explore_writes_statistics_plots_and_report(box):
    stats = json.loads((box.path / EXPLORE / "stats.json").read_text())
    assert stats["rows"] == 7043 and stats["positives"] == 1869
    assert stats["numeric"]["tenure"]["median"] == 29
    for plot in PLOTS:
        png = box.path / EXPLORE / "plots" / f"{plot.name}.png"
        assert png.read_bytes().startswith(b"\x89PNG"), png
    html = (box.path / EXPLORE / "report.html").read_text()
    assert html.count('<img src="data:image/png;base64,') == len(PLOTS)
    assert (box.path / "reports/validation/raw.html").exists()


def test_dvc_plots_show_lists_the_explore_images(box):
    shown = json.loads(box.dvc("plots", "show", "--json").stdout)["data"]
    images = {
        name: entries
        for name, entries in shown.items()
        if name.startswith(f"{EXPLORE}/plots/")
        for entry in entries
        if entry["type"] == "image"
    }
    assert sorted(images) == sorted(f"{EXPLORE}/plots/{p.name}.png" for p in PLOTS)
    box.dvc("plots", "show", "-o", "plots-html")
    index = (box.path / "plots-html" / "index.html").read_text()
    for plot in PLOTS:
        assert f"{plot.name}.png" in index


def test_explore_reruns_on_its_params_only(box):
    assert ran(box.dvc("repro", "explore")) == []
    set_param(box, "explore.histogram_bins", 12)
    before = (box.path / EXPLORE / "plots" / "histograms.png").read_bytes()
    assert ran(box.dvc("repro", "explore")) == ["explore"]
    assert (box.path / EXPLORE / "plots" / "histograms.png").read_bytes() != before
    box.run("git", "checkout", "--", "params.yaml")
    box.dvc("repro", "explore")  # restored from the run cache, or rerun: the same bytes
    assert (box.path / EXPLORE / "plots" / "histograms.png").read_bytes() == before
    assert up_to_date(box, "explore")


def test_failed_validation_leaves_its_report_to_open(box):
    lock_before = yaml.safe_load((box.path / "dvc.lock").read_text())["stages"]["validate"]
    data = read_telco_text().head(1500).copy()
    data.loc[9, "Contract"] = "Three year"
    write_csv(data, box.path / "data" / "incoming" / "bad.csv")
    point_collect_at(box, "data/incoming/bad.csv")
    try:
        result = box.dvc("repro", "explore", check=False)
        assert result.returncode != 0
        assert ran(result) == ["collect", "validate"]
        assert "reports/validation/raw.html" in result.stderr  # the stage says where to look
        report = (box.path / "reports/validation/raw.html").read_text()
        assert "FAILED: 1 of" in report
        assert "data/incoming/bad.csv:11" in report and "&#x27;Three year&#x27;" in report
        # DVC committed nothing of the failed stage: the lock still holds the good run
        lock_after = yaml.safe_load((box.path / "dvc.lock").read_text())["stages"]["validate"]
        assert lock_after == lock_before
        assert "validate" in box.dvc("status").stdout
    finally:
        box.run("git", "checkout", "--", "params.yaml")
    # back to the good source: the passing run and its report come back from the cache
    box.dvc("repro", "explore")
    assert "PASSED: all" in (box.path / "reports/validation/raw.html").read_text()
    assert up_to_date(box, "explore")
