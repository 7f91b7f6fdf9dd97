"""Split a modelling table of any size, part by part.

Each part of the modelling table is a bucket of the identifier (or the whole
table, when it is one part): it is split on its own, stratified and seeded
(part ``i`` with seed ``split.seed + i``), into the same part of each of the three
splits. A table of one part is split exactly as ``stratified.split`` splits it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from churn.core import tables
from churn.core.contract import Contract
from churn.core.params import SplitParams
from churn.split.stratified import split

if TYPE_CHECKING:
    from churn.core.compute import Engine

NAMES = ("train", "validation", "test")


def split_part(
    table: pd.DataFrame,
    piece: tables.Slice,
    *,
    contract: Contract,
    params: SplitParams,
    output_dir: str,
    count: int,
) -> dict[str, tuple[int, int]]:
    """Split one part, write its share of each split; per split: (rows, positives)."""
    parts = split(
        table, contract, params.train, params.validation, params.test, params.seed + piece.index
    )
    out = {}
    for name, part in parts.items():
        tables.write_part(part, Path(output_dir) / f"{name}.parquet", piece.index, count)
        out[name] = (len(part), int(part[contract.label].sum()))
    return out


def split_table(
    path: str | Path,
    output_dir: str | Path,
    contract: Contract,
    params: SplitParams,
    engine: Engine,
    batch_rows: int,
) -> dict[str, tuple[int, int]]:
    """Write the three splits of the table at ``path``; per split: (rows, positives)."""
    pieces = tables.slices(path, batch_rows)
    output_dir = Path(output_dir).resolve()
    for name in NAMES:
        tables.prepare(output_dir / f"{name}.parquet", len(pieces))
    work = partial(
        split_part, contract=contract, params=params, output_dir=str(output_dir), count=len(pieces)
    )
    counts = engine.map(tables.read_slice, pieces, work, tables.empty_frame(path))
    return {
        name: (sum(c[name][0] for c in counts), sum(c[name][1] for c in counts)) for name in NAMES
    }
