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

import itertools
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from churn.core import tables
from churn.core.cli import log, parser, run
from churn.core.errors import DataError
from churn.core.io import write_json
from churn.core.params import load
from churn.core.problem import load_problem
from churn.simulate.stream import StreamParams, build_months, month_draws, write_stream

if TYPE_CHECKING:
    import pyarrow as pa


def held_out_positions(
    raw_ids: pa.Array | pa.ChunkedArray, test_ids: pd.Series, id_column: str
) -> np.ndarray:
    """Where the test split's units are among the raw snapshot's identifiers ``raw_ids``:
    their positions, in snapshot order. Fails unless each unit has exactly one record."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Looked up in Arrow: pandas' isin on Arrow-backed text goes row by row in Python
    # (half of the stage's time on a 1M-row snapshot).
    ids = pc.unique(pa.array(test_ids.astype(str), pa.string()))
    wanted = pc.is_in(raw_ids.cast(pa.string()), value_set=ids)
    positions = np.flatnonzero(wanted.to_numpy(zero_copy_only=False))
    if len(positions) != len(ids):
        raise DataError(
            f"{len(ids):,} units in the test split, {len(positions):,} raw records of them: "
            f"the identifier column {id_column!r} does not single out the raw records",
        )
    return positions


def held_out_pool(raw: pd.DataFrame, test: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """The raw records (text, with the target and lineage) of the test split's units."""
    import pyarrow as pa

    positions = held_out_positions(pa.array(raw[id_column].astype(str)), test[id_column], id_column)
    return raw.iloc[positions].reset_index(drop=True)


def read_held_out_months(
    raw: Path, test: Path, id_column: str, spec: StreamParams
) -> list[pd.DataFrame]:
    """The raw records each month draws (``month_draws``) from ``held_out_pool``, read
    from the files without reading the pool: the identifiers of both tables, then only
    the row groups of the raw snapshot that hold the drawn records (``tables.read_rows``).
    The same rows as drawing from the whole pool; on 10M rows, the pool of 1.5M records
    was most of the stage's time and memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    test_ids = pd.read_parquet(test, columns=[id_column], engine="pyarrow")[id_column]
    raw_ids = pa.chunked_array(
        chunk
        for part in tables.parts(raw)
        for chunk in pq.read_table(part, columns=[id_column]).column(id_column).chunks
    )
    pool = held_out_positions(raw_ids, test_ids, id_column)
    draws = month_draws(len(pool), spec)
    text = tables.text_columns(tables.arrow_schema(raw), but=id_column)
    rows = tables.read_rows(raw, pool[np.concatenate(draws)], dictionary=text)
    bounds = np.cumsum([0, *(len(d) for d in draws)])
    return [rows.iloc[a:b] for a, b in itertools.pairwise(bounds)]


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
    drawn = read_held_out_months(args.raw, args.test, contract.id_column, spec)
    months = build_months(drawn, contract, spec)
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
