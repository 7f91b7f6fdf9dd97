"""The expectations, built from the data contract: what raw and clean data must satisfy.

A ``Check`` is one Great Expectations expectation described in the user's words.
The raw checks run on two views of the raw snapshot: the text exactly as collected
(column names, allowed categories, identifier and number formats) and the parsed
view (numeric ranges, blank fractions, the target's classes); the clean checks are
what cleaning promises downstream. ``suite`` runs them.

The target checks refuse a degenerate target before anything is trained: every
class needs enough rows for the stratified split and the CV folds (``ClassNeeds``),
and no class may hold almost every row.
"""

from __future__ import annotations

import math
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
    #: The column a table-level check is about (e.g. rows whose target is a class).
    subject: str | None = None
    #: A project rule the messages explain in their own words (``TARGET_RULES``).
    rule: str | None = None
    #: The value the check is about (the target class of a target rule).
    value: str | None = None
    #: Its "unexpected" rows are not bad rows (the class-share check counts one class):
    #: only their count is asked for, and ``value`` is the one unexpected value.
    counts_only: bool = False

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column", self.subject)


#: The target rules: enough rows of each class; no class holding almost every row.
CLASS_ROWS = "target_class_rows"
CLASS_SHARE = "target_class_share"
TARGET_RULES = (CLASS_ROWS, CLASS_SHARE)


@dataclass(frozen=True)
class ClassNeeds:
    """What the stages after ``validate`` need of each class of the target.

    ``split`` makes a stratified train/validation/test partition, and ``train``
    scores on ``cv_folds`` stratified folds of the training part: every fold's
    held-out part needs a row of each class (else ROC-AUC is undefined), and so do
    validation and test. Each split rounds a class's share of rows, which can cost a
    row: the training part gets one row of margin (checked against scikit-learn's
    splits for 2 to 10 folds and several split fractions, tests/test_degenerate_targets.py).
    """

    train: float
    validation: float
    test: float
    cv_folds: int
    #: Largest share of rows one class may hold (``1 - validate.min_target_class_share``).
    max_share: float

    @property
    def min_rows(self) -> int:
        """Rows of each class needed: (folds + 1) in training, one in validation and test."""
        parts = ((self.cv_folds + 1) / self.train, 1 / self.validation, 1 / self.test)
        return math.ceil(max(parts) - 1e-9)

    @property
    def split_text(self) -> str:
        return "/".join(f"{round(100 * f):g}" for f in (self.train, self.validation, self.test))

    def why(self) -> str:
        """Why ``min_rows`` rows, in the user's words (params named)."""
        return (
            f"the stratified {self.split_text} split (split.train, split.validation, "
            "split.test) must leave a row of each class in validation and in test, and "
            f"{self.cv_folds + 1} in the training part for its {self.cv_folds} CV folds "
            "(train.cv_folds; one row more for rounding)"
        )


def build_checks(
    contract: Contract, columns: list[str], params: ValidateParams, needs: ClassNeeds
) -> list[Check]:
    """The checks for a raw snapshot whose columns are ``columns``."""
    mostly = 1.0 - params.row_error_tolerance
    checks: list[Check] = []

    def add(view: str, expectation: str, description: str, **kwargs: Any) -> None:
        meta_keys = ("subject", "rule", "value", "counts_only")
        meta = {k: kwargs.pop(k) for k in meta_keys if k in kwargs}
        checks.append(Check(len(checks), view, expectation, kwargs, description, **meta))

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
    if contract.target in present:
        target_checks(contract, needs, add)
    return checks


def target_checks(contract: Contract, needs: ClassNeeds, add: Any) -> None:
    """Enough rows of each target class, and no class holding almost every row.

    On the parsed view, where the target holds its clean spellings (aliases mapped).
    """
    target = contract.target
    for value in contract.target_values:
        add(
            "parsed",
            "ExpectTableRowCountToBeBetween",
            f"at least {needs.min_rows:,} rows are {value!r} "
            f"(the {needs.split_text} split and {needs.cv_folds} CV folds need them)",
            min_value=needs.min_rows,
            # Great Expectations' row condition (a ComparisonCondition), as plain data.
            row_condition={
                "type": "comparison",
                "column": {"name": target},
                "operator": "==",
                "parameter": value,
            },
            subject=target,
            rule=CLASS_ROWS,
            value=value,
        )
    if needs.max_share >= 1:
        return
    for value in contract.target_values:
        add(
            "parsed",
            "ExpectColumnValuesToNotBeInSet",
            f"at most {needs.max_share:.2%} of rows are {value!r} (else almost constant)",
            column=target,
            value_set=[value],
            mostly=round(1 - needs.max_share, 12),
            rule=CLASS_SHARE,
            value=value,
            counts_only=True,
        )


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
