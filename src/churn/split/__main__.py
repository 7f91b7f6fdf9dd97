"""Split the modelling table into stratified, seeded train/validation/test Parquet files.

Part by part (compute.batch_rows, compute.engine): each part of the modelling
table, a bucket of the identifier, is split on its own.
"""

if __name__ == "__main__":  # worker processes get ready while this one imports
    from churn.core.compute import start_workers_early

    start_workers_early("--input")

from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.compute import engine
from churn.core.params import ComputeParams, SplitParams, load
from churn.core.problem import load_problem
from churn.split.parts import split_table


def main(args) -> None:
    params = load(SplitParams)
    compute = load(ComputeParams)
    contract = load_problem().contract
    with engine(compute) as work:
        counts = split_table(
            args.input, args.output_dir, contract, params, work, compute.batch_rows
        )
    for name, (rows, positives) in counts.items():
        rate = positives / rows if rows else float("nan")
        log.info("%-10s %5d rows, %s rate %.3f", name, rows, contract.label, rate)


if __name__ == "__main__":
    p = parser("churn.split", __doc__)
    p.add_argument("--input", type=Path, required=True, help="feature table (Parquet)")
    p.add_argument("--output-dir", type=Path, required=True, help="folder for the three splits")
    run("split", main, p.parse_args())
