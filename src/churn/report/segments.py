"""The model card's numbers: test-split metrics per segment.

The only numbers the report computes itself; everything else it shows comes
from files the pipeline wrote (see ``evidence``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churn.core.contract import Contract
from churn.core.errors import DataError


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of 0/1 labels (both present) by the steps of scikit-learn's ``roc_auc_score``.

    The same curve (one point per distinct score, collinear points dropped) and the
    same trapezoid sum give the same float; a test checks it. numpy alone: scikit-learn
    costs the report stage about a second to import, for one number per segment.
    """
    y = np.asarray(y_true) == 1
    s = np.asarray(score, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    thresholds = np.r_[np.nonzero(np.diff(s))[0], y.size - 1]
    tps = np.cumsum(y, dtype=np.float64)[thresholds]
    fps = 1 + thresholds.astype(np.float64) - tps
    if fps.size > 2:
        corners = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps = fps[corners], tps[corners]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    return float(np.trapezoid(tps / tps[-1], fps / fps[-1]))


def join_predictions(
    predictions: pd.DataFrame,
    split: pd.DataFrame,
    contract: Contract,
    *,
    predictions_file: str,
    split_file: str,
) -> pd.DataFrame:
    """The split's rows with their predicted ``probability``, joined on the identifier.

    Both files come from the same evaluate run, so every row must appear in
    both with the same label; anything else means stale or mixed-up files.
    """
    key, label = contract.id_column, contract.label
    for name, df, needed in (
        (predictions_file, predictions, (key, label, "probability")),
        (split_file, split, (key, label)),
    ):
        missing = [c for c in needed if c not in df.columns]
        if missing:
            raise DataError(
                "a required column is missing",
                file=name,
                column=", ".join(missing),
                expected=f"columns {list(needed)}",
            )
    merged = split.merge(
        predictions[[key, label, "probability"]],
        on=key,
        how="outer",
        suffixes=("", "_predicted"),
        indicator=True,
        validate="one_to_one",
    )
    unmatched = merged.index[merged["_merge"] != "both"]
    if len(unmatched):
        raise DataError(
            f"{len(unmatched)} rows appear in only one of the two files",
            file=f"{predictions_file} and {split_file}",
            column=key,
            rows=[int(i) for i in unmatched],
            expected="the same rows in the predictions and the split (rerun evaluate)",
        )
    mismatch = merged.index[merged[label] != merged[f"{label}_predicted"]]
    if len(mismatch):
        raise DataError(
            "the label differs between the predictions and the split",
            file=f"{predictions_file} and {split_file}",
            column=label,
            rows=[int(i) for i in mismatch],
            expected="identical labels (rerun evaluate)",
        )
    return merged.drop(columns=[f"{label}_predicted", "_merge"])


def segment_metrics(
    df: pd.DataFrame, contract: Contract, column: str, threshold: float
) -> list[dict[str, Any]]:
    """Per level of ``column``: rows, positive rate, ROC-AUC, share acted on, positives reached.

    ``df`` has the column, the 0/1 label and ``probability``. Levels follow the
    contract's order. ROC-AUC is ``None`` where a level has only positives or only
    negatives (it is undefined there); so is "positives reached" without positives.
    """
    allowed = contract.by_name[column].allowed if column in contract.by_name else ()
    present = [v for v in pd.unique(df[column].dropna())]
    levels = [v for v in allowed if v in set(present)] + sorted(
        v for v in present if v not in set(allowed)
    )
    rows = []
    for level in levels:
        part = df[df[column] == level]
        y = part[contract.label].to_numpy().astype(int)
        p = part["probability"].to_numpy(dtype=np.float64)
        contacted = p >= threshold
        both_classes = 0 < y.sum() < y.size
        rows.append(
            {
                "segment": str(level),
                "rows": int(y.size),
                "positive_rate": round(float(y.mean()), 6),
                "mean_probability": round(float(p.mean()), 6),
                "roc_auc": round(roc_auc(y, p), 6) if both_classes else None,
                "contacted_share": round(float(contacted.mean()), 6),
                "positives_reached": (
                    round(float(contacted[y == 1].mean()), 6) if y.sum() else None
                ),
            }
        )
    return rows


def all_segments(
    df: pd.DataFrame, contract: Contract, columns: list[str], threshold: float
) -> dict[str, list]:
    """``segment_metrics`` for each column, by column name."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            "a segment column is missing from the test split",
            column=", ".join(missing),
            expected="the categorical columns named in params report.segments",
        )
    return {c: segment_metrics(df, contract, c, threshold) for c in columns}
