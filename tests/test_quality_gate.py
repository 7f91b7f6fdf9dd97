"""The quality gate names each failed check, its value and its bar."""

from __future__ import annotations

import pytest

from churn.core.errors import QualityGateError
from churn.core.params import GateBars
from churn.gate.bars import check

METRICS = {"test": {"roc_auc": 0.8377, "top_decile_lift": 2.92}}


def test_passing_gate_reports_each_check():
    lines = check(METRICS, GateBars(min_test_roc_auc=0.83, min_test_top_decile_lift=2.5))
    assert lines == [
        "pass: test ROC-AUC 0.8377 >= 0.83 (gate.min_test_roc_auc)",
        "pass: test top-decile lift 2.9200 >= 2.5 (gate.min_test_top_decile_lift)",
    ]


def test_failing_gate_names_every_failed_check():
    bars = GateBars(min_test_roc_auc=0.9, min_test_top_decile_lift=3.0)
    with pytest.raises(QualityGateError) as err:
        check(METRICS, bars)
    message = str(err.value)
    assert "test ROC-AUC 0.8377 < 0.9 (gate.min_test_roc_auc)" in message
    assert "test top-decile lift 2.9200 < 3 (gate.min_test_top_decile_lift)" in message
    assert "what to do" in message


def test_unenforced_gate_reports_without_failing():
    bars = GateBars(min_test_roc_auc=0.9, min_test_top_decile_lift=2.0)
    assert check(METRICS, bars, enforce=False)[0].startswith("FAIL: test ROC-AUC")


def test_missing_metric_is_a_clear_error():
    with pytest.raises(QualityGateError, match=r"has no test\.top_decile_lift: run evaluate"):
        check(
            {"test": {"roc_auc": 0.9}}, GateBars(min_test_roc_auc=0.5, min_test_top_decile_lift=1)
        )
