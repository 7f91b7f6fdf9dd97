"""Summary statistics of the clean table, JSON-ready (the explore stage's numbers).

Column lists come from the data contract: the numeric features get summary
statistics (mean, median, variance, quartiles, missing values, outliers by
Tukey's IQR rule), overall and per target value; the categorical features get
per-level counts, positives (rows whose target is the positive value) and
positive rates; the correlations cover the numeric features, the Yes/No features
(as 0/1) and the target. Statistics are rounded, so the JSON is readable and has
the same bytes on every platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from churn.core.contract import Contract, Kind
from churn.core.params import ExploreParams

#: The values of a yes/no flag (encoded 1 for "Yes" in the correlations).
YES_NO = ("No", "Yes")
#: Statistics are rounded so that the JSON is readable and stable across platforms.
DIGITS = 6


def _r(value: Any) -> float | None:
    """A float rounded to ``DIGITS`` (``None`` for NaN or a missing value)."""
    if value is None or pd.isna(value):
        return None
    return round(float(value), DIGITS)


def yes_no_features(contract: Contract) -> tuple[str, ...]:
    """Categorical features whose only values are Yes/No."""
    return tuple(
        c.name for c in contract.features if c.kind is Kind.CATEGORY and tuple(c.allowed) == YES_NO
    )


def numeric_summary(values: pd.Series, iqr_multiplier: float = 1.5) -> dict[str, Any]:
    """Count, missing values, mean, median, variance (n-1), quartiles and IQR outliers.

    Quartiles use linear interpolation (numpy's default). A value is an outlier
    when it lies below ``q1 - k*IQR`` or above ``q3 + k*IQR``, ``k = iqr_multiplier``.
    """
    x = pd.to_numeric(values, errors="coerce").astype("float64")
    present = x.dropna()
    out: dict[str, Any] = {"count": len(present), "missing": len(x) - len(present)}
    out["missing_fraction"] = _r(out["missing"] / len(x)) if len(x) else None
    if present.empty:
        for key in ("mean", "median", "variance", "std", "min", "q1", "q3", "max", "iqr"):
            out[key] = None
        out.update(lower_fence=None, upper_fence=None, outliers_low=0, outliers_high=0)
        out["outliers"] = 0
        return out
    q1, median, q3 = (float(v) for v in np.quantile(present.to_numpy(), [0.25, 0.5, 0.75]))
    iqr = q3 - q1
    low, high = q1 - iqr_multiplier * iqr, q3 + iqr_multiplier * iqr
    out.update(
        mean=_r(present.mean()),
        median=_r(median),
        variance=_r(present.var(ddof=1)),
        std=_r(present.std(ddof=1)),
        min=_r(present.min()),
        q1=_r(q1),
        q3=_r(q3),
        max=_r(present.max()),
        iqr=_r(iqr),
        lower_fence=_r(low),
        upper_fence=_r(high),
        outliers_low=int((present < low).sum()),
        outliers_high=int((present > high).sum()),
    )
    out["outliers"] = out["outliers_low"] + out["outliers_high"]
    return out


def category_summary(
    values: pd.Series, positive: pd.Series, order: Sequence[str] = ()
) -> dict[str, Any]:
    """Per level: rows, share of rows, positives and positive rate; plus missing values.

    Levels come in ``order`` (the contract's allowed values) first, then any other
    value alphabetically; a level of ``order`` that does not occur has count 0.
    """
    present = values.notna()
    text = values.astype(str)  # once: every level compares against it
    seen = set(text[present].unique())  # the distinct values, not a Python loop over rows
    levels = [v for v in order] + sorted(seen - set(order))
    rows = int(present.sum())
    out_levels = []
    for level in levels:
        mask = present & (text == level)
        n = int(mask.sum())
        labelled = positive[mask].dropna()
        out_levels.append(
            {
                "value": level,
                "count": n,
                "share": _r(n / rows) if rows else None,
                "positives": int(labelled.sum()),
                "positive_rate": _r(labelled.mean()) if len(labelled) else None,
            }
        )
    return {"missing": int((~present).sum()), "levels": out_levels}


def correlation_matrix(df: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Pearson correlations of the numeric features, the Yes/No features (0/1) and the target."""
    data = {name: pd.to_numeric(df[name], errors="coerce") for name in contract.numeric_features}
    for name in yes_no_features(contract):
        data[name] = (df[name] == "Yes").astype("float64").where(df[name].notna())
    data[contract.target] = contract.encode_target(df[contract.target])
    return pd.DataFrame(data).astype("float64").corr(method="pearson")


def summarize(df: pd.DataFrame, contract: Contract, params: ExploreParams) -> dict[str, Any]:
    """Every statistic of the EDA report, JSON-ready (see ``numeric_summary``)."""
    positive = contract.encode_target(df[contract.target])
    corr = correlation_matrix(df, contract)
    return {
        "rows": len(df),
        "positive_rate": _r(positive.mean()),
        "positives": int(positive.sum()),
        "iqr_multiplier": params.iqr_multiplier,
        "numeric": {
            name: numeric_summary(df[name], params.iqr_multiplier)
            for name in contract.numeric_features
        },
        "numeric_by_target": {
            name: {
                label: numeric_summary(df.loc[df[contract.target] == label, name])
                for label in contract.by_name[contract.target].allowed
            }
            for name in contract.numeric_features
        },
        "categorical": {
            name: category_summary(df[name], positive, contract.by_name[name].allowed)
            for name in contract.categorical_features
        },
        "correlation": {
            row: {col: _r(corr.loc[row, col]) for col in corr.columns} for row in corr.index
        },
    }
