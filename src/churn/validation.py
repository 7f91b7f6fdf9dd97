"""Validate: Great Expectations suites built from the data contract.

The suite runs on two views of the raw snapshot: the text exactly as collected
(for column names, allowed categories, identifier and number formats) and the
parsed view (for numeric ranges and blank fractions). Results are reduced to a
byte-stable summary (no UUIDs, no timestamps) that DVC can version and that the
error message and the HTML report are written from.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from churn import contract
from churn.config import ValidateParams
from churn.contract import (
    LINEAGE,
    SOURCE_FILE,
    SOURCE_LINE,
    SOURCE_METADATA_KEY,
    Column,
    Kind,
)

MAX_EXAMPLES = 5
MAX_LINES = 10


@dataclass(frozen=True)
class Check:
    """One expectation of the suite, described in the user's words."""

    id: int
    view: str  # "raw" (text as collected) or "parsed" (numbers parsed)
    expectation: str  # the Great Expectations class name
    kwargs: dict[str, Any]
    description: str

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")


@dataclass
class Outcome:
    """The result of one check, JSON-ready."""

    expectation: str
    column: str | None
    description: str
    success: bool
    mostly: float | None = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)


def build_checks(columns: list[str], params: ValidateParams) -> list[Check]:
    """The checks for a raw snapshot whose columns are ``columns``."""
    mostly = 1.0 - params.row_error_tolerance
    checks: list[Check] = []

    def add(view: str, expectation: str, description: str, **kwargs: Any) -> None:
        checks.append(Check(len(checks), view, expectation, kwargs, description))

    expected = [*contract.COLUMN_NAMES, *LINEAGE]
    add(
        "raw",
        "ExpectTableColumnsToMatchSet",
        "the columns are exactly the contract's columns",
        column_set=expected,
        exact_match=True,
    )
    add(
        "raw",
        "ExpectTableRowCountToBeBetween",
        f"between {params.min_rows:,} and {params.max_rows:,} rows",
        min_value=params.min_rows,
        max_value=params.max_rows,
    )
    present = set(columns)
    for col in contract.COLUMNS:
        if col.name not in present:
            continue  # reported by the column-set check; column checks would only error
        checks_for_column(col, mostly, params, add)
    return checks


def checks_for_column(col: Column, mostly: float, params: ValidateParams, add: Any) -> None:
    if col.kind is Kind.ID:
        add(
            "raw",
            "ExpectColumnValuesToMatchRegex",
            f"matches {col.pattern}",
            column=col.name,
            regex=col.pattern,
            mostly=mostly,
        )
        add("raw", "ExpectColumnValuesToBeUnique", "is unique", column=col.name, mostly=mostly)
    elif col.kind is Kind.CATEGORY:
        add(
            "raw",
            "ExpectColumnValuesToBeInSet",
            f"is one of {list(col.raw_values)}",
            column=col.name,
            value_set=list(col.raw_values),
            mostly=mostly,
        )
    else:
        kind = "a whole number" if col.kind is Kind.INTEGER else "a number"
        blank = " (or blank)" if col.blank_allowed else ""
        add(
            "raw",
            "ExpectColumnValuesToMatchRegex",
            f"is {kind}{blank}",
            column=col.name,
            regex=col.raw_regex,
            mostly=mostly,
        )
        add(
            "parsed",
            "ExpectColumnValuesToBeBetween",
            f"is between {col.minimum:g} and {col.maximum:g}",
            column=col.name,
            min_value=col.minimum,
            max_value=col.maximum,
            mostly=mostly,
        )
        if col.blank_allowed:
            add(
                "parsed",
                "ExpectColumnValuesToNotBeNull",
                f"is blank in at most {params.max_blank_fraction:.1%} of rows",
                column=col.name,
                mostly=1.0 - params.max_blank_fraction,
            )


def build_clean_checks() -> list[Check]:
    """The checks for CLEAN data, from the same contract: what cleaning promises downstream.

    Typed columns in contract order, no nulls, the allowed (recoded) categories, numeric
    ranges, identifier format and uniqueness. Nothing is tolerated: a failure here is a
    bug in the cleaning rules or the contract, never a bad source row (those are
    quarantined before).
    """
    checks: list[Check] = []

    def add(expectation: str, description: str, **kwargs: Any) -> None:
        checks.append(Check(len(checks), "clean", expectation, kwargs, description))

    add(
        "ExpectTableColumnsToMatchOrderedList",
        "the columns are the contract's, in its order",
        column_list=list(contract.COLUMN_NAMES),
    )
    add("ExpectTableRowCountToBeBetween", "at least one row", min_value=1)
    for col in contract.COLUMNS:
        dtype = contract.clean_dtype(col)
        add("ExpectColumnValuesToBeOfType", f"has type {dtype}", column=col.name, type_=dtype)
        add("ExpectColumnValuesToNotBeNull", "has no missing value", column=col.name)
        if col.kind is Kind.ID:
            add(
                "ExpectColumnValuesToMatchRegex",
                f"matches {col.pattern}",
                column=col.name,
                regex=col.pattern,
            )
            add("ExpectColumnValuesToBeUnique", "is unique", column=col.name)
        elif col.kind is Kind.CATEGORY:
            add(
                "ExpectColumnValuesToBeInSet",
                f"is one of {list(col.allowed)}",
                column=col.name,
                value_set=list(col.allowed),
            )
        else:
            add(
                "ExpectColumnValuesToBeBetween",
                f"is between {col.minimum:g} and {col.maximum:g}",
                column=col.name,
                min_value=col.minimum,
                max_value=col.maximum,
            )
    return checks


def parsed_view(raw: pd.DataFrame) -> pd.DataFrame:
    """The numeric columns of the raw snapshot, parsed, with the lineage columns.

    Unparseable text and blanks become NaN. Plain float64 (not pandas' nullable
    Float64) keeps Great Expectations on its vectorized path for ranges: on a
    nullable column it compares value by value in Python (seconds per million rows).
    Only the columns the parsed checks read are kept: no copy of the text columns.
    """
    columns = {
        col.name: contract.parse_column(col, raw[col.name].astype(str)).astype("float64")
        for col in contract.COLUMNS
        if col.numeric and col.name in raw.columns
    }
    for name in LINEAGE:
        if name in raw.columns:
            columns[name] = raw[name]
    return pd.DataFrame(columns, index=raw.index)


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def run_checks(raw: pd.DataFrame, checks: list[Check]) -> list[Outcome]:
    """Run the raw-data checks on the raw snapshot and its parsed view."""
    frames = {"raw": raw}
    if any(c.view == "parsed" for c in checks):
        frames["parsed"] = parsed_view(raw)
    return run_suite(frames, checks)


def run_suite(frames: dict[str, pd.DataFrame], checks: list[Check]) -> list[Outcome]:
    """Run each check on the frame of its view with Great Expectations.

    An ephemeral context: nothing is written to disk. Failing rows are named by
    their lineage columns when the frame has them.
    """
    _quiet_gx()
    import great_expectations as gx  # slow import (about 2 s): only the validate stage pays
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every batch under 1 GB (an md5 over pandas' hash of each row), a
    # batch marker nothing here reads, which was the largest cost on a million rows.
    pandas_execution_engine.HASH_THRESHOLD = 0

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = ctx.data_sources.add_pandas("snapshot")
    outcomes: dict[int, Outcome] = {}
    # One batch per (view, column): Great Expectations filters and copies the whole
    # batch for each column expectation, so a batch of just the column and the
    # lineage columns is many times cheaper on a wide, million-row table.
    groups: dict[tuple[str, str | None], list[Check]] = {}
    for check in checks:
        if check.view in frames:
            groups.setdefault((check.view, check.column), []).append(check)
    for number, ((view, column), selected) in enumerate(groups.items()):
        frame = frames[view]
        index_columns = [c for c in LINEAGE if c in frame.columns]
        if column is not None and column in frame.columns:
            frame = frame[[column, *(c for c in index_columns if c != column)]]
        result_format: dict[str, Any] = {"result_format": "COMPLETE"}
        if index_columns:
            result_format["unexpected_index_column_names"] = index_columns
        name = f"churn_{view}_{number}"
        suite = gx.ExpectationSuite(name=name)
        for check in selected:
            expectation = getattr(gxe, check.expectation)(**check.kwargs, meta={"id": check.id})
            suite.add_expectation(expectation)
        suite = ctx.suites.add(suite)
        batch_def = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=result_format)
        for item in result.results:
            check = checks[int(item.expectation_config.meta["id"])]
            outcomes[check.id] = _outcome(check, item.to_json_dict())
    return [outcomes[c.id] for c in checks if c.id in outcomes]


def _outcome(check: Check, result: dict[str, Any]) -> Outcome:
    details = result.get("result") or {}
    error = (result.get("exception_info") or {}).get("exception_message")
    out = Outcome(
        expectation=check.expectation,
        column=check.column,
        description=check.description,
        success=bool(result.get("success")),
        mostly=check.kwargs.get("mostly"),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=_round(details.get("unexpected_percent")),
        observed_value=error if error else _observed(details.get("observed_value")),
    )
    counts = details.get("partial_unexpected_counts") or []
    out.examples = sorted(
        ({"value": c["value"], "count": c["count"]} for c in counts),
        key=lambda e: (-e["count"], str(e["value"])),
    )[:MAX_EXAMPLES]
    index = details.get("unexpected_index_list") or []
    lines = [
        {"file": i.get(SOURCE_FILE), "line": i.get(SOURCE_LINE), "value": i.get(check.column)}
        for i in index
        if isinstance(i, dict)
    ]
    out.lines = sorted(lines, key=lambda x: (str(x["file"]), x["line"] or 0))[:MAX_LINES]
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _observed(value: Any) -> Any:
    if isinstance(value, list):
        return sorted(value, key=str)
    if isinstance(value, float):
        return round(value, 6)
    return value


def summarize(outcomes: list[Outcome], data: str, rows: int) -> dict[str, Any]:
    """The byte-stable JSON summary of one validation."""
    failed = [o for o in outcomes if not o.success]
    return {
        "data": data,
        "rows": rows,
        "success": not failed,
        "evaluated": len(outcomes),
        "failed": len(failed),
        "expectations": [asdict(o) for o in outcomes],
    }


def missing_and_extra(columns: list[str]) -> tuple[list[str], list[str]]:
    expected = set(contract.COLUMN_NAMES)
    present = set(columns) - set(LINEAGE)
    return sorted(expected - present), sorted(present - expected)


RAW_ADVICE = (
    "fix the source, or, for a few bad rows in an otherwise good batch, "
    "raise validate.row_error_tolerance in params.yaml so that clean quarantines them"
)
CLEAN_ADVICE = (
    "clean data must meet the contract exactly: a failure here means a cleaning rule "
    "(src/churn/cleaning.py) and the contract (src/churn/contract.py) disagree"
)


def describe_failures(summary: dict[str, Any], columns: list[str], advice: str = RAW_ADVICE) -> str:
    """A message naming each failed expectation, its counts, example values and lines."""
    failed = [e for e in summary["expectations"] if not e["success"]]
    head = (
        f"{summary['data']} breaks the data contract: {len(failed)} of "
        f"{summary['evaluated']} expectations failed ({summary['rows']:,} rows)"
    )
    lines = [head]
    missing, extra = missing_and_extra(columns)
    for e in failed:
        where = f"column {e['column']!r}" if e["column"] else "table"
        text = f"  - {where}: expected {e['description']}"
        if e["expectation"] == "ExpectTableColumnsToMatchSet":
            if missing:
                text += f"; missing {missing}"
            if extra:
                text += f"; unexpected {extra}"
            if missing and extra:
                text += " (renamed?)"
        elif e["unexpected_count"] is not None:
            text += f"; {e['unexpected_count']:,} row(s) ({e['unexpected_percent']:g}%) do not"
            if e["mostly"] is not None and e["mostly"] < 1:
                text += f", more than the {1 - e['mostly']:.2%} tolerated"
        else:
            text += f"; observed {e['observed_value']!r}"
        if e["examples"]:
            shown = ", ".join(f"{x['value']!r} (x{x['count']})" for x in e["examples"])
            text += f"\n      examples: {shown}"
        if e["lines"]:
            shown = ", ".join(f"{x['file']}:{x['line']}" for x in e["lines"])
            text += f"\n      at: {shown}"
        lines.append(text)
    lines.append(f"  what to do: {advice}")
    return "\n".join(lines)


def validate(raw: pd.DataFrame, params: ValidateParams, data: str) -> dict[str, Any]:
    """Validate a raw snapshot; return the summary (``summary['success']`` says if it passed)."""
    checks = build_checks(list(raw.columns), params)
    return summarize(run_checks(raw, checks), data, len(raw))


def validate_clean(cleaned: pd.DataFrame, data: str) -> dict[str, Any]:
    """Validate clean data against the contract; return the summary (as ``validate``)."""
    checks = build_clean_checks()
    return summarize(run_suite({"clean": cleaned}, checks), data, len(cleaned))


def snapshot_origin(path: str | os.PathLike[str]) -> str | None:
    """The source a raw snapshot was collected from, as recorded by collect (if it was)."""
    import pyarrow.parquet as pq

    value = (pq.read_schema(path).metadata or {}).get(SOURCE_METADATA_KEY)
    return value.decode() if value else None


def explain_failures(summary: dict[str, Any], columns: list[str], origin: str | None) -> str:
    """``describe_failures`` naming the source too, and saying so when it has no rows."""
    head, *rest = describe_failures(summary, columns).split("\n")
    if origin:
        head = f"{head}\n  source: {origin}"
    if summary["rows"] == 0:
        head += (
            "\n  the source has no data rows: a header-only file, or a query or API "
            "that returned nothing"
        )
    return "\n".join([head, *rest])
