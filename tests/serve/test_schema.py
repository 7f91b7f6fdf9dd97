"""The request schema is generated from the data contract (no model needed)."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from churn.core.contract import Kind
from churn.core.errors import ConfigError
from churn.core.params import ServeParams
from churn.serve.app import check_request_limit
from churn.serve.schema import batch_bytes, batch_request_model, customer_model
from tests.support.telco import TELCO as contract
from tests.support.telco import WORDS

Customer = customer_model(contract, WORDS)


def valid() -> dict:
    return dict(contract.example)


def test_fields_are_the_contract_features_with_their_values_and_ranges():
    schema = Customer.model_json_schema()
    props = schema["properties"]
    assert list(props) == [contract.id_column, *contract.feature_names]
    assert set(schema["required"]) == set(contract.feature_names)
    for column in contract.features:
        prop = props[column.name]
        if column.kind is Kind.CATEGORY:
            assert prop["enum"] == list(column.allowed), column.name
        else:
            assert prop["minimum"] == column.minimum, column.name
            assert prop["maximum"] == column.maximum, column.name
            assert prop["type"] == ("integer" if column.kind is Kind.INTEGER else "number")
    assert Customer.model_validate(valid()).model_dump()["tenure"] == valid()["tenure"]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("Contract", "Three year", "literal_error"),
        ("SeniorCitizen", "1", "literal_error"),  # raw aliases are not API values
        ("tenure", -1, "greater_than_equal"),
        ("tenure", 12.5, "int_type"),
        # Strict types: nothing is converted (issue 13, item 4).
        ("tenure", True, "int_type"),
        ("tenure", "12", "int_type"),
        ("MonthlyCharges", False, "float_type"),
        ("MonthlyCharges", "85.5", "float_type"),
        ("gender", 1, "literal_error"),
        ("customerID", 7590, "string_type"),
        ("MonthlyCharges", 1e9, "less_than_equal"),
        ("TotalCharges", math.nan, "finite_number"),
        ("TotalCharges", math.inf, "finite_number"),
        ("customerID", "not-an-id", "string_pattern_mismatch"),
    ],
)
def test_invalid_values_are_reported_per_field(field, value, error):
    with pytest.raises(ValidationError) as info:
        Customer.model_validate({**valid(), field: value})
    [err] = info.value.errors()
    assert err["loc"] == (field,)
    assert err["type"] == error


def test_numbers_take_integers_and_the_schema_says_types_are_strict():
    assert Customer.model_validate({**valid(), "MonthlyCharges": 85}).MonthlyCharges == 85.0
    # 12.0 is an integer in JSON Schema (and to a fuzzer reading the OpenAPI document).
    assert Customer.model_validate({**valid(), "tenure": 12.0}).tenure == 12
    schema = Customer.model_json_schema()
    assert "Types are strict" in schema["description"]
    for column in contract.features:
        text = schema["properties"][column.name]["description"]
        if column.kind is Kind.INTEGER:
            assert "an integer" in text and "not a boolean, a string or a fraction" in text
        elif column.kind is Kind.NUMBER:
            assert "not a boolean or a string; NaN and Infinity are refused" in text
        else:
            assert "exactly one of these strings" in text


def test_the_request_limit_must_hold_a_full_batch():
    settings = ServeParams(
        max_batch_size=1000, max_request_bytes=100_000, prediction_log="x", log_commit_batch=1
    )
    with pytest.raises(ConfigError, match=r"serve\.max_request_bytes \(100,000\) cannot hold"):
        check_request_limit(contract, WORDS.units, settings)
    needed = batch_bytes(contract, 1000)
    check_request_limit(
        contract, WORDS.units, settings.model_copy(update={"max_request_bytes": needed})
    )


def test_missing_and_unknown_fields_are_refused():
    record = valid()
    del record["tenure"]
    record["tenur"] = 3
    with pytest.raises(ValidationError) as info:
        Customer.model_validate(record)
    found = {(e["loc"][0], e["type"]) for e in info.value.errors()}
    assert found == {("tenure", "missing"), ("tenur", "extra_forbidden")}


def test_batch_size_is_bounded():
    batch = batch_request_model(Customer, 3, WORDS)
    assert len(batch.model_validate({"customers": [valid()] * 3}).customers) == 3
    for size in (0, 4):
        with pytest.raises(ValidationError, match="customers"):
            batch.model_validate({"customers": [valid()] * size})
