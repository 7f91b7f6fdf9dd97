"""Stratified, seeded train / validation / test partitions."""

from __future__ import annotations

import numpy as np
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
    labels = table[label].to_numpy()
    # Positions first, rows once: the same draws as splitting the table itself, but each
    # part's rows are gathered in one take, already in identifier order (text columns
    # gathered in random order twice took seconds per million rows).
    rest, test_rows = train_test_split(
        np.arange(len(table)), test_size=test, stratify=labels, random_state=seed
    )
    train_rows, val_rows = train_test_split(
        rest,
        test_size=validation / (train + validation),
        stratify=labels[rest],
        random_state=seed,
    )
    ids = table[contract.id_column]
    parts = {"train": train_rows, "validation": val_rows, "test": test_rows}
    return {
        name: table.take(rows[ids.take(rows).argsort(kind="stable").to_numpy()]).reset_index(
            drop=True
        )
        for name, rows in parts.items()
    }
