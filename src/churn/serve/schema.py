"""Request and response models of the prediction API, generated from the data contract.

Nothing here restates a column: every feature, its allowed categories and its
numeric range come from the data contract (``churn.core.contract``), so a contract
change changes the API (and its OpenAPI document) with it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from churn.core.contract import Column, Contract, Kind
from churn.core.problem import Words


def _whole_number(value: Any) -> Any:
    """12.0 is the integer 12 (as in JSON Schema); anything else is left to strict checks."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _field(column: Column) -> tuple[Any, Any]:
    """The (type, FieldInfo) of one contract column in the request schema.

    Types are strict, decided by the column's kind, and nothing is converted: an
    integer column takes a JSON integer (12, or 12.0, which JSON Schema counts as an
    integer; not ``true``, ``"12"`` or 12.5); a number column a JSON integer or
    decimal (not a boolean or a string; no NaN or Infinity); a category one of its
    clean spellings exactly. The descriptions say so in the OpenAPI document.
    """
    if column.kind is Kind.CATEGORY:
        # Clean spellings only: aliases are a property of raw files, not of the API.
        # A Literal is already exact: only these strings, no other type.
        return Literal[column.allowed], Field(
            description=f"{column.description} (exactly one of these strings)"
        )
    bounds = f"from {column.minimum:g} to {column.maximum:g}"
    if column.kind is Kind.INTEGER:
        kind: Any = Annotated[int, BeforeValidator(_whole_number)]
        rule = f"an integer {bounds}; not a boolean, a string or a fraction"
    else:
        kind = float
        rule = f"a number {bounds}; not a boolean or a string; NaN and Infinity are refused"
    return kind, Field(
        ge=column.minimum,
        le=column.maximum,
        strict=True,
        allow_inf_nan=False,
        description=f"{column.description} ({rule})",
    )


def customer_model(contract: Contract, words: Words) -> type[BaseModel]:
    """The request model of one record: the contract's features and the optional identifier."""
    idc = contract.by_name[contract.id_column]
    fields: dict[str, Any] = {
        contract.id_column: (
            str | None,
            Field(
                default=None,
                strict=True,
                pattern=idc.pattern,
                description=(
                    f"{idc.description} (optional: a string matching the pattern, or null; "
                    "copied to the prediction log)"
                ),
            ),
        )
    }
    fields.update({c.name: _field(c) for c in contract.features})
    example = {contract.id_column: "7590-VHVEG", **contract.example}
    return create_model(
        words.unit.capitalize(),
        __config__=ConfigDict(
            extra="forbid", frozen=True, json_schema_extra={"examples": [example]}
        ),
        __doc__=(
            f"One {words.unit} record, as the data contract describes it (clean values). "
            'Types are strict: nothing is converted (no `true` for 1, no `"12"` for 12).'
        ),
        **fields,
    )


def batch_bytes(contract: Contract, size: int) -> int:
    """Bytes of a ``/predict/batch`` body of ``size`` copies of the example record (compact
    JSON; 64 bytes for the braces and the list's key)."""
    record = json.dumps(
        {contract.id_column: "7590-VHVEG", **contract.example}, separators=(",", ":")
    )
    return 64 + size * (len(record) + 1)


def batch_request_model(
    customer: type[BaseModel], max_batch_size: int, words: Words
) -> type[BaseModel]:
    """The batch request of ``customer`` records, bounded by ``serve.max_batch_size``.

    The list's key is the unit's plural (``{"customers": [...]}`` for Telco).
    """
    return create_model(
        f"{words.unit.capitalize()}Batch",
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"Up to {max_batch_size} {words.units}.",
        **{
            words.units: (
                list[customer],  # type: ignore[valid-type]
                Field(min_length=1, max_length=max_batch_size),
            )
        },
    )


def response_models(contract: Contract, words: Words) -> tuple[type[BaseModel], type[BaseModel]]:
    """The responses of /predict and /predict/batch, in the problem's words.

    Each prediction has the ``probability`` of the event, the decision under the event's
    name (``churn: true`` for Telco) and the record's identifier if the request gave one.
    """
    prediction = create_model(
        "Prediction",
        probability=(
            float,
            Field(description=f"Predicted probability of {words.event} for the {words.unit}"),
        ),
        **{
            words.event: (bool, Field(description="probability >= the decision threshold")),
            contract.id_column: (str | None, None),
        },
    )
    common = {"request_id": (str, ...), "model_version": (str, ...), "threshold": (float, ...)}
    single = create_model("PredictionResponse", __base__=prediction, **common)
    batch = create_model("BatchResponse", **common, predictions=(list[prediction], ...))
    return single, batch


class ModelInfo(BaseModel):
    version: str = Field(description="md5 of the model file (as recorded in dvc.lock)")
    git_rev: str | None = Field(description="git revision the model was loaded from, if any")
    source: str = Field(description="'workspace' or the git revision asked for")
    threshold: float = Field(description="act (decision = true) when probability >= this")
    threshold_source: str = Field(
        description="file (and workspace or revision) the threshold was read from"
    )
    threshold_chosen_on: str = Field(description="split the threshold was chosen on")
    threshold_objective: str = Field(description="what the threshold maximises")
    expected_profit_per_customer: dict[str, float] = Field(
        description="expected profit per unit at this threshold, by split (evaluate)"
    )
    training_data_md5: str | None = Field(description="md5 of the training split in dvc.lock")
    model_family: str | None
    metrics: dict[str, Any] = Field(description="training and evaluation metrics (metrics/*)")
    features: list[str]


class Status(BaseModel):
    status: str
    detail: str | None = None


class ErrorMessage(BaseModel):
    detail: str
