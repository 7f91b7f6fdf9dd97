"""Split the modelling table into stratified, seeded train/validation/test Parquet files."""

from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.contract import TELCO
from churn.core.io import read_parquet, write_parquet
from churn.core.params import SplitParams, load
from churn.split.stratified import split


def main(args) -> None:
    params = load(SplitParams)
    parts = split(
        read_parquet(args.input), TELCO, params.train, params.validation, params.test, params.seed
    )
    for name, part in parts.items():
        write_parquet(part, args.output_dir / f"{name}.parquet")
        log.info("%-10s %5d rows, churn rate %.3f", name, len(part), part[TELCO.label].mean())


if __name__ == "__main__":
    p = parser("churn.split", __doc__)
    p.add_argument("--input", type=Path, required=True, help="feature table (Parquet)")
    p.add_argument("--output-dir", type=Path, required=True, help="folder for the three splits")
    run("split", main, p.parse_args())
