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


def test_slices_encoded_in_the_sample_pass_join_into_the_second_passs_frame():
    """The local engine encodes each slice as the sample is read, against the slice's own
    categories, and remaps the codes once all are known: the frame must be the one that
    encoding every slice with the fitted step and joining them gives."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from churn.train.full_fit import combine, encode, encode_slice

    def text(values):
        return pd.Series(values, dtype="str")

    frames = [
        pd.DataFrame(
            {
                "n": [1.5, None, 3.0],
                "i": [1, 2, 3],
                "c": text(["b", None, "a"]),
                "d": text(["x", "x", "y"]),
                "y": [0, 1, 0],
            }
        ),
        # a category no other slice has, a column with no value at all
        pd.DataFrame({"n": [4.25], "i": [7], "c": text(["c"]), "d": text([None]), "y": [1]}),
        pd.DataFrame(
            {
                "n": [0.0, 2.0],
                "i": [0, 9],
                "c": text(["a", "c"]),
                "d": text(["y", "z"]),
                "y": [1, 0],
            }
        ),
    ]
    slices = [pa.Table.from_pandas(f, preserve_index=False) for f in frames]
    found = [encode_slice(t, None, ["n", "i"], ["c", "d"], "y") for t in slices]
    codes = CategoryCodes(["n", "i"], ["c", "d"])
    for each in found:
        codes.partial_fit(each.categories)
    assert codes.categories_ == {"c": ["a", "b", "c"], "d": ["x", "y", "z"]}

    second = pd.concat([encode(t.to_pandas(), None, codes, "y") for t in slices], ignore_index=True)
    labels = second.pop("y")
    pd.testing.assert_frame_equal(combine(found, codes), second)
    assert np.concatenate([each.label for each in found]).tolist() == labels.tolist()

    # The sample pass reads text as dictionaries, which may hold values that no row of the
    # slice uses (those of whole row groups): they are not categories.
    def as_read(t):
        columns = {}
        for name in t.column_names:
            values = t.column(name).combine_chunks()
            if name in ("c", "d"):
                words = pa.array(["unused", *sorted(set(values.drop_null().to_pylist()))])
                values = pa.DictionaryArray.from_arrays(pc.index_in(values, value_set=words), words)
            columns[name] = values
        return pa.table(columns)

    read = [encode_slice(as_read(t), None, ["n", "i"], ["c", "d"], "y") for t in slices]
    again = CategoryCodes(["n", "i"], ["c", "d"])
    for each in read:
        again.partial_fit(each.categories)
    assert again.categories_ == codes.categories_
    pd.testing.assert_frame_equal(combine(read, again), second)

    # A categorical column that is not text: only its categories, and a second pass.
    numbers = pa.table({"n": [1.0], "k": [3], "y": [0]})
    assert encode_slice(numbers, None, ["n"], ["k"], "y").codes is None
