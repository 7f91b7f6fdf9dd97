"""Train the model pipeline chosen in params.yaml (train.model) on the training split.

With `train.tuning.method` grid, random or bayes, first searches the family's
hyperparameters (`train.search_space`) by stratified k-fold ROC-AUC on the
training split, logging each candidate. Then cross-validates the chosen
configuration, fits it on the whole training split and saves the fitted pipeline.
"""

import time
from pathlib import Path

import joblib
from threadpoolctl import threadpool_limits

from churn.config import FeaturizeParams, TrainParams, load_section
from churn.io import ensure_parent, read_parquet, write_json
from churn.modeling import fit_model
from churn.stage import log, parser, run


def main(args) -> None:
    params: TrainParams = load_section("train")
    featurize: FeaturizeParams = load_section("featurize")
    table = read_parquet(args.input)
    start = time.perf_counter()
    # One BLAS/OpenMP thread: faster on data this small, and the same bytes on any machine.
    with threadpool_limits(limits=1):
        result = fit_model(table, params, featurize.tenure_band_edges)
    cv = result.cv
    log.info(
        "%s: CV ROC-AUC %.4f +- %.4f (%d folds), %.1f s",
        params.model,
        cv.mean,
        cv.std,
        cv.folds,
        time.perf_counter() - start,
    )
    joblib.dump(result.model, ensure_parent(args.model), compress=3)
    search = result.search
    write_json(
        {
            "model": params.model,
            "cv": {
                "roc_auc_mean": round(cv.mean, 6),
                "roc_auc_std": round(cv.std, 6),
                "folds": cv.folds,
            },
            "tuning": {
                "method": params.tuning.method,
                "candidates": len(search.trials) if search else 0,
            },
            "hyperparameters": result.params,
        },
        args.metrics,
    )
    # One row per candidate: a plot of the search's progress. Without tuning the one
    # candidate is the configuration as written.
    trials = search.trials if search else []
    rows = [
        {
            "candidate": t.number,
            "roc_auc_mean": round(t.mean, 6),
            "roc_auc_std": round(t.std, 6),
            "params": dict(sorted(t.params.items())),
        }
        for t in trials
    ] or [
        {
            "candidate": 0,
            "roc_auc_mean": round(cv.mean, 6),
            "roc_auc_std": round(cv.std, 6),
            "params": dict(sorted(result.params.items())),
        }
    ]
    write_json(rows, args.trials)


if __name__ == "__main__":
    p = parser("train", __doc__)
    p.add_argument("--input", type=Path, required=True, help="training split (Parquet)")
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline to write (joblib)")
    p.add_argument("--metrics", type=Path, required=True, help="cross-validation metrics (JSON)")
    p.add_argument(
        "--trials", type=Path, required=True, help="tuning candidates and their CV (JSON)"
    )
    run("train", main, p.parse_args())
