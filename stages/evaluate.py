"""Evaluate the trained pipeline on the validation and test splits.

Records accuracy, precision, recall, F1, ROC-AUC and average precision, and the
ROC, precision-recall, confusion-matrix and calibration plots, with dvclive.
Writes each split's predicted probabilities for later stages.
"""

from pathlib import Path

import pandas as pd
from dvclive import Live

from churn.artifacts import load_model
from churn.config import EvaluateParams, load_section
from churn.contract import ID_COLUMN
from churn.evaluation import log_split
from churn.io import read_parquet, write_parquet
from churn.modeling import model_inputs
from churn.stage import log, parser, run

SPLITS = ("validation", "test")


def main(args) -> None:
    params: EvaluateParams = load_section("evaluate")
    model = load_model(args.model)  # refuses a file that does not match dvc.lock
    # dvclive's defaults would rewrite dvc.yaml and create experiments: dvc.yaml declares all.
    with Live(dir=str(args.live_dir), dvcyaml=False, save_dvc_exp=False, report=None) as live:
        for split in SPLITS:
            table = read_parquet(args.splits_dir / f"{split}.parquet")
            probability = model.predict_proba(model_inputs(table))[:, 1]
            metrics = log_split(
                live, split, table["churn"].to_numpy(), probability, params.threshold
            )
            log.info("%-10s %s", split, "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
            write_parquet(
                pd.DataFrame(
                    {
                        ID_COLUMN: table[ID_COLUMN],
                        "churn": table["churn"],
                        "probability": probability,
                    }
                ),
                args.predictions_dir / f"{split}.parquet",
            )


if __name__ == "__main__":
    p = parser("evaluate", __doc__)
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline (joblib)")
    p.add_argument("--splits-dir", type=Path, required=True, help="folder of the split files")
    p.add_argument("--live-dir", type=Path, required=True, help="dvclive output folder")
    p.add_argument(
        "--predictions-dir",
        type=Path,
        required=True,
        help="folder for per-split predicted probabilities",
    )
    run("evaluate", main, p.parse_args())
