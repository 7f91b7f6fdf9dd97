"""Record which rows of the prediction log the next monitoring run covers.

DVC hashes files, but the prediction log is a live SQLite database (the service may be
writing to it). Its tables are append-only with increasing ids, so a prefix of each table
(``id <= last_id``) is a fixed extent. This command writes that extent (per table: the row
count and the last id) to a small JSON file; the ``monitor`` stage depends on that file and
reads exactly that extent, so:

* the log grew (new predictions, outcomes, scoring runs): the file changes and
  ``dvc repro monitor`` reruns;
* it did not: the same bytes, and nothing reruns;
* rows logged after the file was written are left for the next run, and the same extent
  always gives the same monitoring outputs.

The file is committed with the monitoring results (``make monitor`` runs this command,
then ``dvc repro monitor``). No log yet is an extent too: the monitor then says so.

    python -m churn.monitor.log_state        # writes data/monitor/log_state.json
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from churn.core.cli import log, parser, run
from churn.core.io import write_json
from churn.core.params import ServeParams, load
from churn.core.paths import workspace_paths
from churn.serve.prediction_log import TABLES


def extent(path: str | Path) -> dict[str, Any]:
    """Rows and last id of every table of the log at ``path`` (``exists: false`` if none)."""
    path = Path(path)
    state: dict[str, Any] = {"prediction_log": path.as_posix(), "exists": path.exists()}
    if not path.exists():
        return state
    # A plain connection: it replays a WAL left by a crashed writer (a read-only one may not).
    db = sqlite3.connect(path)
    try:
        present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables = {}
        for table in TABLES:
            if table in present:
                rows, last = db.execute(f"SELECT count(*), max(id) FROM {table}").fetchone()
                tables[table] = {"rows": rows, "last_id": last or 0}
            else:
                tables[table] = {"rows": 0, "last_id": 0}
        state["tables"] = tables
    finally:
        db.close()
    return state


def main(args) -> None:
    path = Path(args.prediction_log or load(ServeParams).prediction_log)
    output = args.output or Path(workspace_paths()["monitor_log_state"])
    state = extent(path)
    write_json(state, output)
    if state["exists"]:
        counts = ", ".join(f"{t} {v['rows']:,}" for t, v in state["tables"].items())
        log.info("%s: %s; recorded in %s", path, counts, output)
    else:
        log.info("%s does not exist yet: recorded as empty in %s", path, output)


if __name__ == "__main__":
    p = parser("churn.monitor.log_state", __doc__)
    p.add_argument(
        "--output", type=Path, help="the extent (JSON) to write (default: dvc.yaml's path)"
    )
    p.add_argument("--prediction-log", help="SQLite log (default: serve.prediction_log)")
    run("log_state", main, p.parse_args())
