"""Split the modelling table into stratified, seeded train/validation/test Parquet files."""

from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.io import read_parquet, write_parquet
from churn.core.params import SplitParams, load
from churn.core.problem import load_problem
from churn.split.stratified import split


def main(args) -> None:
    params = load(SplitParams)
    contract = load_problem().contract
    parts = split(
        read_parquet(args.input),
        contract,
        params.train,
        params.validation,
        params.test,
        params.seed,
    )
    for name, part in parts.items():
        write_parquet(part, args.output_dir / f"{name}.parquet")
        rate = part[contract.label].mean()
        log.info("%-10s %5d rows, %s rate %.3f", name, len(part), contract.label, rate)


if __name__ == "__main__":
    p = parser("churn.split", __doc__)
    p.add_argument("--input", type=Path, required=True, help="feature table (Parquet)")
    p.add_argument("--output-dir", type=Path, required=True, help="folder for the three splits")
    run("split", main, p.parse_args())
