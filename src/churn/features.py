"""The engineered features, shared by featurize, train and the service (no train/serve skew).

``engineer`` adds them to a table of customer records; ``ChurnFeatures`` is the same
computation as a stateless scikit-learn transformer. The ``featurize`` stage writes
the engineered table that ``split`` and ``train`` consume; the trained model keeps
``ChurnFeatures`` as its first step, so the service (and ``evaluate``) pass a plain
customer record through the very same code. Nothing here is learned from data:
anything that is (scaling, encoding) is fitted in ``churn.train``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

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
        services += df[column].to_numpy() == "Yes"
    services += df["InternetService"].to_numpy() != "No"
    return df.assign(
        avg_monthly_spend=avg,
        monthly_vs_average=monthly - avg,
        num_services=services,
        tenure_band=pd.Series(
            tenure_bands(tenure, tenure_band_edges), index=df.index, dtype=object
        ).astype("str"),
    )


class ChurnFeatures(TransformerMixin, BaseEstimator):
    """Adds the engineered features; stateless (``fit`` learns nothing)."""

    def __init__(self, tenure_band_edges: Sequence[int] = (12, 24, 48)):
        self.tenure_band_edges = tenure_band_edges

    def fit(self, X: pd.DataFrame, y: object = None) -> ChurnFeatures:
        missing = [c for c in REQUIRED if c not in X.columns]
        if missing:
            raise ValueError(f"input is missing the columns {missing}")
        self.n_features_in_ = len(X.columns)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return engineer(X, list(self.tenure_band_edges))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([*self.feature_names_in_, *ENGINEERED], dtype=object)
