"""Permutation importance on plain records, and a PNG with stable bytes."""

from __future__ import annotations

import pytest

from churn.core.figures import draw_png, draw_pngs
from churn.core.params import TrainParams, load
from churn.explain.importance import importance_table, permutation_scores, plot_importance
from churn.train.fit import train
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import DESIGN, feature_table
from tests.support.telco import TELCO as contract


@pytest.fixture(scope="module")
def fitted(telco_clean):
    table = feature_table(telco_clean)
    params = load(TrainParams, REPO_ROOT / "params.yaml").model_copy(
        update={"cv_folds": 2, "model": "logistic_regression"}
    )
    model, _ = train(table.iloc[:3000], DESIGN, params)
    return model, table.iloc[3000:3800]


def test_importance_covers_the_contract_columns_and_ranks_contract_high(fitted):
    model, holdout = fitted
    rows = importance_table(model, holdout, contract, "roc_auc", n_repeats=3, seed=0)
    assert [r["feature"] for r in rows] != list(contract.feature_names)  # sorted by importance
    assert sorted(r["feature"] for r in rows) == sorted(contract.feature_names)
    top5 = [r["feature"] for r in rows[:5]]
    assert "Contract" in top5 or "tenure" in top5
    importances = [r["importance"] for r in rows]
    assert importances == sorted(importances, reverse=True)
    assert rows == importance_table(model, holdout, contract, "roc_auc", n_repeats=3, seed=0)


def test_png_bytes_are_stable_and_carry_no_software_tag(fitted):
    model, holdout = fitted
    rows = importance_table(model, holdout, contract, "roc_auc", n_repeats=2, seed=0)
    first = draw_png(plot_importance, rows, "roc_auc", dpi=100)
    second = draw_png(plot_importance, rows, "roc_auc", dpi=100)
    assert first.startswith(b"\x89PNG") and first == second
    assert b"matplotlib" not in first.lower()


def test_figures_drawn_in_worker_processes_have_the_same_bytes_in_order(fitted):
    model, holdout = fitted
    rows = importance_table(model, holdout, contract, "roc_auc", n_repeats=2, seed=0)
    jobs = [
        (plot_importance, (rows, "roc_auc")),
        (plot_importance, (rows[:3], "roc_auc")),
        (plot_importance, (rows, "roc_auc", 500)),
    ]
    here = draw_pngs(jobs, dpi=60)
    assert len(set(here)) == 3  # three different figures, so the order is checked
    assert draw_pngs(jobs, dpi=60, processes=2) == here
    assert here[0] == draw_png(plot_importance, rows, "roc_auc", dpi=60)


@pytest.fixture(scope="module")
def small_models(telco_clean):
    """A linear model (scored by its decision function) and a forest (by probabilities)."""
    table = feature_table(telco_clean)
    shipped = load(TrainParams, REPO_ROOT / "params.yaml")
    models = {
        family: train(
            table.iloc[:1500], DESIGN, shipped.model_copy(update={"cv_folds": 2, "model": family})
        )[0]
        for family in ("logistic_regression", "random_forest")
    }
    holdout = table.iloc[1500:1900]
    return models, contract.inputs(holdout), holdout[contract.label]


@pytest.mark.parametrize("scoring", ["roc_auc", "average_precision", "neg_log_loss"])
@pytest.mark.parametrize("family", ["logistic_regression", "random_forest"])
def test_importances_are_scikit_learns_to_the_last_bit(small_models, family, scoring):
    # The front steps run once over every shuffled copy; the numbers must stay those of
    # sklearn's permutation_importance.
    from sklearn.inspection import permutation_importance

    models, X, y = small_models
    expected = permutation_importance(
        models[family], X, y, scoring=scoring, n_repeats=3, random_state=5
    )
    means, stds = permutation_scores(models[family], X, y, scoring, n_repeats=3, seed=5)
    assert means.tolist() == expected.importances_mean.tolist()
    assert stds.tolist() == expected.importances_std.tolist()


def test_lightgbm_importances_are_the_same_bytes_with_the_stages_threads(telco_clean):
    # explain lets a LightGBM model predict the shuffled copies with compute.threads
    # threads: LightGBM scores each row on one thread, so every importance must be the
    # same number as with one; other families are left with their own settings.
    import copy

    from churn.train.families import predict_with_threads

    table = feature_table(telco_clean)
    params = load(TrainParams, REPO_ROOT / "params.yaml").model_copy(
        update={"cv_folds": 2, "model": "lightgbm"}
    )
    model, _ = train(table.iloc[:3000], DESIGN, params)
    holdout = table.iloc[3000:7000]
    one = importance_table(model, holdout, contract, "roc_auc", n_repeats=2, seed=0)
    threaded = copy.deepcopy(model)
    assert predict_with_threads(threaded, 2)
    assert threaded.steps[-1][1].get_params()["n_jobs"] == 2
    assert importance_table(threaded, holdout, contract, "roc_auc", n_repeats=2, seed=0) == one
    X = contract.inputs(holdout)
    assert (threaded.predict_proba(X) == model.predict_proba(X)).all()
    linear, _ = train(table.iloc[:3000], DESIGN, params.model_copy(update={"model": "svm"}))
    assert not predict_with_threads(linear, 2)
