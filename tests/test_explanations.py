"""Permutation importance on plain records, and a PNG with stable bytes."""

from __future__ import annotations

import pytest

from churn import contract
from churn.config import load_section
from churn.explanations import importance_png, importance_table
from churn.features import build_feature_table
from churn.modeling import train
from churn.sandbox import REPO_ROOT

EDGES = [12, 24, 48]


@pytest.fixture(scope="module")
def fitted(telco_clean):
    table = build_feature_table(telco_clean, EDGES)
    params = load_section("train", REPO_ROOT / "params.yaml").model_copy(update={"cv_folds": 2})
    model, _ = train(table.iloc[:3000], params, EDGES)
    return model, table.iloc[3000:3800]


def test_importance_covers_the_contract_columns_and_ranks_contract_high(fitted):
    model, holdout = fitted
    rows = importance_table(model, holdout, "roc_auc", n_repeats=3, seed=0)
    assert [r["feature"] for r in rows] != list(contract.FEATURE_NAMES)  # sorted by importance
    assert sorted(r["feature"] for r in rows) == sorted(contract.FEATURE_NAMES)
    top5 = [r["feature"] for r in rows[:5]]
    assert "Contract" in top5 or "tenure" in top5
    importances = [r["importance"] for r in rows]
    assert importances == sorted(importances, reverse=True)
    assert rows == importance_table(model, holdout, "roc_auc", n_repeats=3, seed=0)


def test_png_bytes_are_stable_and_carry_no_software_tag(fitted):
    model, holdout = fitted
    rows = importance_table(model, holdout, "roc_auc", n_repeats=2, seed=0)
    first, second = importance_png(rows, "roc_auc"), importance_png(rows, "roc_auc")
    assert first.startswith(b"\x89PNG") and first == second
    assert b"matplotlib" not in first.lower()
