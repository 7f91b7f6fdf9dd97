"""Validate the raw snapshot against the data contract with Great Expectations.

Writes a byte-stable JSON summary and an offline HTML report of it. When the
data breaks the contract, prints each failed expectation with counts, example
values and source lines, and exits non-zero so that nothing downstream runs;
the report is written first, so it is there to open when validation fails.

The suite runs batch by batch (compute.batch_rows rows at a time, on the engine
that compute.engine names) with the counts merged, and the checks that need
every row at once (row count, uniqueness) run in one pass: memory stays bounded
whatever the size of the snapshot.

A degenerate target is refused here too (a single class, too few rows of a class
for the stratified split and the CV folds, an almost constant target), before
anything is trained on it; for that it reads `split.train`, `split.validation`,
`split.test` and `train.cv_folds`.
"""

if __name__ == "__main__":  # worker processes get ready while this one imports
    from churn.core.compute import start_workers_early

    start_workers_early("--input", "churn.validate.quiet_gx")

from pathlib import Path

from churn.core import tables
from churn.core.cli import log, parser, run
from churn.core.compute import engine
from churn.core.errors import DataError
from churn.core.io import ensure_parent, write_json
from churn.core.lineage import snapshot_origin
from churn.core.params import (
    ComputeParams,
    SplitParams,
    TrainParams,
    ValidateParams,
    load,
    load_keys,
)
from churn.core.problem import load_problem
from churn.validate.checks import ClassNeeds
from churn.validate.messages import explain_failures
from churn.validate.report import render
from churn.validate.suite import validate_table


def main(args) -> None:
    params = load(ValidateParams)
    needs = ClassNeeds(
        **load_keys(SplitParams, ["train", "validation", "test"]),
        **load_keys(TrainParams, ["cv_folds"]),
        max_share=1 - params.min_target_class_share,
    )
    compute = load(ComputeParams)
    problem = load_problem()
    contract = problem.contract
    with engine(compute) as work:
        summary = validate_table(
            args.input,
            contract,
            params,
            work,
            compute.batch_rows,
            data=str(args.input),
            needs=needs,
            threads=compute.threads,
        )
    write_json(summary, args.summary)
    # Before failing: DVC keeps a failed stage's files in the workspace (uncommitted), and
    # the report is most useful exactly then.
    ensure_parent(args.report).write_text(render(summary, contract, problem.path), encoding="utf-8")
    log.info("report: %s (open it in a browser)", args.report)
    if not summary["success"]:
        origin = snapshot_origin(args.input)
        columns = list(tables.empty_frame(args.input).columns)
        raise DataError(explain_failures(summary, contract, columns, origin, needs))
    log.info("%s rows pass all %s expectations", f"{summary['rows']:,}", summary["evaluated"])


if __name__ == "__main__":
    p = parser("churn.validate", __doc__)
    p.add_argument("--input", type=Path, required=True, help="raw snapshot (Parquet)")
    p.add_argument("--summary", type=Path, required=True, help="JSON summary to write")
    p.add_argument("--report", type=Path, required=True, help="HTML report to write")
    run("validate", main, p.parse_args())
