"""The model families ``train.model`` may name, each a function (params, seed) -> estimator.

Each function imports its estimator when called: a run that fits one family pays
only for that family's modules (scikit-learn's ensembles, neural networks and
LightGBM each take a noticeable share of a stage's start-up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _logistic_regression(params: dict[str, Any], seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**params, random_state=seed)


def _random_forest(params: dict[str, Any], seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**params, random_state=seed, n_jobs=1)


def _hist_gradient_boosting(params: dict[str, Any], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**params, random_state=seed, early_stopping=False)


def _decision_tree(params: dict[str, Any], seed: int) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(**params, random_state=seed)


def _svm(params: dict[str, Any], seed: int) -> Any:
    # An SVM gives margins, not probabilities: sigmoid calibration on internal folds turns
    # them into probabilities (cheaper and more stable than SVC(probability=True)).
    # LinearSVC fits 5k rows in tens of milliseconds; an RBF SVC takes about a second.
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import SVC, LinearSVC

    params = dict(params)
    kernel, n_folds, gamma = (
        params.pop("kernel"),
        params.pop("calibration_folds"),
        params.pop("gamma"),
    )
    if kernel == "linear":
        base: Any = LinearSVC(**params, dual="auto", max_iter=20_000, random_state=seed)
    else:
        base = SVC(**params, kernel="rbf", gamma=gamma, cache_size=500, random_state=seed)
    cv = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(base, method="sigmoid", cv=cv)


def _mlp(params: dict[str, Any], seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    params = {**params, "hidden_layer_sizes": tuple(params["hidden_layer_sizes"])}
    return MLPClassifier(**params, random_state=seed)


def _lightgbm(params: dict[str, Any], seed: int) -> Any:
    # LightGBM's scikit-learn estimator, inside the same Pipeline as every family. One
    # thread and LightGBM's deterministic mode (with row-wise histograms fixed rather than
    # chosen by a timing test): the same data gives the same trees, hence the same bytes.
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        **params,
        random_state=seed,
        n_jobs=1,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )


def predict_with_threads(model: Any, threads: int) -> bool:
    """Let a fitted LightGBM model (or pipeline ending in one) predict with ``threads``.

    LightGBM scores each row on one thread, summing its trees in order, so the scores
    are the same bit for bit whatever the number of threads: a stage that predicts many
    rows in one process (explain) may give them its threads. Other families are left
    as they are (a random forest's threads add tree votes in whatever order they finish).
    The saved model keeps one thread (the service predicts a few rows at a time).
    Returns whether the model was changed.
    """
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    if type(last).__module__.split(".")[0] != "lightgbm":
        return False
    last.set_params(n_jobs=threads)
    return True


#: Model families by the name used in ``params.yaml`` (``train.model``).
FAMILIES: dict[str, Callable[[dict[str, Any], int], Any]] = {
    "logistic_regression": _logistic_regression,
    "random_forest": _random_forest,
    "hist_gradient_boosting": _hist_gradient_boosting,
    "decision_tree": _decision_tree,
    "svm": _svm,
    "mlp": _mlp,
    "lightgbm": _lightgbm,
}

#: Where a family's hyperparameters sit in the pipeline (for search CV's ``set_params``).
PARAM_PREFIX: dict[str, str] = {name: "model__" for name in FAMILIES} | {
    "svm": "model__estimator__"
}
