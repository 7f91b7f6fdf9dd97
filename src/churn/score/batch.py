"""Score a raw snapshot block by block: contract checks, predictions, decisions.

The steps, for one block of rows at a time (so that memory follows ``block_rows``, not
the size of the file):

1. every row is checked with the data contract by the cleaning rules of the pipeline
   (``churn.clean.rules.clean``): known dirt is repaired, and a row that breaks the
   contract is quarantined with the same reason codes as in ``clean`` (for example
   ``unknown_category:Contract``, ``missing:MonthlyCharges``), never scored;
2. the clean rows are scored by the deployed model and decided with its threshold
   (``probability >= threshold``), exactly as the service does.

Identifiers repeated across blocks are found before the first block (a pass over the
identifier column only; :func:`find_duplicates`), so the outcome is the one ``clean``
gives for the whole table at once: an exact copy of an earlier row is counted once, and
every copy of an identifier whose rows differ is quarantined (``conflicting_duplicate_id``).

The records to score have no outcome yet: the target column is not read. ``clean``'s
rules cover it too, so a placeholder (one of its allowed values) stands in for it and is
dropped again; a target column in the file is ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from churn.clean.rules import REASON, clean
from churn.core import lineage
from churn.core.contract import Contract


@dataclass(frozen=True)
class Duplicates:
    """Identifiers repeated in the whole snapshot, and what to do with their rows."""

    #: Row positions (in the snapshot) of exact copies of an earlier row: counted, dropped.
    drop: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    #: Identifiers whose rows differ: every copy is quarantined.
    conflicting: frozenset[str] = frozenset()


def compared_columns(contract: Contract) -> list[str]:
    """The columns two copies of a record are compared on: the contract's, without the target."""
    return [c for c in contract.names if c != contract.target]


def find_duplicates(snapshot: pq.ParquetFile, contract: Contract, block_rows: int) -> Duplicates:
    """Exact copies and conflicting identifiers across the whole snapshot.

    Reads the identifier column whole (a few tens of MB for millions of rows), then only
    the rows whose identifier repeats (usually none or few).
    """
    ids = snapshot.read(columns=[contract.id_column]).column(0).to_pandas()
    repeated = ids.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return Duplicates()
    positions = np.flatnonzero(repeated)
    names = [c for c in compared_columns(contract) if c in snapshot.schema_arrow.names]
    parts, start = [], 0
    for batch in snapshot.iter_batches(batch_size=block_rows, columns=names):
        inside = positions[(positions >= start) & (positions < start + batch.num_rows)]
        if inside.size:
            part = batch.take(pa.array(inside - start)).to_pandas()
            part.index = inside
            parts.append(part)
        start += batch.num_rows
    rows = pd.concat(parts)
    copies = rows.duplicated(keep="first").to_numpy()
    kept = rows.loc[~copies, contract.id_column]
    kept = kept[kept.str.strip() != ""]  # a blank identifier is quarantined as missing
    conflicting = frozenset(kept[kept.duplicated(keep=False)].tolist())
    return Duplicates(drop=rows.index.to_numpy()[copies], conflicting=conflicting)


def raw_blocks(snapshot: pq.ParquetFile, block_rows: int) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(position of the first row, block)`` over the snapshot, every column as text."""
    start = 0
    for batch in snapshot.iter_batches(batch_size=block_rows):
        block = batch.to_pandas()
        block.index = pd.RangeIndex(start, start + len(block))
        yield start, block
        start += len(block)


@dataclass
class Checked:
    """One block after the contract checks."""

    #: Clean rows in the block's (source) order, typed, without the target column.
    clean: pd.DataFrame
    #: Position in the snapshot of each clean row.
    positions: np.ndarray
    #: Quarantined rows as read (text), with their reasons and lineage.
    quarantine: pd.DataFrame
    rows_in: int
    exact_duplicates_removed: int
    repairs: dict[str, int]
    quarantine_reasons: dict[str, int]
    #: Blank raw values per contract column (before any repair).
    blanks: dict[str, int]


def check_block(
    raw: pd.DataFrame, contract: Contract, duplicates: Duplicates, source: str
) -> Checked:
    """The clean rows of a block and its quarantine, by the cleaning rules of the pipeline."""
    dropped = np.isin(raw.index.to_numpy(), duplicates.drop)
    rows_in = len(raw)
    if dropped.any():
        raw = raw.loc[~dropped]
    columns = compared_columns(contract)
    blanks = {
        c: int((raw[c].astype(str).str.strip() == "").sum()) for c in columns if c in raw.columns
    }
    # The outcome is unknown when scoring: a placeholder the rules accept stands in for it.
    text = raw.assign(**{contract.target: contract.target_values[0]})
    local = duplicates.conflicting & set(raw[contract.id_column]) if len(raw) else frozenset()
    cleaned, quarantined, report = clean(
        text.reset_index(drop=True), contract, source, conflicting_ids=local
    )
    # clean() sorts by identifier; put the rows back in the order they were read.
    ids = raw[contract.id_column]
    first = pd.Series(raw.index.to_numpy(), index=ids.to_numpy())
    first = first[~first.index.duplicated()]
    positions = first.loc[cleaned[contract.id_column].to_numpy()].to_numpy()
    order = np.argsort(positions, kind="stable")
    cleaned = cleaned.drop(columns=[contract.target]).iloc[order].reset_index(drop=True)
    quarantined = quarantined.drop(columns=[contract.target])
    reasons = dict(report.quarantine_reasons)
    return Checked(
        clean=cleaned,
        positions=positions[order],
        quarantine=quarantined,
        rows_in=rows_in,
        exact_duplicates_removed=int(dropped.sum()) + report.exact_duplicates_removed,
        repairs=dict(report.repairs),
        quarantine_reasons=reasons,
        blanks=blanks,
    )


def predict(pipeline, contract: Contract, table: pd.DataFrame) -> np.ndarray:
    """Probability of the event for each clean row, as ``evaluate`` computes it."""
    if table.empty:
        return np.empty(0)
    return pipeline.predict_proba(contract.inputs(table))[:, 1]


@dataclass
class Totals:
    """Counts over every block of a run (every input row ends in exactly one of them)."""

    rows_in: int = 0
    rows_scored: int = 0
    rows_quarantined: int = 0
    exact_duplicates_removed: int = 0
    contacted: int = 0
    repairs: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    blanks: dict[str, int] = field(default_factory=dict)

    def add(self, checked: Checked, contacted: int) -> None:
        self.rows_in += checked.rows_in
        self.rows_scored += len(checked.clean)
        self.rows_quarantined += len(checked.quarantine)
        self.exact_duplicates_removed += checked.exact_duplicates_removed
        self.contacted += contacted
        for mine, theirs in (
            (self.repairs, checked.repairs),
            (self.quarantine_reasons, checked.quarantine_reasons),
            (self.blanks, checked.blanks),
        ):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value

    @property
    def quarantined_share(self) -> float:
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "rows_in": self.rows_in,
            "rows_scored": self.rows_scored,
            "rows_quarantined": self.rows_quarantined,
            "exact_duplicates_removed": self.exact_duplicates_removed,
            "quarantined_share": round(self.quarantined_share, 6),
            "contacted": self.contacted,
            "contacted_share": round(self.contacted / self.rows_scored, 6)
            if self.rows_scored
            else 0.0,
            "repairs": dict(sorted(self.repairs.items())),
            "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())),
            "blanks": dict(sorted(self.blanks.items())),
        }


#: Columns of the quarantine output besides the raw ones: the reasons and the lineage.
QUARANTINE_EXTRA = (REASON, *lineage.COLUMNS)
