"""One scoring run, end to end: source -> snapshot -> checked blocks -> outputs and log.

Memory: one block of rows (``score.block_rows``) at a time, plus the identifier column of
the whole input (for repeated identifiers) and the identifier and probability of each
contacted row (for the ranked contact list). The raw snapshot is written to a temporary
folder and removed at the end.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from churn.clean.rules import REASON
from churn.collect.base import Source
from churn.collect.snapshot import collect
from churn.core import lineage
from churn.core.cli import log
from churn.core.errors import DataError
from churn.core.io import write_json
from churn.score.batch import (
    Totals,
    check_block,
    compared_columns,
    find_duplicates,
    predict,
    raw_blocks,
)
from churn.score.outputs import CONTACT_LIST, QUARANTINE, SCORED, SUMMARY, ContactList, TableWriter
from churn.score.record import RunLog, run_key
from churn.serve.model_source import ServedModel


@dataclass(frozen=True)
class RunResult:
    """What a run did: its outputs, counts, identity, and whether it was logged now."""

    directory: Path
    totals: Totals
    run: str
    #: True when this run's predictions were written to the log now; False when the same
    #: run was already there (``previous``) or no log was asked for.
    logged: bool
    previous: dict[str, Any] | None


class _Progress:
    """A log line every few seconds on large inputs, and one at the end."""

    def __init__(self, total: int, every: float = 5.0) -> None:
        self.total, self.every = total, every
        self.start = self.last = time.perf_counter()

    def update(self, done: int, final: bool = False) -> None:
        now = time.perf_counter()
        if not final and now - self.last < self.every:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        share = f" ({done / self.total:.0%})" if self.total else ""
        log.info(
            "%s of %s rows%s, %s rows/s", f"{done:,}", f"{self.total:,}", share, f"{rate:,.0f}"
        )


def _require_columns(snapshot: pq.ParquetFile, model: ServedModel, source: str) -> None:
    contract = model.problem.contract
    present = set(snapshot.schema_arrow.names)
    missing = [c for c in compared_columns(contract) if c not in present]
    if missing:
        raise DataError(
            f"missing the column(s) {missing} that the model's data contract needs",
            file=source,
            expected=f"the columns {list(compared_columns(contract))} "
            f"(the target {contract.target!r} is not needed)",
            hint=f"check the file against {model.problem.path}",
        )


def _blocks(snapshot: pq.ParquetFile, block_rows: int):
    """The snapshot's blocks; one empty block for an input without rows (the outputs still
    get their columns)."""
    empty = True
    for _, block in raw_blocks(snapshot, block_rows):
        empty = False
        yield block
    if empty:
        yield snapshot.schema_arrow.empty_table().to_pandas()


def score(
    source: Source,
    model: ServedModel,
    period: str,
    directory: Path,
    *,
    block_rows: int,
    log_path: Path | None,
    log_commit_rows: int,
    root: Path = Path("."),
) -> RunResult:
    """Score ``source`` with ``model`` for ``period``.

    Writes the outputs to ``directory`` and the predictions to the log at ``log_path``
    (none: not logged).
    """
    problem = model.problem
    contract, words = problem.contract, problem.words
    threshold = model.threshold
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="churn-score-") as tmp:
        snapshot_path = Path(tmp) / "raw.parquet"
        made_id = contract.id_column if contract.made_id else None
        total = collect(source, snapshot_path, root=root, make_id=made_id)
        snapshot = pq.ParquetFile(snapshot_path)
        _require_columns(snapshot, model, source.describe())
        log.info("read %s rows from %s", f"{total:,}", source.describe())
        duplicates = find_duplicates(snapshot, contract, block_rows)
        run = run_key(snapshot_path, model.version, period)
        run_log = None
        previous = None
        if log_path is not None:
            run_log = RunLog(
                log_path,
                contract,
                run=run,
                period=period,
                model_version=model.version,
                threshold=threshold,
                commit_rows=log_commit_rows,
            )
            previous = run_log.previous()
        logging = run_log is not None and previous is None
        scored = TableWriter(directory, SCORED)
        quarantine = TableWriter(directory, QUARANTINE)
        contacts = ContactList()
        totals = Totals()
        progress = _Progress(total)
        quarantine_columns = None
        try:
            for raw in _blocks(snapshot, block_rows):
                checked = check_block(raw, contract, duplicates, source.describe())
                probability = predict(model.pipeline, contract, checked.clean)
                decision = probability >= threshold
                scored.write(
                    checked.clean.assign(
                        probability=probability,
                        **{words.event: decision},
                        period=period,
                        model_version=model.version,
                    )
                )
                if quarantine_columns is None:
                    data = [
                        c for c in checked.quarantine.columns if c not in (REASON, *lineage.COLUMNS)
                    ]
                    quarantine_columns = [*data, REASON, *lineage.COLUMNS]
                quarantine.write(checked.quarantine[quarantine_columns])
                contacts.add(
                    checked.clean[contract.id_column].to_numpy()[decision], probability[decision]
                )
                if logging:
                    run_log.predictions(checked.clean, checked.positions, probability)
                    run_log.quarantine(checked.quarantine, REASON)
                totals.add(checked, int(decision.sum()))
                progress.update(totals.rows_in)
            scored.close()
            quarantine.close()
        except BaseException:
            scored.abort()
            quarantine.abort()
            if run_log is not None:
                run_log.close()
            raise
        progress.update(totals.rows_in, final=True)
        ranked = contacts.ranked(contract.id_column).assign(
            period=period, model_version=model.version
        )
        contact_list = TableWriter(directory, CONTACT_LIST)
        contact_list.write(ranked)
        contact_list.close()
        summary = {
            "period": period,
            "source": source.describe(),
            "model_version": model.version,
            "threshold": threshold,
            "run": run,
            **totals.as_dict(),
        }
        write_json(summary, directory / SUMMARY)
        if logging:
            run_log.finish(source.describe(), totals.as_dict())
        if run_log is not None:
            run_log.close()
    return RunResult(directory, totals, run, logging, previous)
