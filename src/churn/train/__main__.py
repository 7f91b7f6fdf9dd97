"""Train the model pipeline of params.yaml (train.model) on the training split.

With `train.model: auto`, every family of `train.selection.families` is
cross-validated on the same stratified folds and the winner (the simplest family
within `train.selection.standard_errors` of the best, on paired per-fold
differences) is fitted; the table of families goes to `--families`. With a family
named, that family is cross-validated and fitted. With `train.tuning.method` grid,
random or bayes, the family's hyperparameters are first searched
(`train.search_space`) by stratified k-fold ROC-AUC on the training split, each
candidate logged. The fitted pipeline is saved.

A training split larger than `compute.sample_rows` rows: the search and the
cross-validation use a seeded sample of it; `lightgbm` (chosen or named) is then fitted on every
row in bounded memory (`compute.engine` dask: with lightgbm.dask), any other
family on the sample. metrics/train.json says which rows each step used.
"""

if __name__ == "__main__":  # worker processes get ready while this one imports
    from churn.core.compute import start_workers_early

    start_workers_early("--input")

import time
from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.compute import engine
from churn.core.io import ensure_parent, write_json
from churn.core.params import ComputeParams, TrainParams, load
from churn.core.problem import load_problem


def main(args) -> None:
    params = load(TrainParams)
    compute = load(ComputeParams)
    problem = load_problem()
    money = problem.business

    # scikit-learn (and joblib) only after the params have been checked.
    import joblib

    from churn.evaluate.business import Economics, threshold_grid
    from churn.train.fit import candidate_rows, family_rows, training_metrics
    from churn.train.full_fit import train_table
    from churn.train.pipeline import design_for

    design = design_for(problem.contract, problem.features)
    start = time.perf_counter()
    with engine(compute) as work:
        trained = train_table(args.input, design, params, compute, work, problem.contract.id_column)
    result = trained.result
    for name, score in (result.scores or {}).items():
        # Fit times vary from run to run: they are logged, not written to the metrics.
        log.info(
            "%-22s CV ROC-AUC %.4f +- %.4f  (%s)",
            name,
            score.mean,
            score.std,
            "kept from an earlier run" if score.cached else f"{score.seconds:.2f} s of fitting",
        )
    if result.choice is not None:
        log.info("best %s; chosen %s", result.choice.best, result.choice.winner)
    cv = result.cv
    log.info(
        "%s: CV ROC-AUC %.4f +- %.4f (%d folds), %.1f s",
        result.family,
        cv.mean,
        cv.std,
        cv.folds,
        time.perf_counter() - start,
    )
    joblib.dump(trained.model, ensure_parent(args.model), compress=3)
    rows = family_rows(result, Economics.from_params(money), threshold_grid(money.threshold_step))
    metrics = training_metrics(result, params, rows)
    if trained.sampled:  # said only when a sample was used: small data keeps its bytes
        metrics["rows"] = {
            "training_split": trained.rows,
            "cv_sample": trained.sample_rows,
            "fit": trained.fitted_rows,
        }
    write_json(metrics, args.metrics)
    write_json(candidate_rows(result), args.trials)
    write_json(rows, args.families)


if __name__ == "__main__":
    p = parser("churn.train", __doc__)
    p.add_argument("--input", type=Path, required=True, help="training split (Parquet)")
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline to write (joblib)")
    p.add_argument("--metrics", type=Path, required=True, help="cross-validation metrics (JSON)")
    p.add_argument(
        "--trials", type=Path, required=True, help="tuning candidates and their CV (JSON)"
    )
    p.add_argument(
        "--families", type=Path, required=True, help="every family scored and its CV (JSON)"
    )
    run("train", main, p.parse_args())
