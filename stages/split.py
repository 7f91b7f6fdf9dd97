"""Split the feature table into stratified, seeded train/validation/test Parquet files."""

from pathlib import Path

from churn.config import SplitParams, load_section
from churn.io import read_parquet, write_parquet
from churn.splitting import split
from churn.stage import log, parser, run


def main(args) -> None:
    params: SplitParams = load_section("split")
    parts = split(
        read_parquet(args.input), params.train, params.validation, params.test, params.seed
    )
    for name, part in parts.items():
        write_parquet(part, args.output_dir / f"{name}.parquet")
        log.info("%-10s %5d rows, churn rate %.3f", name, len(part), part["churn"].mean())


if __name__ == "__main__":
    p = parser("split", __doc__)
    p.add_argument("--input", type=Path, required=True, help="feature table (Parquet)")
    p.add_argument("--output-dir", type=Path, required=True, help="folder for the three splits")
    run("split", main, p.parse_args())
