"""Degenerate targets are refused by validate, before anything is trained (issue 13, item 1).

A target with a single class, too few rows of a class for the stratified split and
the CV folds, or an almost constant target: validate names the column, the class
counts and what the later stages need. The rows needed per class are derived from
the split fractions and ``train.cv_folds``; a test checks that derivation against the
project's own split and scikit-learn's folds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

from churn.core.errors import ConfigError
from churn.core.params import TrainParams, ValidateParams, load_keys
from churn.split.stratified import split
from churn.validate.checks import ClassNeeds
from churn.validate.messages import explain_failures
from churn.validate.report import render
from churn.validate.suite import validate
from tests.conftest import NEEDS, read_telco_text, write_csv
from tests.support import sandbox
from tests.support.telco import TELCO
from tests.test_pipeline_e2e import point_collect_at, ran, set_param

PARAMS = ValidateParams(
    min_rows=100, max_rows=1_000_000, max_blank_fraction=0.01, row_error_tolerance=0.0
)


def source(no: int, yes: int) -> pd.DataFrame:
    """Raw text rows of the bundled data: ``no`` customers who stayed, ``yes`` who left."""
    text = read_telco_text()
    stayed, left = text[text["Churn"] == "No"].head(no), text[text["Churn"] == "Yes"].head(yes)
    return pd.concat([stayed, left], ignore_index=True)


def refusal(df: pd.DataFrame, needs: ClassNeeds = NEEDS) -> str:
    """The message validate gives for ``df`` as a raw snapshot ('' when it passes)."""
    raw = df.assign(_source_file="s.csv", _source_line=np.arange(2, len(df) + 2))
    summary = validate(raw, TELCO, PARAMS, "data/raw/customers.parquet", needs)
    render(summary, TELCO, "problems/telco.yaml")  # the HTML report draws every outcome
    if summary["success"]:
        return ""
    return explain_failures(summary, TELCO, list(raw.columns), "s.csv", needs)


def test_the_rows_needed_follow_the_split_fractions_and_folds():
    assert NEEDS.min_rows == 9  # (5 folds + 1) / 0.70 = 8.6
    assert ClassNeeds(0.7, 0.15, 0.15, 10, 0.99).min_rows == 16
    assert ClassNeeds(0.9, 0.05, 0.05, 2, 0.99).min_rows == 20  # 1 / 0.05: validation, test
    assert "70/15/15" in NEEDS.why() and "train.cv_folds" in NEEDS.why()


@pytest.mark.parametrize(
    ("fractions", "folds"),
    [((0.7, 0.15, 0.15), 5), ((0.7, 0.15, 0.15), 10), ((0.8, 0.1, 0.1), 3), ((0.5, 0.25, 0.25), 2)],
)
def test_the_rows_needed_are_enough_for_the_real_split_and_folds(fractions, folds):
    """At the minimum, every part of the project's split and every CV fold holds the class."""
    needs = ClassNeeds(*fractions, cv_folds=folds, max_share=1.0)
    rare = needs.min_rows
    for rows in range(max(20, 2 * rare), 2 * rare + 60, 3):
        table = pd.DataFrame(
            {
                TELCO.id_column: [f"{i:06d}" for i in range(rows)],
                TELCO.label: np.r_[np.ones(rare, int), np.zeros(rows - rare, int)],
            }
        )
        parts = split(table, TELCO, *fractions, seed=42)
        for name in ("validation", "test"):
            assert parts[name][TELCO.label].sum() >= 1, (rows, name)
        train = parts["train"]
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
        for _, held_out in cv.split(train, train[TELCO.label]):
            assert set(train[TELCO.label].iloc[held_out]) == {0, 1}, (rows, folds)


def test_a_single_class_is_refused_with_the_counts_and_what_is_needed():
    message = refusal(source(no=300, yes=0))
    assert "column 'Churn' (the target) holds a single class: 'No' 300 rows, 'Yes' 0 rows" in (
        message
    )
    assert "needed: at least 9 rows of each class" in message
    assert "6 in the training part for its 5 CV folds (train.cv_folds" in message
    assert "70/15/15 split (split.train, split.validation, split.test)" in message
    assert "row_error_tolerance" not in message  # no advice that cannot help


def test_too_few_rows_of_the_rarer_class_are_refused():
    assert refusal(source(no=300, yes=9)) == ""  # exactly enough
    message = refusal(source(no=300, yes=8))
    assert "has too few rows of class 'Yes': 'No' 300 rows, 'Yes' 8 rows" in message
    assert "needed: at least 9 rows of each class" in message
    assert "fewer train.cv_folds need fewer rows" in message


def test_more_folds_need_more_rows():
    ten_folds = ClassNeeds(0.7, 0.15, 0.15, cv_folds=10, max_share=0.99)
    message = refusal(source(no=300, yes=12), ten_folds)
    assert "'Yes' 12 rows" in message and "at least 16 rows of each class" in message
    assert "10 CV folds" in message


def test_an_almost_constant_target_is_refused():
    message = refusal(source(no=2000, yes=12))  # enough rows, but 0.6% of them
    assert "column 'Churn' (the target) is almost constant: 99.40% of rows are 'No'" in message
    assert "('No' 2,000 rows, 'Yes' 12 rows)" in message
    assert "at most 99.00% of rows in one class (validate.min_target_class_share: 1.00%)" in (
        message
    )
    off = ClassNeeds(0.7, 0.15, 0.15, 5, max_share=1.0)  # min_target_class_share: 0
    assert refusal(source(no=2000, yes=12), off) == ""


def test_the_class_share_outcome_counts_each_class_without_listing_its_rows():
    """Only counts are asked of Great Expectations for the share check (its rows are fine)."""
    df = source(no=2000, yes=12)
    raw = df.assign(_source_file="s.csv", _source_line=np.arange(2, len(df) + 2))
    summary = validate(raw, TELCO, PARAMS, "data/raw/customers.parquet", NEEDS)
    shares = [e for e in summary["expectations"] if e["rule"] == "target_class_share"]
    assert len(shares) == 2
    by_value = {e["examples"][0]["value"]: e for e in shares}
    assert by_value["No"]["examples"] == [{"count": 2000, "value": "No"}]
    assert by_value["No"]["unexpected_count"] == 2000 and not by_value["No"]["success"]
    assert by_value["Yes"]["examples"] == [{"count": 12, "value": "Yes"}]
    assert by_value["Yes"]["success"]
    assert all(e["lines"] == [] and e["element_count"] == 2012 for e in shares)


def test_other_failures_are_still_reported_beside_the_target():
    df = source(no=300, yes=3)
    df.loc[0, "tenure"] = "-1"
    message = refusal(df)
    assert "too few rows of class 'Yes'" in message
    assert "column 'tenure': expected is between 0 and 120" in message
    assert "row_error_tolerance" in message  # the advice for the row problem


def test_share_param_is_validated_and_cv_folds_read_alone(tmp_path):
    with pytest.raises(ValueError, match="min_target_class_share"):
        ValidateParams(**{**PARAMS.model_dump(), "min_target_class_share": 0.5})
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  cv_folds: 1\n  model: not-checked-here\n")
    with pytest.raises(ConfigError, match=r"train\.cv_folds: Input should be greater"):
        load_keys(TrainParams, ["cv_folds"], params)
    params.write_text("train:\n  cv_folds: 4\n  model: not-checked-here\n")
    assert load_keys(TrainParams, ["cv_folds"], params) == {"cv_folds": 4}


@pytest.mark.e2e
def test_degenerate_sources_stop_at_validate_through_dvc(tmp_path):
    """A corpus of degenerate sources through the real dvc CLI, in one sandbox."""
    box = sandbox.create(tmp_path / "repo")
    set_param(box, "validate.min_rows", 100)
    corpus = {
        "single_class": (source(no=400, yes=0), "holds a single class: 'No' 400 rows, 'Yes' 0"),
        "too_few": (source(no=400, yes=8), "too few rows of class 'Yes': 'No' 400 rows, 'Yes' 8"),
        "almost_constant": (source(no=1500, yes=10), "is almost constant: 99.34% of rows are 'No'"),
    }
    for name, (df, expected) in corpus.items():
        write_csv(df, box.path / "data" / "incoming" / f"{name}.csv")
        point_collect_at(box, f"data/incoming/{name}.csv")
        result = box.dvc("repro", check=False)
        output = result.stdout + result.stderr
        assert result.returncode != 0, name
        assert ran(result) == ["collect", "validate"], (name, output)
        assert expected in output, (name, output)
        assert "Traceback" not in output, name
        assert not (box.path / "data" / "interim" / "customers_clean.parquet").exists(), name
        assert not (box.path / "models" / "model.joblib").exists(), name

    # Just enough rows of each class: validate lets it through and train fits its folds.
    write_csv(source(no=400, yes=9), box.path / "data" / "incoming" / "enough.csv")
    point_collect_at(box, "data/incoming/enough.csv")
    box.dvc("repro", "train")
    assert (box.path / "models" / "model.joblib").exists()

    # The need follows train.cv_folds: with 10 folds, 9 rows are too few, and validate
    # (not train) says so.
    set_param(box, "train.cv_folds", 10)
    result = box.dvc("repro", "train", check=False)
    output = result.stdout + result.stderr
    assert ran(result) == ["validate"], output
    assert "needed: at least 16 rows of each class" in output and "10 CV folds" in output
