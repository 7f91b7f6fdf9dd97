"""A simulated production stream: months of records under declared scenarios, and their outcomes.

**Simulated, not observed.** The months are cut from real records (for the worked example,
the bundled Telco batches the monitored model was not trained on) and changed as a
scenario declares; nothing here is data from a real production system. Honest by
construction:

* the monitored model never saw a row of the stream: the pool the months are drawn from is
  a different source from the one the model is trained on (the spec names both; the
  demo trains on one and streams the other);
* months are disjoint: the pool is shuffled once (seeded) and cut into consecutive parts;
* each month is built under one declared scenario, and the manifest records exactly what
  was injected (which columns, how many rows, the event rate before and after);
* seeded: the same spec, pool and seed give the same files, byte for byte.

Scenarios (each a list of changes, applied in this order):

* ``no_drift``: the records as they are;
* ``covariate_shift``: ``switch`` sets a category column to a value for a share of the
  month's rows (percentage points, chosen among rows with another value: "20 points more
  month-to-month contracts"); ``scale`` multiplies a numeric column (a price rise), kept
  within the contract's range. Outcomes stay those of the records: only inputs move;
* ``concept_drift``: ``flip`` turns the outcome of a share of the rows of a segment that
  did not have the event into the event ("churn rises among two-year contracts"); the
  inputs do not change, so neither do the scores;
* ``data_quality``: ``corrupt`` writes a raw value into a column for a share of rows (a
  category the contract does not know, a blank, an impossible number): an upstream export
  breaking.

Outcomes are written per month (identifier, period, the target column); inputs without
the target column, as a system would export the month's records before anyone knows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from churn.collect.sources import AnySource
from churn.core import lineage
from churn.core.contract import Contract, Kind
from churn.core.errors import ConfigError
from churn.core.params import Section, Strict
from churn.serve.prediction_log import PERIOD_PATTERN

Scenario = Literal["no_drift", "covariate_shift", "concept_drift", "data_quality"]


class Switch(Strict):
    column: str
    to: str
    #: Share of the month's rows switched (percentage points of the column's value).
    share: float = Field(gt=0, le=1)


class Scale(Strict):
    column: str
    factor: float = Field(gt=0)


class Flip(Strict):
    #: The segment: every column must have the given (clean) value.
    where: dict[str, str] = Field(min_length=1)
    #: Share of the segment's rows without the event whose outcome becomes the event.
    to_positive: float = Field(gt=0, le=1)


class Corrupt(Strict):
    column: str
    #: The raw text written (e.g. a category the contract does not know, or "" for blank).
    value: str
    share: float = Field(gt=0, le=1)


class MonthSpec(Strict):
    period: str = Field(pattern=PERIOD_PATTERN)
    scenario: Scenario
    #: How the month reaches the log: through the service's /predict/batch, or batch scoring.
    channel: Literal["service", "batch"]
    switch: list[Switch] = Field(default_factory=list)
    scale: list[Scale] = Field(default_factory=list)
    flip: list[Flip] = Field(default_factory=list)
    corrupt: list[Corrupt] = Field(default_factory=list)

    @model_validator(mode="after")
    def _changes_fit_the_scenario(self) -> MonthSpec:
        allowed = {
            "no_drift": set(),
            "covariate_shift": {"switch", "scale"},
            "concept_drift": {"flip"},
            "data_quality": {"corrupt"},
        }[self.scenario]
        given = {k for k in ("switch", "scale", "flip", "corrupt") if getattr(self, k)}
        if given - allowed:
            raise ValueError(
                f"a {self.scenario} month takes {sorted(allowed) or 'no changes'}, "
                f"not {sorted(given - allowed)}"
            )
        if self.scenario != "no_drift" and not given:
            raise ValueError(f"a {self.scenario} month needs its changes ({sorted(allowed)})")
        return self


def _periods_in_order(months: list[MonthSpec]) -> None:
    periods = [m.period for m in months]
    if len(set(periods)) != len(periods) or periods != sorted(periods):
        raise ValueError(f"months must have distinct periods in order, got {periods}")


class MonthsSpec(Strict):
    """The months of a stream: how many rows each, their scenarios, the seed."""

    #: Free text: what this stream simulates.
    description: str = ""
    seed: int
    rows_per_month: int = Field(ge=10)
    months: list[MonthSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _in_order(self) -> MonthsSpec:
        _periods_in_order(self.months)
        return self


class StreamSpec(MonthsSpec):
    """A stream: where the model is trained, where the months come from, and each month."""

    #: The source the monitored model is trained on (``collect.source`` of the pipeline).
    model: AnySource
    #: The source the months are drawn from: records the model never saw.
    pool: AnySource

    @model_validator(mode="after")
    def _distinct(self) -> StreamSpec:
        if self.model == self.pool:
            raise ValueError(
                "pool and model are the same source: the model would score rows it saw"
            )
        return self


class StreamParams(Section):
    """The ``stream`` section of params.yaml: the SIMULATED stream the pipeline monitors.

    Its months are drawn from the test split (the model never trained on it, and its
    threshold was chosen on the validation split). No months: no simulated stream, and the
    ``monitor`` stage reads the prediction log instead.
    """

    section = "stream"

    description: str = ""
    seed: int = 0
    rows_per_month: int = Field(default=250, ge=10)
    months: list[MonthSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _in_order(self) -> StreamParams:
        _periods_in_order(self.months)
        return self


@dataclass
class Month:
    """One simulated month: its records (raw text, no target), outcomes and what was injected."""

    spec: MonthSpec
    records: pd.DataFrame
    outcomes: pd.DataFrame
    injected: dict[str, Any] = field(default_factory=dict)


def _rows(rng: np.random.Generator, candidates: np.ndarray, count: int) -> np.ndarray:
    count = min(count, candidates.size)
    return np.sort(rng.choice(candidates, size=count, replace=False)) if count else candidates[:0]


def _check_column(contract: Contract, name: str, kinds: tuple[Kind, ...], where: str) -> None:
    column = contract.by_name.get(name)
    if column is None or column.kind not in kinds or name == contract.target:
        raise ConfigError(
            f"{where}: {name!r} is not a {'/'.join(k.value for k in kinds)} input column "
            "of the contract"
        )


def build_month(
    spec: MonthSpec, rows: pd.DataFrame, contract: Contract, rng: np.random.Generator
) -> Month:
    """Apply the month's scenario to its ``rows`` (raw text with the target)."""
    rows = rows.reset_index(drop=True).copy()
    n = len(rows)
    target = contract.by_name[contract.target]
    outcome = target.parse(rows[contract.target].astype(str).str.strip()) == contract.positive
    injected: dict[str, Any] = {"event_rate_before": round(float(outcome.mean()), 6)}
    changes = []
    for change in spec.switch:
        _check_column(contract, change.column, (Kind.CATEGORY,), f"{spec.period} switch")
        column = contract.by_name[change.column]
        clean = column.parse(rows[change.column].astype(str))
        others = np.flatnonzero((clean != change.to).to_numpy())
        picked = _rows(rng, others, round(change.share * n))
        before = float((clean == change.to).mean())
        rows.loc[picked, change.column] = change.to
        after = float((column.parse(rows[change.column]) == change.to).mean())
        changes.append(
            {
                "switch": change.column,
                "to": change.to,
                "rows": int(picked.size),
                "share_before": round(before, 6),
                "share_after": round(after, 6),
            }
        )
    for change in spec.scale:
        _check_column(contract, change.column, (Kind.NUMBER,), f"{spec.period} scale")
        column = contract.by_name[change.column]
        value = column.parse(rows[change.column].astype(str))
        ok = value.notna()
        scaled = (value[ok] * change.factor).clip(column.minimum, column.maximum).round(2)
        clipped = int(((value[ok] * change.factor) > column.maximum).sum())
        rows.loc[ok, change.column] = scaled.map(lambda v: f"{v:.2f}")
        changes.append(
            {
                "scale": change.column,
                "factor": change.factor,
                "rows": int(ok.sum()),
                "clipped": clipped,
            }
        )
    for change in spec.flip:
        segment = pd.Series(True, index=rows.index)
        for name, value in change.where.items():
            _check_column(contract, name, (Kind.CATEGORY,), f"{spec.period} flip")
            segment &= contract.by_name[name].parse(rows[name].astype(str)) == value
        eligible = np.flatnonzero((segment & ~outcome).to_numpy())
        picked = _rows(rng, eligible, int(rng.binomial(eligible.size, change.to_positive)))
        rate_before = float(outcome[segment].mean()) if segment.any() else float("nan")
        outcome.iloc[picked] = True
        changes.append(
            {
                "flip": dict(change.where),
                "segment_rows": int(segment.sum()),
                "rows": int(picked.size),
                "segment_event_rate_before": round(rate_before, 6),
                "segment_event_rate_after": round(float(outcome[segment].mean()), 6)
                if segment.any()
                else None,
            }
        )
    for change in spec.corrupt:
        if change.column not in contract.by_name or change.column == contract.target:
            raise ConfigError(f"{spec.period} corrupt: {change.column!r} is not an input column")
        picked = _rows(rng, np.arange(n), round(change.share * n))
        rows.loc[picked, change.column] = change.value
        changes.append({"corrupt": change.column, "value": change.value, "rows": int(picked.size)})
    positive = contract.positive
    negative = next(v for v in contract.target_values if v != positive)
    outcomes = pd.DataFrame(
        {
            contract.id_column: rows[contract.id_column],
            "period": spec.period,
            contract.target: np.where(outcome.to_numpy(), positive, negative),
        }
    )
    injected["event_rate_after"] = round(float(outcome.mean()), 6)
    injected["changes"] = changes
    records = rows.drop(columns=[contract.target, *lineage.COLUMNS], errors="ignore")
    return Month(spec, records, outcomes, injected)


def month_draws(pool_rows: int, spec: MonthsSpec | StreamParams) -> list[np.ndarray]:
    """Which rows of a pool of ``pool_rows`` rows each month takes (positions in the pool).

    The pool is shuffled once (seeded) and cut into consecutive parts: disjoint months.
    Only the pool's size matters, so a large pool need not be read to draw from it.
    """
    needed = spec.rows_per_month * len(spec.months)
    if pool_rows < needed:
        raise ConfigError(
            f"the pool holds {pool_rows:,} rows, the stream needs {needed:,} "
            f"({len(spec.months)} months of {spec.rows_per_month:,}): fewer months or rows"
        )
    order = np.random.default_rng(spec.seed).permutation(pool_rows)
    size = spec.rows_per_month
    return [order[i * size : (i + 1) * size] for i in range(len(spec.months))]


def build_months(
    drawn: Sequence[pd.DataFrame], contract: Contract, spec: MonthsSpec | StreamParams
) -> list[Month]:
    """Every month of the stream from its drawn rows (``month_draws``; raw text, with the
    target and lineage), in the spec's order."""
    months = []
    for i, (month, part) in enumerate(zip(spec.months, drawn, strict=True)):
        part = part.sort_values(list(lineage.COLUMNS), kind="stable")
        built = build_month(month, part, contract, np.random.default_rng([spec.seed, i]))
        built.injected["source_rows"] = {
            str(k): int(v) for k, v in part[lineage.SOURCE_FILE].value_counts().sort_index().items()
        }
        months.append(built)
    return months


def build_stream(
    pool: pd.DataFrame, contract: Contract, spec: MonthsSpec | StreamParams
) -> list[Month]:
    """Every month of the stream from ``pool`` (raw text, with the target and lineage)."""
    drawn = [pool.iloc[rows] for rows in month_draws(len(pool), spec)]
    return build_months(drawn, contract, spec)


def _digest(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "blake2b").hexdigest()[:16]


def write_stream(
    months: list[Month],
    spec: MonthsSpec | StreamParams,
    directory: Path,
    spec_path: str,
    origin: dict[str, Any] | None = None,
) -> dict:
    """``months/<period>.csv``, ``outcomes/<period>.csv`` and ``manifest.json`` in ``directory``.

    ``origin`` says where the model was trained and the months drawn from (default: the
    spec's ``model`` and ``pool`` sources).
    """
    from churn.core.io import write_json

    entries = []
    for month in months:
        period = month.spec.period
        paths = {
            "records": directory / "months" / f"{period}.csv",
            "outcomes": directory / "outcomes" / f"{period}.csv",
        }
        for key, frame in (("records", month.records), ("outcomes", month.outcomes)):
            paths[key].parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(paths[key], index=False, lineterminator="\n")
        entries.append(
            {
                "period": period,
                "scenario": month.spec.scenario,
                "channel": month.spec.channel,
                "rows": len(month.records),
                "declared": month.spec.model_dump(exclude={"period", "scenario", "channel"}),
                "injected": month.injected,
                "files": {
                    k: {"path": p.relative_to(directory).as_posix(), "blake2b": _digest(p)}
                    for k, p in paths.items()
                },
            }
        )
    manifest = {
        "simulated": True,
        "what": "a simulated production stream: real records, cut into disjoint months and "
        "changed as each month's scenario declares; not data from a production system",
        "spec": spec_path,
        "description": spec.description,
        "seed": spec.seed,
        **(
            origin
            if origin is not None
            else {"model_trained_on": spec.model.model_dump(), "pool": spec.pool.model_dump()}
        ),
        "rows_per_month": spec.rows_per_month,
        "months": entries,
    }
    write_json(manifest, directory / "manifest.json")
    return manifest
