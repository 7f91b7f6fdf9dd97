"""The cleaning rules: repair the known dirt, quarantine what cannot be trusted, lose nothing.

Every input row ends in exactly one place:

* the clean table (possibly repaired, each repair counted),
* the quarantine table, with the reason(s) it was set aside, or
* the count of exact duplicates removed (identical in every contract column).

so that ``rows_in == rows_clean + rows_quarantined + exact_duplicates_removed``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn.core import lineage
from churn.core.contract import Contract, Kind
from churn.core.errors import DataError, QualityGateError

REASON = "reason"


@dataclass
class CleaningReport:
    rows_in: int = 0
    rows_clean: int = 0
    rows_quarantined: int = 0
    exact_duplicates_removed: int = 0
    repairs: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def quarantined_fraction(self) -> float:
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    def as_metrics(self) -> dict[str, object]:
        return {
            "rows_in": self.rows_in,
            "rows_clean": self.rows_clean,
            "rows_quarantined": self.rows_quarantined,
            "exact_duplicates_removed": self.exact_duplicates_removed,
            "quarantined_fraction": round(self.quarantined_fraction, 6),
            "repairs": dict(sorted(self.repairs.items())),
            "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())),
        }


def require_columns(raw: pd.DataFrame, contract: Contract, source: str) -> None:
    missing = [c for c in contract.names if c not in raw.columns]
    if missing:
        raise DataError(
            f"missing contract columns {missing}",
            file=source,
            expected=f"the columns {list(contract.names)}",
            hint="run the validate stage, which explains the difference",
        )


def _blank(text: pd.Series, maybe: np.ndarray | None = None) -> pd.Series:
    """Whether each value of ``text`` is blank (empty or spaces only).

    ``maybe``: the only rows that can be blank (known for the others), the only ones
    stripped: most values of a million-row column need no second pass.
    """
    if maybe is None:
        return (text.str.strip() == "").astype(bool)
    blank = np.zeros(len(text), dtype=bool)
    rows = np.flatnonzero(maybe)
    if rows.size:
        found = text.iloc[rows].str.strip() == ""
        blank[rows] = found.to_numpy(dtype=bool, na_value=False)
    return pd.Series(blank, index=text.index)


def _row_problems(raw: pd.DataFrame, parsed: pd.DataFrame, contract: Contract) -> pd.Series:
    """A ';'-joined list of reason codes per row ('' where the row is fine).

    Vectorized: each rule is a boolean mask over all rows, and only the flagged
    rows get strings (a per-row Python join cost minutes on a million rows).
    """
    reasons = np.full(len(raw), "", dtype=object)

    def flag(mask: pd.Series, code: str) -> None:
        hit = np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool))
        if hit.size:
            reasons[hit] = reasons[hit] + (";" + code)

    blanks = {}
    for col in contract.columns:
        text = raw[col.name].astype(str)
        if col.kind is Kind.ID:
            blank = blanks[col.name] = _blank(text)
            flag(blank, f"missing:{col.name}")
            flag(~blank & ~text.str.fullmatch(col.pattern or ".*"), f"bad_format:{col.name}")
        elif col.kind is Kind.CATEGORY:
            known = text.isin(col.raw_values)
            # A value the contract knows is blank only if the contract knows a blank.
            maybe = None if any(not v.strip() for v in col.raw_values) else ~known.to_numpy()
            blank = blanks[col.name] = _blank(text, maybe)
            flag(blank, f"missing:{col.name}")
            flag(~blank & ~known, f"unknown_category:{col.name}")
        else:
            value = parsed[col.name]
            # A blank parses to nothing: only unparsed values can be blank.
            blank = blanks[col.name] = _blank(text, value.isna().to_numpy())
            if not col.blank_allowed:
                flag(blank, f"missing:{col.name}")
            flag(~blank & value.isna(), f"unparseable:{col.name}")
            flag((value < col.minimum) | (value > col.maximum), f"out_of_range:{col.name}")
            if col.kind is Kind.INTEGER:
                flag(value.notna() & (value != value.round()), f"not_integer:{col.name}")
    # A blank the contract repairs is only explainable where its condition holds (for
    # Telco: a blank TotalCharges belongs to a customer in their first month).
    for col in contract.columns:
        if col.blank is not None and col.blank.when:
            blank = blanks[col.name]
            flag(blank & ~_condition(raw, parsed, contract, col.blank.when), f"missing:{col.name}")
    bad = reasons != ""
    reasons[bad] = [r[1:] for r in reasons[bad]]  # drop the leading ';'
    return pd.Series(reasons, index=raw.index, dtype="str")


def _condition(
    raw: pd.DataFrame, parsed: pd.DataFrame, contract: Contract, when: Mapping[str, object]
) -> pd.Series:
    """Rows where every column of ``when`` has its value (parsed, for numeric columns)."""
    holds = pd.Series(True, index=raw.index)
    for name, value in when.items():
        column = parsed[name] if contract.by_name[name].numeric else raw[name]
        holds &= (column == value).fillna(False).astype(bool)
    return holds


def clean(
    raw: pd.DataFrame,
    contract: Contract,
    source: str = "raw data",
    conflicting_ids: Collection[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame, CleaningReport]:
    """Split a raw snapshot into (clean rows, quarantined rows with reasons, report).

    ``conflicting_ids`` names identifiers known to hold different values elsewhere in the
    same data (for a caller that cleans a large file block by block, see ``churn.score``):
    their rows are quarantined as ``conflicting_duplicate_id`` like copies found here.
    """
    require_columns(raw, contract, source)
    report = CleaningReport(rows_in=len(raw))
    raw = raw.reset_index(drop=True)

    # 1. Exact duplicates carry no information: keep the first occurrence, count the rest.
    # Copies share their identifier, so only rows with a repeated one are compared
    # whole (hashing every column of a million rows took seconds). The copies stay in
    # the frame, masked, until the one take at the end (each take of every column of a
    # million rows cost about a second).
    repeated = raw[contract.id_column].duplicated(keep=False).to_numpy()
    dup = np.zeros(len(raw), dtype=bool)
    if repeated.any():
        candidates = raw.loc[repeated, list(contract.names)]
        dup[repeated] = candidates.duplicated(keep="first").to_numpy()
    report.exact_duplicates_removed = int(dup.sum())

    # 2. Row-level problems. Only the numeric columns are parsed (a full copy of a
    # million-row text table would double the memory).
    parsed = pd.DataFrame(
        {col.name: col.parse(raw[col.name].astype(str)) for col in contract.columns if col.numeric},
        index=raw.index,
    )
    problems = _row_problems(raw, parsed, contract)

    # 3. The same customer twice with different values: no way to tell which is right.
    # Only rows whose identifier was repeated (and that are not exact copies) can
    # still share it: the others need no second pass over every identifier.
    ids = raw[contract.id_column]
    shared = np.zeros(len(raw), dtype=bool)
    live = repeated & ~dup
    if live.any():
        shared[live] = ids[live].duplicated(keep=False).to_numpy()
        shared[shared] = (ids[shared].str.strip() != "").to_numpy()
    conflicting = pd.Series(shared, index=raw.index)
    if conflicting_ids:  # (exact copies flagged here stay out: see ``bad``)
        conflicting |= ids.isin(list(conflicting_ids))
    if conflicting.any():
        flagged = problems[conflicting] + ";conflicting_duplicate_id"
        problems[conflicting] = flagged.str.strip(";")

    bad = (problems != "").to_numpy() & ~dup
    quarantine = raw.loc[bad].copy()
    quarantine[REASON] = problems[bad]
    for reasons in quarantine[REASON]:
        for code in reasons.split(";"):
            report.quarantine_reasons[code] = report.quarantine_reasons.get(code, 0) + 1
    quarantine = quarantine.sort_values(list(lineage.COLUMNS), kind="stable")
    quarantine = quarantine.astype(
        {c: "str" for c in quarantine.columns if c != lineage.SOURCE_LINE}
    )

    # 4. The rows we keep, taken once in identifier order (unique there: a repeated one
    # was either an exact copy, dropped, or a conflict, quarantined), then repaired,
    # each repair counted.
    keep = np.flatnonzero(~bad & ~dup)
    order = keep[ids.iloc[keep].argsort(kind="stable").to_numpy()]
    text = raw[list(contract.names)].take(order).reset_index(drop=True)
    good = parsed.take(order).reset_index(drop=True)
    good = text.assign(**{name: good[name] for name in parsed.columns})
    for col in contract.columns:
        if col.blank is not None:  # the blanks left are those the contract explains
            filled = text[col.name].astype(str).str.strip() == ""
            good.loc[filled, col.name] = col.blank.value
            report.repairs[f"{col.name}_blank_{col.blank.repair}"] = int(filled.sum())
    for col in contract.columns:
        if col.aliases:
            recoded = text[col.name].isin(col.aliases.keys())
            good[col.name] = col.parse(text[col.name])
            report.repairs[f"{col.name}_recoded"] = int(recoded.sum())
    cleaned = good[list(contract.names)].astype({c.name: c.clean_dtype for c in contract.columns})

    report.rows_clean = len(cleaned)
    report.rows_quarantined = len(quarantine)
    if report.rows_in != (
        report.rows_clean + report.rows_quarantined + report.exact_duplicates_removed
    ):  # a bug, never the data's fault: keep the traceback
        raise RuntimeError(f"cleaning lost rows: {report.as_metrics()}")
    return cleaned, quarantine.reset_index(drop=True), report


def check_quarantine_gate(report: CleaningReport, max_fraction: float, source: str) -> None:
    """Fail when more rows were quarantined than ``clean.max_quarantine_fraction`` allows."""
    if report.quarantined_fraction > max_fraction:
        top = sorted(report.quarantine_reasons.items(), key=lambda kv: -kv[1])[:5]
        raise QualityGateError(
            f"{source}: {report.rows_quarantined:,} of {report.rows_in:,} rows "
            f"({report.quarantined_fraction:.2%}) were quarantined, more than the "
            f"{max_fraction:.2%} allowed by clean.max_quarantine_fraction.\n"
            f"  most common reasons: {', '.join(f'{k} ({v})' for k, v in top)}\n"
            "  what to do: inspect the quarantine file, fix the source, or raise the threshold"
        )
