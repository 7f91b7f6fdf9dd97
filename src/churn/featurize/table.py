"""The modelling table: what ``split`` partitions and ``train`` fits on."""

from __future__ import annotations

from typing import Any

import pandas as pd

from churn.core.contract import Contract
from churn.features.sets import FeatureSet


def build_feature_table(
    clean: pd.DataFrame, contract: Contract, fs: FeatureSet, params: Any
) -> pd.DataFrame:
    """Identifier, contract features, the set's engineered features and the 0/1 label."""
    table = fs.add(clean[[contract.id_column, *contract.feature_names]], params)
    table[contract.label] = contract.labels(clean).to_numpy()
    return table
