"""Tables in parts and slices, buckets and samples: what lets every stage work in batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.core import tables
from churn.core.compute import LocalEngine
from churn.core.io import write_parquet
from tests.support.synthetic import unique_ids
from tests.support.telco import TELCO


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    ids = pd.Series(unique_ids(2_500).to_pylist(), dtype="str")
    rng = np.random.default_rng(0)
    return pd.DataFrame({TELCO.id_column: ids, "x": rng.normal(size=len(ids))})


def test_a_file_is_cut_into_batches_and_read_back_whole(tmp_path, frame):
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, index=False, row_group_size=300)  # slices cross row groups
    pieces = tables.slices(path, 1_000)
    assert [(p.start, p.stop, p.offset) for p in pieces] == [
        (0, 1_000, 0),
        (1_000, 2_000, 1_000),
        (2_000, 2_500, 2_000),
    ]
    back = pd.concat([tables.read_slice(p) for p in pieces], ignore_index=True)
    pd.testing.assert_frame_equal(back, frame)
    assert tables.row_count(path) == len(frame)


def test_a_folder_is_read_part_by_part_in_order(tmp_path, frame):
    out = tables.prepare(tmp_path / "t.parquet", 3)
    thirds = np.array_split(np.arange(len(frame)), 3)
    for i, rows in enumerate(thirds):
        tables.write_part(frame.iloc[rows], out, i, 3)
    assert [p.name for p in tables.parts(out)] == [tables.part_name(i) for i in range(3)]
    assert [p.rows for p in tables.slices(out, 100)] == [len(r) for r in thirds]  # whole parts
    pd.testing.assert_frame_equal(tables.read_table(out), frame)
    # One part is one file, written exactly as a plain write would write it.
    tables.prepare(out, 1)
    tables.write_part(frame, out, 0, 1)
    write_parquet(frame, tmp_path / "plain.parquet")
    assert out.read_bytes() == (tmp_path / "plain.parquet").read_bytes()


def test_parquet_keeps_statistics_for_numbers_only_and_the_same_table(tmp_path):
    import pyarrow.parquet as pq

    frame = pd.DataFrame(
        {
            "id": pd.Series(["b", "a", "c"], dtype="str"),
            "plan": pd.Series(["x", None, "y"], dtype="category"),
            "n": [3, 1, 2],
            "amount": [1.5, np.nan, 0.5],
        }
    )
    write_parquet(frame, tmp_path / "t.parquet")
    frame.to_parquet(tmp_path / "pandas.parquet", index=False)
    group = pq.ParquetFile(tmp_path / "t.parquet").metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).statistics for i in range(4)}
    assert stats["id"] is None and stats["plan"] is None
    assert (stats["n"].min, stats["n"].max) == (1, 3)
    assert (stats["amount"].min, stats["amount"].max, stats["amount"].null_count) == (0.5, 1.5, 1)
    # The same table, types and pandas metadata as pandas' own write: only statistics differ.
    mine, theirs = pq.read_table(tmp_path / "t.parquet"), pq.read_table(tmp_path / "pandas.parquet")
    assert mine.equals(theirs, check_metadata=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)


def test_buckets_depend_on_the_identifier_alone(frame):
    ids = frame[TELCO.id_column]
    whole = tables.buckets(ids, 7)
    assert set(whole) == set(range(7))
    assert np.array_equal(tables.buckets(ids[::-1], 7), whole[::-1])
    assert np.array_equal(tables.buckets(ids.astype(object), 7), whole)
    sizes = np.bincount(whole)
    assert sizes.min() > 0.7 * len(ids) / 7  # a hash spreads them evenly


def test_an_identifier_keeps_its_bucket_across_versions():
    # The bucket decides which part of every table a customer's rows are in: pinned, so
    # that a change of the hash (or of pandas under it) shows here, not as moved bytes.
    ids = pd.Series(["7590-VHVEG", "5575-GNVDE", "3668-QPYBK", "7795-CFOCW", "", None])
    assert tables.buckets(ids.astype("str"), 10).tolist() == [3, 0, 4, 8, 7, 5]
    assert tables.buckets(ids.astype(object), 10).tolist() == [3, 0, 4, 8, 7, 5]


def test_the_hash_is_pandas_default_hash_of_the_values():
    # _hash hashes each value (quicker on identifiers) where pandas' default factorizes
    # first; the two must agree on repeats, blanks and missing values, in both dtypes.
    rng = np.random.default_rng(1)
    values = np.array(["a", "b", "", " ", "7590-VHVEG", "é", None, np.nan], dtype=object)
    for dtype in ("str", object):
        for n in (0, 1, 7, 2_000):
            ids = pd.Series(rng.choice(values, n), dtype=dtype)
            default = pd.util.hash_pandas_object(ids, index=False, hash_key="k" * 16)
            assert np.array_equal(tables._hash(ids, "k" * 16), default.to_numpy())


def test_the_sample_is_the_same_whatever_the_batches(tmp_path, frame):
    path = tmp_path / "t.parquet"
    write_parquet(frame, path)
    engine = LocalEngine()
    small, rows = tables.read_sample(path, TELCO.id_column, 500, 3, engine, 1_000)
    large, _ = tables.read_sample(path, TELCO.id_column, 500, 3, engine, 2_500)
    assert rows == 2_500
    pd.testing.assert_frame_equal(small, large)
    assert 350 < len(small) < 650  # about sample_rows
    other, _ = tables.read_sample(path, TELCO.id_column, 500, 4, engine, 1_000)
    assert not small[TELCO.id_column].equals(other[TELCO.id_column])  # the seed matters
    everything, _ = tables.read_sample(path, TELCO.id_column, 5_000, 3, engine, 1_000)
    pd.testing.assert_frame_equal(everything, frame)  # no larger than the sample: every row


def test_the_sample_pass_also_sees_every_row(tmp_path, frame):
    path = tmp_path / "t.parquet"
    write_parquet(frame, path)
    engine = LocalEngine()
    plain, _ = tables.read_sample(path, TELCO.id_column, 500, 3, engine, 1_000)
    sample, rows, counts = tables.read_sample_and(
        path, TELCO.id_column, 500, 3, engine, 1_000, also=lambda t, piece: t.num_rows
    )
    pd.testing.assert_frame_equal(sample, plain)  # the same sample
    assert rows == 2_500 and counts == [1_000, 1_000, 500]  # every row, slice by slice
    # The sample is the rows pandas would have kept from the whole slice.
    ids = tables.read_table(path)[TELCO.id_column]
    expected = frame.loc[tables.in_sample(ids, 500 / 2_500, 3)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sample, expected)
    whole, _, extra = tables.read_sample_and(
        path, TELCO.id_column, 5_000, 3, engine, 1_000, also=lambda t, piece: t.num_rows
    )
    assert extra is None  # read whole: the caller has every row
    pd.testing.assert_frame_equal(whole, frame)


def test_rows_are_read_by_position_in_the_order_asked(tmp_path, frame):
    rng = np.random.default_rng(2)
    frame = frame.assign(  # text with missing values, read plain and as dictionaries
        plan=pd.Series(rng.choice(["a", "b", "c", None], size=len(frame)), dtype="str")
    )
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, index=False, row_group_size=300)
    out = tables.prepare(tmp_path / "parts.parquet", 3)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        tables.write_part(frame.iloc[rows], out, i, 3)
    asked = np.array([2_499, 7, 1_200, 299, 300, 7, 0])  # across row groups and parts, repeated
    expected = frame.iloc[asked].reset_index(drop=True)
    assert expected["plan"].isna().any()
    for table in (path, out):
        for dictionary in ((), ["plan"]):
            got = tables.read_rows(table, asked, dictionary=dictionary)
            pd.testing.assert_frame_equal(got, expected)
    assert tables.read_rows(path, np.array([], dtype=np.int64)).empty
    with pytest.raises(IndexError, match="2,500 rows: no row at 2,500"):
        tables.read_rows(out, np.array([3, 2_500]))
    with pytest.raises(IndexError, match="2,500 rows: no row at -1"):
        tables.read_rows(out, np.array([-1, 3, 2_499]))


def test_text_read_as_dictionaries_gives_the_same_sample(tmp_path, frame):
    """sample_slice reads text as dictionaries and turns only the kept rows back into
    text: the sample must be the rows (and dtypes) of a plain read, across row groups
    cut by the slices, with missing values."""
    rng = np.random.default_rng(1)
    table = frame.assign(
        plan=pd.Series(rng.choice(["a", "b", "c", None], size=len(frame)), dtype="str"),
        note=pd.Series([f"n{i % 97}" if i % 5 else None for i in range(len(frame))], dtype="str"),
        count=rng.integers(0, 9, size=len(frame)),
    )
    path = tmp_path / "t.parquet"
    table.to_parquet(path, index=False, row_group_size=300)  # slices of 1,000 cut groups
    seen = []

    def also(rows, piece):
        seen.append(str(rows.schema.field("plan").type))
        return None

    sample, rows, _ = tables.read_sample_and(
        path, TELCO.id_column, 500, 3, LocalEngine(), 1_000, also=also
    )
    assert rows == 2_500
    expected = table.loc[tables.in_sample(table[TELCO.id_column], 500 / 2_500, 3)]
    pd.testing.assert_frame_equal(sample, expected.reset_index(drop=True))
    assert sample["plan"].isna().any() and sample["note"].isna().any()
    assert len(seen) == 3 and all(kind.startswith("dictionary<values=") for kind in seen)
