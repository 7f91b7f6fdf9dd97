"""The Telco feature set: average monthly spend, its gap to this month, services, tenure band.

Row-wise arithmetic on numpy arrays (no scikit-learn here: featurize imports only
this), registered as the feature set ``telco`` in ``churn.features.sets``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

#: Services counted by ``num_services`` (internet access counts as one more).
SERVICE_COLUMNS = (
    "PhoneService",
    "MultipleLines",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
)

ENGINEERED_NUMERIC = ("avg_monthly_spend", "monthly_vs_average", "num_services")
ENGINEERED_CATEGORICAL = ("tenure_band",)
ENGINEERED = ENGINEERED_NUMERIC + ENGINEERED_CATEGORICAL
#: The input columns the features are computed from.
REQUIRED = ("tenure", "MonthlyCharges", "TotalCharges", "InternetService", *SERVICE_COLUMNS)


class TelcoParams(BaseModel):
    """The set's params (``features.params`` in the problem file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Upper edges (months) of the tenure bands; the last band is open-ended.
    tenure_band_edges: list[int] = Field(min_length=1)


def tenure_band_labels(edges: Sequence[int]) -> list[str]:
    """Labels of the tenure bands: edges [12, 24] give '0-12', '13-24', '25+'."""
    labels, low = [], 0
    for edge in edges:
        labels.append(f"{low}-{edge}")
        low = edge + 1
    labels.append(f"{low}+")
    return labels


def tenure_bands(tenure: np.ndarray, tenure_band_edges: Sequence[int]) -> np.ndarray:
    """The tenure band label of each tenure (object array; NaN where tenure is NaN).

    Right-closed bands, as ``pd.cut``: with edges [12, 24], 12 is '0-12' and 13 is
    '13-24'. ``np.searchsorted`` with ``side="left"`` gives exactly that band index,
    for a fraction of ``pd.cut``'s per-call cost (the model pipeline runs this on
    every prediction request).
    """
    labels = np.asarray([*tenure_band_labels(tenure_band_edges), np.nan], dtype=object)
    index = np.searchsorted(np.asarray(tenure_band_edges, dtype="float64"), tenure, side="left")
    index[np.isnan(tenure)] = len(labels) - 1
    return labels[index]


#: From this many rows on, Arrow-backed text is compared in Arrow (see ``_equals``).
ARROW_COMPARE_ROWS = 4096


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """``column == value`` as a numpy bool array (a missing value is not equal).

    Arrow-backed text (pandas' default ``str``) becomes Python objects in ``to_numpy``:
    a million rows take about 80 ms that way and 5 ms compared in Arrow. A request's
    few rows, or object columns, are quicker through numpy.
    """
    arrow = isinstance(column.dtype, pd.ArrowDtype) or (
        getattr(column.dtype, "storage", None) == "pyarrow"
    )
    if arrow and len(column) >= ARROW_COMPARE_ROWS:
        return (column == value).to_numpy(dtype=bool, na_value=False)
    return column.to_numpy() == value


def engineer(df: pd.DataFrame, tenure_band_edges: Sequence[int]) -> pd.DataFrame:
    """Return ``df`` with the engineered columns added (or recomputed).

    Computed on numpy arrays and added in one ``assign`` (one copy of ``df``): the
    per-call cost matters when serving single predictions, and the values and dtypes
    are those of the pandas formulation (tested against it).
    """
    tenure = df["tenure"].astype("float64").to_numpy()
    monthly = df["MonthlyCharges"].astype("float64").to_numpy()
    total = df["TotalCharges"].astype("float64").to_numpy()
    has_history = tenure > 0
    # A brand-new customer has no history: their average is this month's charge.
    avg = np.where(has_history, total / np.where(has_history, tenure, 1.0), monthly)
    services = np.zeros(len(df), dtype="int64")
    for column in SERVICE_COLUMNS:
        services += _equals(df[column], "Yes")
    services += ~_equals(df["InternetService"], "No")
    return df.assign(
        avg_monthly_spend=avg,
        monthly_vs_average=monthly - avg,
        num_services=services,
        tenure_band=pd.Series(
            tenure_bands(tenure, tenure_band_edges), index=df.index, dtype=object
        ).astype("str"),
    )


def add(df: pd.DataFrame, params: TelcoParams) -> pd.DataFrame:
    """The set's entry point: ``engineer`` with its params."""
    return engineer(df, params.tenure_band_edges)
