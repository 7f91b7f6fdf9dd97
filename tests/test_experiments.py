"""Ranking experiments from `dvc exp show --json` (the DVC 3 layout)."""

from __future__ import annotations

import json

import pytest

from churn.core.errors import ChurnError
from churn.experiments.rank import changed_params, main, parse, rank, table


def rev(name, sha, auc, model, cv=0.85, error=None):
    return {
        "rev": sha,
        "name": name,
        "error": error,
        "experiments": None,
        "data": None
        if error
        else {
            "rev": sha,
            "metrics": {
                "metrics/evaluate/metrics.json": {"data": {"test": {"roc_auc": auc}}},
                "metrics/train.json": {"data": {"cv": {"roc_auc_mean": cv}}},
            },
            "params": {"params.yaml": {"data": {"train": {"model": model, "seed": 42}}}},
        },
    }


SHOWN = [
    {**rev(None, "workspace", 0.83, "logistic_regression"), "name": None},
    {
        **rev("main", "a" * 40, 0.83, "logistic_regression"),
        "experiments": [
            {"name": "exp-tree", "revs": [rev("exp-tree", "b" * 40, 0.82, "decision_tree")]},
            {"name": "exp-hgb", "revs": [rev("exp-hgb", "c" * 40, 0.84, "hist_gradient_boosting")]},
            {"name": "exp-bad", "revs": [rev("exp-bad", "d" * 40, 0, "mlp", error={"msg": "x"})]},
        ],
    },
]


def test_parse_and_rank_best_first_failed_last():
    key, ranked = rank(parse(SHOWN), "test.roc_auc")
    assert key == "metrics/evaluate/metrics.json:test.roc_auc"
    assert [e.name for e in ranked] == ["exp-hgb", "main", "workspace", "exp-tree", "exp-bad"]
    assert ranked[-1].failed
    _, ascending = rank(parse(SHOWN), "test.roc_auc", lower_is_better=True)
    assert ascending[0].name == "exp-tree"


def test_table_shows_the_metric_and_the_params_that_changed():
    experiments = parse(SHOWN)
    assert changed_params(experiments) == ["train.model"]
    key, ranked = rank(experiments, "test.roc_auc")
    text = table(ranked, key, ["cv.roc_auc_mean", "no.such.metric"], top=3)
    lines = text.splitlines()
    assert lines[0] == "| rank | experiment | rev | test.roc_auc | cv.roc_auc_mean | train.model |"
    assert lines[2] == "| 1 | exp-hgb | ccccccc | 0.8400 | 0.8500 | hist_gradient_boosting |"
    assert len(lines) == 5


def test_unknown_metric_lists_the_known_ones():
    with pytest.raises(ChurnError, match=r"no metric 'auc'.*'test.roc_auc'"):
        rank(parse(SHOWN), "auc")


def test_cli_reads_a_file(tmp_path, capsys):
    path = tmp_path / "shown.json"
    path.write_text(json.dumps(SHOWN))
    assert main(["--metric", "cv.roc_auc_mean", "--input", str(path), "--also"]) == 0
    assert "| 1 |" in capsys.readouterr().out
    assert main(["--metric", "nope", "--input", str(path)]) == 1
