"""train.model: auto: every family on the same folds, the simplest one close to the best wins."""

from __future__ import annotations

import io
import math

import joblib
import numpy as np
import pytest
import yaml
from sklearn.model_selection import cross_val_predict, cross_validate

from churn.core.errors import ConfigError
from churn.core.params import TrainParams, load
from churn.evaluate.business import Economics
from churn.train.cv import folds
from churn.train.fit import family_rows, fit_model, training_metrics
from churn.train.pipeline import build_head, engineered_inputs
from churn.train.selection import FamilyScore, choose, compare, score_families
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import DESIGN, feature_table

#: Cheap families (a tree ensemble, a calibrated model and a plain linear one among them).
FAST = ["logistic_regression", "svm", "decision_tree", "lightgbm"]


@pytest.fixture(scope="module")
def table(telco_clean):
    return feature_table(telco_clean).iloc[:1500]


@pytest.fixture(scope="module")
def params() -> TrainParams:
    return load(TrainParams, REPO_ROOT / "params.yaml").model_copy(update={"cv_folds": 3})


def heads(params: TrainParams, families: list[str]) -> dict:
    return {
        f: build_head(DESIGN.columns, f, params.family_params(f), params.seed, params.features)
        for f in families
    }


def test_scores_are_those_of_cross_validating_each_whole_pipeline(table, params):
    X, y = engineered_inputs(table, DESIGN.columns), table[DESIGN.label]
    scores = score_families(heads(params, FAST), X, y, 3, params.seed, n_jobs=2)
    assert list(scores) == FAST
    for family, head in heads(params, FAST).items():
        cv = folds(3, params.seed)
        expected = cross_validate(head, X, y, cv=cv, scoring="roc_auc")["test_score"]
        assert scores[family].scores == [float(s) for s in expected], family
        oof = cross_val_predict(head, X, y, cv=cv, method="predict_proba")[:, 1]
        np.testing.assert_array_equal(scores[family].out_of_fold, oof)


def test_the_shared_steps_include_feature_selection(table, params):
    selecting = params.model_copy(
        update={"features": params.features.model_copy(update={"selection": "chi2", "k": 12})}
    )
    X, y = engineered_inputs(table, DESIGN.columns), table[DESIGN.label]
    family = ["logistic_regression", "decision_tree"]
    scores = score_families(heads(selecting, family), X, y, 3, params.seed)
    for name, head in heads(selecting, family).items():
        assert "select" in head.named_steps
        expected = cross_validate(head, X, y, cv=folds(3, params.seed), scoring="roc_auc")
        assert scores[name].scores == [float(s) for s in expected["test_score"]]


def test_scores_do_not_depend_on_the_number_of_threads(table, params):
    X, y = engineered_inputs(table, DESIGN.columns), table[DESIGN.label]
    one = score_families(heads(params, FAST), X, y, 3, params.seed, n_jobs=1)
    two = score_families(heads(params, FAST), X, y, 3, params.seed, n_jobs=2)
    for family in FAST:
        assert one[family].scores == two[family].scores
        np.testing.assert_array_equal(one[family].out_of_fold, two[family].out_of_fold)


def scored(name: str, scores: list[float]) -> FamilyScore:
    return FamilyScore(name, scores, np.zeros(1))


def test_the_corrected_standard_error_by_hand():
    best = scored("b", [0.85, 0.86, 0.84, 0.87, 0.855])
    other = scored("o", [0.84, 0.84, 0.84, 0.84, 0.84])
    d = np.array([0.01, 0.02, 0.0, 0.03, 0.015])
    variance = ((d - d.mean()) ** 2).sum() / 4
    comparison = compare(best, other, 1.0)
    assert comparison.difference == pytest.approx(0.015)
    # Nadeau-Bengio: (1/k + test/train) * variance, test/train = 1/(k-1) for k folds.
    assert comparison.standard_error == pytest.approx(math.sqrt((1 / 5 + 1 / 4) * variance))
    assert not comparison.within  # 0.015 > 0.0112


def test_the_simplest_family_within_one_standard_error_wins():
    simple = scored("simple", [0.80, 0.83, 0.81, 0.84, 0.79])
    # Better on average (0.0012), but by less than the noise of the paired differences.
    noisy = scored("noisy", [0.804, 0.828, 0.813, 0.841, 0.790])
    choice = choose({"simple": simple, "noisy": noisy}, standard_errors=1.0)
    assert (choice.best, choice.winner) == ("noisy", "simple")
    assert choice.comparisons["simple"].within and choice.comparisons["noisy"].difference == 0
    # With no margin, the best mean wins.
    assert choose({"simple": simple, "noisy": noisy}, standard_errors=0).winner == "noisy"


def test_a_family_better_on_every_fold_wins_over_a_simpler_one():
    simple = scored("simple", [0.80, 0.83, 0.81, 0.84, 0.79])
    better = scored("better", [0.811, 0.839, 0.821, 0.852, 0.799])
    choice = choose({"simple": simple, "better": better}, standard_errors=1.0)
    assert (choice.best, choice.winner) == ("better", "better")
    assert not choice.comparisons["simple"].within


def test_a_tie_goes_to_the_simpler_family():
    same = [0.80, 0.83, 0.81, 0.84, 0.79]
    choice = choose({"a": scored("a", same), "b": scored("b", list(same))}, 1.0)
    assert (choice.best, choice.winner) == ("a", "a")


def test_auto_fits_the_winner_and_records_every_family(table, params):
    auto = params.model_copy(
        update={
            "model": "auto",
            "selection": params.selection.model_copy(
                update={"families": ["decision_tree", "logistic_regression"]}
            ),
        }
    )
    result = fit_model(table, DESIGN, auto)
    assert result.choice is not None and result.family == result.choice.winner
    assert result.choice.best == "logistic_regression"  # a depth-6 tree is far behind
    assert type(result.model.named_steps["model"]).__name__ == "LogisticRegression"
    assert result.cv.scores == result.scores["logistic_regression"].scores
    econ = Economics(200.0, 10.0, 1.0, 0.3)
    rows = family_rows(result, econ, np.round(np.arange(0, 1, 0.01), 2))
    assert [r["family"] for r in rows] == ["decision_tree", "logistic_regression"]
    assert [r["chosen"] for r in rows] == [False, True]
    assert all(r["profit_oof"] > 0 and 0 <= r["threshold_oof"] < 1 for r in rows)
    metrics = training_metrics(result, auto, rows)
    assert metrics["model"] == "logistic_regression"
    selection = metrics["selection"]
    assert selection["candidates"] == ["decision_tree", "logistic_regression"]
    assert selection["winner"] == "logistic_regression" and "standard error" in selection["rule"]
    assert selection["families"]["decision_tree"]["within_margin"] is False
    assert "seconds" not in repr(metrics)  # fit times vary: they stay out of the metrics


def test_lightgbm_fits_give_the_same_bytes(table, params):
    one = params.model_copy(update={"model": "lightgbm"})
    dumps = []
    for _ in range(2):
        buffer = io.BytesIO()
        joblib.dump(fit_model(table, DESIGN, one).model, buffer)
        dumps.append(buffer.getvalue())
    assert dumps[0] == dumps[1]


def test_a_family_fitted_elsewhere_is_scored_but_not_fitted(table, params):
    # full_fit fits LightGBM again on every row of a large split: no fit on the sample.
    lightgbm = params.model_copy(update={"model": "lightgbm"})
    skipped = fit_model(table, DESIGN, lightgbm, fitted_elsewhere={"lightgbm"})
    assert skipped.family == "lightgbm" and skipped.model is None
    fitted = fit_model(table, DESIGN, lightgbm)
    assert skipped.cv == fitted.cv and skipped.params == fitted.params
    # Any other family chosen is fitted as usual, and so is a calibrated LightGBM.
    tree = params.model_copy(update={"model": "decision_tree"})
    assert fit_model(table, DESIGN, tree, fitted_elsewhere={"lightgbm"}).model is not None
    calibrated = params.model_copy(update={"model": "lightgbm", "calibration": "sigmoid"})
    assert fit_model(table, DESIGN, calibrated, fitted_elsewhere={"lightgbm"}).model is not None


def write_train(tmp_path, **changes):
    data = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    data["train"].update(changes)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_auto_with_tuning_is_refused_with_what_to_do(tmp_path):
    path = write_train(tmp_path, model="auto", tuning={"method": "bayes"})
    with pytest.raises(ConfigError, match=r"model auto compares .* set train\.model to a family"):
        load(TrainParams, path)


def test_a_family_listed_twice_is_refused(tmp_path):
    data = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    selection = {**data["train"]["selection"], "families": ["svm", "mlp", "svm"]}
    with pytest.raises(ConfigError, match=r"train\.selection.*more than once: \['svm'\]"):
        load(TrainParams, write_train(tmp_path, selection=selection))
