"""The validation and EDA reports, opened in headless Chromium with every host name blocked."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from churn.core.params import ExploreParams, ValidateParams
from churn.explore.page import render_report
from churn.explore.plots import PLOTS, draw_plots
from churn.explore.stats import summarize
from churn.validate.report import render
from churn.validate.suite import validate
from tests.browser import evaluate, screenshot
from tests.conftest import NEEDS
from tests.support.telco import TELCO, WORDS

STRICT = ValidateParams(
    min_rows=10, max_rows=1_000_000, max_blank_fraction=0.01, row_error_tolerance=0.0
)

#: What a reader sees: the verdict, and the visible text of each expectation's row.
READER_VIEW = """{
  title: document.title,
  verdict: document.getElementById('verdict').innerText,
  failedCards: Array.from(document.querySelectorAll('.card.bad')).map(c => c.innerText),
  rows: Array.from(document.querySelectorAll('tbody tr')).map(r => ({
    status: r.className,
    column: r.dataset.column,
    expectation: r.dataset.expectation,
    text: r.innerText,
    height: r.getBoundingClientRect().height
  })),
  images: document.images.length,
  overflow: document.documentElement.scrollWidth > window.innerWidth
}"""


def assert_drawn(png, min_colors: int = 8) -> None:
    """The screenshot shows something (not a blank or single-color page)."""
    pixels = np.asarray(Image.open(png).convert("RGB"))
    colors = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colors) >= min_colors, f"{png} looks blank ({len(colors)} colors)"


@pytest.fixture(scope="module")
def failing_report(telco_raw, tmp_path_factory):
    bad = telco_raw.copy()
    bad.loc[3, "customerID"] = bad.loc[4, "customerID"]
    bad.loc[10, "Contract"] = "Three year"
    # A value that would be markup if the report did not escape it.
    bad.loc[20, "PaymentMethod"] = '<img src="x" onerror="document.title=1">'
    summary = validate(bad, TELCO, STRICT, "data/raw/customers.parquet", NEEDS)
    page = tmp_path_factory.mktemp("validation") / "raw.html"
    page.write_text(render(summary, TELCO, "problems/telco.yaml"), encoding="utf-8")
    return summary, page


def test_failing_validation_report_shows_the_failures(failing_report, tmp_path):
    summary, page = failing_report
    seen = evaluate(page, READER_VIEW)
    evaluated = summary["evaluated"]
    assert seen["verdict"] == f"FAILED: 3 of {evaluated} expectations failed on 7,043 rows"
    assert len(seen["rows"]) == summary["evaluated"]  # every expectation, passed or not
    failed = {(r["column"], r["expectation"]): r for r in seen["rows"] if r["status"] == "fail"}
    assert set(failed) == {
        ("customerID", "ExpectColumnValuesToBeUnique"),
        ("Contract", "ExpectColumnValuesToBeInSet"),
        ("PaymentMethod", "ExpectColumnValuesToBeInSet"),
    }
    contract_row = failed[("Contract", "ExpectColumnValuesToBeInSet")]
    assert "failed" in contract_row["text"]
    assert "1 of 7,043 rows unexpected" in contract_row["text"]
    assert "'Three year' ×1" in contract_row["text"]
    # row 10 of the data is line 12 of the CSV (the header is line 1)
    assert "telco_customer_churn.csv:12 'Three year'" in contract_row["text"]
    unique_row = failed[("customerID", "ExpectColumnValuesToBeUnique")]
    assert "2 of 7,043 rows unexpected" in unique_row["text"]
    assert "telco_customer_churn.csv:5" in unique_row["text"]
    assert "telco_customer_churn.csv:6" in unique_row["text"]
    # the injected markup is shown as text, not run or drawn
    payment_row = failed[("PaymentMethod", "ExpectColumnValuesToBeInSet")]
    assert '<img src="x" onerror="document.title=1">' in payment_row["text"]
    assert seen["images"] == 0 and seen["title"].startswith("Validation report")
    assert len(seen["failedCards"]) == 3
    assert any("Three year" in card for card in seen["failedCards"])
    assert not seen["overflow"], "the table is wider than the window"
    assert_drawn(screenshot(page, tmp_path / "failing.png", width=1280, height=1600))


def test_passing_validation_report_lists_every_expectation(telco_raw, tmp_path):
    summary = validate(telco_raw, TELCO, STRICT, "data/raw/customers.parquet", NEEDS)
    page = tmp_path / "raw.html"
    page.write_text(render(summary, TELCO, "problems/telco.yaml"), encoding="utf-8")
    seen = evaluate(page, READER_VIEW)
    assert seen["verdict"] == f"PASSED: all {summary['evaluated']} expectations met on 7,043 rows"
    assert seen["failedCards"] == []
    assert len(seen["rows"]) == summary["evaluated"]
    assert {r["status"] for r in seen["rows"]} == {"ok", "warn"}
    # the 11 blank TotalCharges pass within the tolerance, with their lines shown
    (blank,) = [r for r in seen["rows"] if r["status"] == "warn"]
    assert blank["column"] == "TotalCharges"
    assert "11 of 7,043 rows unexpected" in blank["text"]
    assert "telco_customer_churn.csv:490" in blank["text"]
    counts = [r for r in seen["rows"] if r["expectation"] == "ExpectTableRowCountToBeBetween"]
    assert [r["column"] for r in counts] == ["", "Churn", "Churn"]
    assert "7,043" in counts[0]["text"]  # the table's rows, then the rows of each target class
    assert "5,174 rows" in counts[1]["text"] and "'No' ×5,174" in counts[1]["text"]
    assert "1,869 rows" in counts[2]["text"] and "'Yes' ×1,869" in counts[2]["text"]
    assert not seen["overflow"]
    assert_drawn(screenshot(page, tmp_path / "passing.png", width=1280, height=2400))


def test_eda_report_renders_offline_with_every_image(telco_clean, tmp_path):
    params = ExploreParams(
        iqr_multiplier=1.5, histogram_bins=30, dpi=60, scatter_max_points=10_000, seed=42
    )
    page = tmp_path / "report.html"
    pngs = draw_plots(telco_clean, TELCO, WORDS, params)
    page.write_text(
        render_report(
            summarize(telco_clean, TELCO, params),
            pngs,
            "clean",
            TELCO,
            WORDS,
            "problems/telco.yaml",
        ),
        "utf-8",
    )
    seen = evaluate(
        page,
        """{
          images: Array.from(document.images).map(img => ({
            scheme: img.getAttribute('src').split(',')[0],
            loaded: img.complete,
            width: img.naturalWidth,
            alt: img.alt
          })),
          text: document.body.innerText
        }""",
    )
    images, text = seen["images"], seen["text"]
    assert len(images) == len(PLOTS)
    for image in images:
        assert image["scheme"] == "data:image/png;base64", image
        assert image["loaded"] and image["width"] > 0, image
    assert {image["alt"] for image in images} == {p.titled(WORDS)[0] for p in PLOTS}
    assert "7,043 customers, 1,869 left (26.5%)" in text
    assert "Month-to-month" in text and "Electronic check" in text
    assert_drawn(screenshot(page, tmp_path / "eda.png", width=1280, height=3000), 64)
