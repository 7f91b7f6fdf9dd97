"""Small building blocks for self-contained HTML reports.

The reports (validation, exploration) are opened from disk, often on a machine
with no network, and are versioned by DVC. So every page here is one file with
inline CSS, no scripts, no fonts or images fetched from anywhere (images are
embedded as ``data:`` URIs), and no timestamps: the same input gives the same
bytes. Every piece of text is HTML-escaped, because values come from the data.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa;
        --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9;
        --warn: #9a6700; --warn-bg: #fff8c5; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--fg);
       margin: 0 auto; padding: 24px 32px 48px; max-width: 1400px; font-size: 14px;
       line-height: 1.45; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 6px; }
p.lead { color: var(--muted); margin: 0 0 16px; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left;
         vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: var(--bad-bg); }
tr.warn td { background: var(--warn-bg); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         font-weight: 600; white-space: nowrap; }
.badge.ok { color: var(--ok); background: var(--ok-bg); border: 1px solid var(--ok); }
.badge.bad { color: var(--bad); background: #fff; border: 1px solid var(--bad); }
.badge.warn { color: var(--warn); background: #fff; border: 1px solid var(--warn); }
.verdict { padding: 12px 16px; border-radius: 6px; font-size: 16px; font-weight: 600;
           margin: 12px 0 8px; }
.verdict.ok { color: var(--ok); background: var(--ok-bg); border: 1px solid var(--ok); }
.verdict.bad { color: var(--bad); background: var(--bad-bg); border: 1px solid var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr));
         gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; }
.card.bad { border-left: 5px solid var(--bad); }
.muted { color: var(--muted); }
ul.plain { margin: 0; padding-left: 18px; }
figure { margin: 16px 0 24px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); margin-top: 4px; }
nav a { margin-right: 14px; }
td, .card { overflow-wrap: break-word; }
""".strip()


def esc(value: Any) -> str:
    """``value`` as escaped HTML text (``None`` as an em dash)."""
    if value is None:
        return "—"
    return html.escape(str(value), quote=True)


def number(value: Any, digits: int = 4) -> str:
    """A number for a table cell: thousands separators, at most ``digits`` decimals."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        text = f"{value:,.{digits}f}"
        if "." in text:  # strip trailing decimal zeros only: 10.0 with 0 digits is "10"
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return esc(value)


def percent(fraction: float | None, digits: int = 1) -> str:
    return "—" if fraction is None else f"{fraction:.{digits}%}"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    row_attrs: Sequence[str] | None = None,
    cls: str | None = None,
    widths: Sequence[str] = (),
) -> str:
    """An HTML table. Cells are already HTML; columns listed in ``numeric`` align right.

    ``widths`` (CSS widths, one per column) fix the layout so that long values wrap
    inside their column instead of widening the table past the page.
    """
    right = set(numeric)
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in right else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for n, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{c}</td>' if i in right else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        attrs = f" {row_attrs[n]}" if row_attrs else ""
        body.append(f"<tr{attrs}>{cells}</tr>")
    klass = f' class="{esc(cls)}"' if cls else ""
    cols = ""
    if widths:
        cols = "<colgroup>" + "".join(f'<col style="width:{w}">' for w in widths) + "</colgroup>"
        klass += ' style="table-layout:fixed"'
    rows_html = "".join(body)
    return f"<table{klass}>{cols}<thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>"


def png_data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI, so the image travels inside the HTML file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def page(title: str, body: str, extra_css: str = "") -> str:
    """A complete, self-contained HTML document (``extra_css`` after the shared rules)."""
    css = f"{CSS}\n{extra_css.strip()}" if extra_css.strip() else CSS
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>\n{css}\n</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


# --- pieces for narrative reports (the stakeholder report) ------------------------------

#: Rules for ``key_figures``, ``callout`` and a narrower reading column; pass to ``page``.
NARRATIVE_CSS = """
body { max-width: 980px; font-size: 15px; }
p, li { max-width: 860px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr));
        gap: 12px; margin: 12px 0 16px; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px;
       background: var(--bg-soft); }
.kpi .value { font-size: 24px; font-weight: 700; }
.kpi .label { color: var(--muted); font-size: 13px; }
.callout { border-left: 5px solid var(--ok); background: var(--ok-bg); padding: 10px 14px;
           border-radius: 4px; margin: 12px 0; font-size: 16px; }
@media print { body { max-width: none; padding: 0; } figure, table { break-inside: avoid; } }
""".strip()


def money(value: float | None, digits: int = 2) -> str:
    """An amount of money (no currency sign: the unit is that of the inputs)."""
    if value is None or value != value:
        return "—"
    return f"{value:,.{digits}f}"


def key_figures(items: Sequence[tuple[str, str]]) -> str:
    """A row of headline numbers: ``(label, value)`` pairs, values already HTML."""
    cells = "".join(
        f'<div class="kpi"><div class="value">{value}</div>'
        f'<div class="label">{esc(label)}</div></div>'
        for label, value in items
    )
    return f'<div class="kpis">{cells}</div>'


def callout(html_text: str) -> str:
    """A highlighted paragraph (the one sentence a reader must not miss); already HTML."""
    return f'<p class="callout">{html_text}</p>'


def figure(png: bytes, title: str, caption: str) -> str:
    """An embedded PNG with a short heading and a caption."""
    return (
        f"<figure><h3>{esc(title)}</h3>"
        f'<img src="{png_data_uri(png)}" alt="{esc(title)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )
