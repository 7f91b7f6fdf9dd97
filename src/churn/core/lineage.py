"""Lineage of the raw snapshot: where each row came from, so every error can name it.

``collect`` adds two columns to every row (the source file, or a table or API
page, and the line in it) and records the source itself in the snapshot's
Parquet metadata; ``validate`` and ``clean`` name those in their messages.
"""

from __future__ import annotations

SOURCE_FILE = "_source_file"
SOURCE_LINE = "_source_line"
COLUMNS: tuple[str, ...] = (SOURCE_FILE, SOURCE_LINE)
#: Key of the raw snapshot's Parquet metadata naming its source (a path, a table or query
#: hash, an API URL as written in params): errors can name it even when it has no rows.
METADATA_KEY = b"churn.source"


def snapshot_origin(path: str) -> str | None:
    """The source a raw snapshot was collected from, as recorded by collect (if it was)."""
    import pyarrow.parquet as pq

    value = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
    return value.decode() if value else None
