"""Hyperparameter tuning on the training split: grid, randomized and Bayesian search.

The search space comes from ``params.yaml`` (``train.search_space.<family>``): each
hyperparameter is a list of choices or a numeric range ``{low, high, log, integer}``.
The same space drives the three methods:

* ``grid``: scikit-learn's ``GridSearchCV``; a range becomes ``grid_points`` values
  (log-spaced when ``log``).
* ``random``: ``RandomizedSearchCV`` with a seeded sampler; a range becomes a uniform
  or log-uniform distribution.
* ``bayes``: an Optuna study with a seeded TPE sampler, one trial at a time
  (``n_jobs=1``), so the same params give the same trials and the same model.

Every candidate is scored by the same stratified k-fold ROC-AUC on the training
split; the validation and test splits are never seen here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_validate,
)
from sklearn.pipeline import Pipeline

from churn.core.errors import ConfigError
from churn.core.params import SearchDimension, TuningParams
from churn.train.cv import SCORING, FoldScores

log = logging.getLogger("churn")


@dataclass(frozen=True)
class Trial(FoldScores):
    """One candidate: its hyperparameters and its cross-validated scores."""

    number: int
    params: dict[str, Any]
    scores: list[float]


@dataclass(frozen=True)
class SearchResult:
    method: str
    trials: list[Trial]
    best: Trial


class IntLogUniform:
    """A log-uniform distribution over integers (``rvs`` as scipy's, for ParameterSampler)."""

    def __init__(self, low: int, high: int):
        self.dist = stats.loguniform(low, high + 1)
        self.low, self.high = low, high

    def rvs(self, size: Any = None, random_state: Any = None) -> Any:
        value = np.floor(self.dist.rvs(size=size, random_state=random_state)).astype(int)
        return np.clip(value, self.low, self.high)


def _round(value: float) -> float:
    """Six significant digits: grid values that read well in params and tables."""
    return float(f"{value:.6g}")


def grid_values(dim: SearchDimension, points: int) -> list[Any]:
    """The values a grid search tries for one hyperparameter."""
    if isinstance(dim, list):
        return list(dim)
    if dim.log:
        values = np.geomspace(dim.low, dim.high, points)
    else:
        values = np.linspace(dim.low, dim.high, points)
    if dim.integer:
        return sorted({int(np.rint(v)) for v in values})
    return [_round(v) for v in values]


def distribution(dim: SearchDimension) -> Any:
    """A sampler for ``RandomizedSearchCV``: a list of choices or a scipy distribution."""
    if isinstance(dim, list):
        return list(dim)
    if dim.integer:
        low, high = math.ceil(dim.low), math.floor(dim.high)
        return IntLogUniform(low, high) if dim.log else stats.randint(low, high + 1)
    if dim.log:
        return stats.loguniform(dim.low, dim.high)
    return stats.uniform(dim.low, dim.high - dim.low)


def suggest(trial: Any, name: str, dim: SearchDimension) -> Any:
    """One Optuna suggestion. Non-scalar choices (layer sizes) are suggested by position."""
    if isinstance(dim, list):
        if all(v is None or isinstance(v, (bool, int, float, str)) for v in dim):
            return trial.suggest_categorical(name, dim)
        labels = [str(v) for v in dim]
        return dim[labels.index(trial.suggest_categorical(name, labels))]
    if dim.integer:
        return trial.suggest_int(name, int(dim.low), int(dim.high), log=dim.log)
    return trial.suggest_float(name, dim.low, dim.high, log=dim.log)


def check_space(
    pipeline: Pipeline, space: dict[str, SearchDimension], prefix: str, family: str
) -> None:
    """Every hyperparameter in the space must be one the family's estimator takes."""
    known = pipeline.get_params()
    unknown = [k for k in space if prefix + k not in known]
    if unknown:
        accepted = sorted(k.removeprefix(prefix) for k in known if k.startswith(prefix))
        accepted = [k for k in accepted if "__" not in k]
        raise ConfigError(
            f"train.search_space.{family}: unknown hyperparameter(s) {unknown}; "
            f"{family} accepts {accepted}"
        )
    for name, dim in space.items():
        if isinstance(dim, list) and not dim:
            raise ConfigError(f"train.search_space.{family}.{name}: empty list of choices")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _sklearn_search(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: pd.Series,
    space: dict[str, SearchDimension],
    prefix: str,
    tuning: TuningParams,
    cv: StratifiedKFold,
    seed: int,
) -> SearchResult:
    if tuning.method == "grid":
        grid = {prefix + k: grid_values(v, tuning.grid_points) for k, v in space.items()}
        n = int(np.prod([len(v) for v in grid.values()]))
        log.info("grid search: %d candidates x %d folds", n, cv.get_n_splits())
        search: Any = GridSearchCV(
            pipeline, grid, scoring=SCORING, cv=cv, n_jobs=1, verbose=tuning.verbose
        )
    else:
        dists = {prefix + k: distribution(v) for k, v in space.items()}
        log.info("random search: %d candidates x %d folds", tuning.n_iter, cv.get_n_splits())
        search = RandomizedSearchCV(
            pipeline,
            dists,
            n_iter=tuning.n_iter,
            scoring=SCORING,
            cv=cv,
            n_jobs=1,
            random_state=seed,
            verbose=tuning.verbose,
        )
    search.fit(X, y)
    res = search.cv_results_
    folds = cv.get_n_splits()
    trials = [
        Trial(
            number=i,
            params={k.removeprefix(prefix): _plain(v) for k, v in res["params"][i].items()},
            scores=[float(res[f"split{f}_test_score"][i]) for f in range(folds)],
        )
        for i in range(len(res["params"]))
    ]
    for t in trials:
        if tuning.verbose:
            log.info("trial %3d  ROC-AUC %.4f +- %.4f  %s", t.number, t.mean, t.std, t.params)
    return SearchResult(tuning.method, trials, trials[int(search.best_index_)])


def _optuna_search(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: pd.Series,
    space: dict[str, SearchDimension],
    prefix: str,
    tuning: TuningParams,
    cv: StratifiedKFold,
    seed: int,
) -> SearchResult:
    import optuna  # imported here: only the bayes method pays for it

    # Our own per-trial line replaces Optuna's (which prints a timestamp per trial).
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials: list[Trial] = []

    def objective(trial: Any) -> float:
        params = {name: suggest(trial, name, dim) for name, dim in space.items()}
        candidate = clone(pipeline).set_params(**{prefix + k: v for k, v in params.items()})
        result = cross_validate(candidate, X, y, cv=cv, scoring=SCORING, n_jobs=1)
        done = Trial(trial.number, params, [float(s) for s in result["test_score"]])
        trials.append(done)
        if tuning.verbose:
            log.info(
                "trial %3d/%d  ROC-AUC %.4f +- %.4f  %s",
                done.number + 1,
                tuning.n_iter,
                done.mean,
                done.std,
                done.params,
            )
        return done.mean

    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=tuning.n_iter, n_jobs=1)
    best = trials[study.best_trial.number]
    return SearchResult("bayes", trials, best)


def search(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: pd.Series,
    space: dict[str, SearchDimension],
    prefix: str,
    family: str,
    tuning: TuningParams,
    cv: StratifiedKFold,
    seed: int,
) -> SearchResult:
    """Run the configured search over ``space``; the best candidate is ``result.best``."""
    if not space:
        raise ConfigError(
            f"train.tuning.method is {tuning.method!r} but train.search_space.{family} "
            "is missing or empty: declare the hyperparameters to search"
        )
    check_space(pipeline, space, prefix, family)
    if tuning.method == "bayes":
        return _optuna_search(pipeline, X, y, space, prefix, tuning, cv, seed)
    return _sklearn_search(pipeline, X, y, space, prefix, tuning, cv, seed)
