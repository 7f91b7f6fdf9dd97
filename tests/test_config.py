"""Typed params: misspelled, missing or invalid keys are errors that name the key."""

from __future__ import annotations

import pytest
import yaml

from churn.collect.sources import CollectParams
from churn.core import params as params_module
from churn.core.errors import ConfigError
from churn.core.params import Section, SplitParams, TrainParams, load
from churn.core.problem import ProblemParams, parse_problem
from churn.monitor.outcomes import OutcomesParams
from churn.monitor.settings import MonitorParams
from churn.retrain.settings import RetrainParams
from churn.score.settings import ScoreParams
from churn.simulate.stream import StreamParams
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import TELCO

PARAMS = REPO_ROOT / "params.yaml"
#: Every section class of the base params module (the collect, score, outcomes, monitor and
#: stream sections live with the code that reads them).
SECTIONS = tuple(
    cls
    for cls in vars(params_module).values()
    if isinstance(cls, type) and issubclass(cls, Section) and cls is not Section
)


def write(tmp_path, data):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_every_section_of_the_shipped_params_loads():
    data = yaml.safe_load(PARAMS.read_text())
    others = (
        CollectParams,
        ProblemParams,
        ScoreParams,
        OutcomesParams,
        MonitorParams,
        StreamParams,
        RetrainParams,
    )
    sections = {s.section: s for s in (*SECTIONS, *others)}
    assert set(sections) == set(data), "a section of params.yaml has no typed class, or back"
    for section in sections.values():
        load(section, PARAMS)


def test_misspelled_key_is_named(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    data["train"]["logistic_regression"]["CC"] = 1
    with pytest.raises(ConfigError, match=r"train\.logistic_regression\.CC: unknown key"):
        load(TrainParams, write(tmp_path, data))


def test_missing_key_and_bad_value_are_named(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    del data["split"]["seed"]
    data["split"]["test"] = 0.5
    with pytest.raises(ConfigError) as err:
        load(SplitParams, write(tmp_path, data))
    assert "split.seed: required key is missing" in str(err.value)


def test_split_fractions_must_sum_to_one(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    data["split"]["test"] = 0.5
    with pytest.raises(ConfigError, match="must be 1"):
        load(SplitParams, write(tmp_path, data))


def test_unknown_source_kind(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    data["collect"]["source"]["kind"] = "excel"
    with pytest.raises(ConfigError, match=r"collect\.source"):
        load(CollectParams, write(tmp_path, data))


def test_contract_example_record_is_valid():
    record = dict(TELCO.example)
    assert list(record) == list(TELCO.feature_names)
    for name, value in record.items():
        col = TELCO.by_name[name]
        if col.numeric:
            assert col.minimum <= value <= col.maximum
        else:
            assert value in col.allowed


def test_search_space_ranges_and_families_are_checked(tmp_path):
    data = yaml.safe_load(PARAMS.read_text())
    data["train"]["search_space"]["svm"] = {"C": {"low": 1.0, "high": 0.1}}
    with pytest.raises(ConfigError, match=r"train\.search_space\.svm\.C"):
        load(TrainParams, write(tmp_path, data))
    data = yaml.safe_load(PARAMS.read_text())
    data["train"]["search_space"]["xgboost"] = {"eta": [0.1]}
    with pytest.raises(ConfigError, match=r"train\.search_space\.xgboost"):
        load(TrainParams, write(tmp_path, data))
    data = yaml.safe_load(PARAMS.read_text())
    data["train"]["tuning"]["method"] = "hyperband"
    with pytest.raises(ConfigError, match=r"train\.tuning\.method"):
        load(TrainParams, write(tmp_path, data))


def test_business_offer_must_cost_less_than_the_customer_is_worth():
    text = (REPO_ROOT / "problems" / "telco.yaml").read_text()
    text = text.replace("  offer_cost: 10.0", "  offer_cost: 500")
    with pytest.raises(ConfigError, match="offer_cost must be below customer_lifetime_value"):
        parse_problem(text, "problems/telco.yaml")
