"""The stakeholder report, opened in headless Chromium with every host name blocked."""

from __future__ import annotations

from churn.report.page import render_report
from churn.report.plots import draw_plots
from tests.browser import evaluate, screenshot
from tests.support.telco import PROBLEM, WORDS
from tests.test_reporting import small_evidence
from tests.test_reports_browser import assert_drawn

#: What a reader sees: the text, every image's drawn size, the headline figures.
READER_VIEW = """{
  text: document.body.innerText,
  images: Array.from(document.images).map(i => ({
    alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight
  })),
  kpis: Array.from(document.querySelectorAll('.kpi')).map(k => k.innerText),
  sections: Array.from(document.querySelectorAll('h2')).map(h => h.id),
  overflow: document.documentElement.scrollWidth > window.innerWidth
}"""


def test_stakeholder_report_renders_offline_with_its_key_numbers(tmp_path):
    ev = small_evidence(threshold=0.15)
    pngs = draw_plots(ev, WORDS, dpi=60)
    # A real exploration PNG stands in for the box plots: one of the report's own plots.
    html = render_report(ev, PROBLEM, pngs, boxplots=pngs["segments"])
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")

    seen = evaluate(page, READER_VIEW)
    assert len(seen["images"]) == 5
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert seen["sections"] == [
        "problem",
        "data",
        "exploration",
        "models",
        "decision",
        "impact",
        "limitations",
        "model-card",
    ]
    assert "0.15\ncontact threshold" in seen["kpis"]
    assert "9.94\nprofit per customer (test)" in seen["kpis"]
    assert "contact customers whose predicted churn probability is at least 0.15" in seen["text"]
    assert "expected to earn 9.94 per customer" in seen["text"]
    assert not seen["overflow"], "the page is wider than the window"

    shot = screenshot(page, tmp_path / "report.png", width=1100, height=3000)
    assert_drawn(shot, min_colors=50)
