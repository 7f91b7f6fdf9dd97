"""The modelling table of a clean table of any size, part by part.

The features are row-wise, so each part of the clean table (one slice: see
``churn.core.tables``) becomes the same part of the modelling table, on either engine.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from churn.core import tables
from churn.core.contract import Contract
from churn.features.sets import FeatureSet
from churn.featurize.table import build_feature_table

if TYPE_CHECKING:
    from churn.core.compute import Engine


def featurize_part(
    clean: pd.DataFrame,
    piece: tables.Slice,
    *,
    contract: Contract,
    fs: FeatureSet,
    params: Any,
    output: str,
    count: int,
) -> tuple[int, int]:
    """Write one part of the modelling table; return its rows and columns."""
    table = build_feature_table(clean, contract, fs, params)
    tables.write_part(table, output, piece.index, count)
    return table.shape


def featurize_table(
    clean_path: str | Path,
    output: str | Path,
    contract: Contract,
    fs: FeatureSet,
    params: Any,
    engine: Engine,
    batch_rows: int,
) -> tuple[int, int]:
    """Write the modelling table of the clean table at ``clean_path``; its rows and columns."""
    pieces = tables.slices(clean_path, batch_rows)
    out = tables.prepare(output, len(pieces))
    work = partial(
        featurize_part, contract=contract, fs=fs, params=params, output=str(out), count=len(pieces)
    )
    shapes = engine.map(tables.read_slice, pieces, work, tables.empty_frame(clean_path))
    return sum(rows for rows, _ in shapes), shapes[0][1]
