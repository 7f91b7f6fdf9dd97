"""The cross-validation cache: a kept result is the computed result, and a change misses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from churn.core.params import TrainParams, load
from churn.train import score_cache
from churn.train.pipeline import build_head, engineered_inputs
from churn.train.score_cache import ScoreCache
from churn.train.selection import score_families
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import DESIGN, feature_table

FAMILIES = ["logistic_regression", "decision_tree", "lightgbm"]


@pytest.fixture(scope="module")
def table(telco_clean):
    return feature_table(telco_clean).iloc[:900]


@pytest.fixture(scope="module")
def params() -> TrainParams:
    return load(TrainParams, REPO_ROOT / "params.yaml")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(score_cache.ENV, str(tmp_path))
    return tmp_path / "cv"


def heads(params: TrainParams, families=FAMILIES, **overrides) -> dict:
    out = {}
    for family in families:
        hyper = {**params.family_params(family), **overrides.get(family, {})}
        out[family] = build_head(DESIGN.columns, family, hyper, params.seed, params.features)
    return out


def run(table, params, heads_, cache=True):
    X, y = engineered_inputs(table, DESIGN.columns), table[DESIGN.label]
    kept = ScoreCache.open(X, y, 3, params.seed) if cache else None
    return score_families(heads_, X, y, 3, params.seed, n_jobs=2, cache=kept)


def assert_same(one, two):
    assert list(one) == list(two)
    for family in one:
        assert one[family].scores == two[family].scores, family
        np.testing.assert_array_equal(one[family].out_of_fold, two[family].out_of_fold)


def test_a_kept_result_is_the_computed_one(table, params, cache_dir):
    fresh = run(table, params, heads(params), cache=False)
    first = run(table, params, heads(params))
    assert not any(s.cached for s in first.values())
    assert len(list(cache_dir.glob("*.npz"))) == len(FAMILIES)
    second = run(table, params, heads(params))
    assert all(s.cached for s in second.values())
    assert_same(fresh, first)
    assert_same(fresh, second)


def test_a_changed_family_parameter_rescores_that_family_only(table, params, cache_dir):
    run(table, params, heads(params))
    changed = heads(params, logistic_regression={"C": 0.01})
    again = run(table, params, changed)
    assert {f: s.cached for f, s in again.items()} == {
        "logistic_regression": False,
        "decision_tree": True,
        "lightgbm": True,
    }
    assert_same(again, run(table, params, changed, cache=False))
    assert len(list(cache_dir.glob("*.npz"))) == len(FAMILIES) + 1


def test_other_rows_or_labels_miss(table, params, cache_dir):
    run(table, params, heads(params))
    fewer = run(table.iloc[:800], params, heads(params))
    assert not any(s.cached for s in fewer.values())
    flipped = table.copy()
    flipped[DESIGN.label] = flipped[DESIGN.label].iloc[::-1].to_numpy()
    assert not any(s.cached for s in run(flipped, params, heads(params)).values())


def test_a_damaged_entry_is_computed_again(table, params, cache_dir):
    first = run(table, params, heads(params))
    for entry in cache_dir.glob("*.npz"):
        entry.write_bytes(b"not an npz file")
    again = run(table, params, heads(params))
    assert not any(s.cached for s in again.values())
    assert_same(first, again)


def test_turned_off(table, params, tmp_path, monkeypatch):
    monkeypatch.setenv(score_cache.ENV, "off")
    assert score_cache.folder() is None
    X, y = engineered_inputs(table, DESIGN.columns), table[DESIGN.label]
    assert ScoreCache.open(X, y, 3, params.seed) is None


def test_the_key_is_the_same_in_another_process(table, params, tmp_path, cache_dir):
    """Keys hash pickled objects: a new process (the next `dvc repro`) must find them."""
    path = tmp_path / "table.parquet"
    table.to_parquet(path)
    script = textwrap.dedent(
        f"""
        import pandas as pd
        from churn.core.params import TrainParams, load
        from churn.train.pipeline import build_head, engineered_inputs
        from churn.train.score_cache import ScoreCache
        from tests.support.telco import DESIGN
        params = load(TrainParams, {str(REPO_ROOT / "params.yaml")!r})
        table = pd.read_parquet({str(path)!r})
        X, y = engineered_inputs(table, DESIGN.columns), table[DESIGN.label]
        cache = ScoreCache.open(X, y, 3, params.seed)
        for family in {FAMILIES!r}:
            head = build_head(
                DESIGN.columns, family, params.family_params(family), params.seed, params.features
            )
            print(cache.key(head))
        """
    )
    env = {**os.environ, score_cache.ENV: str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    import pandas as pd

    reread = pd.read_parquet(path)
    X, y = engineered_inputs(reread, DESIGN.columns), reread[DESIGN.label]
    here = ScoreCache.open(X, y, 3, params.seed)
    assert out.stdout.split() == [here.key(h) for h in heads(params).values()]


def test_prune_keeps_the_most_recently_used(tmp_path):
    entries = []
    for n in range(5):
        entry = tmp_path / f"{n}.npz"
        entry.write_bytes(b"x")
        os.utime(entry, (1_000_000 + n, 1_000_000 + n))
        entries.append(entry)
    score_cache.prune(entries, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.npz", "4.npz"]


def test_a_folder_that_cannot_be_written_costs_speed_not_the_run(table, params, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    X, y = engineered_inputs(table, DESIGN.columns), table[DESIGN.label]
    unwritable = ScoreCache(blocker / "cv", "data", "code")  # its parent is a file
    scores = score_families(
        heads(params, ["logistic_regression"]), X, y, 3, params.seed, cache=unwritable
    )
    assert scores["logistic_regression"].scores and not scores["logistic_regression"].cached
    assert "cross-validation scores not kept in" in caplog.text and score_cache.ENV in caplog.text
