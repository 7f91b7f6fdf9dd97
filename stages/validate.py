"""Validate the raw snapshot against the data contract with Great Expectations.

Writes a byte-stable JSON summary. When the data breaks the contract, prints
each failed expectation with counts, example values and source lines, and
exits non-zero so that nothing downstream runs.
"""

from pathlib import Path

from churn.config import ValidateParams, load_section
from churn.errors import DataError
from churn.io import read_parquet, write_json
from churn.stage import log, parser, run
from churn.validation import explain_failures, snapshot_origin, validate


def main(args) -> None:
    params: ValidateParams = load_section("validate")
    raw = read_parquet(args.input)
    summary = validate(raw, params, data=str(args.input))
    write_json(summary, args.summary)
    if not summary["success"]:
        origin = snapshot_origin(args.input)
        raise DataError(explain_failures(summary, list(raw.columns), origin))
    log.info("%s rows pass all %s expectations", f"{len(raw):,}", summary["evaluated"])


if __name__ == "__main__":
    p = parser("validate", __doc__)
    p.add_argument("--input", type=Path, required=True, help="raw snapshot (Parquet)")
    p.add_argument("--summary", type=Path, required=True, help="JSON summary to write")
    run("validate", main, p.parse_args())
