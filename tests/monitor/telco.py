"""Test data for the monitor: the bundled Telco CSV in disjoint parts, and a toy score."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tests.support.telco import TELCO

TELCO_CSV = Path(__file__).resolve().parents[2] / "data" / "external" / "telco_customer_churn.csv"
# The raw contract columns, from the problem file (the monitor library takes them as arguments).
NUMERIC = list(TELCO.numeric_features)
CATEGORICAL = list(TELCO.categorical_features)


def toy_score(table: pd.DataFrame) -> np.ndarray:
    """A fixed churn-like probability of a few columns (no model to fit in a unit test)."""
    z = (
        -1.5
        + 1.2 * (table["Contract"] == "Month-to-month")
        - 0.03 * table["tenure"]
        + 0.01 * table["MonthlyCharges"]
        + 0.5 * (table["InternetService"] == "Fiber optic")
    )
    return 1 / (1 + np.exp(-z.to_numpy(dtype=float)))


@dataclass(frozen=True)
class TelcoParts:
    """Disjoint parts like the pipeline's: reference (train), score reference, held-out."""

    reference: pd.DataFrame
    score_reference: pd.DataFrame
    held_out: pd.DataFrame


def load_telco() -> TelcoParts:
    """The bundled CSV with the numeric columns parsed, cut like the pipeline's splits."""
    table = pd.read_csv(TELCO_CSV, dtype=str, keep_default_na=False)
    for column in NUMERIC:
        # TotalCharges holds 11 blanks (" "): they become NaN, as missing values.
        table[column] = pd.to_numeric(table[column], errors="coerce")
    order = np.random.default_rng(42).permutation(len(table))
    parts = np.split(order, [4930, 4930 + 1056])
    return TelcoParts(*(table.iloc[p].reset_index(drop=True) for p in parts))
