"""Choose the model family: all scored on the same folds; the simplest close to the best wins.

``train.model: auto`` scores each family of ``train.selection.families`` by stratified
k-fold ROC-AUC on the training split, all on the same folds. The families are then
compared on their paired per-fold differences from the best family (the same fold
is easy or hard for every family, so the difference is far less noisy than either
score), with the standard error of the mean difference corrected for the overlap of
the training folds (Nadeau and Bengio 2003: variance x (1/k + 1/(k-1)) instead of
1/k). The winner is the first family of the list, simplest first, whose mean
difference is at most ``standard_errors`` of those standard errors: a more complex
family must beat the simpler ones by more than the noise of the comparison.

Work shared by the families is done once per fold: the preprocessing (and the
optional feature selection) is fitted on the fold's training part, then every
family's estimator is fitted on the same transformed arrays. This is exactly what
cross-validating each whole pipeline computes, without repeating it per family.
The fits run side by side on ``n_jobs`` threads, each with one thread of its own;
every fit is independent and seeded, so the scores do not depend on the scheduling.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from churn.train.cv import SCORING, FoldScores, folds
from churn.train.score_cache import ScoreCache


@dataclass(frozen=True)
class FamilyScore(FoldScores):
    """One family's per-fold ROC-AUC, its out-of-fold probabilities and its fit time."""

    family: str
    scores: list[float]
    #: P(positive) for every training row, from the fold that held it out.
    out_of_fold: np.ndarray = field(repr=False)
    #: Seconds spent fitting and scoring its folds (varies from run to run: logs only).
    seconds: float = 0.0
    #: Taken from the score cache (``churn.train.score_cache``) instead of computed.
    cached: bool = False


@dataclass(frozen=True)
class Comparison:
    """One family against the best: mean paired per-fold difference and its standard error."""

    family: str
    difference: float
    standard_error: float
    within: bool


@dataclass(frozen=True)
class Choice:
    best: str
    winner: str
    comparisons: dict[str, Comparison]


def _prepare_fold(
    front: Pipeline | None, X: pd.DataFrame, y: pd.Series, train: np.ndarray, test: np.ndarray
) -> tuple[Any, pd.Series, Any, pd.Series]:
    """The fold's training and held-out rows after the shared steps fitted on its training rows."""
    X_train, y_train = X.iloc[train], y.iloc[train]
    X_test, y_test = X.iloc[test], y.iloc[test]
    if front is None:
        return X_train, y_train, X_test, y_test
    front = clone(front)
    return front.fit_transform(X_train, y_train), y_train, front.transform(X_test), y_test


def _fit_and_score(estimator: Any, fold: tuple[Any, pd.Series, Any, pd.Series]) -> tuple:
    X_train, y_train, X_test, y_test = fold
    start = time.perf_counter()
    # OpenMP's thread count is a per-thread setting: a worker thread starts with all the
    # cores, whatever the caller set. One here (HistGradientBoosting with two threads on
    # two busy cores ran 10 to 100 times slower).
    with threadpool_limits(limits=1, user_api="openmp"):
        model = clone(estimator).fit(X_train, y_train)
        probability = model.predict_proba(X_test)[:, 1]
        if hasattr(model, "decision_function"):
            # What cross_validate's scorer ranks by when there is one.
            score = float(get_scorer(SCORING)(model, X_test, y_test))
        else:
            score = float(roc_auc_score(y_test, probability))
    return score, probability, time.perf_counter() - start


def score_families(
    heads: dict[str, Pipeline],
    X: pd.DataFrame,
    y: pd.Series,
    n_splits: int,
    seed: int,
    n_jobs: int = 1,
    cache: ScoreCache | None = None,
) -> dict[str, FamilyScore]:
    """Cross-validate each family's head (``preprocess [-> select] -> model``) on the same folds.

    Heads whose steps before ``model`` are the same (every family built from the same
    params, except the tree families that take categories as codes) share them: those
    steps are fitted once per fold and group. The scores are those of ``cross_validate``
    on each whole head with the folds of ``churn.train.cv.folds``. A family whose
    result ``cache`` holds is not computed again; computed ones are put in it.
    """
    kept: dict[str, FamilyScore] = {}
    if cache is not None:
        for name, head in heads.items():
            hit = cache.get(head)
            if hit is not None:
                kept[name] = FamilyScore(name, hit[0], hit[1], 0.0, cached=True)
    todo = {name: head for name, head in heads.items() if name not in kept}
    computed = _score(todo, X, y, n_splits, seed, n_jobs) if todo else {}
    if cache is not None:
        for name, score in computed.items():
            cache.put(heads[name], score.scores, score.out_of_fold)
    return {name: kept[name] if name in kept else computed[name] for name in heads}


def _score(
    heads: dict[str, Pipeline], X: pd.DataFrame, y: pd.Series, n_splits: int, seed: int, n_jobs: int
) -> dict[str, FamilyScore]:
    names = list(heads)
    groups: dict[str, list[str]] = {}
    fronts: dict[str, Pipeline | None] = {}
    for name in names:
        steps = heads[name].steps[:-1]
        key = joblib.hash([(step, clone(est)) for step, est in steps])
        groups.setdefault(key, []).append(name)
        fronts[key] = Pipeline(steps) if steps else None
    splits = list(folds(n_splits, seed).split(X, y))
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        prepared = {
            key: list(pool.map(lambda s, f=fronts[key]: _prepare_fold(f, X, y, *s), splits))
            for key in groups
        }
        tasks = {
            (name, k): pool.submit(_fit_and_score, heads[name].steps[-1][1], fold)
            for key, members in groups.items()
            for name in members
            for k, fold in enumerate(prepared[key])
        }
        results = {key: task.result() for key, task in tasks.items()}
    out = {}
    for name in names:
        out_of_fold = np.empty(len(y), dtype=np.float64)
        scores, seconds = [], 0.0
        for k, (_, test) in enumerate(splits):
            score, probability, took = results[(name, k)]
            scores.append(score)
            out_of_fold[test] = probability
            seconds += took
        out[name] = FamilyScore(name, scores, out_of_fold, seconds)
    return out


def compare(best: FamilyScore, other: FamilyScore, standard_errors: float) -> Comparison:
    """``other`` against ``best`` on paired per-fold differences (Nadeau-Bengio corrected)."""
    d = np.asarray(best.scores) - np.asarray(other.scores)
    k = d.size
    # Training folds overlap, so the per-fold differences are correlated: the naive
    # variance of their mean (var / k) is too small. Nadeau and Bengio's correction
    # adds the ratio of test to training rows, 1 / (k - 1) for k folds.
    variance = float(np.var(d, ddof=1)) if k > 1 else 0.0
    se = math.sqrt((1 / k + 1 / (k - 1)) * variance) if k > 1 else 0.0
    mean = float(d.mean())
    # A rounding margin: the best family against itself is 0 <= 0.
    return Comparison(other.family, mean, se, mean <= standard_errors * se + 1e-12)


def choose(scores: dict[str, FamilyScore], standard_errors: float) -> Choice:
    """The first family (``scores`` is ordered simplest first) close enough to the best.

    The best is the highest mean CV ROC-AUC (on a tie, the earlier family).
    """
    order = list(scores)
    best = max(order, key=lambda name: (scores[name].mean, -order.index(name)))
    comparisons = {name: compare(scores[best], scores[name], standard_errors) for name in order}
    winner = next(name for name in order if comparisons[name].within)
    return Choice(best, winner, comparisons)


def rule_text(standard_errors: float) -> str:
    """The selection rule in words (recorded in the metrics and shown in the report)."""
    return (
        "the first family of train.selection.families (simplest first) whose mean CV "
        f"ROC-AUC is below the best family's by at most {standard_errors:g} standard "
        "error(s) of the paired per-fold difference (Nadeau-Bengio corrected)"
    )
