"""Outcomes arrive later: load what happened (identifier, period, outcome) into the log.

A month or two after a period was scored, the truth arrives: which customers left. A
file (CSV or Parquet, or a folder of them) or any source ``collect`` reads (a SQL table,
an API), with three columns:

* the unit's identifier (the contract's id column, e.g. ``customerID``);
* ``period``: the period whose prediction the outcome answers (e.g. ``2024-05``);
* the outcome: the target column with its values (``Churn``: ``Yes``/``No``, aliases
  accepted), or the 0/1 event column (``churn``).

Every row is checked; a file with any bad row is refused whole, naming the lines, so
nothing is half loaded. The rows go to the ``outcomes`` table of the prediction log, where
the monitor joins them to the predictions of the same identifier and period
(``churn.monitor.records``). Loading a file again appends its rows again; for an (identifier,
period) the last outcome loaded counts, so a correction is loaded like any other file. The
join, in SQL, for a quick look::

    SELECT p.*, o.outcome FROM predictions p JOIN outcomes o
      ON o."customerID" = p."customerID" AND o.period = p.period

    python -m churn.monitor.outcomes --input outcomes/2024-05.csv
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from churn.collect.base import Source
from churn.collect.sources import AnySource
from churn.core import lineage
from churn.core.cli import log, parser, run
from churn.core.contract import Contract
from churn.core.errors import ConfigError, DataError
from churn.core.params import Section, ServeParams, load
from churn.core.problem import load_problem
from churn.score.settings import input_source
from churn.serve.prediction_log import OUTCOMES, PERIOD_PATTERN, TABLE, connect

PERIOD = "period"


class OutcomesParams(Section):
    """``outcomes`` in params.yaml: what ``python -m churn.monitor.outcomes`` reads."""

    section = "outcomes"

    #: The source read when the command gets no ``--input`` (any kind collect takes).
    source: AnySource | None = None


def read_source(source: Source, root: Path = Path(".")) -> pd.DataFrame:
    """Every row of ``source`` as text, with the file and line each came from."""
    batches = list(source.blocks(root))
    if not batches:
        schema = source.empty_schema(root)
        return schema.empty_table().to_pandas() if schema is not None else pd.DataFrame()
    return pa.Table.from_batches(batches).to_pandas()


def _lines(rows: pd.DataFrame, mask: pd.Series) -> list[int]:
    return [int(v) for v in rows.loc[mask, lineage.SOURCE_LINE].head(10)]


def parse_outcomes(raw: pd.DataFrame, contract: Contract, where: str) -> pd.DataFrame:
    """``raw`` (text) checked and reduced to identifier, period and 0/1 outcome.

    Raises ``DataError`` naming the column and lines of the first problem found.
    """
    idc, target, label = contract.id_column, contract.target, contract.label
    outcome_columns = [c for c in (target, label) if c in raw.columns]
    missing = [c for c in (idc, PERIOD) if c not in raw.columns]
    if missing or not outcome_columns:
        wanted = [*missing] + ([] if outcome_columns else [f"{target} or {label}"])
        raise DataError(
            f"missing the column(s) {wanted}",
            file=where,
            expected=f"{idc}, {PERIOD}, and the outcome as {target} "
            f"({'/'.join(contract.target_values)}) or {label} (1/0)",
        )
    if len(outcome_columns) == 2:
        raise DataError(f"both {target} and {label} are present: give the outcome once", file=where)
    text = {c: raw[c].astype(str).str.strip() for c in (idc, PERIOD, outcome_columns[0])}
    blank = text[idc] == ""
    if blank.any():
        raise DataError("blank identifiers", file=where, column=idc, rows=_lines(raw, blank))
    bad_period = ~text[PERIOD].str.fullmatch(PERIOD_PATTERN)
    if bad_period.any():
        example = text[PERIOD][bad_period].iloc[0]
        raise DataError(
            f"{int(bad_period.sum())} value(s) are not period labels (e.g. {example!r})",
            file=where,
            column=PERIOD,
            rows=_lines(raw, bad_period),
            expected="the period of the prediction, as it was scored (e.g. 2024-05)",
        )
    if outcome_columns[0] == target:
        spec = contract.by_name[target]
        values = spec.parse(text[target])
        unknown = ~values.isin(spec.allowed)
        expected = f"one of {list(spec.raw_values)}"
        outcome = (values == contract.positive).astype("int64")
    else:
        unknown = ~text[label].isin(["0", "1"])
        expected = "1 (the event happened) or 0"
        outcome = pd.to_numeric(text[label].where(~unknown, "0")).astype("int64")
    if unknown.any():
        example = text[outcome_columns[0]][unknown].iloc[0]
        raise DataError(
            f"{int(unknown.sum())} value(s) are not outcomes (e.g. {example!r})",
            file=where,
            column=outcome_columns[0],
            rows=_lines(raw, unknown),
            expected=expected,
        )
    frame = pd.DataFrame({idc: text[idc], PERIOD: text[PERIOD], "outcome": outcome})
    key = [idc, PERIOD]
    conflicting = frame.groupby(key)["outcome"].transform("nunique") > 1
    if conflicting.any():
        raise DataError(
            "the same identifier and period with different outcomes",
            file=where,
            column=idc,
            rows=_lines(raw, conflicting),
            hint="keep one outcome per identifier and period",
        )
    return frame.drop_duplicates().sort_values(key, kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Loaded:
    """What one load did."""

    rows: int
    periods: dict[str, int]
    #: Outcomes whose identifier has a logged prediction in the same period.
    matched: int


def load_outcomes(path: str | Path, contract: Contract, frame: pd.DataFrame, source: str) -> Loaded:
    """Append ``frame`` (from :func:`parse_outcomes`) to the log's ``outcomes`` table."""
    idc = contract.id_column
    db = connect(path, contract)
    try:
        loaded_at = datetime.now(UTC).isoformat(timespec="microseconds")
        rows = list(
            zip(
                frame[idc].tolist(),
                frame[PERIOD].tolist(),
                map(int, frame["outcome"]),
                [loaded_at] * len(frame),
                [source] * len(frame),
                strict=True,
            )
        )
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            f'INSERT INTO {OUTCOMES} ("{idc}", period, outcome, loaded_at, source) '
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        db.execute("COMMIT")
        matched = 0
        for period, part in frame.groupby(PERIOD, sort=True):
            ids = part[idc].tolist()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                matched += db.execute(
                    f'SELECT count(DISTINCT "{idc}") FROM {TABLE} '
                    f'WHERE period = ? AND "{idc}" IN ({marks})',
                    [period, *chunk],
                ).fetchone()[0]
    finally:
        db.close()
    counts = frame[PERIOD].value_counts().sort_index()
    return Loaded(len(frame), {str(k): int(v) for k, v in counts.items()}, matched)


def main(args) -> None:
    contract = load_problem().contract
    if args.input:
        source = input_source(args.input, args.pattern)
    else:
        source = load(OutcomesParams).source
        if source is None:
            raise ConfigError(
                "no outcomes to load: give --input FILE, or set outcomes.source in params.yaml"
            )
    frame = parse_outcomes(read_source(source), contract, source.describe())
    path = Path(args.prediction_log or load(ServeParams).prediction_log)
    loaded = load_outcomes(path, contract, frame, source.describe())
    per_period = ", ".join(f"{k}: {v:,}" for k, v in loaded.periods.items())
    log.info("loaded %s outcomes (%s) into %s", f"{loaded.rows:,}", per_period or "none", path)
    log.info(
        "%s of them match a logged prediction of their period; the others will count once "
        "a prediction for them is logged",
        f"{loaded.matched:,}",
    )


if __name__ == "__main__":
    p = parser("churn.monitor.outcomes", __doc__)
    p.add_argument("--input", help="CSV or Parquet file, or a folder (default: outcomes.source)")
    p.add_argument("--pattern", help="files of an --input folder (default: *.csv or *.parquet)")
    p.add_argument("--prediction-log", help="SQLite log (default: serve.prediction_log)")
    run("outcomes", main, p.parse_args())
