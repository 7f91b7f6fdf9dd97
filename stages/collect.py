"""Collect the configured source (params.yaml: collect.source) into the raw snapshot.

The snapshot keeps the source's text exactly, plus the file and line of every
row, in a deterministic order.
"""

from pathlib import Path

from churn.config import CollectParams, load_section
from churn.sources import collect, describe
from churn.stage import log, parser, run


def main(args) -> None:
    params: CollectParams = load_section("collect")
    rows = collect(params.source, args.output)
    log.info(
        "collected %s rows from %s (%s) into %s",
        f"{rows:,}",
        describe(params.source),
        params.source.kind,
        args.output,
    )


if __name__ == "__main__":
    p = parser("collect", __doc__)
    p.add_argument("--output", type=Path, required=True, help="raw snapshot (Parquet) to write")
    run("collect", main, p.parse_args())
