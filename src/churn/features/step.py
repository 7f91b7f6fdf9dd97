"""A feature set as the stateless first step of the model pipeline.

The trained model starts with ``FeatureStep``, so it takes a plain record: the
service and ``evaluate`` compute the engineered columns with exactly the code that
``featurize`` ran. ``fit`` learns nothing (it records the input columns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from churn.features.sets import feature_set, set_params


class FeatureStep(TransformerMixin, BaseEstimator):
    """Adds the engineered columns of feature set ``feature_set`` (with ``params``)."""

    def __init__(self, feature_set: str = "none", params: Mapping[str, Any] | None = None):
        self.feature_set = feature_set
        self.params = params

    def _set(self) -> tuple[Any, Any]:
        fs = feature_set(self.feature_set)
        return fs, set_params(fs, self.params or {})

    def fit(self, X: pd.DataFrame, y: object = None) -> FeatureStep:
        fs, _ = self._set()
        missing = [c for c in fs.requires if c not in X.columns]
        if missing:
            raise ValueError(f"input is missing the columns {missing}")
        self.n_features_in_ = len(X.columns)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        fs, params = self._set()
        return fs.add(X, params)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        fs, _ = self._set()
        return np.asarray([*self.feature_names_in_, *fs.engineered], dtype=object)
