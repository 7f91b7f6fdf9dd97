"""Batches and buckets change nothing: validation and cleaning of a table cut into parts
give exactly what they give on the whole table at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.clean.buckets import clean_table
from churn.clean.rules import clean
from churn.core import tables
from churn.core.compute import LocalEngine
from churn.core.io import to_json, write_parquet
from churn.core.lineage import SOURCE_FILE, SOURCE_LINE
from churn.core.params import ValidateParams
from churn.validate.checks import CLASS_ROWS, CLASS_SHARE, build_checks
from churn.validate.suite import (
    ROW_COUNT,
    UNIQUE,
    check_batch,
    merge,
    unique_outcomes,
    validate,
    validate_table,
)
from tests.conftest import NEEDS, read_telco_text
from tests.support.telco import TELCO

# 2%: the 200 rows of repeated identifiers (2.8%) fail, a few bad values per column pass.
TOLERANT = ValidateParams(
    min_rows=10, max_rows=1_000_000, max_blank_fraction=0.01, row_error_tolerance=0.02
)


@pytest.fixture(scope="module")
def dirty(telco_raw) -> pd.DataFrame:
    """The raw snapshot with bad rows spread over it: wrong values, blanks, duplicates."""
    raw = telco_raw.copy()
    rng = np.random.default_rng(5)
    rows = rng.choice(len(raw), 300, replace=False)
    raw.loc[rows[:40], "Contract"] = "Three year"
    raw.loc[rows[40:50], "Contract"] = "Four year"
    raw.loc[rows[50:80], "tenure"] = "x"
    raw.loc[rows[80:100], "TotalCharges"] = " "  # blank where tenure is not 0
    raw.loc[rows[100:110], "MonthlyCharges"] = "5000"
    raw.loc[rows[110:140], "gender"] = [f"g{i}" for i in range(30)]  # 30 values, ties
    # A category column is checked as a pandas categorical in batches: a missing value and
    # a blank must be judged as they are in text.
    raw.loc[rows[260:270], "PaymentMethod"] = None
    raw.loc[rows[270:280], "Partner"] = "  "
    exact = raw.iloc[rows[140:200]].assign(**{SOURCE_LINE: lambda d: d[SOURCE_LINE] + 10_000})
    conflicting = raw.iloc[rows[200:240]].assign(
        tenure="100", **{SOURCE_LINE: lambda d: d[SOURCE_LINE] + 20_000}
    )
    # The copies go to the far end: a duplicate's first copy is in another batch.
    return pd.concat([raw, exact, conflicting], ignore_index=True)


@pytest.fixture(scope="module")
def dirty_file(dirty, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("dirty") / "raw.parquet"
    write_parquet(dirty, path)
    return str(path)


@pytest.mark.parametrize("batch_rows", [2_999])  # three batches, the last one short
def test_validation_in_batches_is_validation_of_the_whole(dirty, dirty_file, batch_rows):
    whole = validate(dirty, TELCO, TOLERANT, "raw", NEEDS)
    batched = validate_table(dirty_file, TELCO, TOLERANT, LocalEngine(), batch_rows, "raw", NEEDS)
    assert to_json(batched) == to_json(whole)
    failed = {(e["column"], e["expectation"]) for e in whole["expectations"] if not e["success"]}
    assert ("customerID", UNIQUE) in failed  # judged on the totals, across batches
    gender = next(e for e in whole["expectations"] if e["column"] == "gender")
    assert gender["unexpected_count"] == 30 and len(gender["examples"]) == 5
    # A blank is not in the set; a missing value is Great Expectations' "missing", not
    # unexpected: the same in text and as a categorical (the equality above).
    partner = next(e for e in whole["expectations"] if e["column"] == "Partner")
    assert partner["unexpected_count"] == 10 and partner["examples"][0]["value"] == "  "


def test_uniqueness_over_the_whole_table_matches_great_expectations(dirty, dirty_file):
    checks = [
        c
        for c in build_checks(TELCO, list(dirty.columns), TOLERANT, NEEDS)
        if c.expectation == UNIQUE
    ]
    expected = merge(checks[0], [check_batch({"raw": dirty}, checks)[checks[0].id]])
    assert expected.unexpected_count == 200  # both copies of 60 + 40 repeated ids
    assert unique_outcomes(checks, dirty)[checks[0].id] == expected
    assert unique_outcomes(checks, dirty_file)[checks[0].id] == expected


def test_row_count_and_mostly_are_judged_on_the_totals(dirty_file):
    strict = TOLERANT.model_copy(update={"row_error_tolerance": 0.0, "max_rows": 5_000})
    summary = validate_table(dirty_file, TELCO, strict, LocalEngine(), 1_000, "raw", NEEDS)
    count = next(e for e in summary["expectations"] if e["expectation"] == ROW_COUNT)
    assert count["success"] is False  # 7,143 rows > 5,000, though each batch has 1,000
    contract = next(e for e in summary["expectations"] if e["column"] == "Contract")
    assert contract["unexpected_count"] == 50 and contract["success"] is False


def test_mostly_is_judged_on_the_totals_not_batch_by_batch(telco_raw, tmp_path):
    raw = telco_raw.copy()
    raw.loc[: 100 - 1, "Contract"] = "Three year"  # 1.4% of the rows, 4% of the first batch
    path = tmp_path / "raw.parquet"
    write_parquet(raw, path)
    batched = validate_table(path, TELCO, TOLERANT, LocalEngine(), 2_500, "raw", NEEDS)
    contract = next(e for e in batched["expectations"] if e["column"] == "Contract")
    assert contract["unexpected_count"] == 100 and contract["success"] is True  # 2% allowed
    assert to_json(batched) == to_json(validate(raw, TELCO, TOLERANT, "raw", NEEDS))


@pytest.mark.parametrize("batch_rows", [3_000])  # three parts
def test_cleaning_in_buckets_is_cleaning_of_the_whole(dirty, dirty_file, batch_rows, tmp_path):
    cleaned, quarantined, report = clean(dirty, TELCO, source="raw")
    out, held = tmp_path / "clean.parquet", tmp_path / "quarantine.parquet"
    got, summary = clean_table(dirty_file, TELCO, LocalEngine(), batch_rows, out, held, "raw")
    assert len(tables.parts(out)) == tables.part_count(len(dirty), batch_rows) > 1
    assert got.as_metrics() == report.as_metrics()
    assert (
        report.exact_duplicates_removed == 60
        and report.quarantine_reasons["conflicting_duplicate_id"] == 80
    )
    by_id = [TELCO.id_column]
    pd.testing.assert_frame_equal(
        tables.read_table(out).sort_values(by_id, ignore_index=True), cleaned
    )
    by_line = [SOURCE_FILE, SOURCE_LINE]
    pd.testing.assert_frame_equal(
        tables.read_table(held).sort_values(by_line, ignore_index=True), quarantined
    )
    assert summary["success"] and summary["rows"] == len(cleaned)
    # Each part holds whole buckets: an identifier is in exactly one part.
    seen = [set(pd.read_parquet(p)[TELCO.id_column]) for p in tables.parts(out)]
    assert sum(len(s) for s in seen) == len(set().union(*seen))


def test_target_classes_are_counted_over_every_batch(tmp_path):
    """12 rows of the rarer class, 4 in each of three batches: enough in all (9 are needed),
    though no batch alone has enough; and the almost-constant rule judged on the totals."""
    text = read_telco_text()
    stayed, left = text[text["Churn"] == "No"].head(1_488), text[text["Churn"] == "Yes"].head(12)
    rows = [stayed.iloc[i * 496 : (i + 1) * 496] for i in range(3)]
    raw = pd.concat([p for i in range(3) for p in (rows[i], left.iloc[i * 4 : i * 4 + 4])])
    raw = raw.reset_index(drop=True)
    raw = raw.assign(**{SOURCE_FILE: "s.csv", SOURCE_LINE: np.arange(2, len(raw) + 2)})
    path = tmp_path / "raw.parquet"
    write_parquet(raw, path)
    batched = validate_table(path, TELCO, TOLERANT, LocalEngine(), 500, "raw", NEEDS)
    assert to_json(batched) == to_json(validate(raw, TELCO, TOLERANT, "raw", NEEDS))
    outcomes = {
        (e["rule"], e["examples"][0]["value"]): e for e in batched["expectations"] if e["rule"]
    }
    assert outcomes[(CLASS_ROWS, "Yes")]["observed_value"] == 12
    assert outcomes[(CLASS_ROWS, "Yes")]["success"] is True
    assert outcomes[(CLASS_SHARE, "No")]["success"] is False  # 99.2% of rows > 99%
