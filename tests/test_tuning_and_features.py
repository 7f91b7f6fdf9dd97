"""Feature steps, calibration and the three tuning methods, on a slice of the bundled data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from churn.core.errors import ConfigError
from churn.core.params import RangeSpec, TrainParams, TuningParams, load
from churn.evaluate.metrics import classification_metrics
from churn.train.families import PARAM_PREFIX
from churn.train.fit import fit_model
from churn.train.pipeline import build_pipeline, chi2_shifted, design_for
from churn.train.tuning import IntLogUniform, distribution, grid_values, search
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import DESIGN, PROBLEM, feature_table
from tests.support.telco import TELCO as contract


@pytest.fixture(scope="module")
def table(telco_clean):
    return feature_table(telco_clean)


@pytest.fixture(scope="module")
def params() -> TrainParams:
    # One family (the shipped params may say auto: every family, see test_selection.py).
    shipped = load(TrainParams, REPO_ROOT / "params.yaml")
    return shipped.model_copy(update={"model": "logistic_regression"})


def variant(params: TrainParams, **changes) -> TrainParams:
    features = params.features.model_copy(update=changes.pop("features", {}))
    tuning = params.tuning.model_copy(update=changes.pop("tuning", {"method": "none"}))
    return params.model_copy(
        update={"cv_folds": 3, "features": features, "tuning": tuning, **changes}
    )


def with_expand(columns: list[str]):
    """The Telco design with the problem file's ``features.expand`` set to ``columns``."""
    return design_for(contract, PROBLEM.features.model_copy(update={"expand": columns}))


@pytest.mark.parametrize(
    ("features", "expand"),
    [
        ({"expansion": "none"}, []),
        ({"expansion": "splines", "n_knots": 4}, ["tenure"]),
        ({"expansion": "interactions"}, ["tenure", "MonthlyCharges"]),
        ({"expansion": "polynomial", "degree": 3}, ["tenure", "num_services"]),
        ({"selection": "mutual_info", "k": 10}, ["tenure"]),
        ({"selection": "chi2", "k": 10}, ["tenure"]),
        ({"selection": "model", "k": 10}, ["tenure"]),
    ],
)
def test_feature_steps_fit_inside_the_pipeline(table, params, features, expand):
    train_part, holdout = table.iloc[:2500], table.iloc[2500:4000]
    result = fit_model(train_part, with_expand(expand), variant(params, features=features))
    probability = result.model.predict_proba(contract.inputs(holdout))[:, 1]
    assert classification_metrics(holdout["churn"], probability, 0.5)["roc_auc"] > 0.8
    steps = dict(result.model.steps)
    if "k" in features:
        assert (
            steps["select"]
            .transform(
                steps["preprocess"].transform(steps["features"].transform(contract.inputs(holdout)))
            )
            .shape[1]
            == 10
        )


def test_expansion_needs_numeric_columns(params):
    splines = params.features.model_copy(update={"expansion": "splines"})
    with pytest.raises(ConfigError, match=r"features.expand .*\['gender'\]"):
        build_pipeline(
            with_expand(["gender"]),
            "logistic_regression",
            params.logistic_regression.model_dump(),
            0,
            splines,
        )


def test_chi2_shift_accepts_negative_columns():
    X = np.array([[-1.0, 0.0], [1.0, 1.0], [-1.0, 0.0], [1.0, 1.0]])
    scores, _ = chi2_shifted(X, np.array([0, 1, 0, 1]))
    assert np.all(np.isfinite(scores)) and scores[0] > 0


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_wraps_the_fitted_model_and_takes_plain_records(table, params, method):
    result = fit_model(table.iloc[:2500], DESIGN, variant(params, calibration=method))
    p = result.model.predict_proba(contract.inputs(table.iloc[2500:3000]))[:, 1]
    assert p.min() >= 0 and p.max() <= 1
    assert type(result.model.named_steps["model"]).__name__ == "CalibratedClassifierCV"
    assert type(result.model.steps[0][1]).__name__ == "FeatureStep"


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_svm_kernels_give_probabilities(table, params, kernel):
    svm = params.svm.model_copy(update={"kernel": kernel, "C": 0.5})
    result = fit_model(table.iloc[:1500], DESIGN, variant(params, model="svm", svm=svm))
    p = result.model.predict_proba(contract.inputs(table.iloc[1500:2500]))[:, 1]
    assert classification_metrics(table["churn"].iloc[1500:2500], p, 0.5)["roc_auc"] > 0.75


def test_grid_values_from_lists_and_ranges():
    assert grid_values([1, "a", None], 3) == [1, "a", None]
    assert grid_values(RangeSpec(low=0.01, high=1.0, log=True), 3) == [0.01, 0.1, 1.0]
    assert grid_values(RangeSpec(low=2, high=10, integer=True), 3) == [2, 6, 10]
    assert grid_values(RangeSpec(low=0.0, high=1.0), 5) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_distributions_stay_in_range_and_are_seeded():
    ints = IntLogUniform(5, 200)
    draws = ints.rvs(size=2000, random_state=0)
    assert draws.min() >= 5 and draws.max() <= 200 and draws.dtype.kind == "i"
    assert np.median(draws) < 60  # log scale: mass towards the low end
    assert np.array_equal(draws, ints.rvs(size=2000, random_state=0))
    floats = distribution(RangeSpec(low=0.001, high=1.0, log=True)).rvs(size=500, random_state=1)
    assert floats.min() >= 0.001 and floats.max() <= 1.0
    assert distribution(["a", "b"]) == ["a", "b"]


SPACE = {"C": RangeSpec(low=0.01, high=10.0, log=True), "class_weight": [None, "balanced"]}


@pytest.mark.parametrize("method", ["grid", "random", "bayes"])
def test_each_search_method_is_deterministic_and_picks_its_best(table, params, method):
    small = table.iloc[:1500]
    tuning = TuningParams(method=method, n_iter=4, grid_points=2, verbose=0)
    X, y = contract.inputs(small), small["churn"]
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)

    def run():
        pipe = build_pipeline(
            DESIGN, "logistic_regression", params.logistic_regression.model_dump(), 0
        )
        return search(pipe, X, y, SPACE, "model__", "logistic_regression", tuning, cv, 0)

    first, second = run(), run()
    assert len(first.trials) == 4
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert [t.scores for t in first.trials] == [t.scores for t in second.trials]
    assert first.best.mean == max(t.mean for t in first.trials)
    for t in first.trials:
        assert 0.01 <= t.params["C"] <= 10 and t.params["class_weight"] in (None, "balanced")


def test_tuned_params_end_up_in_the_fitted_model(table, params):
    tuning = {"method": "random", "n_iter": 3, "verbose": 0}
    space = {**params.search_space, "decision_tree": {"max_depth": [2, 3, 4]}}
    result = fit_model(
        table.iloc[:1500],
        DESIGN,
        variant(params, model="decision_tree", tuning=tuning, search_space=space),
    )
    depth = result.model.named_steps["model"].max_depth
    assert depth == result.params["max_depth"] == result.search.best.params["max_depth"]
    assert result.cv.scores == result.search.best.scores


def test_svm_search_reaches_the_wrapped_estimator(table, params):
    assert PARAM_PREFIX["svm"] == "model__estimator__"
    tuning = {"method": "grid", "grid_points": 2, "verbose": 0}
    space = {**params.search_space, "svm": {"C": [0.01, 0.1]}}
    result = fit_model(
        table.iloc[:1200],
        DESIGN,
        variant(params, model="svm", tuning=tuning, search_space=space),
    )
    assert result.params["C"] == result.model.named_steps["model"].estimator.C


def test_unknown_or_missing_search_space_is_a_clear_error(table, params):
    bad = {**params.search_space, "logistic_regression": {"gamma": [1, 2]}}
    with pytest.raises(ConfigError, match=r"search_space\.logistic_regression: unknown .*'gamma'"):
        fit_model(
            table.iloc[:500],
            DESIGN,
            variant(params, tuning={"method": "grid"}, search_space=bad),
        )
    empty = {k: v for k, v in params.search_space.items() if k != "logistic_regression"}
    with pytest.raises(ConfigError, match="missing or empty"):
        fit_model(
            table.iloc[:500],
            DESIGN,
            variant(params, tuning={"method": "bayes"}, search_space=empty),
        )
