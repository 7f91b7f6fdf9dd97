"""The expectations, built from the data contract: what raw and clean data must satisfy.

A ``Check`` is one Great Expectations expectation described in the user's words.
The raw checks run on two views of the raw snapshot: the text exactly as collected
(column names, allowed categories, identifier and number formats) and the parsed
view (numeric ranges, blank fractions); the clean checks are what cleaning promises
downstream. ``suite`` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from churn.core import lineage
from churn.core.contract import Column, Contract, Kind
from churn.core.params import ValidateParams


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


def build_checks(contract: Contract, columns: list[str], params: ValidateParams) -> list[Check]:
    """The checks for a raw snapshot whose columns are ``columns``."""
    mostly = 1.0 - params.row_error_tolerance
    checks: list[Check] = []

    def add(view: str, expectation: str, description: str, **kwargs: Any) -> None:
        checks.append(Check(len(checks), view, expectation, kwargs, description))

    expected = [*contract.names, *lineage.COLUMNS]
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
    for col in contract.columns:
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


def build_clean_checks(contract: Contract) -> list[Check]:
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
        column_list=list(contract.names),
    )
    add("ExpectTableRowCountToBeBetween", "at least one row", min_value=1)
    for col in contract.columns:
        dtype = col.clean_dtype
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
