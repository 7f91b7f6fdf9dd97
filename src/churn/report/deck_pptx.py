"""The stakeholder slide deck as a ``.pptx`` file: ``deck.slides`` laid out with python-pptx.

16:9 slides; a title on each; headline figures, a table and bullets in a text
column; the picture to the right of it, or under it when it is wide. Pictures keep
their aspect ratio and their bytes (the report's own PNGs).

The same inputs give the same bytes. python-pptx stamps every zip member with the
current time (``ZipFile.writestr`` with a name) and has no option to change it,
so the saved package is rewritten once with fixed member dates (``stable_zip``);
the document's own dates (core properties) are set to that same fixed date, so
they do not pretend to be a build time: the git commit of ``dvc.lock`` dates a
deck. The PNGs carry no timestamp (``churn.core.figures``).
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from dataclasses import dataclass

from churn.core.problem import Problem
from churn.report.deck import BOXPLOTS, Slide, slides
from churn.report.evidence import Evidence
from churn.report.page import title

#: The date of every zip member and of the document's core properties: the earliest
#: date a zip file can hold.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)

# Layout, in inches: 16:9 slides.
SLIDE_W, SLIDE_H = 12192000 / 914400, 7.5  # 16:9, in inches (PowerPoint's own size)
MARGIN = 0.5
TITLE_TOP, TITLE_H = 0.3, 0.9
BODY_TOP = 1.35
BODY_BOTTOM = SLIDE_H - 0.45
DARK, MUTED, ACCENT, PALE = "1F2937", "6B7280", "1F77B4", "EEF4FA"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", png[16:24])


@dataclass
class _Box:
    left: float
    top: float
    width: float
    height: float


@dataclass
class _Layout:
    """Where a slide's parts go (inches)."""

    text: _Box
    picture: _Box | None = None
    #: A table beside the text instead of inside its column.
    side_table: _Box | None = None


def _plan(slide: Slide, pngs: dict[str, bytes]) -> _Layout:
    """Where the parts go: wide pictures under the text, the others to its right; with
    no picture, a two-column table to the right of the bullets."""
    body = _Box(MARGIN, BODY_TOP, SLIDE_W - 2 * MARGIN, BODY_BOTTOM - BODY_TOP)
    if slide.picture is None:
        if slide.table and len(slide.table[0]) <= 2 and slide.bullets:
            text = _Box(body.left, body.top, 6.9, body.height)
            side = _Box(body.left + 7.3, body.top, body.width - 7.3, body.height)
            return _Layout(text=text, side_table=side)
        return _Layout(text=body)
    w, h = png_size(pngs[slide.picture])
    if w / h > 2.2:
        text_h = 0.45 * len(slide.bullets) + (1.35 if slide.key_figures else 0) + 0.2
        text = _Box(body.left, body.top, body.width, text_h)
        pic = _Box(body.left, body.top + text_h, body.width, body.height - text_h)
        return _Layout(text=text, picture=pic)
    text_w = 5.6 if slide.table else 5.0
    text = _Box(body.left, body.top, text_w, body.height)
    pic = _Box(body.left + text_w + 0.3, body.top, body.width - text_w - 0.3, body.height)
    return _Layout(text=text, picture=pic)


def _rgb(hex_: str):
    from pptx.dml.color import RGBColor

    return RGBColor.from_string(hex_)


def _bullet(paragraph, size: float) -> None:
    """A round bullet with a hanging indent (a text box has none by default)."""
    from pptx.oxml.ns import qn
    from pptx.util import Pt

    p_pr = paragraph._p.get_or_add_pPr()
    p_pr.set("marL", str(int(Pt(size * 1.1))))
    p_pr.set("indent", str(-int(Pt(size * 1.1))))
    for tag in ("a:buNone", "a:buChar"):
        for old in p_pr.findall(qn(tag)):
            p_pr.remove(old)
    bu = p_pr.makeelement(qn("a:buChar"), {"char": "•"})
    p_pr.append(bu)


def _text(shapes, box: _Box, paragraphs, size: float, color: str = DARK, bullets: bool = False):
    from pptx.util import Inches, Pt

    shape = shapes.add_textbox(
        Inches(box.left), Inches(box.top), Inches(box.width), Inches(box.height)
    )
    frame = shape.text_frame
    frame.word_wrap = True
    for i, text in enumerate(paragraphs):
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        p.text = text
        p.font.size = Pt(size)
        p.font.color.rgb = _rgb(color)
        p.space_after = Pt(size * 0.5)
        if bullets:
            _bullet(p, size)
    return shape


def _key_figures(shapes, items, left: float, top: float, width: float) -> float:
    """Large numbers with their labels in pale boxes; returns the height used."""
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
    from pptx.util import Inches, Pt

    gap, height = 0.2, 1.1
    each = min(3.0, (width - gap * (len(items) - 1)) / len(items))
    for i, (label, value) in enumerate(items):
        box = shapes.add_shape(
            MSO_SHAPE.RECTANGLE,
            Inches(left + i * (each + gap)),
            Inches(top),
            Inches(each),
            Inches(height),
        )
        box.fill.solid()
        box.fill.fore_color.rgb = _rgb(PALE)
        box.line.fill.background()
        frame = box.text_frame
        frame.word_wrap = True
        frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        for j, (text, size, color, bold) in enumerate(
            ((value, 28, ACCENT, True), (label, 12, MUTED, False))
        ):
            p = frame.paragraphs[0] if j == 0 else frame.add_paragraph()
            p.text = text
            p.alignment = PP_ALIGN.CENTER
            p.font.size = Pt(size)
            p.font.bold = bold
            p.font.color.rgb = _rgb(color)
    return height + 0.25


def _table(shapes, rows, left: float, top: float, width: float) -> float:
    """A plain table (first row as header); returns the height used."""
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches, Pt

    row_h = 0.5
    n_cols = len(rows[0])
    shape = shapes.add_table(
        len(rows), n_cols, Inches(left), Inches(top), Inches(width), Inches(row_h * len(rows))
    )
    table = shape.table
    first = 0.46 if n_cols > 2 else 0.7
    table.columns[0].width = Inches(width * first)
    for c in range(1, n_cols):
        table.columns[c].width = Inches(width * (1 - first) / (n_cols - 1))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            cell = table.cell(r, c)
            cell.text = text
            p = cell.text_frame.paragraphs[0]
            p.font.size = Pt(15)
            p.font.bold = r == 0
            if c > 0:
                p.alignment = PP_ALIGN.RIGHT
    return row_h * len(rows) + 0.3


def _picture(shapes, png: bytes, box: _Box):
    """The PNG as large as fits in ``box``, its aspect kept, centred."""
    from pptx.util import Inches

    w, h = png_size(png)
    scale = min(box.width / w, box.height / h)
    width, height = w * scale, h * scale
    left = box.left + (box.width - width) / 2
    top = box.top + (box.height - height) / 2
    return shapes.add_picture(
        io.BytesIO(png), Inches(left), Inches(top), Inches(width), Inches(height)
    )


def _title(placeholder, text: str, box: _Box, size: float) -> None:
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches, Pt

    placeholder.left, placeholder.top = Inches(box.left), Inches(box.top)
    placeholder.width, placeholder.height = Inches(box.width), Inches(box.height)
    placeholder.text = text
    p = placeholder.text_frame.paragraphs[0]
    p.alignment = PP_ALIGN.LEFT
    p.font.size = Pt(size)
    p.font.bold = True
    p.font.color.rgb = _rgb(DARK)


def _add_slide(prs, slide: Slide, pngs: dict[str, bytes], number_: int, total: int) -> None:
    from pptx.enum.text import PP_ALIGN

    if slide.cover:
        s = prs.slides.add_slide(prs.slide_layouts[0])
        _title(s.shapes.title, slide.title, _Box(0.9, 2.0, SLIDE_W - 1.8, 1.6), 36)
        sub = s.placeholders[1]
        _title(sub, slide.subtitle, _Box(0.9, 3.8, SLIDE_W - 1.8, 2.0), 20)
        sub.text_frame.paragraphs[0].font.bold = False
        sub.text_frame.paragraphs[0].font.color.rgb = _rgb(MUTED)
        sub.text_frame.word_wrap = True
    else:
        s = prs.slides.add_slide(prs.slide_layouts[5])  # "Title Only"
        _title(
            s.shapes.title, slide.title, _Box(MARGIN, TITLE_TOP, SLIDE_W - 2 * MARGIN, TITLE_H), 30
        )
        plan = _plan(slide, pngs)
        top = plan.text.top
        if slide.key_figures:
            top += _key_figures(s.shapes, slide.key_figures, plan.text.left, top, plan.text.width)
        if slide.table and plan.side_table is not None:
            side = plan.side_table
            _table(s.shapes, slide.table, side.left, side.top, side.width)
        elif slide.table:
            top += _table(s.shapes, slide.table, plan.text.left, top, plan.text.width)
        if slide.bullets:
            size = 18 if plan.picture is None or plan.text.width > 6 else 16
            box = _Box(plan.text.left, top, plan.text.width, plan.text.top + plan.text.height - top)
            _text(s.shapes, box, slide.bullets, size, bullets=True)
        if slide.picture is not None and plan.picture is not None:
            _picture(s.shapes, pngs[slide.picture], plan.picture)
    footer = _text(
        s.shapes,
        _Box(SLIDE_W - 1.6, SLIDE_H - 0.45, 1.2, 0.35),
        [f"{number_} / {total}"],
        11,
        MUTED,
    )
    footer.text_frame.paragraphs[0].alignment = PP_ALIGN.RIGHT
    if slide.notes:
        s.notes_slide.notes_text_frame.text = slide.notes


def stable_zip(data: bytes) -> bytes:
    """The zip ``data`` rewritten with fixed member dates and attributes, same member order."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.create_system = 3  # unix, whatever the platform writing it
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def render_deck(
    ev: Evidence, problem: Problem, pngs: dict[str, bytes], boxplots: bytes | None = None
) -> bytes:
    """The deck as ``.pptx`` bytes: ``slides(ev, problem)`` laid out with the report's PNGs."""
    from pptx import Presentation
    from pptx.util import Inches

    pictures = dict(pngs)
    if boxplots is not None:
        pictures[BOXPLOTS] = boxplots
    content = [s for s in slides(ev, problem) if s.picture is None or s.picture in pictures]
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W), Inches(SLIDE_H)
    for i, slide in enumerate(content, start=1):
        _add_slide(prs, slide, pictures, i, len(content))
    props = prs.core_properties
    fixed = dt.datetime(*FIXED_DATE)
    props.title = title(problem.words)
    props.subject = f"contact threshold {ev.decision.threshold:.2f}"
    props.author = props.last_modified_by = "churn pipeline (report stage)"
    props.comments = f"model md5 {ev.decision.model_md5}"
    props.keywords = ""
    props.revision = 1
    props.created = props.modified = fixed
    buffer = io.BytesIO()
    prs.save(buffer)
    return stable_zip(buffer.getvalue())
