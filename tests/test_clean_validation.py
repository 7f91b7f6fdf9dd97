"""The clean-data suite: the contract checked again on what clean hands downstream."""

from __future__ import annotations

import argparse
import importlib

import pytest

from churn.core.cli import run
from churn.core.io import to_json
from churn.validate.checks import build_clean_checks
from churn.validate.messages import CLEAN_ADVICE, describe_failures
from churn.validate.suite import validate_clean
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import TELCO
from tests.support.telco import TELCO as contract


@pytest.fixture(scope="module")
def passing(telco_clean):
    return validate_clean(telco_clean, TELCO, "clean")


def failed(summary):
    return {(e["column"], e["expectation"]): e for e in summary["expectations"] if not e["success"]}


def test_the_suite_comes_from_the_contract():
    checks = build_clean_checks(TELCO)
    columns = {c.column for c in checks if c.column}
    assert columns == set(contract.names)
    by_column = {name: {c.expectation for c in checks if c.column == name} for name in columns}
    assert "ExpectColumnValuesToBeUnique" in by_column[contract.id_column]
    assert "ExpectColumnValuesToBeBetween" in by_column["tenure"]
    assert "ExpectColumnValuesToBeInSet" in by_column["Contract"]
    assert all("ExpectColumnValuesToNotBeNull" in kinds for kinds in by_column.values())
    assert all("ExpectColumnValuesToBeOfType" in kinds for kinds in by_column.values())
    allowed = next(c for c in checks if c.column == "SeniorCitizen" and "value_set" in c.kwargs)
    assert allowed.kwargs["value_set"] == ["No", "Yes"]  # clean values: aliases are recoded


def test_bundled_clean_data_meets_the_contract(passing, telco_clean):
    assert passing["success"] is True and passing["failed"] == 0
    assert passing["evaluated"] == len(build_clean_checks(TELCO))
    assert to_json(validate_clean(telco_clean, TELCO, "clean")) == to_json(passing)


def test_clean_data_breaking_the_contract_is_named(telco_clean):
    bad = telco_clean.copy()
    bad.loc[3, "tenure"] = -1
    bad.loc[5, contract.id_column] = bad.loc[6, contract.id_column]
    bad.loc[7, "SeniorCitizen"] = "1"  # an alias that cleaning should have recoded
    bad.loc[8, "MonthlyCharges"] = float("nan")
    summary = validate_clean(bad, TELCO, "data/interim/customers_clean.parquet")
    fails = failed(summary)
    assert set(fails) == {
        ("tenure", "ExpectColumnValuesToBeBetween"),
        (contract.id_column, "ExpectColumnValuesToBeUnique"),
        ("SeniorCitizen", "ExpectColumnValuesToBeInSet"),
        ("MonthlyCharges", "ExpectColumnValuesToNotBeNull"),
    }
    message = describe_failures(summary, TELCO, list(bad.columns), CLEAN_ADVICE)
    assert "customers_clean.parquet breaks the data contract" in message
    assert "column 'tenure': expected is between 0 and 120" in message and "-1" in message
    assert "'1' (x1)" in message and "cleaning rule" in message


def test_a_column_of_the_wrong_type(telco_clean):
    typed = telco_clean.astype({"tenure": "float64"})
    assert set(failed(validate_clean(typed, TELCO, "c"))) == {
        ("tenure", "ExpectColumnValuesToBeOfType")
    }


def test_columns_out_of_order_or_missing(telco_clean):
    swapped = telco_clean[[*reversed(contract.names)]]
    assert (None, "ExpectTableColumnsToMatchOrderedList") in failed(
        validate_clean(swapped, TELCO, "c")
    )
    empty = telco_clean.head(0)
    assert (None, "ExpectTableRowCountToBeBetween") in failed(validate_clean(empty, TELCO, "c"))


def test_the_clean_stage_fails_clearly_when_its_output_breaks_the_contract(
    tmp_path, telco_raw, monkeypatch, capsys
):
    stage = importlib.import_module("churn.clean.__main__")
    buckets = importlib.import_module("churn.clean.buckets")  # where the stage calls the rules
    real_clean = buckets.clean

    def buggy_clean(raw, contract, source):  # a rule that forgets to recode SeniorCitizen
        cleaned, quarantine, report = real_clean(raw, contract, source)
        cleaned["SeniorCitizen"] = raw.sort_values("customerID")["SeniorCitizen"].to_numpy()
        return cleaned, quarantine, report

    monkeypatch.setattr(buckets, "clean", buggy_clean)
    monkeypatch.chdir(REPO_ROOT)  # the stage reads params.yaml from the working directory
    telco_raw.to_parquet(tmp_path / "raw.parquet", index=False)
    args = argparse.Namespace(
        input=tmp_path / "raw.parquet",
        output=tmp_path / "clean.parquet",
        quarantine=tmp_path / "q.parquet",
        metrics=tmp_path / "m.json",
        summary=tmp_path / "clean.json",
    )
    with pytest.raises(SystemExit) as exit_:
        run("clean", stage.main, args)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "column 'SeniorCitizen': expected is one of ['No', 'Yes']" in err
    assert "Traceback" not in err
