"""The data contract: the one description of a customer record.

Validation (the Great Expectations suites), cleaning, feature engineering, the
prediction API's request schema and the tests all read this module, so a new
category or a changed range is edited here once.

Raw data keeps the source's text exactly (every column a string); the contract
says how each column's text is parsed and which parsed values are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd


class Kind(StrEnum):
    ID = "id"
    CATEGORY = "category"
    INTEGER = "integer"
    NUMBER = "number"


@dataclass(frozen=True)
class Column:
    """One column of a customer record."""

    name: str
    kind: Kind
    description: str
    #: Allowed clean values of a category column.
    allowed: tuple[str, ...] = ()
    #: Extra raw spellings accepted and mapped to a clean value (e.g. "1" -> "Yes").
    aliases: dict[str, str] = field(default_factory=dict)
    #: Inclusive bounds of a numeric column.
    minimum: float | None = None
    maximum: float | None = None
    #: Regular expression an identifier must match.
    pattern: str | None = None
    #: A blank raw value is tolerated (and repaired by cleaning) rather than quarantined.
    blank_allowed: bool = False

    @property
    def raw_values(self) -> tuple[str, ...]:
        """Every raw spelling a category column may hold."""
        return tuple(sorted({*self.allowed, *self.aliases}))

    @property
    def numeric(self) -> bool:
        return self.kind in (Kind.INTEGER, Kind.NUMBER)

    @property
    def raw_regex(self) -> str | None:
        """Regular expression the raw text of a numeric or ID column must match."""
        if self.kind is Kind.INTEGER:
            number = r"-?\d+"
        elif self.kind is Kind.NUMBER:
            number = r"-?(?:\d+(?:\.\d*)?|\.\d+)"
        else:
            return self.pattern
        blank = r"|\s*" if self.blank_allowed else ""
        return rf"^(?:\s*{number}\s*{blank})$"


YES_NO = ("No", "Yes")
NO_INTERNET = ("No", "No internet service", "Yes")

ID_COLUMN = "customerID"
TARGET = "Churn"
POSITIVE_LABEL = "Yes"

COLUMNS: tuple[Column, ...] = (
    Column(ID_COLUMN, Kind.ID, "Customer identifier", pattern=r"^\d{4}-[A-Z]{5}$"),
    Column("gender", Kind.CATEGORY, "Customer gender", allowed=("Female", "Male")),
    Column(
        "SeniorCitizen",
        Kind.CATEGORY,
        "Customer is 65 or older",
        allowed=YES_NO,
        aliases={"0": "No", "1": "Yes"},
    ),
    Column("Partner", Kind.CATEGORY, "Has a partner", allowed=YES_NO),
    Column("Dependents", Kind.CATEGORY, "Has dependents", allowed=YES_NO),
    Column("tenure", Kind.INTEGER, "Months as a customer", minimum=0, maximum=120),
    Column("PhoneService", Kind.CATEGORY, "Has phone service", allowed=YES_NO),
    Column(
        "MultipleLines",
        Kind.CATEGORY,
        "Has multiple phone lines",
        allowed=("No", "No phone service", "Yes"),
    ),
    Column(
        "InternetService",
        Kind.CATEGORY,
        "Internet service type",
        allowed=("DSL", "Fiber optic", "No"),
    ),
    Column("OnlineSecurity", Kind.CATEGORY, "Online security add-on", allowed=NO_INTERNET),
    Column("OnlineBackup", Kind.CATEGORY, "Online backup add-on", allowed=NO_INTERNET),
    Column("DeviceProtection", Kind.CATEGORY, "Device protection add-on", allowed=NO_INTERNET),
    Column("TechSupport", Kind.CATEGORY, "Tech support add-on", allowed=NO_INTERNET),
    Column("StreamingTV", Kind.CATEGORY, "Streams TV", allowed=NO_INTERNET),
    Column("StreamingMovies", Kind.CATEGORY, "Streams movies", allowed=NO_INTERNET),
    Column(
        "Contract",
        Kind.CATEGORY,
        "Contract term",
        allowed=("Month-to-month", "One year", "Two year"),
    ),
    Column("PaperlessBilling", Kind.CATEGORY, "Uses paperless billing", allowed=YES_NO),
    Column(
        "PaymentMethod",
        Kind.CATEGORY,
        "Payment method",
        allowed=(
            "Bank transfer (automatic)",
            "Credit card (automatic)",
            "Electronic check",
            "Mailed check",
        ),
    ),
    Column("MonthlyCharges", Kind.NUMBER, "Current monthly charge", minimum=0, maximum=1000),
    Column(
        "TotalCharges",
        Kind.NUMBER,
        "Charges to date (blank for brand-new customers)",
        minimum=0,
        maximum=200_000,
        blank_allowed=True,
    ),
    Column(TARGET, Kind.CATEGORY, "Customer left within the last month", allowed=YES_NO),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
#: The columns a prediction needs: everything but the identifier and the target.
FEATURES: tuple[Column, ...] = tuple(c for c in COLUMNS if c.name not in (ID_COLUMN, TARGET))
FEATURE_NAMES: tuple[str, ...] = tuple(c.name for c in FEATURES)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(c.name for c in FEATURES if not c.numeric)
NUMERIC_FEATURES: tuple[str, ...] = tuple(c.name for c in FEATURES if c.numeric)

#: Lineage columns added by ``collect``: where each row came from, for error messages.
SOURCE_FILE = "_source_file"
SOURCE_LINE = "_source_line"
LINEAGE: tuple[str, ...] = (SOURCE_FILE, SOURCE_LINE)


def parse_column(column: Column, text: pd.Series) -> pd.Series:
    """Parse one raw text column into its clean type; unparseable values become NA.

    Category aliases are mapped to their clean spelling; a value outside the
    contract stays as it is (the caller decides whether that is an error).
    """
    if column.numeric:
        # Float64 for integers too: "1.5" must stay visible as not-an-integer, and NA is allowed.
        return pd.to_numeric(text.str.strip(), errors="coerce").astype("Float64")
    if column.aliases:
        return text.replace(column.aliases)
    return text


def clean_dtype(column: Column) -> str:
    """The pandas dtype of a column in clean data."""
    return {Kind.INTEGER: "int64", Kind.NUMBER: "float64"}.get(column.kind, "str")


def example_record() -> dict[str, object]:
    """A valid clean customer record (used by docs, the API schema and tests)."""
    return {
        "gender": "Female",
        "SeniorCitizen": "No",
        "Partner": "Yes",
        "Dependents": "No",
        "tenure": 12,
        "PhoneService": "Yes",
        "MultipleLines": "No",
        "InternetService": "Fiber optic",
        "OnlineSecurity": "No",
        "OnlineBackup": "Yes",
        "DeviceProtection": "No",
        "TechSupport": "No",
        "StreamingTV": "Yes",
        "StreamingMovies": "No",
        "Contract": "Month-to-month",
        "PaperlessBilling": "Yes",
        "PaymentMethod": "Electronic check",
        "MonthlyCharges": 85.5,
        "TotalCharges": float(np.round(12 * 85.5, 2)),
    }
