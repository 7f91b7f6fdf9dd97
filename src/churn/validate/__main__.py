"""Validate the raw snapshot against the data contract with Great Expectations.

Writes a byte-stable JSON summary and an offline HTML report of it. When the
data breaks the contract, prints each failed expectation with counts, example
values and source lines, and exits non-zero so that nothing downstream runs;
the report is written first, so it is there to open when validation fails.

A degenerate target is refused here too (a single class, too few rows of a class
for the stratified split and the CV folds, an almost constant target), before
anything is trained on it; for that it reads `split.train`, `split.validation`,
`split.test` and `train.cv_folds`.
"""

from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.errors import DataError
from churn.core.io import ensure_parent, read_parquet, write_json
from churn.core.lineage import snapshot_origin
from churn.core.params import SplitParams, TrainParams, ValidateParams, load, load_keys
from churn.core.problem import load_problem
from churn.validate.checks import ClassNeeds
from churn.validate.messages import explain_failures
from churn.validate.report import render
from churn.validate.suite import validate


def main(args) -> None:
    params = load(ValidateParams)
    needs = ClassNeeds(
        **load_keys(SplitParams, ["train", "validation", "test"]),
        **load_keys(TrainParams, ["cv_folds"]),
        max_share=1 - params.min_target_class_share,
    )
    problem = load_problem()
    contract = problem.contract
    raw = read_parquet(args.input)
    summary = validate(raw, contract, params, str(args.input), needs)
    write_json(summary, args.summary)
    # Before failing: DVC keeps a failed stage's files in the workspace (uncommitted), and
    # the report is most useful exactly then.
    ensure_parent(args.report).write_text(render(summary, contract, problem.path), encoding="utf-8")
    log.info("report: %s (open it in a browser)", args.report)
    if not summary["success"]:
        origin = snapshot_origin(args.input)
        raise DataError(explain_failures(summary, contract, list(raw.columns), origin, needs))
    log.info("%s rows pass all %s expectations", f"{len(raw):,}", summary["evaluated"])


if __name__ == "__main__":
    p = parser("churn.validate", __doc__)
    p.add_argument("--input", type=Path, required=True, help="raw snapshot (Parquet)")
    p.add_argument("--summary", type=Path, required=True, help="JSON summary to write")
    p.add_argument("--report", type=Path, required=True, help="HTML report to write")
    run("validate", main, p.parse_args())
