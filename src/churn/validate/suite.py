"""Run the expectations with Great Expectations and reduce the results to a stable summary.

An ephemeral context: nothing is written to disk. The summary has no UUIDs and
no timestamps, so DVC can version it; the error messages and the HTML report
are written from it. Great Expectations is imported only when checks run (about
2 s): nothing else in the package pays for it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from churn.core import lineage
from churn.core.contract import Contract
from churn.core.params import ValidateParams
from churn.validate.checks import (
    CLASS_ROWS,
    TARGET_RULES,
    Check,
    ClassNeeds,
    build_checks,
    build_clean_checks,
)

MAX_EXAMPLES = 5
MAX_LINES = 10


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
    #: A project rule (``checks.TARGET_RULES``): its examples are the class and its rows.
    rule: str | None = None


def parsed_view(raw: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The numeric columns of the raw snapshot, parsed, the target, and the lineage columns.

    The target holds its clean spellings (aliases mapped), so that its classes are
    counted as the later stages see them. Unparseable text and blanks become NaN.
    Plain float64 (not pandas' nullable Float64) keeps Great Expectations on its
    vectorized path for ranges: on a nullable column it compares value by value in
    Python (seconds per million rows).
    Only the columns the parsed checks read are kept: no copy of the text columns.
    """
    columns = {
        col.name: col.parse(raw[col.name].astype(str)).astype("float64")
        for col in contract.columns
        if col.numeric and col.name in raw.columns
    }
    if contract.target in raw.columns:
        target = contract.by_name[contract.target]
        columns[target.name] = target.parse(raw[target.name].astype(str))
    for name in lineage.COLUMNS:
        if name in raw.columns:
            columns[name] = raw[name]
    return pd.DataFrame(columns, index=raw.index)


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def run_checks(raw: pd.DataFrame, contract: Contract, checks: list[Check]) -> list[Outcome]:
    """Run the raw-data checks on the raw snapshot and its parsed view."""
    frames = {"raw": raw}
    if any(c.view == "parsed" for c in checks):
        frames["parsed"] = parsed_view(raw, contract)
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
        index_columns = [c for c in lineage.COLUMNS if c in frame.columns]
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
        rule=check.rule,
    )
    if check.rule in TARGET_RULES:
        # The class and its rows (the count of the rows check, else the rows not allowed
        # above the share); source lines of a whole class would say nothing.
        rows = out.observed_value if check.rule == CLASS_ROWS else out.unexpected_count
        out.examples = [{"value": check.value, "count": rows}] if rows is not None else []
        return out
    counts = details.get("partial_unexpected_counts") or []
    out.examples = sorted(
        ({"value": c["value"], "count": c["count"]} for c in counts),
        key=lambda e: (-e["count"], str(e["value"])),
    )[:MAX_EXAMPLES]
    index = details.get("unexpected_index_list") or []
    lines = [
        {
            "file": i.get(lineage.SOURCE_FILE),
            "line": i.get(lineage.SOURCE_LINE),
            "value": i.get(check.column),
        }
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


def validate(
    raw: pd.DataFrame, contract: Contract, params: ValidateParams, data: str, needs: ClassNeeds
) -> dict[str, Any]:
    """Validate a raw snapshot; return the summary (``summary['success']`` says if it passed).

    ``needs``: what the split and the CV folds need of each target class.
    """
    checks = build_checks(contract, list(raw.columns), params, needs)
    return summarize(run_checks(raw, contract, checks), data, len(raw))


def validate_clean(cleaned: pd.DataFrame, contract: Contract, data: str) -> dict[str, Any]:
    """Validate clean data against the contract; return the summary (as ``validate``)."""
    checks = build_clean_checks(contract)
    return summarize(run_suite({"clean": cleaned}, checks), data, len(cleaned))
