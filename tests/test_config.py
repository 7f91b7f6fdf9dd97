"""Typed params: misspelled, missing or invalid keys are errors that name the key."""

from __future__ import annotations

import pytest
import yaml

from churn.config import SECTIONS, load_section
from churn.contract import BY_NAME, FEATURE_NAMES, example_record
from churn.errors import ConfigError
from churn.sandbox import REPO_ROOT

PARAMS = REPO_ROOT / "params.yaml"


def write(tmp_path, data):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_every_section_of_the_shipped_params_loads():
    for name in SECTIONS:
        load_section(name, PARAMS)


def test_misspelled_key_is_named(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    data["train"]["logistic_regression"]["CC"] = 1
    with pytest.raises(ConfigError, match=r"train\.logistic_regression\.CC: unknown key"):
        load_section("train", write(tmp_path, data))


def test_missing_key_and_bad_value_are_named(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    del data["split"]["seed"]
    data["split"]["test"] = 0.5
    with pytest.raises(ConfigError) as err:
        load_section("split", write(tmp_path, data))
    assert "split.seed: required key is missing" in str(err.value)


def test_split_fractions_must_sum_to_one(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    data["split"]["test"] = 0.5
    with pytest.raises(ConfigError, match="must be 1"):
        load_section("split", write(tmp_path, data))


def test_unknown_source_kind(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    data["collect"]["source"]["kind"] = "excel"
    with pytest.raises(ConfigError, match=r"collect\.source"):
        load_section("collect", write(tmp_path, data))


def test_contract_example_record_is_valid():
    record = example_record()
    assert list(record) == list(FEATURE_NAMES)
    for name, value in record.items():
        col = BY_NAME[name]
        if col.numeric:
            assert col.minimum <= value <= col.maximum
        else:
            assert value in col.allowed


def test_search_space_ranges_and_families_are_checked(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    data["train"]["search_space"]["svm"] = {"C": {"low": 1.0, "high": 0.1}}
    with pytest.raises(ConfigError, match=r"train\.search_space\.svm\.C"):
        load_section("train", write(tmp_path, data))
    data = yaml.safe_load(PARAMS.read_text())
    data["train"]["search_space"]["xgboost"] = {"eta": [0.1]}
    with pytest.raises(ConfigError, match=r"train\.search_space\.xgboost"):
        load_section("train", write(tmp_path, data))
    data = yaml.safe_load(PARAMS.read_text())
    data["train"]["tuning"]["method"] = "hyperband"
    with pytest.raises(ConfigError, match=r"train\.tuning\.method"):
        load_section("train", write(tmp_path, data))


def test_business_offer_must_cost_less_than_the_customer_is_worth(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    data["business"]["offer_cost"] = 500
    with pytest.raises(ConfigError, match="offer_cost must be below customer_lifetime_value"):
        load_section("business", write(tmp_path, data))
