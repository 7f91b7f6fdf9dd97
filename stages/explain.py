"""Explain the trained model: permutation importance of each input column (validation split).

Writes the importances as JSON (a dvc plot) and as a PNG bar chart.
"""

from pathlib import Path

from threadpoolctl import threadpool_limits

from churn.artifacts import load_model
from churn.config import ExplainParams, load_section
from churn.explanations import importance_png, importance_table, write_png
from churn.io import read_parquet, write_json
from churn.stage import log, parser, run


def main(args) -> None:
    params: ExplainParams = load_section("explain")
    model = load_model(args.model)  # refuses a file that does not match dvc.lock
    table = read_parquet(args.validation)
    with threadpool_limits(limits=1):
        rows = importance_table(model, table, params.scoring, params.n_repeats, params.seed)
    for row in rows[:5]:
        log.info("%-18s %.4f +- %.4f", row["feature"], row["importance"], row["std"])
    write_json(rows, args.output_dir / "permutation_importance.json")
    write_png(importance_png(rows, params.scoring), args.output_dir / "permutation_importance.png")


if __name__ == "__main__":
    p = parser("explain", __doc__)
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline (joblib)")
    p.add_argument("--validation", type=Path, required=True, help="validation split (Parquet)")
    p.add_argument("--output-dir", type=Path, required=True, help="folder for JSON and PNG")
    run("explain", main, p.parse_args())
