"""Replay a SIMULATED stream into a scratch prediction log, as production would have logged it.

Each month of the stream goes through batch scoring (``churn.score.run.score``: the same
contract checks, quarantine and model as ``python -m churn.score``) into a log in a
scratch directory, under its period; then every month's outcomes are loaded
(``churn.monitor.outcomes``), as if they had all arrived. The monitor then reads that log
like any other. The log's own bytes hold run tokens and times and are thrown away; what
the monitor reads from it (rows, periods, probabilities, outcomes) is the same every time.
"""

from __future__ import annotations

import json
from pathlib import Path

from churn.collect.files import CsvSource
from churn.monitor.outcomes import load_outcomes, parse_outcomes, read_source
from churn.score.run import score
from churn.serve.model_source import ServedModel

#: Rows read at a time and predictions per log transaction (the months are small).
BLOCK_ROWS = 50_000
COMMIT_ROWS = 5_000


def read_manifest(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def replay_into_log(directory: Path, model: ServedModel, log_path: Path, scratch: Path) -> dict:
    """Score every month of the stream in ``directory`` into ``log_path``; load its outcomes.

    Returns the stream's manifest.
    """
    manifest = read_manifest(directory)
    contract = model.problem.contract
    for month in manifest["months"]:
        period = month["period"]
        records = directory / month["files"]["records"]["path"]
        score(
            CsvSource(kind="csv", path=records.as_posix()),
            model,
            period,
            scratch / "scores" / period,
            block_rows=BLOCK_ROWS,
            log_path=log_path,
            log_commit_rows=COMMIT_ROWS,
        )
    if manifest["months"]:
        source = CsvSource(kind="csv", path=(directory / "outcomes").as_posix())
        frame = parse_outcomes(read_source(source), contract, "the simulated outcomes")
        load_outcomes(log_path, contract, frame, "simulated")
    return manifest
