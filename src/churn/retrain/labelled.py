"""The labelled periods: the predictions the monitor read, joined to their outcomes.

Read from the same extent of the prediction log as the last monitoring run (the file
``python -m churn.monitor.log_state`` wrote and the monitor stage depends on), through the
monitor's own reader (``churn.monitor.records``): a unit predicted more than once in a
period counts once, with its latest prediction; a batch run that did not finish is left
out; for each unit the last outcome loaded counts. So the rows a challenger trains on are
exactly the rows the monitor judged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from churn.core.contract import Contract
from churn.core.errors import DataError
from churn.monitor.records import Extent, open_log, periods, read_period
from churn.retrain.window import OUTCOME, PERIOD


def read_extent(path: Path) -> Extent:
    try:
        return Extent.parse(json.loads(path.read_text(encoding="utf-8")), str(path))
    except FileNotFoundError:
        raise DataError(
            "the prediction log's extent is missing",
            file=str(path),
            hint="run the monitoring first: `python -m churn.monitor.log_state` then "
            "`dvc repro monitor` (make monitor)",
        ) from None
    except json.JSONDecodeError:
        raise DataError("not JSON", file=str(path)) from None


def labelled_rows(
    state_file: Path, contract: Contract, root: Path = Path(".")
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every labelled row of the extent (identifier, features, period, outcome), and the
    number of predictions per period (labelled or not)."""
    idc = contract.id_column
    columns = [idc, *contract.feature_names, PERIOD, OUTCOME]
    extent = read_extent(root / state_file)
    db = open_log(extent, str(state_file), root)
    frames, counts = [], {}
    if db is not None:
        try:
            for period in periods(db, extent):
                records = read_period(db, extent, contract, period)
                counts[period] = len(records.predictions)
                predicted = records.predictions.loc[records.predictions[idc].notna()]
                joined = predicted.merge(records.outcomes, on=idc, how="inner", validate="1:1")
                joined[PERIOD] = period
                frames.append(joined[columns])
        finally:
            db.close()
    if not frames:
        return pd.DataFrame(columns=columns), counts
    rows = pd.concat(frames, ignore_index=True)
    return rows.sort_values([PERIOD, idc], kind="stable").reset_index(drop=True), counts
