"""Collect the configured source (params.yaml: collect.source) into the raw snapshot.

The snapshot keeps the source's text exactly, plus the file and line of every
row, in a deterministic order.
"""

from pathlib import Path

from churn.collect.snapshot import collect
from churn.collect.sources import CollectParams
from churn.core.cli import log, parser, run
from churn.core.params import load
from churn.core.problem import load_problem


def main(args) -> None:
    params = load(CollectParams)
    contract = load_problem().contract
    made_id = contract.id_column if contract.made_id else None
    rows = collect(params.source, args.output, make_id=made_id)
    log.info(
        "collected %s rows from %s (%s) into %s",
        f"{rows:,}",
        params.source.describe(),
        params.source.kind,
        args.output,
    )


if __name__ == "__main__":
    p = parser("churn.collect", __doc__)
    p.add_argument("--output", type=Path, required=True, help="raw snapshot (Parquet) to write")
    run("collect", main, p.parse_args())
