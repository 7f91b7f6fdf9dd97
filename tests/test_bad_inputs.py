"""Every bad input of issue 3, through the real collect -> validate (-> clean) path.

Each case writes a source file, collects it and validates the snapshot exactly
as the stages do, and checks the user sees what is wrong: the file, the column,
the lines and what was expected, or, with a row tolerance, quarantine with reasons.
Encodings and line ends that are fine (a UTF-8 BOM, CRLF or LF) must pass untouched.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from churn.clean.rules import clean
from churn.collect.files import CsvSource
from churn.collect.snapshot import collect
from churn.core.errors import DataError
from churn.core.lineage import SOURCE_LINE, snapshot_origin
from churn.core.params import ValidateParams
from churn.validate.messages import explain_failures
from churn.validate.suite import validate
from tests.conftest import NEEDS, write_csv
from tests.support.telco import TELCO

STRICT = ValidateParams(
    min_rows=100, max_rows=1_000_000, max_blank_fraction=0.01, row_error_tolerance=0.0
)
ROWS = 300


def outcome(path: Path, params: ValidateParams = STRICT) -> tuple[str, pd.DataFrame | None]:
    """What the user would read after collect + validate ('' when both pass), and the raw."""
    out = path.parent / "raw.parquet"
    try:
        collect(CsvSource(kind="csv", path=path.name), out, root=path.parent)
    except DataError as err:
        return str(err), None
    raw = pd.read_parquet(out)
    summary = validate(raw, TELCO, params, "data/raw/customers.parquet", NEEDS)
    if summary["success"]:
        return "", raw
    return explain_failures(summary, TELCO, list(raw.columns), snapshot_origin(out)), raw


@pytest.fixture
def data(telco_text) -> pd.DataFrame:
    return telco_text.head(ROWS).copy()


def test_missing_column(tmp_path, data):
    message, _ = outcome(write_csv(data.drop(columns=["Contract"]), tmp_path / "m.csv"))
    assert "source: m.csv" in message
    assert "the columns are exactly the contract's columns; missing ['Contract']" in message


def test_extra_column(tmp_path, data):
    data["Notes"] = "called twice"
    message, _ = outcome(write_csv(data, tmp_path / "x.csv"))
    assert "source: x.csv" in message and "unexpected ['Notes']" in message


def test_renamed_column(tmp_path, data):
    message, _ = outcome(write_csv(data.rename(columns={"tenure": "Tenure"}), tmp_path / "r.csv"))
    assert "missing ['tenure']; unexpected ['Tenure'] (renamed?)" in message


def test_text_in_a_numeric_column(tmp_path, data):
    data.loc[4, "MonthlyCharges"] = "about 70"
    message, _ = outcome(write_csv(data, tmp_path / "t.csv"))
    assert "column 'MonthlyCharges': expected is a number" in message
    assert "'about 70' (x1)" in message and "t.csv:6" in message


def test_negative_tenure(tmp_path, data):
    data.loc[9, "tenure"] = "-3"
    message, _ = outcome(write_csv(data, tmp_path / "n.csv"))
    assert "column 'tenure': expected is between 0 and 120" in message and "n.csv:11" in message


def test_unknown_category(tmp_path, data):
    data.loc[2, "PaymentMethod"] = "Bitcoin"
    message, _ = outcome(write_csv(data, tmp_path / "u.csv"))
    assert "column 'PaymentMethod': expected is one of" in message
    assert "'Bitcoin' (x1)" in message and "u.csv:4" in message


def test_duplicate_ids(tmp_path, data):
    data.loc[20, "customerID"] = data.loc[10, "customerID"]
    message, _ = outcome(write_csv(data, tmp_path / "d.csv"))
    assert "column 'customerID': expected is unique; 2 row(s)" in message
    assert "d.csv:12" in message and "d.csv:22" in message


def test_row_problems_are_quarantined_with_reasons_under_a_tolerance(tmp_path, data):
    data.loc[1, "tenure"] = "twelve"
    data.loc[2, "tenure"] = "-3"
    data.loc[3, "Contract"] = "Three year"
    data.loc[5, "customerID"] = data.loc[6, "customerID"]
    data.loc[5, "MonthlyCharges"] = "1.00"  # a conflicting copy, not an exact one
    tolerant = STRICT.model_copy(update={"row_error_tolerance": 0.05})
    message, raw = outcome(write_csv(data, tmp_path / "q.csv"), tolerant)
    assert message == ""
    cleaned, quarantine, report = clean(raw, TELCO)
    reasons = dict(zip(quarantine[SOURCE_LINE], quarantine["reason"], strict=True))
    assert reasons == {
        3: "unparseable:tenure",
        4: "out_of_range:tenure",
        5: "unknown_category:Contract",
        7: "conflicting_duplicate_id",
        8: "conflicting_duplicate_id",
    }
    assert report.rows_in == len(cleaned) + len(quarantine) + report.exact_duplicates_removed


def test_empty_file(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    message, _ = outcome(tmp_path / "e.csv")
    assert "e.csv: the file is empty: expected a header line" in message


def test_header_only_file(tmp_path, data):
    message, raw = outcome(write_csv(data.head(0), tmp_path / "h.csv"))
    assert raw is not None and len(raw) == 0  # collect keeps the header: validate explains
    assert "source: h.csv" in message
    assert "expected between 100 and 1,000,000 rows; observed 0" in message
    assert "no data rows: a header-only file" in message


def test_non_utf8_bytes(tmp_path, data):
    path = write_csv(data, tmp_path / "l.csv")
    lines = path.read_bytes().split(b"\r\n")
    lines[7] = lines[7].replace(b"Month-to-month", b"Month\xa0to\xa0month")
    path.write_bytes(b"\r\n".join(lines))
    message, _ = outcome(path)
    assert "l.csv, line 8: the file is not valid UTF-8 text" in message
    assert "expected: UTF-8 encoded CSV" in message


@pytest.mark.parametrize("line_end", ["\r\n", "\n"])
@pytest.mark.parametrize("bom", [False, True])
def test_bom_and_line_ends_are_read_unchanged(tmp_path, data, line_end, bom):
    path = write_csv(data, tmp_path / "ok.csv", line_end)
    if bom:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    message, raw = outcome(path)
    assert message == ""
    pd.testing.assert_frame_equal(raw[list(TELCO.names)], data, check_dtype=False)


def test_truncated_last_line(tmp_path, data):
    path = write_csv(data, tmp_path / "cut.csv")
    path.write_bytes(path.read_bytes()[:-45])
    message, _ = outcome(path)
    assert "cut.csv: the CSV cannot be parsed" in message
    assert "expected: 21 comma-separated fields on every line" in message
    assert "truncated last line" in message
