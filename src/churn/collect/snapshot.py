"""The raw snapshot: the source's text exactly, plus where each row came from.

Every contract column is a string (a blank stays a blank), so nothing is altered
before validation looks at it. Two lineage columns record the file and line each
row came from, so every later error can name them; the Parquet metadata records
the source itself. Rows are written block by block: memory stays bounded.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from churn.collect.base import Source
from churn.core import lineage


def collect(source: Source, output: Path, root: Path = Path(".")) -> int:
    """Write the raw snapshot of ``source`` to the Parquet file ``output``; return its row count."""
    output.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    rows = 0
    tmp = output.with_suffix(output.suffix + ".tmp")
    try:
        origin = {lineage.METADATA_KEY: source.describe().encode()}
        for batch in source.blocks(root):
            if writer is None:
                schema = batch.schema.with_metadata(origin)
                writer = pq.ParquetWriter(tmp, schema, compression="snappy")
            if batch.num_rows:  # a query with no rows yields one empty batch: its schema
                writer.write_batch(batch)
            rows += batch.num_rows
        if writer is None:  # a header-only source yields no batch
            empty = source.empty_schema(root)
            if empty is None:  # pragma: no cover - every kind yields a batch or has a schema
                raise RuntimeError(f"{source.kind} source yielded no batch and has no schema")
            writer = pq.ParquetWriter(tmp, empty.with_metadata(origin), compression="snappy")
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
