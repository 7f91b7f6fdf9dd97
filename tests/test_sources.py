"""collect: text kept exactly, lineage recorded, deterministic order, clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from churn.collect.files import ParquetSource
from churn.collect.snapshot import collect
from churn.core.errors import DataError
from churn.core.lineage import SOURCE_FILE, SOURCE_LINE
from tests.conftest import collect_csv, write_csv
from tests.support.telco import TELCO


def test_bundled_csv_is_kept_as_text_with_lineage(telco_raw, telco_text):
    assert list(telco_raw.columns) == [*TELCO.names, SOURCE_FILE, SOURCE_LINE]
    assert len(telco_raw) == 7043
    pd.testing.assert_frame_equal(telco_raw[list(TELCO.names)], telco_text, check_dtype=False)
    # The 11 blank TotalCharges stay blanks, not NaN: cleaning decides what they mean.
    assert (telco_raw["TotalCharges"] == " ").sum() == 11
    assert telco_raw[SOURCE_LINE].tolist() == list(range(2, 7045))


def test_folder_of_batches_gives_same_bytes_in_any_order(tmp_path, telco_text):
    parts = [telco_text.iloc[i::3] for i in range(3)]
    names = ["2024-03.csv", "2024-01.csv", "2024-02.csv"]
    outputs = []
    for attempt, order in enumerate([(0, 1, 2), (2, 0, 1)]):
        folder = tmp_path / f"batches{attempt}" / "monthly"
        for i in order:  # files created in a different order each time
            write_csv(parts[i], folder / names[i])
        out = tmp_path / f"raw{attempt}.parquet"
        from churn.collect.files import CsvSource

        collect(CsvSource(kind="csv", path="monthly"), out, root=folder.parent)
        outputs.append(out.read_bytes())
        raw = pd.read_parquet(out)
        assert raw[SOURCE_FILE].drop_duplicates().tolist() == [
            "monthly/2024-01.csv",
            "monthly/2024-02.csv",
            "monthly/2024-03.csv",
        ]
        assert len(raw) == len(telco_text)
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("line_end", ["\r\n", "\n"])
def test_crlf_and_lf_line_ends_read_the_same(tmp_path, telco_text, line_end):
    raw = collect_csv(write_csv(telco_text.head(50), tmp_path / "x.csv", line_end), tmp_path)
    pd.testing.assert_frame_equal(raw[list(TELCO.names)], telco_text.head(50), check_dtype=False)


def test_utf8_byte_order_mark_is_skipped(tmp_path, telco_text):
    path = write_csv(telco_text.head(5), tmp_path / "bom.csv")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    raw = collect_csv(path, tmp_path)
    assert next(iter(raw.columns)) == "customerID"
    assert raw["customerID"].tolist() == telco_text["customerID"].head(5).tolist()


def test_non_utf8_bytes_name_file_and_line(tmp_path, telco_text):
    path = write_csv(telco_text.head(10), tmp_path / "latin1.csv")
    lines = path.read_bytes().split(b"\r\n")
    lines[4] = lines[4].replace(b"Female", b"F\xe9male").replace(b"Male", b"M\xe9le")
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(DataError) as err:
        collect_csv(path, tmp_path)
    message = str(err.value)
    assert "latin1.csv" in message and "line 5" in message and "UTF-8" in message


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty.csv.*empty: expected a header"):
        collect_csv(path, tmp_path)


def test_header_only_file_gives_an_empty_snapshot(tmp_path, telco_text):
    path = write_csv(telco_text.head(0), tmp_path / "header.csv")
    raw = collect_csv(path, tmp_path)
    assert len(raw) == 0
    assert list(raw.columns) == [*TELCO.names, SOURCE_FILE, SOURCE_LINE]


def test_truncated_last_line_is_a_clear_error(tmp_path, telco_text):
    path = write_csv(telco_text.head(20), tmp_path / "cut.csv")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 60])  # cut the last record mid-way
    with pytest.raises(DataError) as err:
        collect_csv(path, tmp_path)
    assert "cut.csv" in str(err.value)
    assert "21" in str(err.value)  # the expected number of fields


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="source not found"):
        collect_csv(tmp_path / "nope.csv", tmp_path)


def test_batches_with_different_columns_are_rejected(tmp_path, telco_text):
    folder = tmp_path / "mixed"
    write_csv(telco_text.head(5), folder / "a.csv")
    write_csv(telco_text.head(5).drop(columns=["gender"]), folder / "b.csv")
    with pytest.raises(DataError, match=r"b.csv.*missing \['gender'\]"):
        collect_csv(folder, tmp_path)


def test_parquet_source_is_read_as_text(tmp_path, telco_text):
    typed = telco_text.head(30).copy()
    typed["tenure"] = typed["tenure"].astype("int64")
    typed["MonthlyCharges"] = typed["MonthlyCharges"].astype("float64")
    typed.to_parquet(tmp_path / "src.parquet", index=False)
    out = tmp_path / "raw.parquet"
    collect(ParquetSource(kind="parquet", path="src.parquet"), out, root=tmp_path)
    raw = pd.read_parquet(out)
    assert raw["tenure"].tolist() == telco_text["tenure"].head(30).tolist()
    assert raw["MonthlyCharges"].tolist() == telco_text["MonthlyCharges"].head(30).tolist()
    assert pq.read_schema(out).field("tenure").type == "string"


def test_collect_is_byte_stable(tmp_path, telco_text):
    write_csv(telco_text, tmp_path / "t.csv")
    first, second = tmp_path / "1.parquet", tmp_path / "2.parquet"
    from churn.collect.files import CsvSource

    source = CsvSource(kind="csv", path="t.csv")
    collect(source, first, root=tmp_path)
    collect(source, second, root=tmp_path)
    assert first.read_bytes() == second.read_bytes()


def test_relative_labels(tmp_path: Path, telco_text):
    raw = collect_csv(write_csv(telco_text.head(3), tmp_path / "f.csv"), tmp_path)
    assert set(raw[SOURCE_FILE]) == {"f.csv"}
