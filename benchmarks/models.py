"""Benchmark every model family with its tuned configuration (not a test: prints a table).

For each family: tune on the training split (train.tuning in params.yaml, or the
method and number of candidates given here) by stratified k-fold ROC-AUC; refit
the best configuration on the whole training split (fit time measured); then
ROC-AUC on validation and test, the contact threshold chosen on validation to
maximise expected profit (params `business`), and the test profit per customer at
that threshold versus 0.5. Needs the splits: run `dvc repro` (or `make repro`) first.

    python -m benchmarks.models [--method bayes] [--n-iter 25] [--families svm mlp]
    python -m benchmarks.models --split-seeds 20     # the params.yaml model, 20 split seeds

``--split-seeds N`` answers "is the test split of split.seed easy or hard?": it
re-splits the feature table with seeds 0..N-1 and reports the configured model's
CV and test ROC-AUC per seed (mean +- std), without tuning.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from churn.core.io import read_parquet
from churn.core.params import EvaluateParams, SplitParams, TrainParams, load
from churn.core.problem import load_problem
from churn.evaluate import business
from churn.split.stratified import split
from churn.train.families import FAMILIES
from churn.train.fit import fit_model
from churn.train.pipeline import design_for

SPLITS = Path("data/processed/splits")
FEATURES = Path("data/processed/features.parquet")


def split_seeds(count: int) -> None:
    """The configured model's CV and test ROC-AUC over ``count`` split seeds."""
    params = load(TrainParams).model_copy(
        update={"tuning": load(TrainParams).tuning.model_copy(update={"method": "none"})}
    )
    problem = load_problem()
    contract, design = problem.contract, design_for(problem.contract, problem.features)
    fractions = load(SplitParams)
    features = read_parquet(FEATURES)
    cvs, tests = [], []
    for seed in range(count):
        parts = split(
            features, contract, fractions.train, fractions.validation, fractions.test, seed
        )
        with threadpool_limits(limits=1):
            result = fit_model(parts["train"], design, params)
        p = result.model.predict_proba(contract.inputs(parts["test"]))[:, 1]
        cvs.append(result.cv.mean)
        tests.append(roc_auc_score(parts["test"][contract.label], p))
        print(f"split seed {seed:2d}: CV {cvs[-1]:.4f}  test {tests[-1]:.4f}", flush=True)
    print(
        f"\n{params.model} over {count} split seeds: CV {statistics.mean(cvs):.4f} +- "
        f"{statistics.pstdev(cvs):.4f}, test {statistics.mean(tests):.4f} +- "
        f"{statistics.pstdev(tests):.4f} (min {min(tests):.4f}, max {max(tests):.4f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--method", choices=["none", "grid", "random", "bayes"], default="bayes")
    parser.add_argument("--n-iter", type=int, default=25, help="candidates (random, bayes)")
    parser.add_argument("--families", nargs="*", default=sorted(FAMILIES))
    parser.add_argument("--quiet", action="store_true", help="no per-candidate lines")
    parser.add_argument("--split-seeds", type=int, default=0, help="see above")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="[tuning] %(message)s")
    if args.split_seeds:
        split_seeds(args.split_seeds)
        return

    base = load(TrainParams)
    problem = load_problem()
    contract, design = problem.contract, design_for(problem.contract, problem.features)
    money = problem.business
    econ = business.Economics.from_params(money)
    default_threshold = load(EvaluateParams).threshold
    grid = business.threshold_grid(money.threshold_step)
    if not (SPLITS / "train.parquet").exists():
        raise SystemExit(f"{SPLITS}/train.parquet not found: run `dvc repro` first")
    train, validation, test = (
        read_parquet(SPLITS / f"{s}.parquet") for s in ("train", "validation", "test")
    )
    tuning = base.tuning.model_copy(
        update={"method": args.method, "n_iter": args.n_iter, "verbose": 0 if args.quiet else 1}
    )
    rows = []
    for family in args.families:
        params = base.model_copy(update={"model": family, "tuning": tuning})
        start = time.perf_counter()
        with threadpool_limits(limits=1):
            result = fit_model(train, design, params)
        tune_time = time.perf_counter() - start
        # Fit time of the chosen configuration alone (what `dvc repro` pays without tuning).
        fixed = params.model_copy(
            update={
                "tuning": tuning.model_copy(update={"method": "none"}),
                family: getattr(params, family).model_copy(update=_plain(result.params)),
            }
        )
        start = time.perf_counter()
        with threadpool_limits(limits=1):
            fit_model(train, design, fixed.model_copy(update={"cv_folds": 2}))
        refit_time = time.perf_counter() - start
        p_val = result.model.predict_proba(contract.inputs(validation))[:, 1]
        p_test = result.model.predict_proba(contract.inputs(test))[:, 1]
        y_val, y_test = validation[contract.label].to_numpy(), test[contract.label].to_numpy()
        threshold, _ = business.best_threshold(y_val, p_val, grid, econ)
        profit_tuned = business.profit_at_threshold(y_test, p_test, threshold, econ)
        profit_default = business.profit_at_threshold(y_test, p_test, default_threshold, econ)
        rows.append(
            {
                "family": family,
                "cv": f"{result.cv.mean:.4f} +- {result.cv.std:.4f}",
                "validation": f"{roc_auc_score(y_val, p_val):.4f}",
                "test": f"{roc_auc_score(y_test, p_test):.4f}",
                "lift@10%": f"{business.lift_at(y_test, p_test):.2f}",
                "threshold": f"{threshold:.2f}",
                "profit tuned": f"{profit_tuned:.2f}",
                "profit 0.5": f"{profit_default:.2f}",
                "tune s": f"{tune_time:.1f}",
                "fit s": f"{refit_time:.1f}",
                "best params": ", ".join(
                    f"{k}={_short(v)}" for k, v in sorted(result.params.items())
                ),
            }
        )
        print(" | ".join(str(v) for v in rows[-1].values()), flush=True)
    print(
        f"\ntuning: {args.method}, {args.n_iter} candidates, {base.cv_folds}-fold CV; "
        f"profit per test customer; fit s = one fit + 2-fold CV of the chosen config\n"
    )
    header = list(rows[0])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row[h] for h in header) + " |")


def _plain(params: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
