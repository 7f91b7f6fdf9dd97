"""The pipeline's SIMULATED production stream (stage ``stream``): months cut from the test split.

``make repro`` monitors something without a production system: the months declared in
params.yaml's ``stream`` section are drawn from the raw records of the test split, which
the monitored model never trained on (its threshold was chosen on the validation split),
cut into disjoint months (shuffled once, seeded) and changed as each month's scenario
declares (``churn.simulate.stream``). Writes ``months/<period>.csv`` (the records as a
system would export them, without the target), ``outcomes/<period>.csv`` and
``manifest.json`` (what was injected). The ``monitor`` stage replays the months through
batch scoring and loads the outcomes. No months declared: only an empty manifest, and the
monitor reads the prediction log instead.

    python -m churn.simulate.stage --raw data/raw/customers.parquet \\
        --test data/processed/splits/test.parquet --output-dir data/monitor/stream
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from churn.core.cli import log, parser, run
from churn.core.errors import DataError
from churn.core.io import write_json
from churn.core.params import load
from churn.core.problem import load_problem
from churn.simulate.stream import StreamParams, build_stream, write_stream


def held_out_pool(raw: pd.DataFrame, test: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """The raw records (text, with the target and lineage) of the test split's units."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Looked up in Arrow: pandas' isin on Arrow-backed text goes row by row in Python
    # (half of the stage's time on a 1M-row snapshot).
    ids = pa.array(test[id_column].astype(str).unique(), pa.string())
    wanted = pc.is_in(pa.array(raw[id_column].astype(str), pa.string()), value_set=ids)
    pool = raw.loc[wanted.to_numpy(zero_copy_only=False)]
    if len(pool) != len(ids):
        raise DataError(
            f"{len(ids):,} units in the test split, {len(pool):,} raw records of them: the "
            f"identifier column {id_column!r} does not single out the raw records",
        )
    return pool.reset_index(drop=True)


def read_held_out_pool(raw: Path, test: Path, id_column: str) -> pd.DataFrame:
    """``held_out_pool`` from the files, reading only the rows and columns it needs.

    The test split's identifiers alone, then the raw snapshot filtered on them as it
    is read (row group by row group), so that memory follows the test split and not
    the whole snapshot (on 10M rows, reading both whole peaked at 6.3 GB). The rows
    keep the snapshot's order, so the months drawn from them are the same.
    """
    test_ids = pd.read_parquet(test, columns=[id_column], engine="pyarrow")
    wanted = test_ids[id_column].astype(str).unique().tolist()
    rows = pd.read_parquet(raw, engine="pyarrow", filters=[(id_column, "in", wanted)])
    return held_out_pool(rows, test_ids, id_column)


def main(args) -> None:
    spec = load(StreamParams)
    contract = load_problem().contract
    if args.output_dir.exists():
        shutil.rmtree(args.output_dir)
    args.output_dir.mkdir(parents=True)
    origin = {
        "model_trained_on": "the pipeline's training split",
        "pool": "the raw records of the pipeline's test split",
    }
    if not spec.months:
        write_json({"simulated": False, "months": []}, args.output_dir / "manifest.json")
        log.info("no simulated months declared (params.yaml stream.months): nothing to write")
        return
    pool = read_held_out_pool(args.raw, args.test, contract.id_column)
    months = build_stream(pool, contract, spec)
    write_stream(months, spec, args.output_dir, "params.yaml: stream", origin)
    for month in months:
        log.info(
            "%s (%s): %s rows, event rate %.3f -> %.3f",
            month.spec.period,
            month.spec.scenario,
            f"{len(month.records):,}",
            month.injected["event_rate_before"],
            month.injected["event_rate_after"],
        )
    log.info("SIMULATED stream of %d months in %s (manifest.json)", len(months), args.output_dir)


if __name__ == "__main__":
    p = parser("churn.simulate.stage", __doc__)
    p.add_argument("--raw", type=Path, required=True, help="raw snapshot (Parquet)")
    p.add_argument("--test", type=Path, required=True, help="test split (Parquet)")
    p.add_argument("--output-dir", type=Path, required=True, help="the stream's directory")
    run("stream", main, p.parse_args())
