"""The stakeholder slide deck: read back with python-pptx, and rendered by LibreOffice.

The deck is built from the same small evidence as the HTML report's tests, with the
report's own PNGs: every slide's title, every picture (by its bytes), the headline
numbers, the fixed dates that make it byte-stable, and a LibreOffice rendering
(Debian's `libreoffice-impress` and `poppler-utils`, installed by
scripts/install-system-deps.sh) whose pages carry the slides' text.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import zipfile

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from churn.core.figures import draw_png, new_figure
from churn.report.deck import slides
from churn.report.deck_pptx import FIXED_DATE, png_size, render_deck, stable_zip
from churn.report.page import title as report_title
from churn.report.plots import draw_plots
from tests.support.telco import PROBLEM, WORDS
from tests.test_reporting import small_evidence

#: Each slide's title, and the picture it shows (a name of ``plots.PLOTS``, or the box plots).
EXPECTED = [
    (report_title(WORDS), None),
    ("The problem and its economics", None),
    ("The data", None),
    ("What drives churn", "drivers"),
    ("Who left: customers who left and who stayed", "boxplots"),
    ("The model", None),
    ("The decision threshold", "gains"),
    ("The expected profit", "profit"),
    ("Whom the campaign contacted, by Contract", "segments"),
    ("The risks", None),
]


def _boxplots_png() -> bytes:
    """A stand-in for exploration's box plots: a small PNG of its own."""

    def draw():
        fig = new_figure(6, 1.8)
        fig.subplots().boxplot([[1, 2, 3, 4], [2, 3, 5, 8]])
        return fig

    return draw_png(draw, dpi=40)


@pytest.fixture(scope="module")
def pictures() -> dict[str, bytes]:
    return {**draw_plots(small_evidence(), WORDS, dpi=40), "boxplots": _boxplots_png()}


@pytest.fixture(scope="module")
def deck(pictures) -> bytes:
    pngs = {k: v for k, v in pictures.items() if k != "boxplots"}
    return render_deck(small_evidence(), PROBLEM, pngs, boxplots=pictures["boxplots"])


def slide_text(slide) -> str:
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts.extend(c.text for row in shape.table.rows for c in row.cells)
    return " ".join(" ".join(parts).split())


def test_every_slide_has_its_title_and_picture(deck, pictures):
    prs = Presentation(io.BytesIO(deck))
    assert [s.shapes.title.text for s in prs.slides] == [t for t, _ in EXPECTED]
    for slide, (title, picture) in zip(prs.slides, EXPECTED, strict=True):
        shown = [
            shape.image.sha1 for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE
        ]
        wanted = [] if picture is None else [hashlib.sha1(pictures[picture]).hexdigest()]
        assert shown == wanted, f"slide {title!r} shows the wrong pictures"


def test_every_shape_fits_on_its_slide(deck):
    prs = Presentation(io.BytesIO(deck))
    assert prs.slide_width * 9 == prs.slide_height * 16  # 16:9
    for n, slide in enumerate(prs.slides, start=1):
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, (n, shape.name)
            assert shape.left + shape.width <= prs.slide_width, (n, shape.name)
            assert shape.top + shape.height <= prs.slide_height, (n, shape.name)


def test_the_slides_carry_the_report_numbers(deck):
    texts = [slide_text(s) for s in Presentation(io.BytesIO(deck)).slides]
    cover, problem, data, drivers, leavers, model, threshold, profit, segments, risks = texts
    assert "at least 0.15" in cover and "9.94 per customer" in cover and "6.75" in cover
    assert "200.00" in problem and "30%" in problem
    assert "earns 56.00" in problem and "costs 11.00" in problem  # 0.3 * (200 - 10) - 1; 10 + 1
    assert "7,043" in data and "7,038" in data and "26.6%" in data
    assert "28 automatic checks on the raw data: all passed" in data
    assert "train 4,926, validation 1,055, test 1,057" in data
    assert "Contract: 43% left among Month-to-month, 3% among Two year" in drivers
    assert "tenure: median 10 for those who left, 38 for those who stayed" in leavers
    assert "logistic regression" in model and "0.850 ± 0.008" in model and "2.92 times" in model
    assert "0.15" in threshold and "54.9%" in threshold and "0.164" in threshold
    assert "well below 0.5" in threshold
    assert "9,938" in profit and "3.15" in profit and "3.19" in profit and "10.16" in profit
    assert "Month-to-month: 50% left, 75% contacted, 100% of its leavers reached" in segments
    assert "1,057 customers" in risks


def test_the_threshold_comparison_follows_the_evidence():
    # A business threshold above the default: no "well below" claim; the default is a param.
    texts = [s.bullets for s in slides(small_evidence(threshold=0.6, default=0.4), PROBLEM)]
    assert not any("well below" in b for bullets in texts for b in bullets)
    ev = small_evidence(threshold=0.15, default=0.4)
    threshold = next(s for s in slides(ev, PROBLEM) if s.title == "The decision threshold")
    assert any("well below 0.4" in b for b in threshold.bullets)


def test_the_deck_is_byte_stable(deck, pictures):
    pngs = {k: v for k, v in pictures.items() if k != "boxplots"}
    again = render_deck(small_evidence(), PROBLEM, pngs, boxplots=pictures["boxplots"])
    assert again == deck
    with zipfile.ZipFile(io.BytesIO(deck)) as z:
        assert {info.date_time for info in z.infolist()} == {FIXED_DATE}
        core = z.read("docProps/core.xml").decode()
    assert core.count("1980-01-01T00:00:00Z") == 2  # created and modified
    assert "2e20ad30a67fa341b208b70469c20a17" in core  # which model the deck describes


def test_stable_zip_fixes_dates_and_keeps_members():
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as z:
        z.writestr(zipfile.ZipInfo("b.xml", date_time=(2024, 5, 6, 7, 8, 10)), b"<b/>")
        z.writestr(zipfile.ZipInfo("a.xml", date_time=(2025, 1, 2, 3, 4, 6)), b"<a/>")
    fixed = stable_zip(raw.getvalue())
    with zipfile.ZipFile(io.BytesIO(fixed)) as z:
        assert z.namelist() == ["b.xml", "a.xml"]
        assert z.read("a.xml") == b"<a/>"
        assert {i.date_time for i in z.infolist()} == {FIXED_DATE}


def test_a_deck_without_the_box_plots_drops_that_slide(pictures):
    pngs = {k: v for k, v in pictures.items() if k != "boxplots"}
    prs = Presentation(io.BytesIO(render_deck(small_evidence(), PROBLEM, pngs)))
    titles = [s.shapes.title.text for s in prs.slides]
    assert titles == [t for t, p in EXPECTED if p != "boxplots"]
    assert "9 / 9" in slide_text(prs.slides[-1])  # the slide numbers follow


def test_png_size_reads_the_header(pictures):
    assert png_size(pictures["boxplots"]) == (240, 72)  # 6 x 1.8 inches at 40 dpi
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + bytes(30))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run scripts/install-system-deps.sh (make test does)")
    return path


def test_libreoffice_renders_every_slide_with_its_text(deck, tmp_path):
    source = tmp_path / "slides.pptx"
    source.write_bytes(deck)
    # Its own profile folder: nothing is read from or written to the user's.
    subprocess.run(
        [
            _tool("soffice"),
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            *("--headless", "--norestore", "--convert-to", "pdf"),
            *("--outdir", str(tmp_path), str(source)),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "slides.pdf"
    pages = []
    for n in range(1, len(EXPECTED) + 1):
        text = subprocess.run(
            [_tool("pdftotext"), "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        pages.append(" ".join(text.split()))
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True).stdout
    assert f"Pages: {len(EXPECTED)}" in " ".join(info.split())
    for page, (title, _) in zip(pages, EXPECTED, strict=True):
        assert " ".join(title.split()[:3]) in page, page
    assert "9.94 per customer" in pages[0]
    # Every page is drawn: rasterised, it is not blank, and the picture pages hold colour.
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "20", str(pdf), str(tmp_path / "page")], check=True
    )
    from PIL import Image

    for n, (title, picture) in enumerate(EXPECTED, start=1):
        image = Image.open(tmp_path / f"page-{n:02d}.png").convert("RGB")
        colours = image.getcolors(maxcolors=1 << 16)
        assert colours is not None and len(colours) > 8, f"page {n} ({title}) looks blank"
        if picture is not None:
            saturated = sum(c for c, (r, g, b) in colours if max(r, g, b) - min(r, g, b) > 60)
            assert saturated > 20, f"page {n} ({title}) shows no coloured plot"
