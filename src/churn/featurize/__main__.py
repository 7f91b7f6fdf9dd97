"""Build the modelling table: contract features, engineered features and the 0/1 label.

The engineered features (the problem file's `features.set`) are row-wise: nothing is
learned here. `split` and `train` consume this table; the trained model keeps the
same feature step, so the service computes them from a plain record with the same code.
"""

from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.io import read_parquet, write_parquet
from churn.core.problem import load_problem
from churn.features.sets import check, feature_set, set_params
from churn.featurize.table import build_feature_table


def main(args) -> None:
    problem = load_problem()
    fs = feature_set(problem.features.set)
    check(fs, problem.contract)
    params = set_params(fs, problem.features.params)
    table = build_feature_table(read_parquet(args.input), problem.contract, fs, params)
    write_parquet(table, args.output)
    log.info("%s rows x %s columns (feature set %s)", f"{len(table):,}", table.shape[1], fs.name)


if __name__ == "__main__":
    p = parser("churn.featurize", __doc__)
    p.add_argument("--input", type=Path, required=True, help="clean table (Parquet)")
    p.add_argument("--output", type=Path, required=True, help="feature table (Parquet)")
    run("featurize", main, p.parse_args())
