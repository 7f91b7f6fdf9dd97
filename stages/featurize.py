"""Build the feature table: contract features, engineered features and the 0/1 label.

The engineered features are row-wise (nothing is learned here); the model
pipeline recomputes them with the same transformer.
"""

from pathlib import Path

from churn.config import FeaturizeParams, load_section
from churn.features import build_feature_table
from churn.io import read_parquet, write_parquet
from churn.stage import log, parser, run


def main(args) -> None:
    params: FeaturizeParams = load_section("featurize")
    table = build_feature_table(read_parquet(args.input), params.tenure_band_edges)
    write_parquet(table, args.output)
    log.info("%s rows x %s columns", f"{len(table):,}", table.shape[1])


if __name__ == "__main__":
    p = parser("featurize", __doc__)
    p.add_argument("--input", type=Path, required=True, help="clean table (Parquet)")
    p.add_argument("--output", type=Path, required=True, help="feature table (Parquet)")
    run("featurize", main, p.parse_args())
