"""End to end: `make compare` on a two-commit repository, and the plots pages in Chromium.

A sandbox copy runs the real pipeline, is committed, gets a different train parameter,
runs again and is committed again. The report of the second commit against the first
must show that parameter, the metric deltas with the right marks, and valid images;
`dvc plots show` and `dvc plots diff` pages must draw every chart with the network blocked.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from PIL import Image

from churn.experiments.directions import metric_direction
from tests.browser import rendered_dom, screenshot
from tests.test_pipeline_e2e import set_param

pytestmark = pytest.mark.e2e

C_BASE, C_NEW = 1.0, 0.05
ARTIFACTS = Path(__file__).resolve().parents[1] / ".pytest_cache" / "compare-e2e"


@pytest.fixture(scope="module")
def box(pipeline_copy):
    """Two commits that differ in train.logistic_regression.C, each with its metrics."""
    box = pipeline_copy("compare")
    box.commit("base: pipeline run")
    set_param(box, "train.logistic_regression.C", C_NEW)
    box.dvc("repro")
    box.commit("smaller C")
    return box


def committed_metrics(box, revision: str) -> dict[str, float]:
    text = box.run("git", "show", f"{revision}:metrics/evaluate/metrics.json").stdout
    return {
        f"{split}.{name}": value
        for split, values in json.loads(text).items()
        for name, value in values.items()
    }


@pytest.fixture(scope="module")
def report(box):
    result = box.run("python", "-m", "churn.experiments", "compare", "--base", "HEAD~1")
    assert "wrote reports/compare/report.md" in result.stdout
    return (box.path / "reports/compare/report.md").read_text(encoding="utf-8")


def test_report_shows_the_one_changed_param(report):
    params = report.split("### Params", 1)[1].split("### Metrics", 1)[0]
    rows = [line for line in params.splitlines() if line.startswith("| `")]
    assert rows == ["| `params.yaml` | `train.logistic_regression.C` | 1 | 0.05 |"]


def test_report_metric_deltas_and_marks_match_the_two_commits(box, report):
    old, new = committed_metrics(box, "HEAD~1"), committed_metrics(box, "HEAD")
    assert old != new  # the parameter really changed the model
    rows = {
        m.group(1): m.groups()[1:]
        for m in re.finditer(
            r"^\| `metrics/evaluate/metrics.json` \| `([\w.]+)` \| ([^|]+) \| ([^|]+) \| "
            r"([^|]*) \| ([^|]+) \|$",
            report,
            flags=re.M,
        )
    }
    assert set(rows) == set(old)  # every metric is listed, changed or not
    checked = 0
    for key, (shown_old, shown_new, delta, mark) in rows.items():
        # The report shows 6 significant digits (profits per customer are above 10).
        assert float(shown_old) == pytest.approx(old[key], rel=1e-5, abs=1e-6)
        assert float(shown_new) == pytest.approx(new[key], rel=1e-5, abs=1e-6)
        change = new[key] - old[key]
        if change == 0:
            assert mark.strip() == "= same"
            continue
        checked += 1
        assert float(delta.split()[0]) == pytest.approx(change, rel=1e-3)
        improved = (change > 0) == metric_direction(key)
        assert mark.strip() == ("✅ better" if improved else "❌ worse"), key
    assert checked >= 1
    assert "not up to date" not in report


def test_report_images_are_valid_pngs_of_every_plot(box, report):
    links = re.findall(r"!\[([^\]]+)\]\((plots/[\w.-]+\.png)\)", report)
    defined = yaml.safe_load((box.path / "dvc.yaml").read_text())["plots"]
    assert len(links) == len(defined)
    folder = box.path / "reports/compare"
    for title, link in links:
        with Image.open(folder / link) as image:
            image.verify()
        with Image.open(folder / link) as image:
            assert image.format == "PNG" and image.width > 300 and image.height > 200, title
            # a drawn chart has many colours, not a blank canvas
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 20
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder, ARTIFACTS / "report", dirs_exist_ok=True)


def test_compare_rejects_an_unknown_base(box):
    result = box.run(
        "python", "-m", "churn.experiments", "compare", "--base", "no-such-branch", check=False
    )
    assert result.returncode == 1
    assert "base revision 'no-such-branch' is not a commit" in result.stderr
    assert "Traceback" not in result.stderr


class PlotDivs(HTMLParser):
    """For each top-level plot <div id=...>, whether vega-embed drew its marks into it."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.current: str | None = None
        self.current_depth = 0
        self.drawn: dict[str, bool] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div":
            self.depth += 1
            if self.current is None and attrs.get("id"):
                self.current, self.current_depth = attrs["id"], self.depth
                self.drawn[self.current] = False
        if (
            self.current
            and tag in ("svg", "canvas")
            and "marks" in (attrs.get("class") or "").split()
        ):
            self.drawn[self.current] = True

    def handle_endtag(self, tag):
        if tag == "div":
            if self.current is not None and self.depth == self.current_depth:
                self.current = None
            self.depth -= 1


def drawn_plots(page: Path) -> dict[str, bool]:
    parser = PlotDivs()
    parser.feed(rendered_dom(page))
    return parser.drawn


@pytest.mark.parametrize("command", [("show",), ("diff", "HEAD~1")], ids=["show", "diff"])
def test_plots_pages_draw_every_chart_offline(box, command):
    out = f"dvc_plots_{command[0]}"
    box.dvc("plots", *command, "-o", out)
    page = box.path / out / "index.html"
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", html)  # nothing from a CDN
    expected = len(yaml.safe_load((box.path / "dvc.yaml").read_text())["plots"])
    assert html.count("vegaEmbed(") == expected
    # Image plots (the explore stage's PNGs) share the page; check every vega chart drew.
    charts = re.findall(r"vegaEmbed\('#([^']+)'", html)
    drawn = drawn_plots(page)
    assert len(charts) == expected
    assert all(drawn.get(chart) for chart in charts), drawn
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = screenshot(page, ARTIFACTS / f"plots-{command[0]}.png", height=1800)
    with Image.open(png) as image:
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 20


def test_default_page_without_the_template_stays_blank_offline(box, tmp_path):
    """Guards the check itself: DVC's own page (vega from a CDN) must fail it offline."""
    from dvc_render.html import PAGE_HTML

    default = tmp_path / "dvc_default.html"
    default.write_text(PAGE_HTML, encoding="utf-8")
    box.dvc("plots", "show", "-o", "dvc_plots_cdn", "--html-template", str(default))
    page = box.path / "dvc_plots_cdn" / "index.html"
    assert "cdn.jsdelivr.net" in page.read_text(encoding="utf-8")
    charts = re.findall(r"vegaEmbed\('#([^']+)'", page.read_text(encoding="utf-8"))
    drawn = drawn_plots(page)
    assert len(charts) == len(yaml.safe_load((box.path / "dvc.yaml").read_text())["plots"])
    assert not any(drawn.get(chart) for chart in charts)
