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

from churn.core.cli import log, parser, run
from churn.core.io import ensure_parent, read_parquet, write_json
from churn.core.params import TrainParams, load
from churn.core.problem import load_problem
from churn.train.fit import candidate_rows, fit_model, training_metrics
from churn.train.pipeline import design_for


def main(args) -> None:
    params = load(TrainParams)
    problem = load_problem()
    design = design_for(problem.contract, problem.features)
    table = read_parquet(args.input)
    start = time.perf_counter()
    # One BLAS/OpenMP thread: faster on data this small, and the same bytes on any machine.
    with threadpool_limits(limits=1):
        result = fit_model(table, design, params)
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
    write_json(training_metrics(result, params), args.metrics)
    write_json(candidate_rows(result), args.trials)


if __name__ == "__main__":
    p = parser("churn.train", __doc__)
    p.add_argument("--input", type=Path, required=True, help="training split (Parquet)")
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline to write (joblib)")
    p.add_argument("--metrics", type=Path, required=True, help="cross-validation metrics (JSON)")
    p.add_argument(
        "--trials", type=Path, required=True, help="tuning candidates and their CV (JSON)"
    )
    run("train", main, p.parse_args())
