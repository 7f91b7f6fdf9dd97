"""What every source kind is: a params block that can read itself in bounded blocks.

A kind subclasses ``Source`` with its params (pydantic fields) and implements
``blocks``: record batches whose columns are the source's text (every value a
string, a missing value a blank, as a CSV export would hold it) plus the two
lineage columns. ``describe`` names the source in logs and errors (never with
credentials); ``fingerprint`` summarises its data so that DVC can notice a change
in a database or an API it cannot hash itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from churn.core import lineage
from churn.core.params import Strict


class Source(Strict):
    """A data source: its params, and how to read it."""

    kind: str
    #: True when DVC can hash the source itself (files): no fingerprint stage is needed.
    hashable_by_dvc: ClassVar[bool] = False

    def blocks(self, root: Path) -> Iterator[pa.RecordBatch]:
        """The source's rows as record batches of text plus lineage, in a stable order."""
        raise NotImplementedError

    def describe(self) -> str:
        """How logs and errors name the source (no credentials)."""
        raise NotImplementedError

    def empty_schema(self, root: Path) -> pa.Schema | None:
        """The snapshot's columns when ``blocks`` yields nothing (a header-only file)."""
        return None

    def fingerprint(self, root: Path) -> dict[str, object]:
        """A small summary that changes when the source's data changes.

        By default a digest of every block as collect reads it (with the row count);
        a kind that can do cheaper (file digests, a count query) overrides this.
        Credentials never enter it.
        """
        hasher = hashlib.blake2b()
        rows = 0
        for batch in self.blocks(root):
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, batch.schema) as stream:
                stream.write_batch(batch)
            hasher.update(sink.getvalue())
            rows += batch.num_rows
        return {"rows": rows, "blake2b": hasher.hexdigest()}


def with_lineage(batch: pa.RecordBatch, label: str, first_line: int) -> pa.RecordBatch:
    """``batch`` with the lineage columns: ``label`` and the line numbers from ``first_line``."""
    n = batch.num_rows
    return pa.RecordBatch.from_arrays(
        [
            *batch.columns,
            pa.array([label] * n, pa.string()),
            pa.array(range(first_line, first_line + n), pa.int64()),
        ],
        names=[*batch.schema.names, *lineage.COLUMNS],
    )


def lineage_schema(names: list[str]) -> pa.Schema:
    """The snapshot schema of text columns ``names`` plus the lineage columns."""
    fields = [pa.field(n, pa.string()) for n in names]
    return pa.schema(
        [
            *fields,
            pa.field(lineage.SOURCE_FILE, pa.string()),
            pa.field(lineage.SOURCE_LINE, pa.int64()),
        ]
    )
