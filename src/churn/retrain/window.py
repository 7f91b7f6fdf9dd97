"""The challenger's data: its training window, the evidence of the challenge, as files.

From three inputs:

* the **original** data (what the first model was trained on: any source kind collect
  reads), as text, exactly as read;
* the **labelled periods**: the predictions the monitor read, joined to the outcomes
  that arrived for them (one row per unit and period), in clean types;
* the **champion's test split**: rows the champion never trained on.

it makes:

* the **window**: batch files (CSV, the contract's columns as text, the target in its own
  values) in one folder, which ``collect`` reads like any folder of monthly batches. For
  ``expanding``: the original data and every labelled period but the held-out newest ones;
  for ``sliding``: only the newest ``periods`` of those. Rows of the champion's test split
  are left out, so that they stay evidence neither model trained on. A unit present more
  than once keeps its newest record (``clean`` would otherwise quarantine the copies);
* the **evidence**: the newest ``holdout_periods`` labelled periods and the champion's test
  split, each row tagged with its part (the period, or ``test``), in clean types.

Pure: DataFrames in, DataFrames and a manifest out. ``python -m churn.retrain window``
reads the inputs and writes the files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn.core import lineage
from churn.core.contract import Contract, Kind
from churn.core.errors import DataError
from churn.retrain.settings import WindowParams

#: The column of the evidence naming its part: a period label, or ``TEST``.
PART = "_evidence"
TEST = "test"
#: The column of the labelled rows holding their period.
PERIOD = "period"
#: The column of the labelled rows holding their outcome (1: the event happened).
OUTCOME = "outcome"
ORIGINAL_FILE = "original.csv"


def period_file(period: str) -> str:
    """The window's file of one period (sorted after ``original.csv``)."""
    return f"period-{period}.csv"


@dataclass(frozen=True)
class Window:
    #: File name -> rows as text, in the column order the window's files have.
    files: dict[str, pd.DataFrame]
    #: The held-out newest periods and the champion's test split (clean types, + PART).
    evidence: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(len(f) for f in self.files.values())


def _number_text(value: float) -> str:
    # Positional notation (no exponent): the contract's number pattern has none.
    return np.format_float_positional(float(value), trim="-")


def as_text(rows: pd.DataFrame, contract: Contract, columns: list[str]) -> pd.DataFrame:
    """Labelled rows (clean types, 0/1 outcome) as the text a source file would hold."""
    target = contract.by_name[contract.target]
    negative = next(v for v in target.allowed if v != contract.positive)
    out = {}
    for name in columns:
        if name == contract.target:
            out[name] = np.where(rows[OUTCOME].to_numpy() == 1, contract.positive, negative)
            continue
        column = contract.by_name[name]
        values = rows[name]
        if column.kind is Kind.NUMBER:
            out[name] = [_number_text(v) for v in values]
        elif column.kind is Kind.INTEGER:
            out[name] = [str(int(v)) for v in values]
        else:
            out[name] = values.astype(str).to_numpy()
    return pd.DataFrame(out, columns=columns).astype("str")


def evidence_frame(rows: pd.DataFrame, contract: Contract, part: pd.Series | str) -> pd.DataFrame:
    """Identifier, features (clean types), 0/1 label and part: what both models score."""
    out = rows[[contract.id_column, *contract.feature_names]].copy()
    out[contract.id_column] = out[contract.id_column].astype("str")
    out[contract.label] = rows[contract.label].astype("int64").to_numpy()
    out[PART] = part if isinstance(part, str) else part.to_numpy()
    return out.astype({c.name: c.clean_dtype for c in contract.features}).reset_index(drop=True)


def assemble(
    original: pd.DataFrame | None,
    labelled: pd.DataFrame,
    test: pd.DataFrame,
    contract: Contract,
    params: WindowParams,
) -> Window:
    """The window's files and the evidence.

    ``original``: the original source as text (its columns as read; for a problem whose
    identifier is made by collect, with that identifier computed the same way), or None.
    ``labelled``: identifier, features (clean types), ``period`` and ``outcome``, one row per
    unit and period. ``test``: the champion's test split (identifier, features, label).
    """
    idc = contract.id_column
    periods = sorted(labelled[PERIOD].unique()) if len(labelled) else []
    if len(periods) <= params.holdout_periods:
        raise DataError(
            f"{len(periods)} labelled period(s) ({', '.join(periods) or 'none'}): a challenge "
            f"needs more than retrain.window.holdout_periods ({params.holdout_periods}), some "
            "to train on and the newest to judge on",
            hint="wait for the outcomes of more periods (python -m churn.monitor.outcomes), "
            "or lower retrain.window.holdout_periods",
        )
    holdout = periods[-params.holdout_periods :]
    trainable = periods[: -params.holdout_periods]
    if params.kind == "sliding":
        trainable = trainable[-params.periods :]
    test_ids = set(test[idc].astype(str))

    # The columns of the window's files: the original's when there is one, else the
    # contract's; never an identifier that collect makes itself from the row's text.
    made = {idc} if contract.made_id else set()
    if params.kind == "expanding" and original is not None:
        names = [c for c in original.columns if c not in lineage.COLUMNS]
    else:
        names = list(contract.names)
    columns = [c for c in names if c not in made]

    files: dict[str, pd.DataFrame] = {}
    seen: set[str] = set()
    per_period: dict[str, int] = {}
    excluded_test = 0
    # Newest first, so that a unit present more than once keeps its newest record.
    for period in reversed(trainable):
        rows = labelled.loc[labelled[PERIOD] == period]
        ids = rows[idc].astype(str)
        keep = ~ids.isin(test_ids) & ~ids.isin(seen)
        excluded_test += int(ids.isin(test_ids).sum())
        rows = rows.loc[keep.to_numpy()]
        seen.update(rows[idc].astype(str))
        files[period_file(period)] = as_text(rows, contract, columns)
        per_period[period] = len(rows)
    original_rows = 0
    if params.kind == "expanding" and original is not None:
        ids = original[idc].astype(str)
        in_test = ids.isin(test_ids)
        excluded_test += int(in_test.sum())
        keep = ~in_test & ~ids.isin(seen)
        kept = original.loc[keep.to_numpy(), columns].reset_index(drop=True)
        files[ORIGINAL_FILE] = kept.astype("str")
        original_rows = len(kept)
    files = dict(sorted(files.items()))

    newest = labelled.loc[labelled[PERIOD].isin(holdout)].sort_values([PERIOD, idc])
    newest = newest.assign(**{contract.label: newest[OUTCOME].astype("int64")})
    evidence = pd.concat(
        [
            evidence_frame(newest, contract, newest[PERIOD]),
            evidence_frame(test.sort_values(idc), contract, TEST),
        ],
        ignore_index=True,
    )
    manifest = {
        "kind": params.kind,
        "trained_periods": trainable,
        "holdout_periods": holdout,
        "rows": {
            "original": original_rows,
            **{f"period {p}": n for p, n in sorted(per_period.items())},
        },
        "window_rows": original_rows + sum(per_period.values()),
        "excluded_champion_test_rows": excluded_test,
        "evidence_rows": {
            **{p: int((newest[PERIOD] == p).sum()) for p in holdout},
            TEST: len(test),
        },
        "seen_through": periods[-1],
    }
    return Window(files=files, evidence=evidence, manifest=manifest)


def write_csv(rows: pd.DataFrame, path: Path) -> None:
    """A batch file as collect reads it: header, every value as text, CRLF line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(rows.columns)
        writer.writerows(rows.itertuples(index=False))
