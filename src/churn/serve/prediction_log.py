"""The prediction log: every prediction, durably, in a SQLite file the monitoring step reads.

One row per prediction (table ``predictions``): request id, position in the request, time
received (UTC), model version, the period it belongs to, the channel (``service`` for the
API, ``batch`` for ``python -m churn.score``), the record's inputs (one column per contract
feature, plus the optional identifier), probability, decision and threshold. The service
and batch scoring write the same table, so monitoring reads one place.

Three companion tables live in the same file, written by the steps that own them:
``scoring_runs`` and ``quarantine`` (one row per completed batch-scoring run, one per row
it refused, with the cleaning step's reason codes: ``churn.score``) and ``outcomes`` (what
happened later, loaded by ``churn.monitor.outcomes``). Every table is append-only with an
``id INTEGER PRIMARY KEY``, so a prefix of ids (``id <= n``) is a fixed extent of the log:
the monitor records the extent it read (``churn.monitor.log_state``).

Durability: the database is in WAL mode with ``synchronous=FULL``, so a committed
transaction survives a crash of the process (and of the machine, if the disk honours
fsync). A writer thread commits predictions in groups (group commit: one fsync for
many requests), and a request is answered only after the transaction holding its
predictions has committed. So every prediction whose response was sent is in the
log after a crash; predictions of requests still in flight may or may not be.

Read it with ``pandas.read_sql("SELECT * FROM predictions", sqlite3.connect(path))``;
readers never block the writer (WAL).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from churn.core.contract import Contract, Kind

TABLE = "predictions"
RUNS = "scoring_runs"
QUARANTINE = "quarantine"
OUTCOMES = "outcomes"
#: Every table of the log, in the order the monitor reads them.
TABLES = (TABLE, RUNS, QUARANTINE, OUTCOMES)
#: Values of the ``channel`` column.
SERVICE, BATCH = "service", "batch"
#: What a period label may look like (``2024-05`` by default: the month a prediction was made).
PERIOD_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$"
_SQL_TYPES = {Kind.INTEGER: "INTEGER", Kind.NUMBER: "REAL", Kind.CATEGORY: "TEXT"}


def columns(contract: Contract) -> tuple[tuple[str, str], ...]:
    """Columns of the log and their SQL types, in order; the features come from the contract."""
    return (
        ("request_id", "TEXT NOT NULL"),
        ("item", "INTEGER NOT NULL"),
        ("received_at", "TEXT NOT NULL"),
        ("model_version", "TEXT NOT NULL"),
        ("period", "TEXT"),
        ("channel", "TEXT"),
        (contract.id_column, "TEXT"),
        *((c.name, f"{_SQL_TYPES[c.kind]} NOT NULL") for c in contract.features),
        ("probability", "REAL NOT NULL"),
        ("decision", "INTEGER NOT NULL"),
        ("threshold", "REAL NOT NULL"),
    )


def names(contract: Contract) -> tuple[str, ...]:
    """The log's column names, in order."""
    return tuple(name for name, _ in columns(contract))


def period_of(received_at: str) -> str:
    """The default period of a prediction: the month (UTC) it was received, ``YYYY-MM``."""
    return received_at[:7]


def insert_statement(contract: Contract) -> str:
    """The parameterized INSERT of one prediction (values in the order of ``names``)."""
    cols = names(contract)
    return (
        f"INSERT INTO {TABLE} ("
        + ", ".join(f'"{n}"' for n in cols)
        + ") VALUES ("
        + ", ".join("?" for _ in cols)
        + ")"
    )


def _companion_tables(contract: Contract) -> tuple[str, ...]:
    """CREATE statements of the tables batch scoring and outcome loading write."""
    unit_id = f'"{contract.id_column}"'
    return (
        f"CREATE TABLE IF NOT EXISTS {RUNS} (id INTEGER PRIMARY KEY, "
        "request_id TEXT NOT NULL, run TEXT NOT NULL, period TEXT NOT NULL, "
        "finished_at TEXT NOT NULL, model_version TEXT NOT NULL, threshold REAL NOT NULL, "
        "source TEXT NOT NULL, rows_in INTEGER NOT NULL, rows_scored INTEGER NOT NULL, "
        "rows_quarantined INTEGER NOT NULL, exact_duplicates_removed INTEGER NOT NULL, "
        "blanks TEXT NOT NULL, repairs TEXT NOT NULL, quarantine_reasons TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {RUNS}_run ON {RUNS} (run)",
        f"CREATE TABLE IF NOT EXISTS {QUARANTINE} (id INTEGER PRIMARY KEY, "
        f"request_id TEXT NOT NULL, period TEXT NOT NULL, {unit_id} TEXT, "
        "reason TEXT NOT NULL, source_file TEXT, source_line INTEGER)",
        f"CREATE TABLE IF NOT EXISTS {OUTCOMES} (id INTEGER PRIMARY KEY, "
        f"{unit_id} TEXT NOT NULL, period TEXT NOT NULL, outcome INTEGER NOT NULL, "
        "loaded_at TEXT NOT NULL, source TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {OUTCOMES}_period ON {OUTCOMES} (period)",
    )


def _add_period_and_channel(db: sqlite3.Connection) -> None:
    """Bring a log written before periods and channels existed up to date.

    Its rows came from the service, and their period is the month they were received.
    """
    present = {row[1] for row in db.execute(f"PRAGMA table_info({TABLE})")}
    if "period" in present:
        return
    db.execute("BEGIN IMMEDIATE")
    db.execute(f"ALTER TABLE {TABLE} ADD COLUMN period TEXT")
    db.execute(f"ALTER TABLE {TABLE} ADD COLUMN channel TEXT")
    db.execute(f"UPDATE {TABLE} SET period = substr(received_at, 1, 7), channel = '{SERVICE}'")
    db.execute("COMMIT")


class PredictionLogError(RuntimeError):
    """A prediction could not be committed to the log (the request must not succeed)."""


def connect(path: str | Path, contract: Contract) -> sqlite3.Connection:
    """A connection with the log's durability settings; creates the file and table."""
    path = Path(path)
    create = (
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, "
        + ", ".join(f'"{name}" {kind}' for name, kind in columns(contract))
        + ")"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute(create)
    _add_period_and_channel(db)
    db.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_received_at ON {TABLE} (received_at)")
    db.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_period ON {TABLE} (period)")
    for statement in _companion_tables(contract):
        db.execute(statement)
    return db


_STOP = object()


class PredictionLog:
    """Appends predictions from any thread; ``write`` returns a future done once committed."""

    def __init__(self, path: str | Path, contract: Contract, max_commit: int = 512) -> None:
        self.path = Path(path)
        self.max_commit = max_commit
        self.names = names(contract)
        self._insert = insert_statement(contract)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._db = connect(self.path, contract)
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def write(self, rows: Sequence[Mapping[str, Any]]) -> Future:
        """Queue ``rows`` (mappings with every name in ``names``) for the next commit."""
        future: Future = Future()
        values = [tuple(row[n] for n in self.names) for row in rows]
        if not self.alive:
            future.set_exception(PredictionLogError("the prediction log is closed"))
        else:
            self._queue.put((values, future))
        return future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            size = len(item[0])
            stop = False
            # Group commit: everything already waiting goes in the same transaction.
            while size < self.max_commit:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
                size += len(nxt[0])
            self._commit(batch)
            if stop:
                break
        self._db.close()

    def _commit(self, batch: list[tuple[list[tuple], Future]]) -> None:
        try:
            self._db.execute("BEGIN")
            for values, _ in batch:
                self._db.executemany(self._insert, values)
            self._db.execute("COMMIT")
        except Exception as exc:  # any failure: the waiting requests must not hang
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            error = PredictionLogError(f"could not write to the prediction log {self.path}: {exc}")
            for _, future in batch:
                future.set_exception(error)
            return
        for _, future in batch:
            future.set_result(None)

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread."""
        if self.alive:
            self._queue.put(_STOP)
            self._thread.join()


def read(path: str | Path) -> list[dict[str, Any]]:
    """Every logged prediction, oldest first (for tests and quick looks)."""
    # A plain connection: after a crash, opening it replays the WAL (a read-only one may not).
    db = sqlite3.connect(Path(path))
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(f"SELECT * FROM {TABLE} ORDER BY id")]
    finally:
        db.close()
