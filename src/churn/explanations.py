"""Explain: which input columns the trained model relies on.

Permutation importance (scikit-learn) on the validation split: shuffle one of
the contract's input columns at a time and measure how much the score drops.
It works for every model family because it only calls ``predict_proba`` on
plain customer records, and it speaks the contract's language (``Contract``,
``tenure``) rather than the encoded columns. Seeded, so the bytes are stable.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from churn.modeling import model_inputs


def importance_table(
    model: Any, table: pd.DataFrame, scoring: str, n_repeats: int, seed: int
) -> list[dict[str, float | str]]:
    """Mean and std of the score drop per input column, largest first (ties by name)."""
    X, y = model_inputs(table), table["churn"]
    result = permutation_importance(
        model, X, y, scoring=scoring, n_repeats=n_repeats, random_state=seed, n_jobs=1
    )
    rows = [
        {
            "feature": str(name),
            "importance": round(float(mean), 6),
            "std": round(float(std), 6),
        }
        for name, mean, std in zip(
            X.columns, result.importances_mean, result.importances_std, strict=True
        )
    ]
    return sorted(rows, key=lambda r: (-float(r["importance"]), str(r["feature"])))


def importance_png(rows: list[dict[str, float | str]], scoring: str) -> bytes:
    """A horizontal bar chart as PNG bytes, identical for identical rows."""
    names = [str(r["feature"]) for r in rows][::-1]
    means = np.array([float(r["importance"]) for r in rows])[::-1]
    stds = np.array([float(r["std"]) for r in rows])[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.2), dpi=100)
    ax.barh(names, means, xerr=stds, color="#4c78a8", ecolor="#555555", capsize=2)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"Drop in {scoring} when the column is shuffled (validation)")
    ax.set_title("Permutation importance")
    fig.tight_layout()
    buffer = io.BytesIO()
    # No "Software" entry (it names the matplotlib version): stable bytes across runs.
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def write_png(data: bytes, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
