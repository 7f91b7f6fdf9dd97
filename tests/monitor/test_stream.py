"""The simulated stream: disjoint, seeded months, each under its declared scenario."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from churn.collect.files import CsvSource
from churn.monitor.outcomes import read_source
from churn.simulate.stream import StreamSpec, build_stream, write_stream
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import TELCO as contract

SPEC = REPO_ROOT / "examples" / "monitoring" / "telco_stream.yaml"


@pytest.fixture(scope="module")
def spec() -> StreamSpec:
    raw = yaml.safe_load(SPEC.read_text())
    return StreamSpec.model_validate({**raw, "rows_per_month": 200})


@pytest.fixture(scope="module")
def pool(spec) -> pd.DataFrame:
    return read_source(spec.pool, root=REPO_ROOT)


def test_months_are_disjoint_drawn_from_the_pool_and_never_from_the_training_files(spec, pool):
    months = build_stream(pool, contract, spec)
    ids = [set(m.records[contract.id_column]) for m in months]
    assert all(len(i) == 200 for i in ids)
    assert len(set().union(*ids)) == 200 * len(months)
    trained = read_source(spec.model, root=REPO_ROOT)
    assert not set(trained[contract.id_column]) & set().union(*ids)
    assert contract.target not in months[0].records.columns


def test_each_scenario_changes_only_what_it_declares(spec, pool):
    months = {m.spec.scenario + m.spec.period: m for m in build_stream(pool, contract, spec)}
    shift = next(m for k, m in months.items() if k.startswith("covariate"))
    switch, scale = shift.injected["changes"]
    assert switch["rows"] == 40 and switch["share_after"] - switch["share_before"] == pytest.approx(
        0.2
    )
    assert scale["factor"] == 1.1 and scale["clipped"] == 0
    concept = next(m for k, m in months.items() if k.startswith("concept"))
    [flip] = concept.injected["changes"]
    assert flip["segment_event_rate_after"] > flip["segment_event_rate_before"] + 0.15
    assert concept.injected["event_rate_after"] > concept.injected["event_rate_before"]
    broken = next(m for k, m in months.items() if k.startswith("data_quality"))
    assert (broken.records["PaymentMethod"] == "Credit card").sum() == 12
    assert (broken.records["MonthlyCharges"] == "").sum() == 8
    plain = next(m for k, m in months.items() if k.startswith("no_drift"))
    assert plain.injected["changes"] == []
    assert plain.injected["event_rate_before"] == plain.injected["event_rate_after"]


def test_the_same_spec_and_pool_give_the_same_bytes(spec, pool, tmp_path):
    for out in ("a", "b"):
        write_stream(build_stream(pool, contract, spec), spec, tmp_path / out, "spec.yaml")
    for path in sorted((tmp_path / "a").rglob("*.*")):
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()
    manifest = (tmp_path / "a" / "manifest.json").read_text()
    assert '"simulated": true' in manifest


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"pool": {"kind": "csv", "path": "data/external/batches", "pattern": "2024-0[12].csv"}},
            "the same source",
        ),
        (
            {
                "months": [
                    {
                        "period": "2024-03",
                        "scenario": "no_drift",
                        "channel": "batch",
                        "flip": [{"where": {"Contract": "Two year"}, "to_positive": 0.3}],
                    }
                ]
            },
            "a no_drift month takes",
        ),
        (
            {"months": [{"period": "2024-03", "scenario": "concept_drift", "channel": "batch"}]},
            "needs its changes",
        ),
        (
            {
                "months": [
                    {"period": "2024-04", "scenario": "no_drift", "channel": "batch"},
                    {"period": "2024-03", "scenario": "no_drift", "channel": "batch"},
                ]
            },
            "in order",
        ),
    ],
)
def test_a_spec_that_would_not_be_honest_or_clear_is_refused(spec, change, message):
    with pytest.raises(ValidationError, match=message):
        StreamSpec.model_validate({**spec.model_dump(), **change})


def test_too_small_a_pool_is_refused(spec):
    small = read_source(
        CsvSource(kind="csv", path="data/external/batches", pattern="2024-03.csv"), root=REPO_ROOT
    )
    big = StreamSpec.model_validate({**spec.model_dump(), "rows_per_month": 600})
    with pytest.raises(Exception, match="the pool holds 1,761 rows, the stream needs 4,200"):
        build_stream(small, contract, big)


def test_the_pipelines_stream_takes_the_test_splits_records_and_its_params_load():
    from churn.core.errors import DataError
    from churn.core.params import load
    from churn.simulate.stage import held_out_pool
    from churn.simulate.stream import StreamParams

    raw = pd.DataFrame({"id": ["a", "b", "c", "d"], "x": ["1", "2", "3", "4"]})
    test = pd.DataFrame({"id": ["d", "b"]})
    assert held_out_pool(raw, test, "id")["id"].tolist() == ["b", "d"]
    with pytest.raises(DataError, match="does not single out the raw records"):
        held_out_pool(pd.concat([raw, raw.iloc[[1]]]), test, "id")
    shipped = load(StreamParams, REPO_ROOT / "params.yaml")
    assert [m.scenario for m in shipped.months] == [
        "no_drift",
        "covariate_shift",
        "data_quality",
        "concept_drift",
        "concept_drift",
    ]
    # Five months must fit in the test split (15% of 7,043 customers).
    assert shipped.rows_per_month * len(shipped.months) <= 1057
    with pytest.raises(ValidationError, match="distinct periods in order"):
        StreamParams.model_validate(
            {"months": [m.model_dump() for m in reversed(shipped.months)], "seed": 1}
        )


def test_the_months_are_read_with_the_rows_drawn_from_the_whole_pool(tmp_path):
    """The stage reads only the drawn raw rows, across row groups and folders of parts, and
    gets the months that drawing from the whole pool in memory gives."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from churn.core.errors import DataError
    from churn.core.params import load
    from churn.simulate.stage import held_out_pool, read_held_out_months
    from churn.simulate.stream import StreamParams, month_draws

    rng = np.random.default_rng(3)
    ids = [f"c{i:05d}" for i in rng.permutation(5000)]
    raw = pd.DataFrame({"id": ids, "x": [str(i) for i in range(5000)], "_source_line": range(5000)})
    test = raw.sample(1500, random_state=1)[["id"]].assign(y=1)
    pq.write_table(
        pa.Table.from_pandas(raw, preserve_index=False),
        tmp_path / "raw.parquet",
        row_group_size=400,
    )  # many row groups: only those holding drawn rows are read
    parts = tmp_path / "test.parquet"
    parts.mkdir()
    for k, piece in enumerate(
        (test.iloc[:500], test.iloc[500:1000], test.iloc[1000:])
    ):  # a split written as a folder of parts
        piece.to_parquet(parts / f"part-{k}.parquet", index=False)
    spec = load(StreamParams, REPO_ROOT / "params.yaml")

    read = read_held_out_months(tmp_path / "raw.parquet", parts, "id", spec)
    pool = held_out_pool(pd.read_parquet(tmp_path / "raw.parquet"), test, "id")
    assert len(pool) == 1500 and pool["_source_line"].is_monotonic_increasing
    drawn = [pool.iloc[rows] for rows in month_draws(len(pool), spec)]
    assert [len(month) for month in read] == [spec.rows_per_month] * len(spec.months)
    for got, expected in zip(read, drawn, strict=True):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))

    doubled = pd.concat([raw, raw[raw["id"] == test["id"].iloc[0]]], ignore_index=True)
    doubled.to_parquet(tmp_path / "doubled.parquet", index=False)
    with pytest.raises(DataError, match="'id' does not single out the raw records"):
        read_held_out_months(tmp_path / "doubled.parquet", parts, "id", spec)
