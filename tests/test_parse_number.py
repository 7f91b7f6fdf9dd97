"""Numbers parsed from text: Arrow for plain decimals, pandas for the rest, the same bits."""

import numpy as np
import pandas as pd
import pytest

from churn.core.contract import parse_number

ODD = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e5",
    "1E-3",
    "+5",
    "5.",
    ".5",
    "-.5",
    "0",
    "-0",
    "-0.0",
    "0.000",
    "-0.5",
    "00",
    "007",
    "00.50",
    "1_000",
    "1,5",
    "٣",
    "12345678901234",
    "123456789012345",
    "1234567890123456",
    "0.1234567890123",
    "99999999999999.9",
    "-9999999999999.9",
    "4.9406564584124654e-324",
    "1" * 30,
    "--1",
    "1-",
    "1.2.3",
    "abc",
]


def _reference(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype == np.float64
    np.testing.assert_array_equal(a.view(np.int64), b.view(np.int64))  # -0.0 != 0.0 here


@pytest.mark.parametrize("dtype", ["str", object])
def test_odd_values_parse_as_pandas_parses_them(dtype):
    values = pd.Series([*ODD, None], dtype=dtype)
    _same_bits(parse_number(values).to_numpy(), _reference(values))


def test_random_decimals_parse_to_the_same_bits():
    rng = np.random.default_rng(7)
    n = 200_000
    digits = rng.integers(1, 16, n)
    decimals = rng.integers(0, 10, n)
    text = []
    for d, k in zip(digits, decimals, strict=True):
        body = "".join(map(str, rng.integers(0, 10, d)))
        if 0 < k < d:
            body = f"{body[: d - k]}.{body[d - k :]}"
        text.append(("-" if rng.random() < 0.3 else "") + body)
    values = pd.Series(text, dtype="str")
    _same_bits(parse_number(values).to_numpy(), _reference(values))


def test_the_index_is_kept_and_other_columns_fall_back():
    values = pd.Series(["1.5", "x"], index=[10, 20], dtype="str")
    assert parse_number(values).index.tolist() == [10, 20]
    numbers = pd.Series([1, 2])
    _same_bits(parse_number(numbers).to_numpy(), np.array([1.0, 2.0]))
