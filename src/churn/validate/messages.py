"""Validation failures in the user's words: what failed, how often, example values, lines."""

from __future__ import annotations

from typing import Any

from churn.core import lineage
from churn.core.contract import Contract


def missing_and_extra(contract: Contract, columns: list[str]) -> tuple[list[str], list[str]]:
    """The contract columns missing from ``columns``, and the columns the contract lacks."""
    expected = set(contract.names)
    present = set(columns) - set(lineage.COLUMNS)
    return sorted(expected - present), sorted(present - expected)


RAW_ADVICE = (
    "fix the source, or, for a few bad rows in an otherwise good batch, "
    "raise validate.row_error_tolerance in params.yaml so that clean quarantines them"
)
CLEAN_ADVICE = (
    "clean data must meet the contract exactly: a failure here means a cleaning rule "
    "(src/churn/clean/rules.py) and the contract (src/churn/core/contract.py) disagree"
)


def describe_failures(
    summary: dict[str, Any], contract: Contract, columns: list[str], advice: str = RAW_ADVICE
) -> str:
    """A message naming each failed expectation, its counts, example values and lines."""
    failed = [e for e in summary["expectations"] if not e["success"]]
    head = (
        f"{summary['data']} breaks the data contract: {len(failed)} of "
        f"{summary['evaluated']} expectations failed ({summary['rows']:,} rows)"
    )
    lines = [head]
    missing, extra = missing_and_extra(contract, columns)
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


def explain_failures(
    summary: dict[str, Any], contract: Contract, columns: list[str], origin: str | None
) -> str:
    """``describe_failures`` naming the source too, and saying so when it has no rows."""
    head, *rest = describe_failures(summary, contract, columns).split("\n")
    if origin:
        head = f"{head}\n  source: {origin}"
    if summary["rows"] == 0:
        head += (
            "\n  the source has no data rows: a header-only file, or a query or API "
            "that returned nothing"
        )
    return "\n".join([head, *rest])
