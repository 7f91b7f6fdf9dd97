"""Which input columns the trained model relies on: permutation importance.

Permutation importance (scikit-learn) on the validation split: shuffle one of
the contract's input columns at a time and measure how much the score drops.
It works for every model family because it only calls ``predict_proba`` on
plain customer records, and it speaks the contract's language (``Contract``,
``tenure``) rather than the encoded columns. Seeded, so the bytes are stable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from churn.core.contract import Contract
from churn.core.figures import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def importance_table(
    model: Any, table: pd.DataFrame, contract: Contract, scoring: str, n_repeats: int, seed: int
) -> list[dict[str, float | str]]:
    """Mean and std of the score drop per input column, largest first (ties by name)."""
    X, y = contract.inputs(table), table[contract.label]
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


def plot_importance(
    rows: list[dict[str, float | str]], scoring: str, sample_rows: int | None = None
) -> Figure:
    """A horizontal bar chart of the importances, largest on top."""
    names = [str(r["feature"]) for r in rows][::-1]
    means = np.array([float(r["importance"]) for r in rows])[::-1]
    stds = np.array([float(r["std"]) for r in rows])[::-1]
    fig = new_figure(7, 0.32 * len(rows) + 1.2, layout="tight")
    ax = fig.subplots()
    ax.barh(names, means, xerr=stds, color="#4c78a8", ecolor="#555555", capsize=2)
    ax.axvline(0, color="black", linewidth=0.8)
    rows_used = (
        "validation" if sample_rows is None else f"a sample of {sample_rows:,} validation rows"
    )
    ax.set_xlabel(f"Drop in {scoring} when the column is shuffled ({rows_used})")
    ax.set_title("Permutation importance")
    return fig
