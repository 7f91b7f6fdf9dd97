"""The modelling table: what ``split`` partitions and ``train`` fits on."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from churn.core.contract import Contract
from churn.features import engineer


def build_feature_table(
    clean: pd.DataFrame, contract: Contract, tenure_band_edges: Sequence[int]
) -> pd.DataFrame:
    """Identifier, contract features, engineered features and the 0/1 label column."""
    table = engineer(clean[[contract.id_column, *contract.feature_names]], tenure_band_edges)
    table[contract.label] = contract.labels(clean).to_numpy()
    return table
