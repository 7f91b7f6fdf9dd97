"""The raw-text patterns of numeric columns: Python's meaning, matched in Arrow."""

import re
import sys

import pandas as pd
import pytest

from churn.core.contract import SPACE, BlankRule, Column, Kind


def test_space_is_pythons_whitespace_class():
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    assert re.findall(SPACE, everything) == re.findall(r"\s", everything)


@pytest.mark.parametrize(
    ("kind", "blank", "text", "ok"),
    [
        (Kind.INTEGER, False, " 12 ", True),
        (Kind.INTEGER, False, "1.5", False),
        (Kind.INTEGER, False, "", False),
        (Kind.NUMBER, True, "\xa0 29.85\u3000", True),
        (Kind.NUMBER, True, " \x0b", True),
        (Kind.NUMBER, True, ".5", True),
        (Kind.NUMBER, True, "1e5", False),
        (Kind.NUMBER, False, " ", False),
        (Kind.NUMBER, False, "twelve", False),
    ],
)
def test_arrow_and_python_agree(kind, blank, text, ok):
    rule = BlankRule(value=0.0, name="zero") if blank else None
    column = Column(name="x", kind=kind, description="x", blank=rule)
    pattern = column.raw_regex
    python = pattern.replace(SPACE, r"\s")  # the pattern as first written
    values = pd.Series([text, "7"], dtype="str")
    assert bool(re.search(python, text)) is ok
    assert values.str.contains(pattern).tolist()[0] is ok
    assert values.astype(object).str.contains(pattern).tolist()[0] is ok
