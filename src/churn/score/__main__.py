"""Score a file (or the source in params.yaml: score.source) with the deployed model.

Every row is checked with the data contract (the cleaning rules of the pipeline): bad
rows are quarantined with their reasons, never scored. The clean rows are scored with
the model and threshold the service uses (verified against dvc.lock), and every
prediction is recorded, with the model version and the period, in the prediction log the
service writes (params.yaml: serve.prediction_log), for monitoring.

Writes to <score.output_dir>/<period>/ (or --output-dir): scored.{parquet,csv} (the clean
rows in input order with probability and decision), contact_list.{parquet,csv} (the rows
to act on, highest probability first), quarantine.{parquet,csv} (refused rows, reasons,
file and line) and summary.json (the counts). Scoring the same data with the same model
for the same period again rewrites the files and logs nothing twice.

  python -m churn.score --input customers-2024-05.csv --period 2024-05
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.errors import ConfigError
from churn.core.params import CleanParams, ServeParams, load
from churn.score.run import score
from churn.score.settings import ScoreParams, input_source
from churn.serve import model_source
from churn.serve.prediction_log import PERIOD_PATTERN


def main(args) -> None:
    settings = load(ScoreParams)
    if args.input:
        source = input_source(args.input, args.pattern)
    elif settings.source is not None:
        source = settings.source
    else:
        raise ConfigError(
            "nothing to score: give --input FILE, or set score.source in params.yaml "
            "(any kind collect.source takes)"
        )
    period = args.period or datetime.now(UTC).strftime("%Y-%m")
    if not re.fullmatch(PERIOD_PATTERN, period):
        raise ConfigError(
            f"--period {period!r} is not a period label: letters, digits, '.', '_' or '-' "
            "(at most 32 characters), e.g. 2024-05"
        )
    model = model_source.load(Path("."), args.rev)
    log.info(
        "model %s (%s), threshold %s; period %s",
        model.version,
        model.source,
        model.threshold,
        period,
    )
    log_path = (
        None if args.no_log else Path(args.prediction_log or load(ServeParams).prediction_log)
    )
    directory = Path(args.output_dir) if args.output_dir else Path(settings.output_dir) / period
    result = score(
        source,
        model,
        period,
        directory,
        block_rows=settings.block_rows,
        log_path=log_path,
        log_commit_rows=settings.log_commit_rows,
    )
    totals = result.totals
    words = model.problem.words
    log.info(
        "%s rows in: %s scored, %s quarantined, %s exact duplicates removed; %s %s to %s",
        f"{totals.rows_in:,}",
        f"{totals.rows_scored:,}",
        f"{totals.rows_quarantined:,}",
        f"{totals.exact_duplicates_removed:,}",
        f"{totals.contacted:,}",
        words.units,
        words.verb,
    )
    if totals.quarantine_reasons:
        top = sorted(totals.quarantine_reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        log.info("quarantine reasons: %s", ", ".join(f"{k} ({v})" for k, v in top))
    limit = load(CleanParams).max_quarantine_fraction
    if totals.quarantined_share > limit:
        log.warning(
            "WARNING: %.1f%% of the rows were quarantined, more than clean.max_quarantine_fraction "
            "(%.1f%%): see %s",
            100 * totals.quarantined_share,
            100 * limit,
            directory / "quarantine.csv",
        )
    if log_path is None:
        log.info("not logged (--no-log)")
    elif result.logged:
        log.info(
            "logged %s predictions to %s (run %s)", f"{totals.rows_scored:,}", log_path, result.run
        )
    else:
        log.info(
            "already in %s: this data was scored with this model for period %s at %s "
            "(run %s); nothing logged twice",
            log_path,
            period,
            result.previous["finished_at"],
            result.run,
        )
    log.info("outputs in %s", directory)


if __name__ == "__main__":
    p = parser("churn.score", __doc__)
    p.add_argument(
        "--input", help="a CSV or Parquet file, or a folder of them (default: score.source)"
    )
    p.add_argument(
        "--pattern", help="files of an --input folder to read (default: *.csv or *.parquet)"
    )
    p.add_argument(
        "--period", help="the period these predictions belong to (default: this month, UTC)"
    )
    p.add_argument("--output-dir", help="where to write (default: <score.output_dir>/<period>)")
    p.add_argument("--rev", help="score with the model of this git revision (tag, branch, sha)")
    p.add_argument("--prediction-log", help="SQLite log (default: serve.prediction_log)")
    p.add_argument("--no-log", action="store_true", help="write the outputs only, log nothing")
    run("score", main, p.parse_args())
