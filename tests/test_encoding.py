"""The tree models' encoding step: categories from training, the same codes however encoded."""

import warnings

import numpy as np
import pandas as pd
import pytest

from churn.features.encoding import CategoryCodes, as_categorical

CATEGORIES = ["DSL", "Fiber optic", "No"]
VALUES = ["No", "Fiber optic", None, "Satellite", "DSL", "No"]  # "Satellite": unseen


def _by_astype(values: pd.Series, categories: list[str]) -> pd.Categorical:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecates astype with unseen values
        return values.astype(pd.CategoricalDtype(categories)).array


@pytest.mark.parametrize(
    "dtype", [pd.StringDtype("pyarrow"), pd.ArrowDtype(__import__("pyarrow").string()), object]
)
def test_text_gets_the_codes_astype_gives(dtype):
    values = pd.Series(VALUES, dtype=dtype)
    got = as_categorical(values, CATEGORIES)
    assert list(got.categories) == CATEGORIES
    np.testing.assert_array_equal(got.codes, [2, 1, -1, -1, 0, 2])
    np.testing.assert_array_equal(got.codes, _by_astype(values, CATEGORIES).codes)


def test_a_column_without_categories_is_all_missing():
    got = as_categorical(pd.Series(["a", None], dtype="str"), [])
    np.testing.assert_array_equal(got.codes, [-1, -1])


def test_numbers_fall_back_to_astype():
    values = pd.Series([1, 0, 2])
    got = as_categorical(values, [0, 1])
    np.testing.assert_array_equal(got.codes, [1, 0, -1])


def test_batches_give_the_step_the_whole_gives():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(0, 72, 500),
            "contract": pd.Series(rng.choice(["Month-to-month", "One year", "Two year"], 500)),
        }
    ).astype({"contract": "str"})
    whole = CategoryCodes(["tenure"], ["contract"]).fit(frame)
    batched = CategoryCodes(["tenure"], ["contract"])
    for start in range(0, 500, 120):
        batched.partial_fit(frame.iloc[start : start + 120])
    assert batched.categories_ == whole.categories_
    pd.testing.assert_frame_equal(batched.transform(frame), whole.transform(frame))
    encoded = whole.transform(frame)
    assert encoded["tenure"].dtype == np.float32
    assert list(encoded["contract"].cat.categories) == ["Month-to-month", "One year", "Two year"]


def test_mixed_values_fall_back_to_the_index():
    values = pd.Series(["No", 3, None, "DSL"], dtype=object)
    got = as_categorical(values, CATEGORIES)
    np.testing.assert_array_equal(got.codes, [2, -1, -1, 0])
