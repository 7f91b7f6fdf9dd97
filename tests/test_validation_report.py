"""The validation report's HTML, without a browser: content, escaping, byte stability."""

from __future__ import annotations

from churn.core.params import ValidateParams
from churn.validate.report import render
from churn.validate.suite import validate
from tests.conftest import NEEDS
from tests.support.telco import TELCO

STRICT = ValidateParams(
    min_rows=10, max_rows=1_000_000, max_blank_fraction=0.01, row_error_tolerance=0.0
)


def test_renamed_column_is_reported_as_missing_and_unexpected(telco_raw):
    summary = validate(telco_raw.rename(columns={"tenure": "Tenure"}), TELCO, STRICT, "raw", NEEDS)
    html = render(summary, TELCO, "problems/telco.yaml")
    assert "FAILED: 1 of" in html
    assert "missing <code>tenure</code>; unexpected <code>Tenure</code>; (renamed?)" in html


def test_report_is_byte_stable_and_has_nothing_to_fetch(telco_raw):
    bad = telco_raw.copy()
    bad.loc[7, "gender"] = "</td><script>x</script>"
    first = render(validate(bad, TELCO, STRICT, "raw", NEEDS), TELCO, "problems/telco.yaml")
    assert render(validate(bad, TELCO, STRICT, "raw", NEEDS), TELCO, "problems/telco.yaml") == first
    assert "<script>" not in first and "&lt;/td&gt;&lt;script&gt;" in first
    assert "http://" not in first and "https://" not in first and "<link" not in first
