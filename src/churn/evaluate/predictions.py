"""Predict a split of any size, part by part, keeping only what the metrics need.

Each part of a split is predicted by the model and written as the same part of
the split's predictions table (identifier, label, probability). The stage keeps
two numbers a row (the 0/1 label and the probability: 9 bytes), so that every
metric and business figure is computed on every row, and whether the row is in
the seeded sample the plots are drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from churn.core import tables
from churn.core.contract import Contract

if TYPE_CHECKING:
    from churn.core.compute import Engine

PROBABILITY = "probability"


@dataclass(frozen=True)
class Scored:
    """A split's labels and predicted probabilities, and which rows the plots show."""

    labels: np.ndarray
    probabilities: np.ndarray
    #: Rows of the seeded sample (all True when the split is no larger than the sample).
    plotted: np.ndarray

    @property
    def sampled(self) -> bool:
        return not bool(self.plotted.all())


def predict_part(
    df: pd.DataFrame,
    piece: tables.Slice,
    *,
    model: Any,
    contract: Contract,
    output: str,
    count: int,
    fraction: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predict one part, write its predictions; its labels, probabilities, sample flags."""
    probability = model.predict_proba(contract.inputs(df))[:, 1]
    ids, y = df[contract.id_column], df[contract.label].to_numpy()
    table = pd.DataFrame({ids.name: ids, contract.label: y, PROBABILITY: probability})
    tables.write_part(table, output, piece.index, count)
    return y, probability, tables.in_sample(ids, fraction, seed)


def predict_table(
    model: Any,
    split: str | Path,
    output: str | Path,
    contract: Contract,
    engine: Engine,
    batch_rows: int,
    sample_rows: int,
    seed: int,
) -> Scored:
    """Predict the split at ``split`` into the table ``output``."""
    pieces = tables.slices(split, batch_rows)
    out = tables.prepare(output, len(pieces))
    fraction = tables.sample_fraction(tables.row_count(split), sample_rows)
    work = partial(
        predict_part,
        model=model,
        contract=contract,
        output=str(out),
        count=len(pieces),
        fraction=fraction,
        seed=seed,
    )
    parts = engine.map(tables.read_slice, pieces, work, tables.empty_frame(split))
    y, p, plotted = (np.concatenate([part[i] for part in parts]) for i in range(3))
    return Scored(y, p, plotted)
