"""Clean the raw snapshot: repair known dirt, quarantine untrustworthy rows, lose nothing.

Writes the clean table, the quarantine table (each row with its reason codes)
and a metrics file with the counts. Then validates the clean table against the
data contract with Great Expectations (typed columns, allowed values, ranges,
unique key, no nulls) and writes that summary. Fails when the clean table
breaks the contract, or when the quarantined fraction exceeds
clean.max_quarantine_fraction.

A snapshot larger than a batch (compute.batch_rows) is cleaned bucket by bucket
(buckets of a hash of the identifier, so that every copy of a customer is in one
bucket); the tables are then folders with one part per bucket.
"""

if __name__ == "__main__":  # worker processes get ready while this one imports
    from churn.core.compute import start_workers_early

    start_workers_early("--input", "churn.validate.quiet_gx")

from pathlib import Path

from churn.clean.buckets import clean_table
from churn.clean.rules import check_quarantine_gate
from churn.core.cli import log, parser, run
from churn.core.compute import engine
from churn.core.errors import DataError
from churn.core.io import write_json
from churn.core.params import CleanParams, ComputeParams, load
from churn.core.problem import load_problem
from churn.validate.messages import CLEAN_ADVICE, describe_failures


def main(args) -> None:
    params = load(CleanParams)
    compute = load(ComputeParams)
    contract = load_problem().contract
    with engine(compute) as work:
        report, summary = clean_table(
            args.input,
            contract,
            work,
            compute.batch_rows,
            args.output,
            args.quarantine,
            source=str(args.input),
        )
    write_json(report.as_metrics(), args.metrics)
    log.info(
        "%s rows in: %s clean, %s quarantined, %s exact duplicates removed; repairs %s",
        f"{report.rows_in:,}",
        f"{report.rows_clean:,}",
        f"{report.rows_quarantined:,}",
        report.exact_duplicates_removed,
        report.repairs,
    )
    write_json(summary, args.summary)
    if not summary["success"]:
        raise DataError(describe_failures(summary, contract, list(contract.names), CLEAN_ADVICE))
    log.info("the clean table meets all %s contract expectations", summary["evaluated"])
    check_quarantine_gate(report, params.max_quarantine_fraction, str(args.input))


if __name__ == "__main__":
    p = parser("churn.clean", __doc__)
    p.add_argument("--input", type=Path, required=True, help="raw snapshot (Parquet)")
    p.add_argument("--output", type=Path, required=True, help="clean table (Parquet)")
    p.add_argument("--quarantine", type=Path, required=True, help="quarantined rows (Parquet)")
    p.add_argument("--metrics", type=Path, required=True, help="cleaning counts (JSON)")
    p.add_argument(
        "--summary", type=Path, required=True, help="clean-data validation summary (JSON)"
    )
    run("clean", main, p.parse_args())
