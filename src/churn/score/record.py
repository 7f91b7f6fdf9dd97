"""A scoring run in the prediction log: its predictions, its quarantine, and its summary.

The predictions go to the table the service writes (``churn.serve.prediction_log``), with
channel ``batch`` and the run's period, ``log_commit_rows`` per transaction: the cost per
row stays flat at millions of rows, and the service (which may be writing to the same
file) waits for one transaction at most. The run's summary row (table ``scoring_runs``)
is written last: a run that stopped half-way has predictions but no summary, and the
monitor leaves such predictions out.

A run is known by a digest of what it scored, the model and the period
(:func:`run_key`): scoring the same data with the same model for the same period again
finds it in ``scoring_runs`` and logs nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import pandas as pd

from churn.core import lineage
from churn.core.contract import Contract
from churn.serve.prediction_log import (
    BATCH,
    QUARANTINE,
    RUNS,
    connect,
    insert_statement,
    names,
)


def run_key(snapshot: Path, model_version: str, period: str) -> str:
    """The identity of a run: a digest of the snapshot's bytes, the model and the period."""
    hasher = hashlib.blake2b(digest_size=8)
    with snapshot.open("rb") as fh:
        hasher.update(hashlib.file_digest(fh, "blake2b").digest())
    hasher.update(f"\0{model_version}\0{period}".encode())
    return hasher.hexdigest()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class RunLog:
    """Writes one scoring run to the prediction log at ``path``."""

    def __init__(
        self,
        path: str | Path,
        contract: Contract,
        *,
        run: str,
        period: str,
        model_version: str,
        threshold: float,
        commit_rows: int,
    ) -> None:
        self.path = Path(path)
        self.contract = contract
        self.run = run
        self.period = period
        self.model_version = model_version
        self.threshold = threshold
        self.commit_rows = commit_rows
        self.db = connect(self.path, contract)
        # A token per attempt: an interrupted attempt's predictions never mix with the next.
        self.request_id = f"score:{run}:{uuid.uuid4().hex[:8]}"
        self._insert = insert_statement(contract)
        self._names = names(contract)

    def previous(self) -> dict[str, Any] | None:
        """The completed run with the same identity, if the log has one."""
        self.db.row_factory = sqlite3.Row
        try:
            row = self.db.execute(
                f"SELECT request_id, finished_at FROM {RUNS} WHERE run = ? ORDER BY id LIMIT 1",
                (self.run,),
            ).fetchone()
        finally:
            self.db.row_factory = None
        return dict(row) if row else None

    def _executemany(self, statement: str, rows: Sequence[tuple]) -> None:
        for start in range(0, len(rows), self.commit_rows):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany(statement, rows[start : start + self.commit_rows])
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def predictions(
        self, table: pd.DataFrame, positions: Iterable[int], probability: Iterable[float]
    ) -> None:
        """Log the block's scored rows (``table``: the clean rows, contract columns)."""
        n = len(table)
        if n == 0:
            return
        probability = list(map(float, probability))
        values = {
            "request_id": repeat(self.request_id, n),
            "item": map(int, positions),
            "received_at": repeat(now(), n),
            "model_version": repeat(self.model_version, n),
            "period": repeat(self.period, n),
            "channel": repeat(BATCH, n),
            "probability": probability,
            "decision": (int(p >= self.threshold) for p in probability),
            "threshold": repeat(self.threshold, n),
        }
        for name in (self.contract.id_column, *self.contract.feature_names):
            values[name] = table[name].tolist()
        rows = list(zip(*(values[name] for name in self._names), strict=False))
        self._executemany(self._insert, rows)

    def quarantine(self, rows: pd.DataFrame, reason_column: str) -> None:
        """Log the block's quarantined rows: identifier, reasons, file and line."""
        if rows.empty:
            return
        statement = (
            f'INSERT INTO {QUARANTINE} (request_id, period, "{self.contract.id_column}", '
            "reason, source_file, source_line) VALUES (?, ?, ?, ?, ?, ?)"
        )
        values = list(
            zip(
                repeat(self.request_id),
                repeat(self.period),
                rows[self.contract.id_column].tolist(),
                rows[reason_column].tolist(),
                rows[lineage.SOURCE_FILE].tolist(),
                map(int, rows[lineage.SOURCE_LINE]),
                strict=False,
            )
        )
        self._executemany(statement, values)

    def finish(self, source: str, totals: dict[str, Any]) -> None:
        """The run's summary row: written last, it marks the run complete."""
        row = (
            self.request_id,
            self.run,
            self.period,
            now(),
            self.model_version,
            self.threshold,
            source,
            totals["rows_in"],
            totals["rows_scored"],
            totals["rows_quarantined"],
            totals["exact_duplicates_removed"],
            json.dumps(totals["blanks"], sort_keys=True),
            json.dumps(totals["repairs"], sort_keys=True),
            json.dumps(totals["quarantine_reasons"], sort_keys=True),
        )
        self._executemany(
            f"INSERT INTO {RUNS} (request_id, run, period, finished_at, model_version, "
            "threshold, source, rows_in, rows_scored, rows_quarantined, "
            "exact_duplicates_removed, blanks, repairs, quarantine_reasons) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row],
        )

    def close(self) -> None:
        self.db.close()
