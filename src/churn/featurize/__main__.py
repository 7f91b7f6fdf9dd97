"""Build the modelling table: contract features, engineered features and the 0/1 label.

The engineered features (the problem file's `features.set`) are row-wise: nothing is
learned here. `split` and `train` consume this table; the trained model keeps the
same feature step, so the service computes them from a plain record with the same code.
Part by part (compute.batch_rows, compute.engine): each part of the clean table
becomes the same part of the modelling table.
"""

if __name__ == "__main__":  # worker processes get ready while this one imports
    from churn.core.compute import start_workers_early

    start_workers_early("--input")

from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.compute import engine
from churn.core.params import ComputeParams, load
from churn.core.problem import load_problem
from churn.features.sets import check, feature_set, set_params
from churn.featurize.parts import featurize_table


def main(args) -> None:
    compute = load(ComputeParams)
    problem = load_problem()
    fs = feature_set(problem.features.set)
    check(fs, problem.contract)
    params = set_params(fs, problem.features.params)
    with engine(compute) as work:
        rows, columns = featurize_table(
            args.input, args.output, problem.contract, fs, params, work, compute.batch_rows
        )
    log.info("%s rows x %s columns (feature set %s)", f"{rows:,}", columns, fs.name)


if __name__ == "__main__":
    p = parser("churn.featurize", __doc__)
    p.add_argument("--input", type=Path, required=True, help="clean table (Parquet)")
    p.add_argument("--output", type=Path, required=True, help="feature table (Parquet)")
    run("featurize", main, p.parse_args())
