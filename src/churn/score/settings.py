"""The ``score`` section of params.yaml: what batch scoring reads and how much at a time.

Its ``source`` takes every kind ``collect.source`` takes (a CSV or Parquet file or folder,
a SQL table or query, a paginated API), with credentials from the environment as there.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from churn.collect.base import Source
from churn.collect.files import CsvSource, ParquetSource
from churn.collect.sources import AnySource
from churn.core.params import Section


class ScoreParams(Section):
    section = "score"

    #: What ``python -m churn.score`` scores when it is given no ``--input``.
    source: AnySource | None = None
    #: Outputs go to ``<output_dir>/<period>/`` unless ``--output-dir`` says otherwise.
    output_dir: str
    #: Rows read, checked and scored at a time: memory grows with it, not with the file.
    block_rows: int = Field(ge=100, le=5_000_000)
    #: Predictions written to the log per transaction (one fsync each, and the service's
    #: writes wait for at most one such transaction).
    log_commit_rows: int = Field(ge=1, le=1_000_000)


def input_source(path: str, pattern: str | None) -> Source:
    """A CSV or Parquet source for ``--input`` (a file, or a folder of such files)."""
    target = Path(path)
    if target.is_dir():
        parquet = any(target.rglob(pattern or "*.parquet")) and not any(target.rglob("*.csv"))
        if parquet:
            return ParquetSource(kind="parquet", path=path, pattern=pattern or "*.parquet")
        return CsvSource(kind="csv", path=path, pattern=pattern or "*.csv")
    if target.suffix.lower() in (".parquet", ".pq"):
        return ParquetSource(kind="parquet", path=path)
    return CsvSource(kind="csv", path=path)
