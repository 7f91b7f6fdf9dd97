"""The problem file: validated with errors that name the key, and built into the contract."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from churn.clean.rules import clean
from churn.collect.files import CsvSource
from churn.collect.snapshot import collect
from churn.core.contract import Kind
from churn.core.errors import ConfigError
from churn.core.problem import ROW_ID, parse_problem, read_problem, row_ids
from tests.support.sandbox import REPO_ROOT

TELCO_FILE = REPO_ROOT / "problems" / "telco.yaml"


def telco() -> dict:
    return yaml.safe_load(TELCO_FILE.read_text())


def errors_of(data: dict) -> str:
    with pytest.raises(ConfigError) as err:
        parse_problem(yaml.safe_dump(data), "problems/x.yaml")
    return str(err.value)


def test_the_telco_problem_builds_the_contract_the_pipeline_had():
    problem = read_problem(TELCO_FILE)
    c = problem.contract
    assert (c.id_column, c.target, c.positive, c.label) == ("customerID", "Churn", "Yes", "churn")
    assert len(c.columns) == 21 and len(c.feature_names) == 19
    assert c.by_name["SeniorCitizen"].aliases == {"0": "No", "1": "Yes"}
    total = c.by_name["TotalCharges"]
    assert total.kind is Kind.NUMBER and total.blank.when == {"tenure": 0}
    assert total.blank.repair == "set_to_0_for_new_customers"
    assert problem.words.event == "churn" and problem.words.units == "customers"
    assert not c.made_id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("target"), "target: required key is missing"),
        (lambda d: d["unit"].update(plural_form="x"), "unit.plural_form: unknown key"),
        (lambda d: d["target"].update(positive="Maybe"), "target.positive 'Maybe' is not one"),
        (lambda d: d["target"].update(column="tenure"), "must be a category column"),
        (lambda d: d["target"].update(event="Churn Event"), "target.event: String should match"),
        (lambda d: d.update(segments=["tenure"]), "segments ['tenure'] are not categorical"),
        (lambda d: d["columns"]["tenure"].pop("max"), "columns.tenure: an integer column needs"),
        (lambda d: d["columns"]["gender"].update(values=[]), "columns.gender: a category column"),
        (
            lambda d: d["columns"]["SeniorCitizen"]["aliases"].update({"2": "Maybe"}),
            "`aliases` map to ['Maybe']",
        ),
        (
            lambda d: d["columns"]["TotalCharges"]["blank"].update(when={"tenur": 0}),
            "blank.when names an unknown column 'tenur'",
        ),
        (lambda d: d["columns"]["tenure"].update(type="float"), "columns.tenure.type"),
        (lambda d: d["unit"].update(id="gender"), "unit.id 'gender' must be a column of type id"),
        (lambda d: d["report"].update(sensitive=["Churn"]), "report.sensitive ['Churn']"),
        (lambda d: d["example"].pop("tenure"), "example: its keys must be exactly"),
        (lambda d: d["business"].update(offer_cost=500), "offer_cost must be below"),
    ],
)
def test_a_wrong_problem_file_names_the_key(change, message):
    data = telco()
    change(data)
    text = errors_of(data)
    assert message in text
    assert "problems/x.yaml" in text and "Traceback" not in text


def test_a_missing_problem_file_says_where_it_looked(tmp_path):
    with pytest.raises(ConfigError, match=r"problem file .*nope.yaml not found.*problem.file"):
        read_problem(tmp_path / "nope.yaml")


def test_without_an_identifier_collect_makes_one_from_the_row(tmp_path):
    data = telco()
    del data["columns"]["customerID"]
    data["unit"]["id"] = None
    problem = parse_problem(yaml.safe_dump(data), "p.yaml")
    contract = problem.contract
    assert contract.made_id and contract.id_column == ROW_ID
    source = pd.read_csv(REPO_ROOT / "data/external/telco_customer_churn.csv", dtype=str).head(50)
    source = source.drop(columns="customerID")
    source = pd.concat([source, source.iloc[[3]]])  # an exact copy of a row
    source.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "raw.parquet"
    collect(CsvSource(kind="csv", path="rows.csv"), out, root=tmp_path, make_id=ROW_ID)
    raw = pd.read_parquet(out)
    assert list(raw.columns[:1]) == [ROW_ID]
    assert raw[ROW_ID].iloc[3] == raw[ROW_ID].iloc[-1]  # the same row, the same id
    assert raw[ROW_ID].nunique() == 50
    again = tmp_path / "again.parquet"
    collect(CsvSource(kind="csv", path="rows.csv"), again, root=tmp_path, make_id=ROW_ID)
    assert pd.read_parquet(again)[ROW_ID].equals(raw[ROW_ID])  # deterministic
    cleaned, quarantine, report = clean(raw, contract)
    assert len(cleaned) == 50 and report.exact_duplicates_removed == 1 and quarantine.empty
    assert row_ids(["a"]) == row_ids(["a"]) != row_ids(["b"])
