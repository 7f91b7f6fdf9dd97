"""Stratified, seeded train / validation / test partitions."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from churn.core.contract import Contract


def split(
    table: pd.DataFrame,
    contract: Contract,
    train: float,
    validation: float,
    test: float,
    seed: int,
) -> dict[str, pd.DataFrame]:
    """Partition ``table`` into train/validation/test, stratified on the label.

    Each part keeps the label rate of the whole, and is sorted by the identifier so
    that its bytes depend only on which rows it holds.
    """
    if len(table) < 20:
        raise ValueError(f"too few rows to split ({len(table)})")
    label = contract.label
    rest, test_part = train_test_split(
        table, test_size=test, stratify=table[label], random_state=seed
    )
    train_part, val_part = train_test_split(
        rest,
        test_size=validation / (train + validation),
        stratify=rest[label],
        random_state=seed,
    )
    parts = {"train": train_part, "validation": val_part, "test": test_part}
    return {
        name: part.sort_values(contract.id_column, kind="stable").reset_index(drop=True)
        for name, part in parts.items()
    }
