"""decision_threshold: models/decision.json read and checked against the loaded model."""

from __future__ import annotations

import json

import pytest

from churn.core.artifacts import ArtifactError
from churn.serve.model_source import decision_threshold

DECISION = "models/decision.json"

MD5 = "2e20ad30a67fa341b208b70469c20a17"


def decision(**changes) -> dict:
    return {
        "schema_version": 1,
        "threshold": 0.15,
        "chosen_on": "validation",
        "objective": "expected profit per customer",
        "model": {"path": "models/model.joblib", "md5": MD5},
        "break_even_threshold": 0.164179,
        "economics": {"offer_cost": 10.0},
        "expected_profit_per_customer": {"validation": 10.2, "test": 9.9},
        "contacted_share": {"validation": 0.52, "test": 0.55},
        **changes,
    }


def reader(content: bytes | None):
    return lambda path: content if path == DECISION else None


def test_reads_the_threshold_and_what_it_is_worth():
    got = decision_threshold(
        reader(json.dumps(decision()).encode()), MD5, "revision 'v1'", DECISION
    )
    assert got.threshold == 0.15
    assert got.source == "models/decision.json (revision 'v1')"
    assert got.chosen_on == "validation"
    assert got.expected_profit_per_customer == {"validation": 10.2, "test": 9.9}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "models/decision.json not found in the workspace"),
        (b"[1, 2]", "is not a JSON object"),
        (b"{not json", "is not a JSON object"),
        (decision(schema_version=2), "has schema_version 2; this service reads schema_version 1"),
        ({k: v for k, v in decision().items() if k != "schema_version"}, "schema_version None"),
        ({k: v for k, v in decision().items() if k != "threshold"}, "invalid key 'threshold'"),
        (decision(threshold="high"), "invalid key"),
        (decision(threshold=1.5), "threshold 1.5 - expected a probability in [0, 1]"),
        (decision(threshold=float("nan")), "expected a probability in [0, 1]"),
        (decision(model={"md5": "0" * 32}), "threshold chosen for model 000"),
    ],
)
def test_refuses_a_missing_unknown_or_foreign_decision(content, message):
    raw = content if content is None or isinstance(content, bytes) else json.dumps(content)
    raw = raw.encode() if isinstance(raw, str) else raw
    with pytest.raises(ArtifactError, match=message.replace("[", r"\[").replace("]", r"\]")):
        decision_threshold(reader(raw), MD5, "the workspace", DECISION)
