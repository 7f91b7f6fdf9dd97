"""Build the modelling table: contract features, engineered features and the 0/1 label.

The engineered features are row-wise (nothing is learned here). `split` and
`train` consume this table; the trained model keeps the same feature step, so
the service computes them from a plain record with the same code.
"""

from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.contract import TELCO
from churn.core.io import read_parquet, write_parquet
from churn.core.params import FeaturizeParams, load
from churn.featurize.table import build_feature_table


def main(args) -> None:
    params = load(FeaturizeParams)
    table = build_feature_table(read_parquet(args.input), TELCO, params.tenure_band_edges)
    write_parquet(table, args.output)
    log.info("%s rows x %s columns", f"{len(table):,}", table.shape[1])


if __name__ == "__main__":
    p = parser("churn.featurize", __doc__)
    p.add_argument("--input", type=Path, required=True, help="clean table (Parquet)")
    p.add_argument("--output", type=Path, required=True, help="feature table (Parquet)")
    run("featurize", main, p.parse_args())
