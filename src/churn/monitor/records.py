"""What the monitor reads: a fixed extent of the prediction log, one period at a time.

The extent (``churn.monitor.log_state``) names, per table, how many rows and up to which
id; every query here stays within it, so rows logged since do not change the result, and
rows deleted since are an error (the monitoring could not be reproduced).

Per period:

* the predictions, from the service and from batch scoring alike, except those of a batch
  run that did not finish (it has no ``scoring_runs`` row); a unit predicted more than once
  in the period counts once, with its latest prediction (another run over a corrected
  file, a repeated request); predictions without an identifier all count;
* the batch runs' counts (rows read, quarantined with reasons, blank values);
* the outcomes: for each identifier, the last one loaded for the period.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from churn.core.contract import Contract
from churn.core.errors import DataError
from churn.serve.prediction_log import BATCH, OUTCOMES, RUNS, TABLE, TABLES


@dataclass(frozen=True)
class Extent:
    """The rows of each table of the log that one monitoring run reads."""

    path: Path
    exists: bool
    #: Per table: (rows, last id).
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: dict[str, Any], where: str) -> Extent:
        try:
            tables = {
                t: (int(v["rows"]), int(v["last_id"])) for t, v in data.get("tables", {}).items()
            }
            return cls(Path(data["prediction_log"]), bool(data["exists"]), tables)
        except (KeyError, TypeError, ValueError):
            raise DataError(
                "not a prediction-log extent",
                file=where,
                hint="write it with `python -m churn.monitor.log_state --output <file>`",
            ) from None

    def last(self, table: str) -> int:
        return self.tables.get(table, (0, 0))[1]


def open_log(extent: Extent, state_file: str, root: Path = Path(".")) -> sqlite3.Connection | None:
    """A connection to the log, checked to still hold the extent (None: no log recorded)."""
    if not extent.exists:
        return None
    path = root / extent.path
    if not path.exists():
        raise DataError(
            f"the prediction log {extent.path} that this extent records is missing",
            file=state_file,
            hint="restore the log, or record the current one with "
            "`python -m churn.monitor.log_state` (make monitor)",
        )
    db = sqlite3.connect(path)
    present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table in TABLES:
        rows, last = extent.tables.get(table, (0, 0))
        found = 0
        if table in present:
            found = db.execute(f"SELECT count(*) FROM {table} WHERE id <= ?", (last,)).fetchone()[0]
        if found != rows:
            db.close()
            raise DataError(
                f"table {table} holds {found:,} rows up to id {last:,}, the extent records "
                f"{rows:,}: rows were deleted from the log since it was recorded",
                file=state_file,
                hint="record the log as it is now: `python -m churn.monitor.log_state` "
                "(make monitor)",
            )
    return db


def periods(db: sqlite3.Connection, extent: Extent) -> list[str]:
    """Every period with a prediction or a finished batch run, in label order."""
    found = db.execute(
        f"SELECT DISTINCT period FROM {TABLE} WHERE id <= ? AND period IS NOT NULL "
        f"UNION SELECT DISTINCT period FROM {RUNS} WHERE id <= ?",
        (extent.last(TABLE), extent.last(RUNS)),
    ).fetchall()
    return sorted(r[0] for r in found)


@dataclass
class PeriodRecords:
    """One period of the log, as the monitor uses it."""

    period: str
    #: The predictions counted (one per identifier, the latest), contract dtypes.
    predictions: pd.DataFrame
    #: Predictions in the log for the period, before dropping repeats and unfinished runs.
    logged: int
    #: Earlier predictions of an identifier predicted again in the period (not counted).
    superseded: int
    #: Predictions of batch runs that did not finish (not counted).
    unfinished: int
    #: Counted predictions per channel and per model version.
    channels: dict[str, int]
    model_versions: dict[str, int]
    #: The finished batch runs of the period (counts, reasons, blank values).
    runs: pd.DataFrame
    #: Latest outcome per identifier: identifier, outcome (0/1).
    outcomes: pd.DataFrame

    def sum_runs(self, column: str) -> int:
        return int(self.runs[column].sum()) if len(self.runs) else 0

    def run_counts(self, column: str) -> dict[str, int]:
        """A JSON column of the runs (reasons, blanks, repairs) summed over the runs."""
        total: Counter[str] = Counter()
        for text in self.runs[column] if len(self.runs) else []:
            total.update(json.loads(text))
        return dict(sorted(total.items()))


def read_period(
    db: sqlite3.Connection, extent: Extent, contract: Contract, period: str
) -> PeriodRecords:
    """The predictions, batch runs and outcomes of ``period`` within ``extent``."""
    idc = contract.id_column
    dtypes = {c.name: c.clean_dtype for c in contract.features}
    runs = pd.read_sql_query(
        f"SELECT * FROM {RUNS} WHERE period = ? AND id <= ? ORDER BY id",
        db,
        params=(period, extent.last(RUNS)),
    )
    raw = pd.read_sql_query(
        f"SELECT * FROM {TABLE} WHERE period = ? AND id <= ? ORDER BY id",
        db,
        params=(period, extent.last(TABLE)),
    )
    logged = len(raw)
    finished = set(runs["request_id"])
    unfinished = (raw["channel"] == BATCH) & ~raw["request_id"].isin(finished)
    raw = raw.loc[~unfinished]
    with_id = raw[idc].notna()
    repeated = with_id & raw[idc].duplicated(keep="last")
    kept = raw.loc[~repeated].reset_index(drop=True)
    kept = kept.astype({**dtypes, "probability": "float64", "decision": "int64"})
    kept[idc] = kept[idc].astype("str")
    outcomes = pd.read_sql_query(
        f'SELECT "{idc}", outcome FROM {OUTCOMES} WHERE id IN ('
        f'SELECT max(id) FROM {OUTCOMES} WHERE period = ? AND id <= ? GROUP BY "{idc}") '
        f'ORDER BY "{idc}"',
        db,
        params=(period, extent.last(OUTCOMES)),
    )
    outcomes[idc] = outcomes[idc].astype("str")
    return PeriodRecords(
        period=period,
        predictions=kept,
        logged=logged,
        superseded=int(repeated.sum()),
        unfinished=int(unfinished.sum()),
        channels=dict(sorted(Counter(kept["channel"].fillna("unknown")).items())),
        model_versions=dict(sorted(Counter(kept["model_version"]).items())),
        runs=runs,
        outcomes=outcomes,
    )
