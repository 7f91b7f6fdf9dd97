"""The ``score`` section of params.yaml: what batch scoring reads and how much at a time.

Its ``source`` takes every kind ``collect.source`` takes (a CSV or Parquet file or folder,
a SQL table or query, a paginated API), with credentials from the environment as there.
"""

from __future__ import annotations

from pydantic import Field

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
