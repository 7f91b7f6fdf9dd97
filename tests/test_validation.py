"""validate: the Great Expectations suite built from the contract."""

from __future__ import annotations

import pytest

from churn.core.io import to_json
from churn.core.params import ValidateParams
from churn.validate.messages import describe_failures
from churn.validate.suite import validate
from tests.conftest import NEEDS
from tests.support.telco import TELCO

STRICT = ValidateParams(
    min_rows=10, max_rows=1_000_000, max_blank_fraction=0.01, row_error_tolerance=0.0
)


@pytest.fixture(scope="module")
def passing(telco_raw):
    return validate(telco_raw, TELCO, STRICT, "raw", NEEDS)


def failed(summary):
    return {(e["column"], e["expectation"]): e for e in summary["expectations"] if not e["success"]}


def test_bundled_data_passes_every_expectation(passing):
    assert passing["success"] is True
    assert passing["failed"] == 0
    assert passing["evaluated"] >= 25
    kinds = {e["expectation"] for e in passing["expectations"]}
    assert {
        "ExpectColumnValuesToBeUnique",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToBeBetween",
        "ExpectTableRowCountToBeBetween",
        "ExpectTableColumnsToMatchSet",
        "ExpectColumnValuesToNotBeNull",
    } <= kinds


def test_summary_is_byte_stable(telco_raw, passing):
    again = validate(telco_raw, TELCO, STRICT, "raw", NEEDS)
    assert to_json(again) == to_json(passing)
    assert "uuid" not in to_json(passing).lower()


def test_duplicate_id_and_unknown_contract_are_named_with_examples_and_lines(telco_raw):
    bad = telco_raw.copy()
    bad.loc[3, "customerID"] = bad.loc[4, "customerID"]
    bad.loc[10, "Contract"] = "Three year"
    summary = validate(bad, TELCO, STRICT, "raw", NEEDS)
    assert summary["success"] is False
    fails = failed(summary)
    assert set(fails) == {
        ("customerID", "ExpectColumnValuesToBeUnique"),
        ("Contract", "ExpectColumnValuesToBeInSet"),
    }
    contract_fail = fails[("Contract", "ExpectColumnValuesToBeInSet")]
    assert contract_fail["unexpected_count"] == 1
    assert contract_fail["examples"] == [{"value": "Three year", "count": 1}]
    assert contract_fail["lines"][0]["line"] == 12  # row 10 is line 12 (header is line 1)
    message = describe_failures(summary, TELCO, list(bad.columns))
    assert "'Three year'" in message and "telco_customer_churn.csv:12" in message
    assert "customerID" in message and "2 row(s)" in message


def test_text_in_numeric_column_and_out_of_range(telco_raw):
    bad = telco_raw.copy()
    bad.loc[0, "tenure"] = "twelve"
    bad.loc[1, "tenure"] = "-3"
    bad.loc[2, "MonthlyCharges"] = "5000"
    fails = failed(validate(bad, TELCO, STRICT, "raw", NEEDS))
    assert fails[("tenure", "ExpectColumnValuesToMatchRegex")]["examples"] == [
        {"value": "twelve", "count": 1}
    ]
    assert fails[("tenure", "ExpectColumnValuesToBeBetween")]["unexpected_count"] == 1
    assert fails[("MonthlyCharges", "ExpectColumnValuesToBeBetween")]["unexpected_count"] == 1


def test_missing_extra_and_renamed_columns(telco_raw):
    bad = telco_raw.rename(columns={"tenure": "Tenure"})
    summary = validate(bad, TELCO, STRICT, "raw", NEEDS)
    assert list(failed(summary)) == [(None, "ExpectTableColumnsToMatchSet")]
    message = describe_failures(summary, TELCO, list(bad.columns))
    assert "missing ['tenure']" in message and "unexpected ['Tenure']" in message
    assert "renamed?" in message


def test_row_count_and_blank_fraction(telco_raw):
    small = telco_raw.head(5)
    summary = validate(small, TELCO, STRICT, "raw", NEEDS)
    assert (None, "ExpectTableRowCountToBeBetween") in failed(summary)
    blanks = telco_raw.copy()
    blanks.loc[:200, "TotalCharges"] = ""
    blanks.loc[:200, "tenure"] = "0"
    assert ("TotalCharges", "ExpectColumnValuesToNotBeNull") in failed(
        validate(blanks, TELCO, STRICT, "raw", NEEDS)
    )


def test_tolerance_lets_a_few_bad_rows_through(telco_raw):
    bad = telco_raw.copy()
    bad.loc[10, "Contract"] = "Three year"
    tolerant = STRICT.model_copy(update={"row_error_tolerance": 0.001})
    assert validate(bad, TELCO, tolerant, "raw", NEEDS)["success"] is True
