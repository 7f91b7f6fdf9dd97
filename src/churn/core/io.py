"""Deterministic writers: the same data always gives the same bytes; and the YAML reader.

DVC compares outputs by hash, so every output is written with a stable row
order, no index, sorted JSON keys and a trailing newline.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


def ensure_parent(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def statistics_columns(schema: pa.Schema) -> list[str]:
    """The columns a Parquet file keeps min/max statistics for: all but the text columns.

    A reader skips a row group by its statistics. In this pipeline's tables a text
    column is a category, whose values span every category in every row group, the
    identifier, whose parts are buckets of its hash and span nearly every identifier, or
    (in the raw snapshot) a number still as text, ordered as text: their min and max
    would let no reader skip anything, and computing them over every value was about a
    third of the time of writing a table (a 1M-row part of the features: 0.54 s with
    them, 0.37 s without). Numbers and dates keep theirs.
    """
    import pyarrow as pa

    def text(kind: pa.DataType) -> bool:
        if pa.types.is_dictionary(kind):
            return text(kind.value_type)
        return (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_string_view(kind)
        )

    return [field.name for field in schema if not text(field.type)]


def write_parquet(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` without its index (rows must already be in a deterministic order).

    The table ``DataFrame.to_parquet`` writes with pyarrow (the same schema and pandas
    metadata), with statistics for the columns of ``statistics_columns`` only.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(
        table,
        ensure_parent(path),
        compression="snappy",
        write_statistics=statistics_columns(table.schema),
    )


def read_parquet(path: str | Path) -> pd.DataFrame:
    # pandas only here: a stage that reads and writes JSON alone (gate) does not load it.
    import pandas as pd

    return pd.read_parquet(path, engine="pyarrow")


def load_yaml(text: str | bytes) -> Any:
    """Parse YAML with PyYAML's safe loader, in C when libyaml is there (the same data).

    Every stage reads params.yaml, and a model's loader reads dvc.lock: the pure-Python
    loader takes 30-70 ms for each on these files, the C one a tenth of that.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def _plain(value: Any) -> Any:
    """Numpy scalars and non-finite floats made JSON-safe."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(obj: Any) -> str:
    return json.dumps(_plain(obj), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(obj: Any, path: str | Path) -> None:
    ensure_parent(path).write_text(to_json(obj), encoding="utf-8")
