"""Train the model pipeline chosen in params.yaml (train.model) on the training split.

Cross-validates on the training split (stratified k-fold ROC-AUC), then fits on
all of it and saves the fitted pipeline.
"""

import time
from pathlib import Path

import joblib
from threadpoolctl import threadpool_limits

from churn.config import FeaturizeParams, TrainParams, load_section
from churn.io import ensure_parent, read_parquet, write_json
from churn.modeling import train
from churn.stage import log, parser, run


def main(args) -> None:
    params: TrainParams = load_section("train")
    featurize: FeaturizeParams = load_section("featurize")
    table = read_parquet(args.input)
    start = time.perf_counter()
    # One BLAS/OpenMP thread: faster on data this small, and the same bytes on any machine.
    with threadpool_limits(limits=1):
        pipeline, cv = train(table, params, featurize.tenure_band_edges)
    log.info(
        "%s: CV ROC-AUC %.4f +- %.4f (%d folds), %.1f s",
        params.model,
        cv.mean,
        cv.std,
        cv.folds,
        time.perf_counter() - start,
    )
    joblib.dump(pipeline, ensure_parent(args.model), compress=3)
    write_json(
        {
            "model": params.model,
            "cv": {
                "roc_auc_mean": round(cv.mean, 6),
                "roc_auc_std": round(cv.std, 6),
                "folds": cv.folds,
            },
        },
        args.metrics,
    )


if __name__ == "__main__":
    p = parser("train", __doc__)
    p.add_argument("--input", type=Path, required=True, help="training split (Parquet)")
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline to write (joblib)")
    p.add_argument("--metrics", type=Path, required=True, help="cross-validation metrics (JSON)")
    run("train", main, p.parse_args())
