"""Validation failures in the user's words: what failed, how often, example values, lines."""

from __future__ import annotations

from typing import Any

from churn.core import lineage
from churn.core.contract import Contract
from churn.validate.checks import CLASS_ROWS, CLASS_SHARE, TARGET_RULES, ClassNeeds


def missing_and_extra(contract: Contract, columns: list[str]) -> tuple[list[str], list[str]]:
    """The contract columns missing from ``columns``, and the columns the contract lacks."""
    expected = set(contract.names)
    present = set(columns) - set(lineage.COLUMNS)
    return sorted(expected - present), sorted(present - expected)


RAW_ADVICE = (
    "fix the source (or, where the data is right and the contract is not, the column's "
    "entry in the problem file), or, for a few bad rows in an otherwise good batch, raise "
    "validate.row_error_tolerance in params.yaml so that clean quarantines them"
)
TARGET_ADVICE = (
    "check that the source is the intended one (a filter in the query or export may have "
    "dropped a class) and collect more rows of the rarer class (a longer period, more "
    "batches); if the data is right, fewer train.cv_folds need fewer rows"
)
CONSTANT_ADVICE = (
    "a model of an almost constant target learns little: collect more rows of the rarer "
    "class, or, if such a rare class is expected, lower validate.min_target_class_share"
)
CLEAN_ADVICE = (
    "clean data must meet the contract exactly: a failure here means a cleaning rule "
    "(src/churn/clean/rules.py) and the data contract (the problem file) disagree"
)


def class_counts(summary: dict[str, Any]) -> dict[str, int]:
    """Rows of each target class, from the target-rows outcomes (empty if none ran)."""
    return {
        x["value"]: x["count"]
        for e in summary["expectations"]
        if e.get("rule") == CLASS_ROWS
        for x in e["examples"]
    }


def describe_target(
    summary: dict[str, Any], contract: Contract, needs: ClassNeeds | None
) -> list[str]:
    """The failed target rules as one paragraph: the class counts, the problem, the need."""
    failed = [e for e in summary["expectations"] if e.get("rule") in TARGET_RULES]
    failed = [e for e in failed if not e["success"]]
    if not failed or summary["rows"] == 0:  # no rows at all: said once, by the caller
        return []
    counts = class_counts(summary)
    shown = ", ".join(f"{v!r} {n:,} rows" for v, n in counts.items())
    where = f"  - column {contract.target!r} (the target)"
    lines = []
    few = [e for e in failed if e["rule"] == CLASS_ROWS]
    if few:
        present = [v for v, n in counts.items() if n > 0]
        if not present:
            lines.append(f"{where} holds no row of any class: {shown}")
        elif len(present) == 1:
            lines.append(f"{where} holds a single class: {shown}")
        else:
            rare = ", ".join(repr(x["value"]) for e in few for x in e["examples"])
            lines.append(f"{where} has too few rows of class {rare}: {shown}")
        need = next(e["description"] for e in few)
        if needs is not None:
            need = f"at least {needs.min_rows:,} rows of each class: {needs.why()}"
        lines.append(f"      needed: {need}")
        lines.append(f"      what to do: {TARGET_ADVICE}")
    common = [e for e in failed if e["rule"] == CLASS_SHARE]
    if common and len([n for n in counts.values() if n > 0]) > 1:
        e = common[0]
        [top] = e["examples"]
        allowed = 1 - e["mostly"]
        lines.append(
            f"{where} is almost constant: {e['unexpected_percent']:.2f}% of rows are "
            f"{top['value']!r} ({shown})"
        )
        lines.append(
            f"      needed: at most {allowed:.2%} of rows in one class "
            f"(validate.min_target_class_share: {e['mostly']:.2%})"
        )
        lines.append(f"      what to do: {CONSTANT_ADVICE}")
    return lines


def describe_failures(
    summary: dict[str, Any],
    contract: Contract,
    columns: list[str],
    advice: str = RAW_ADVICE,
    needs: ClassNeeds | None = None,
) -> str:
    """A message naming each failed expectation, its counts, example values and lines.

    The target rules are explained together, with the class counts and what the later
    stages need (``needs``, else the checks' descriptions).
    """
    failed = [e for e in summary["expectations"] if not e["success"]]
    head = (
        f"{summary['data']} breaks the data contract: {len(failed)} of "
        f"{summary['evaluated']} expectations failed ({summary['rows']:,} rows)"
    )
    lines = [head, *describe_target(summary, contract, needs)]
    failed = [e for e in failed if e.get("rule") not in TARGET_RULES]
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
    if failed:
        lines.append(f"  what to do: {advice}")
    return "\n".join(lines)


def explain_failures(
    summary: dict[str, Any],
    contract: Contract,
    columns: list[str],
    origin: str | None,
    needs: ClassNeeds | None = None,
) -> str:
    """``describe_failures`` naming the source too, and saying so when it has no rows."""
    head, *rest = describe_failures(summary, contract, columns, needs=needs).split("\n")
    if origin:
        head = f"{head}\n  source: {origin}"
    if summary["rows"] == 0:
        head += (
            "\n  the source has no data rows: a header-only file, or a query or API "
            "that returned nothing"
        )
    return "\n".join([head, *rest])
