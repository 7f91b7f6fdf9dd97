"""The data contract: the one description of a record that every step shares.

Validation (the Great Expectations suites), cleaning, feature engineering, the
model's input columns, exploration, the report, the prediction API's request
schema, monitoring and the tests are all built from a ``Contract``. It is written
in the problem file (``problems/telco.yaml`` for the worked example) and built by
``churn.core.problem``, so a new category or a changed range is edited in one place.

Raw data keeps the source's text exactly (every column a string); the contract
says how each column's text is parsed, which parsed values are allowed, and which
known dirt is repaired rather than quarantined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by the methods that need it: collect does not
    import pandas as pd
    import pyarrow as pa

#: Python's ``\s`` for text, spelt out: the same characters (tests/test_contract_regex.py
#: checks all of Unicode). pandas hands a pattern with
#: ``\s`` to Python's ``re``, row by row, because RE2's ``\s`` omits some of these; with
#: the characters listed, Arrow's RE2 matches the same text several times faster.
SPACE = "[\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


#: Plain decimals, which Arrow parses to the same double as pandas: no exponent, no space,
#: no leading zero on an integer, no minus sign on a zero (pandas reads "-0" as the
#: integer 0, Arrow as -0.0); and at most 15 characters, so that the digits are exact in
#: a double and both divide them once by an exact power of ten (correctly rounded).
_PLAIN_DECIMAL = (
    r"^(?:0|[1-9][0-9]*|[0-9]+\.[0-9]+"  # zero, an integer, a positive decimal
    r"|-[1-9][0-9]*|-[0-9]*[1-9][0-9]*\.[0-9]+|-[0-9]+\.[0-9]*[1-9][0-9]*)$"  # negative, not 0
)
_PLAIN_LENGTH = 15


def arrow_text(values: pd.Series) -> pa.Array | None:
    """``values`` as an Arrow text array (without a copy when they are Arrow-backed text),
    or None when they are not all text (numbers, mixed types)."""
    import pyarrow as pa

    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types
        return None
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array
    return None


def parse_number(text: pd.Series) -> pd.Series:
    """``pd.to_numeric(text, errors="coerce")`` as float64, the same values to the bit.

    pandas parses text in a Python-level loop (about 0.3 s per million values); the plain
    decimals that make up nearly all real data are parsed in Arrow instead, and only the
    rest (blanks, exponents, "nan", anything odd) goes to ``pd.to_numeric``.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    array = arrow_text(text)
    if array is None:
        return pd.to_numeric(text, errors="coerce").astype("float64")
    plain = pc.and_(
        pc.match_substring_regex(array, _PLAIN_DECIMAL),
        pc.less_equal(pc.utf8_length(array), _PLAIN_LENGTH),
    )
    plain = plain.fill_null(False).to_numpy(zero_copy_only=False)
    values = np.full(len(text), np.nan)
    values[plain] = pc.cast(array.filter(pa.array(plain)), pa.float64()).to_numpy()
    rest = ~plain
    if rest.any():
        odd = pd.to_numeric(text[rest], errors="coerce")
        values[rest] = odd.to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(values, index=text.index)


class Kind(StrEnum):
    ID = "id"
    CATEGORY = "category"
    INTEGER = "integer"
    NUMBER = "number"


@dataclass(frozen=True)
class BlankRule:
    """A blank raw value that is not an error: it means ``value`` when ``when`` holds.

    ``when`` maps another column to the value it must have (e.g. ``{"tenure": 0}``: a
    brand-new customer has no charges yet); an empty ``when`` accepts every blank.
    Cleaning repairs such blanks to ``value`` and counts them under ``name``; a blank
    where ``when`` does not hold is quarantined as missing.
    """

    value: float | str
    name: str
    when: Mapping[str, float | str] = field(default_factory=dict)

    @property
    def repair(self) -> str:
        """The key under which cleaning counts the repair (words joined by ``_``)."""
        return "_".join(self.name.split())


@dataclass(frozen=True)
class Column:
    """One column of a record."""

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
    #: A blank raw value that is repaired rather than quarantined (see ``BlankRule``).
    blank: BlankRule | None = None

    @property
    def blank_allowed(self) -> bool:
        return self.blank is not None

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
        blank = rf"|{SPACE}*" if self.blank_allowed else ""
        return rf"^(?:{SPACE}*{number}{SPACE}*{blank})$"

    @property
    def clean_dtype(self) -> str:
        """The pandas dtype of the column in clean data."""
        return {Kind.INTEGER: "int64", Kind.NUMBER: "float64"}.get(self.kind, "str")

    def parse(self, text: pd.Series) -> pd.Series:
        """Parse this column's raw text into its clean type; unparseable values become NA.

        Category aliases are mapped to their clean spelling; a value outside the
        contract stays as it is (the caller decides whether that is an error).
        """

        if self.numeric:
            # Float64 for integers too: "1.5" must stay visible as not-an-integer, and NA
            # is allowed.
            return parse_number(text.str.strip()).astype("Float64")
        if self.aliases:
            return text.replace(self.aliases)
        return text


@dataclass(frozen=True)
class Contract:
    """Every column of a record, which one identifies it, and which one is the target.

    The target is a category column; ``positive`` is its value that counts as 1
    (the event the model predicts). ``label`` names the 0/1 column that the feature
    table, the splits and the predictions carry (encoded by ``encode_target``).
    """

    columns: tuple[Column, ...]
    id_column: str
    target: str
    positive: str
    label: str
    #: A valid clean record (the features only): API examples, docs and tests.
    example: Mapping[str, Any] = field(default_factory=dict)
    #: The identifier is not in the source: collect makes it from each row's content.
    made_id: bool = False

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        for role, name in (("id_column", self.id_column), ("target", self.target)):
            if name not in names:
                raise ValueError(f"{role} {name!r} is not a column of the contract")
        if self.positive not in self.by_name[self.target].allowed:
            raise ValueError(f"positive {self.positive!r} is not an allowed target value")

    @cached_property
    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def features(self) -> tuple[Column, ...]:
        """The columns a prediction needs: everything but the identifier and the target."""
        return tuple(c for c in self.columns if c.name not in (self.id_column, self.target))

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.features)

    @property
    def categorical_features(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.features if not c.numeric)

    @property
    def numeric_features(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.features if c.numeric)

    @property
    def target_values(self) -> tuple[str, ...]:
        """The target's allowed values, in the contract's order."""
        return self.by_name[self.target].allowed

    def inputs(self, df: pd.DataFrame) -> pd.DataFrame:
        """The columns a model takes: the feature columns, in contract order."""
        return df[list(self.feature_names)]

    def encode_target(self, values: pd.Series) -> pd.Series:
        """The target as 1.0 (positive) / 0.0, NaN where it is missing."""
        return (values == self.positive).astype("float64").where(values.notna())

    def labels(self, df: pd.DataFrame) -> pd.Series:
        """The 0/1 label of clean rows (no target is missing there)."""
        return self.encode_target(df[self.target]).astype("int64")
