"""The raw snapshot: the source's text exactly, plus where each row came from.

Every contract column is a string (a blank stays a blank), so nothing is altered
before validation looks at it. Two lineage columns record the file and line each
row came from, so every later error can name them; the Parquet metadata records
the source itself. Rows are written block by block: memory stays bounded.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from churn.collect.base import Source
from churn.core import lineage
from churn.core.io import statistics_columns
from churn.core.problem import row_ids

#: Separates the fields of a row when its identifier is made from its text.
_FIELD_SEPARATOR = "\x1f"


def with_row_id(batch: pa.RecordBatch, name: str) -> pa.RecordBatch:
    """``batch`` with a first column ``name``: each row's id, a digest of its source text.

    For a unit with no identifier (the problem file's ``unit.id: null``): the same row
    always gets the same id, wherever and whenever it is read, so identical rows are
    exact duplicates for clean and the splits stay seeded by content.
    """
    data = [c for c in batch.schema.names if c not in lineage.COLUMNS]
    rows = zip(*(batch.column(c).to_pylist() for c in data), strict=True)
    ids = pa.array(row_ids([_FIELD_SEPARATOR.join(r) for r in rows]), pa.string())
    return pa.RecordBatch.from_arrays([ids, *batch.columns], names=[name, *batch.schema.names])


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(
        path, schema, compression="snappy", write_statistics=statistics_columns(schema)
    )


def collect(
    source: Source, output: Path, root: Path = Path("."), make_id: str | None = None
) -> int:
    """Write the raw snapshot of ``source`` to the Parquet file ``output``; return its row count.

    With ``make_id``, every row gets that identifier column (see ``with_row_id``).
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    rows = 0
    tmp = output.with_suffix(output.suffix + ".tmp")
    # Each block is written in a second thread while the next one is read: pyarrow's
    # CSV reader and Parquet writer both run without the GIL, and a block is written
    # only once the one before it is (the same file, byte for byte, in about the time
    # of the slower of the two instead of their sum).
    pending: Future[None] | None = None
    try:
        origin = {lineage.METADATA_KEY: source.describe().encode()}
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="collect-write") as background:
            for batch in source.blocks(root):
                if make_id:
                    batch = with_row_id(batch, make_id)
                if writer is None:
                    schema = batch.schema.with_metadata(origin)
                    writer = _writer(tmp, schema)
                if batch.num_rows:  # a query with no rows yields one empty batch: its schema
                    if pending is not None:
                        pending.result()  # the block before, written (or its error raised)
                    pending = background.submit(writer.write_batch, batch)
                rows += batch.num_rows
            if pending is not None:
                pending.result()
        if writer is None:  # a header-only source yields no batch
            empty = source.empty_schema(root)
            if empty is None:  # pragma: no cover - every kind yields a batch or has a schema
                raise RuntimeError(f"{source.kind} source yielded no batch and has no schema")
            if make_id:
                empty = pa.schema([pa.field(make_id, pa.string()), *empty])
            writer = _writer(tmp, empty.with_metadata(origin))
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(output)
    return rows


def fingerprint(source: Source, root: Path = Path(".")) -> dict[str, object]:
    """A small summary that changes when the source's data changes (``Source.fingerprint``).

    DVC hashes files itself, but cannot hash a database or an API: the
    ``source_state`` stage runs this on every ``dvc repro`` and ``collect``
    depends on its output, so a changed table or API reruns ``collect`` while an
    unchanged one gives the same bytes and nothing downstream reruns.
    """
    return {"kind": source.kind, "source": source.describe(), **source.fingerprint(root)}
