"""The prediction log: every prediction, durably, in a SQLite file the monitoring step reads.

One row per prediction: request id, position in the request, time received (UTC),
model version, the customer's inputs (one column per contract feature, plus the
optional customer id), probability, decision and threshold.

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
_SQL_TYPES = {Kind.INTEGER: "INTEGER", Kind.NUMBER: "REAL", Kind.CATEGORY: "TEXT"}


def columns(contract: Contract) -> tuple[tuple[str, str], ...]:
    """Columns of the log and their SQL types, in order; the features come from the contract."""
    return (
        ("request_id", "TEXT NOT NULL"),
        ("item", "INTEGER NOT NULL"),
        ("received_at", "TEXT NOT NULL"),
        ("model_version", "TEXT NOT NULL"),
        (contract.id_column, "TEXT"),
        *((c.name, f"{_SQL_TYPES[c.kind]} NOT NULL") for c in contract.features),
        ("probability", "REAL NOT NULL"),
        ("decision", "INTEGER NOT NULL"),
        ("threshold", "REAL NOT NULL"),
    )


def names(contract: Contract) -> tuple[str, ...]:
    """The log's column names, in order."""
    return tuple(name for name, _ in columns(contract))


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
    db.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_received_at ON {TABLE} (received_at)")
    return db


_STOP = object()


class PredictionLog:
    """Appends predictions from any thread; ``write`` returns a future done once committed."""

    def __init__(self, path: str | Path, contract: Contract, max_commit: int = 512) -> None:
        self.path = Path(path)
        self.max_commit = max_commit
        self.names = names(contract)
        self._insert = (
            f"INSERT INTO {TABLE} ("
            + ", ".join(f'"{n}"' for n in self.names)
            + ") VALUES ("
            + ", ".join("?" for _ in self.names)
            + ")"
        )
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
