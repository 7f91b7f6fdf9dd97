"""The feature sets a problem file may name (``features.set``), and their columns.

A new set is one module with a pure ``add(df, params) -> df`` (and a pydantic model
of its params), plus one entry in ``FEATURE_SETS``. Nothing here imports
scikit-learn: the featurize stage uses a set directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from churn.core.contract import Contract
from churn.core.errors import ConfigError
from churn.features import telco


@dataclass(frozen=True)
class FeatureSet:
    """Engineered columns computed row by row from a record's input columns."""

    name: str
    description: str
    #: Input columns the set reads (they must be in the contract).
    requires: tuple[str, ...]
    #: The columns it adds, in the order it adds them.
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    #: Its params, validated (None: it takes none).
    params_model: type[BaseModel] | None
    add: Callable[[pd.DataFrame, Any], pd.DataFrame]

    @property
    def engineered(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)


def _nothing(df: pd.DataFrame, params: Any) -> pd.DataFrame:
    return df


FEATURE_SETS: dict[str, FeatureSet] = {
    "none": FeatureSet(
        "none", "no engineered features: the generic pipeline", (), (), (), None, _nothing
    ),
    "telco": FeatureSet(
        "telco",
        "average monthly spend and its gap to this month, number of services, tenure band",
        telco.REQUIRED,
        telco.ENGINEERED_NUMERIC,
        telco.ENGINEERED_CATEGORICAL,
        telco.TelcoParams,
        telco.add,
    ),
}


def feature_set(name: str) -> FeatureSet:
    """The set called ``name``, or a ConfigError listing the sets there are."""
    if name not in FEATURE_SETS:
        raise ConfigError(
            f"features.set: unknown feature set {name!r} (choose from {sorted(FEATURE_SETS)})"
        )
    return FEATURE_SETS[name]


def set_params(fs: FeatureSet, params: Mapping[str, Any]) -> Any:
    """``params`` validated by the set's model (a ConfigError naming each bad key)."""
    if fs.params_model is None:
        if params:
            raise ConfigError(f"features.params: the feature set {fs.name!r} takes no params")
        return None
    try:
        return fs.params_model.model_validate(dict(params))
    except ValidationError as exc:
        lines = [
            f"  features.params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors()
        ]
        raise ConfigError(
            f"invalid params of the feature set {fs.name!r}:\n" + "\n".join(lines)
        ) from None


def check(fs: FeatureSet, contract: Contract) -> None:
    """The set must find its input columns in the contract, and add no existing column."""
    missing = [c for c in fs.requires if c not in contract.feature_names]
    if missing:
        raise ConfigError(
            f"features.set {fs.name!r} needs the input columns {missing}, which the "
            "contract does not have: choose another set (or `none`)"
        )
    clash = [c for c in fs.engineered if c in contract.names]
    if clash:
        raise ConfigError(f"features.set {fs.name!r} would overwrite the columns {clash}")


@dataclass(frozen=True)
class ModelColumns:
    """What the model's head is fitted on: the contract's inputs, then the engineered ones."""

    features: tuple[str, ...]
    engineered: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    #: Numeric columns the optional expansion applies to.
    expand: tuple[str, ...]

    @property
    def all(self) -> list[str]:
        return [*self.features, *self.engineered]


def model_columns(contract: Contract, fs: FeatureSet, expand: list[str]) -> ModelColumns:
    """The columns of a model for ``contract`` with the feature set ``fs``."""
    check(fs, contract)
    return ModelColumns(
        features=contract.feature_names,
        engineered=fs.engineered,
        numeric=(*contract.numeric_features, *fs.numeric),
        categorical=(*contract.categorical_features, *fs.categorical),
        expand=tuple(expand),
    )
