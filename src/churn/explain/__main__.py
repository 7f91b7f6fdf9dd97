"""Explain the trained model: permutation importance of each input column (validation split).

Writes the importances as JSON (a dvc plot) and as a PNG bar chart.
"""

from pathlib import Path

from threadpoolctl import threadpool_limits

from churn.core.artifacts import load_model
from churn.core.cli import log, parser, run
from churn.core.figures import draw_png, write_png
from churn.core.io import read_parquet, write_json
from churn.core.params import ExplainParams, load
from churn.core.problem import load_problem
from churn.explain.importance import importance_table, plot_importance


def main(args) -> None:
    params = load(ExplainParams)
    contract = load_problem().contract
    model = load_model(args.model)  # refuses a file that does not match dvc.lock
    table = read_parquet(args.validation)
    with threadpool_limits(limits=1):
        rows = importance_table(
            model, table, contract, params.scoring, params.n_repeats, params.seed
        )
    for row in rows[:5]:
        log.info("%-18s %.4f +- %.4f", row["feature"], row["importance"], row["std"])
    write_json(rows, args.output_dir / "permutation_importance.json")
    png = draw_png(plot_importance, rows, params.scoring, dpi=100)
    write_png(png, args.output_dir / "permutation_importance.png")


if __name__ == "__main__":
    p = parser("churn.explain", __doc__)
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline (joblib)")
    p.add_argument("--validation", type=Path, required=True, help="validation split (Parquet)")
    p.add_argument("--output-dir", type=Path, required=True, help="folder for JSON and PNG")
    run("explain", main, p.parse_args())
