"""Train the model pipeline chosen in params.yaml (train.model) on the training split.

With `train.tuning.method` grid, random or bayes, first searches the family's
hyperparameters (`train.search_space`) by stratified k-fold ROC-AUC on the
training split, logging each candidate. Then cross-validates the chosen
configuration, fits it on the whole training split and saves the fitted pipeline.

A training split larger than `compute.sample_rows` rows: the search and the
cross-validation use a seeded sample of it; `lightgbm` is then fitted on every
row in bounded memory (`compute.engine` dask: with lightgbm.dask), any other
family on the sample. metrics/train.json says which rows each step used.
"""

import time
from pathlib import Path

import joblib

from churn.core.cli import log, parser, run
from churn.core.compute import engine
from churn.core.io import ensure_parent, write_json
from churn.core.params import ComputeParams, TrainParams, load
from churn.core.problem import load_problem
from churn.train.fit import candidate_rows, training_metrics
from churn.train.full_fit import train_table
from churn.train.pipeline import design_for


def main(args) -> None:
    params = load(TrainParams)
    compute = load(ComputeParams)
    problem = load_problem()
    design = design_for(problem.contract, problem.features)
    start = time.perf_counter()
    with engine(compute) as work:
        trained = train_table(args.input, design, params, compute, work, problem.contract.id_column)
    cv = trained.result.cv
    log.info(
        "%s: CV ROC-AUC %.4f +- %.4f (%d folds), %.1f s",
        params.model,
        cv.mean,
        cv.std,
        cv.folds,
        time.perf_counter() - start,
    )
    joblib.dump(trained.model, ensure_parent(args.model), compress=3)
    metrics = training_metrics(trained.result, params)
    if trained.sampled:  # said only when a sample was used: small data keeps its bytes
        metrics["rows"] = {
            "training_split": trained.rows,
            "cv_sample": trained.sample_rows,
            "fit": trained.fitted_rows,
        }
    write_json(metrics, args.metrics)
    write_json(candidate_rows(trained.result), args.trials)


if __name__ == "__main__":
    p = parser("churn.train", __doc__)
    p.add_argument("--input", type=Path, required=True, help="training split (Parquet)")
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline to write (joblib)")
    p.add_argument("--metrics", type=Path, required=True, help="cross-validation metrics (JSON)")
    p.add_argument(
        "--trials", type=Path, required=True, help="tuning candidates and their CV (JSON)"
    )
    run("train", main, p.parse_args())
