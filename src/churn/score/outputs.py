"""The files a scoring run writes: scored table, contact list, quarantine (Parquet and CSV).

Written block by block as the rows are scored (the contact list at the end, from the
identifiers and probabilities of the contacted rows only), each to a temporary name
replaced when complete, so a crash never leaves a half-written file under the final name.
The same input, model and period give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from churn.core.io import statistics_columns

SCORED = "scored"
CONTACT_LIST = "contact_list"
QUARANTINE = "quarantine"
SUMMARY = "summary.json"


class TableWriter:
    """One table written block by block to ``<name>.parquet`` and ``<name>.csv``."""

    def __init__(self, directory: Path, name: str) -> None:
        self.paths = (directory / f"{name}.parquet", directory / f"{name}.csv")
        self._tmp = tuple(p.with_name(p.name + ".tmp") for p in self.paths)
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
        if self._parquet is None:
            self._schema = table.schema
            self._parquet = pq.ParquetWriter(
                self._tmp[0],
                table.schema,
                compression="snappy",
                write_statistics=statistics_columns(table.schema),
            )
            self._csv = pacsv.CSVWriter(self._tmp[1], table.schema)
        self._parquet.write_table(table)
        self._csv.write_table(table)

    def close(self) -> None:
        if self._parquet is None:
            raise RuntimeError("nothing was written, not even the columns")
        self._parquet.close()
        self._csv.close()
        for tmp, path in zip(self._tmp, self.paths, strict=True):
            tmp.replace(path)

    def abort(self) -> None:
        for writer in (self._parquet, self._csv):
            if writer is not None:
                writer.close()
        for tmp in self._tmp:
            tmp.unlink(missing_ok=True)


@dataclass
class ContactList:
    """The contacted rows' identifiers and probabilities, ranked once every block is in.

    Only two columns of the contacted rows are kept, so its memory is a small share of
    the scored table's.
    """

    ids: list[np.ndarray] = field(default_factory=list)
    probabilities: list[np.ndarray] = field(default_factory=list)

    def add(self, ids: np.ndarray, probability: np.ndarray) -> None:
        self.ids.append(np.asarray(ids, dtype=object))
        self.probabilities.append(np.asarray(probability, dtype=np.float64))

    def ranked(self, id_column: str) -> pd.DataFrame:
        """Highest probability first (ties by identifier), ranks from 1."""
        ids = np.concatenate(self.ids) if self.ids else np.empty(0, dtype=object)
        p = np.concatenate(self.probabilities) if self.probabilities else np.empty(0)
        frame = pd.DataFrame({id_column: pd.array(ids, dtype="str"), "probability": p})
        frame = frame.sort_values(
            ["probability", id_column], ascending=[False, True], kind="stable"
        )
        frame.insert(0, "rank", np.arange(1, len(frame) + 1, dtype=np.int64))
        return frame.reset_index(drop=True)
