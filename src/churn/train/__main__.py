"""Train the model pipeline of params.yaml (train.model) on the training split.

With `train.model: auto`, every family of `train.selection.families` is
cross-validated on the same stratified folds and the winner (the simplest family
within `train.selection.standard_errors` of the best, on paired per-fold
differences) is fitted; the table of families goes to `--families`. With a family
named, that family is cross-validated and fitted. With `train.tuning.method` grid,
random or bayes, the family's hyperparameters are first searched
(`train.search_space`) by stratified k-fold ROC-AUC on the training split, each
candidate logged. The fitted pipeline is saved.
"""

import time
from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.io import ensure_parent, read_parquet, write_json
from churn.core.params import TrainParams, load
from churn.core.problem import load_problem


def main(args) -> None:
    params = load(TrainParams)
    problem = load_problem()
    money = problem.business
    table = read_parquet(args.input)

    # scikit-learn (and joblib) only after the params have been checked.
    import joblib
    from threadpoolctl import threadpool_limits

    from churn.evaluate.business import Economics, threshold_grid
    from churn.train.fit import candidate_rows, family_rows, fit_model, training_metrics
    from churn.train.pipeline import design_for

    design = design_for(problem.contract, problem.features)

    start = time.perf_counter()
    # One BLAS/OpenMP thread per fit: faster on data this small, and the same bytes on any
    # machine (families are fitted side by side on train.selection.n_jobs threads instead).
    with threadpool_limits(limits=1):
        result = fit_model(table, design, params)
    for name, score in (result.scores or {}).items():
        # Fit times vary from run to run: they are logged, not written to the metrics.
        log.info(
            "%-22s CV ROC-AUC %.4f +- %.4f  (%.2f s of fitting)",
            name,
            score.mean,
            score.std,
            score.seconds,
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
    joblib.dump(result.model, ensure_parent(args.model), compress=3)
    rows = family_rows(result, Economics.from_params(money), threshold_grid(money.threshold_step))
    write_json(training_metrics(result, params, rows), args.metrics)
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
