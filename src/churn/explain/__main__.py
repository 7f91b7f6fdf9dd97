"""Explain the trained model: permutation importance of each input column (validation split).

Writes the importances as JSON (a dvc plot) and as a PNG bar chart. A validation
split larger than explain.sample_rows is explained on a seeded sample of it: the
chart's axis and every JSON row (`sample_rows`) say so.
"""

from pathlib import Path

from threadpoolctl import threadpool_limits

from churn.core.artifacts import load_model
from churn.core.cli import log, parser, run
from churn.core.compute import LocalEngine
from churn.core.figures import draw_png, write_png
from churn.core.io import write_json
from churn.core.params import ComputeParams, ExplainParams, load
from churn.core.problem import load_problem
from churn.core.tables import read_sample
from churn.explain.importance import importance_table, plot_importance
from churn.train.families import predict_with_threads


def main(args) -> None:
    params = load(ExplainParams)
    compute = load(ComputeParams)
    contract = load_problem().contract
    model = load_model(args.model)  # refuses a file that does not match dvc.lock
    predict_with_threads(model, compute.threads)  # a hundred calls on the sample's copies
    # A sample at most: read here whatever the engine (no cluster needed for it).
    table, total = read_sample(
        args.validation,
        contract.id_column,
        params.sample_rows,
        compute.seed,
        LocalEngine(),
        compute.batch_rows,
    )
    sample = len(table) if len(table) < total else None
    with threadpool_limits(limits=1):
        rows = importance_table(
            model, table, contract, params.scoring, params.n_repeats, params.seed
        )
    if sample is not None:
        log.info("on a seeded sample of %s of %s validation rows", f"{sample:,}", f"{total:,}")
        rows = [{**row, "sample_rows": sample} for row in rows]
    for row in rows[:5]:
        log.info("%-18s %.4f +- %.4f", row["feature"], row["importance"], row["std"])
    write_json(rows, args.output_dir / "permutation_importance.json")
    png = draw_png(plot_importance, rows, params.scoring, sample, dpi=100)
    write_png(png, args.output_dir / "permutation_importance.png")


if __name__ == "__main__":
    p = parser("churn.explain", __doc__)
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline (joblib)")
    p.add_argument("--validation", type=Path, required=True, help="validation split (Parquet)")
    p.add_argument("--output-dir", type=Path, required=True, help="folder for JSON and PNG")
    run("explain", main, p.parse_args())
