"""clean: repairs counted, bad rows quarantined with reasons, no row lost."""

from __future__ import annotations

import pandas as pd
import pytest

from churn.clean.rules import check_quarantine_gate, clean
from churn.core.errors import DataError, QualityGateError
from churn.core.lineage import SOURCE_LINE
from tests.support.telco import TELCO
from tests.support.telco import TELCO as contract


def conserved(report):
    return report.rows_in == (
        report.rows_clean + report.rows_quarantined + report.exact_duplicates_removed
    )


def test_bundled_data_is_repaired_not_dropped(telco_raw):
    cleaned, quarantine, report = clean(telco_raw, TELCO)
    assert len(cleaned) == 7043 and len(quarantine) == 0 and conserved(report)
    assert report.repairs["TotalCharges_blank_set_to_0_for_new_customers"] == 11
    assert set(cleaned["SeniorCitizen"]) == {"No", "Yes"}
    assert cleaned.loc[cleaned["tenure"] == 0, "TotalCharges"].eq(0.0).all()
    assert list(cleaned.columns) == list(contract.names)
    assert cleaned["tenure"].dtype == "int64" and cleaned["TotalCharges"].dtype == "float64"
    assert cleaned["customerID"].is_monotonic_increasing


def test_every_problem_row_is_quarantined_with_its_reason(telco_raw):
    raw = telco_raw.head(100).copy()
    raw.loc[0, "tenure"] = "abc"
    raw.loc[1, "tenure"] = "-4"
    raw.loc[2, "Contract"] = "Three year"
    raw.loc[3, "gender"] = ""
    raw.loc[4, "TotalCharges"] = " "  # blank but tenure > 0: not a new customer
    raw.loc[5, "tenure"] = "1.5"
    raw.loc[6, "customerID"] = "not-an-id"
    raw = pd.concat([raw, raw.iloc[[10]]])  # an exact duplicate
    conflict = raw.iloc[[20]].copy()
    conflict["MonthlyCharges"] = "1.00"
    raw = pd.concat([raw, conflict])  # the same ID with different values
    cleaned, quarantine, report = clean(raw, TELCO)
    reasons = dict(zip(quarantine[SOURCE_LINE], quarantine["reason"], strict=True))
    line = lambda i: i + 2  # noqa: E731 - row i of the file is line i + 2
    assert reasons[line(0)] == "unparseable:tenure"
    assert reasons[line(1)] == "out_of_range:tenure"
    assert reasons[line(2)] == "unknown_category:Contract"
    assert reasons[line(3)] == "missing:gender"
    assert reasons[line(4)] == "missing:TotalCharges"
    assert reasons[line(5)] == "not_integer:tenure"
    assert reasons[line(6)] == "bad_format:customerID"
    assert reasons[line(20)] == "conflicting_duplicate_id"
    assert (quarantine[SOURCE_LINE] == line(20)).sum() == 2  # both versions
    assert report.exact_duplicates_removed == 1
    assert report.rows_quarantined == 9
    assert conserved(report) and len(cleaned) == 100 - 8
    assert report.quarantine_reasons["unparseable:tenure"] == 1
    # Quarantined rows keep the source text untouched.
    assert quarantine.loc[quarantine[SOURCE_LINE] == line(0), "tenure"].item() == "abc"


def test_copies_left_after_exact_duplicates_are_judged_on_what_remains(telco_raw):
    raw = telco_raw.head(30).copy()
    raw = pd.concat([raw, raw.iloc[[5]]])  # id of row 5 twice, identical: no conflict
    changed = raw.iloc[[7]].copy()
    changed["MonthlyCharges"] = "1.00"
    raw = pd.concat([raw, raw.iloc[[7]], changed])  # row 7: an exact copy and a conflict
    blank = raw.iloc[[8, 9]].copy()
    blank["customerID"] = " "
    raw = pd.concat([raw, blank])  # a blank id twice: missing, not conflicting
    cleaned, quarantine, report = clean(raw, TELCO)
    ids = telco_raw["customerID"]
    reasons = quarantine.groupby("customerID")["reason"].apply(list).to_dict()
    assert report.exact_duplicates_removed == 2
    assert reasons[ids[7]] == ["conflicting_duplicate_id"] * 2
    assert ids[5] in set(cleaned["customerID"]) and ids[5] not in reasons
    assert reasons[" "] == ["missing:customerID"] * 2
    assert conserved(report) and len(cleaned) == 30 - 1


def test_an_exact_copy_of_a_bad_row_is_a_duplicate_not_a_second_quarantined_row(telco_raw):
    raw = telco_raw.head(40).copy()
    raw.loc[3, "tenure"] = "abc"
    raw.loc[4, "Contract"] = "Three year"
    shuffled = raw.iloc[::-1]  # the kept rows come out in identifier order all the same
    raw = pd.concat([shuffled, raw.iloc[[3, 3, 4, 12]]])
    cleaned, quarantine, report = clean(raw, TELCO)
    assert report.exact_duplicates_removed == 4 and conserved(report)
    assert sorted(quarantine["reason"]) == ["unknown_category:Contract", "unparseable:tenure"]
    assert report.quarantine_reasons == {"unknown_category:Contract": 1, "unparseable:tenure": 1}
    assert len(cleaned) == 38 and cleaned["customerID"].is_monotonic_increasing
    assert cleaned.index.equals(pd.RangeIndex(38))
    assert set(cleaned["customerID"]) == set(raw["customerID"]) - set(quarantine["customerID"])


def test_quarantine_gate(telco_raw):
    raw = telco_raw.head(100).copy()
    raw.loc[:9, "Contract"] = "Three year"
    _, _, report = clean(raw, TELCO)
    check_quarantine_gate(report, 0.10, "x")
    with pytest.raises(QualityGateError, match=r"(?s)10 of 100 rows \(10.00%\).*unknown_category"):
        check_quarantine_gate(report, 0.05, "x")


def test_missing_column_is_a_clear_error(telco_raw):
    with pytest.raises(DataError, match=r"missing contract columns \['Churn'\]"):
        clean(telco_raw.drop(columns=["Churn"]), TELCO, source="raw.parquet")
