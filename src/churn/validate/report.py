"""The HTML report of one validation, rendered from its byte-stable JSON summary.

Great Expectations' own Data Docs load Bootstrap, jQuery and fonts from CDNs,
so offline they render badly. This page is drawn from the summary that
``churn.validate.suite.summarize`` returns instead: every expectation with its
observed value, and for a failed one the unexpected count, example values and
the source ``file:line`` of offending rows. One file, inline CSS, no scripts,
no timestamps, so the same summary always gives the same bytes.
"""

from __future__ import annotations

from typing import Any

from churn.core.contract import Contract
from churn.core.html import esc, number, page, table
from churn.validate.checks import CLASS_ROWS, CLASS_SHARE, TARGET_RULES
from churn.validate.messages import CONSTANT_ADVICE, TARGET_ADVICE, missing_and_extra


def _value(value: Any) -> str:
    """A data value as the reader should see it: quoted, so blanks and spaces show."""
    if value is None:  # a value the parsed view could not read as a number (or blank)
        return "<em>null</em>"
    return esc(repr(value) if isinstance(value, str) else value)


def _status(e: dict[str, Any]) -> tuple[str, str]:
    """(row class, badge HTML) of one expectation."""
    if not e["success"]:
        return "fail", '<span class="badge bad">✗ failed</span>'
    if e.get("unexpected_count") and e.get("rule") is None:
        badge = '<span class="badge warn">✓ passed</span>'
        return "warn", f'{badge}<div class="muted">within tolerance</div>'
    return "ok", '<span class="badge ok">✓ passed</span>'


def _observed(e: dict[str, Any], contract: Contract) -> str:
    """What the data showed, in words."""
    if e["expectation"] == "ExpectTableColumnsToMatchSet" and isinstance(e["observed_value"], list):
        missing, extra = missing_and_extra(contract, e["observed_value"])
        parts = [f"{len(e['observed_value'])} columns"]
        if missing:
            parts.append("missing " + ", ".join(f"<code>{esc(c)}</code>" for c in missing))
        if extra:
            parts.append("unexpected " + ", ".join(f"<code>{esc(c)}</code>" for c in extra))
        if missing and extra:
            parts.append("(renamed?)")
        return "; ".join(parts)
    if e.get("rule") == CLASS_ROWS:
        return f"{number(e['observed_value'])} rows"
    if e.get("rule") == CLASS_SHARE and e["examples"]:
        [cls] = e["examples"]
        return (
            f"{number(cls['count'])} of {number(e['element_count'])} rows are "
            f"<code>{_value(cls['value'])}</code> ({number(e['unexpected_percent'])}%)"
        )
    if e.get("unexpected_count") is not None:
        total = e.get("element_count")
        if e["unexpected_count"]:
            text = f"{number(e['unexpected_count'])} of {number(total)} rows unexpected"
            if e.get("unexpected_percent") is not None:
                text += f" ({number(e['unexpected_percent'])}%)"
        else:
            text = f"all {number(total)} rows as expected"
        if e.get("mostly") is not None and e["mostly"] < 1:
            text += f"; tolerated: {number(round((1 - e['mostly']) * 100, 4))}%"
        if e.get("observed_value") is not None:  # an error message from the check itself
            text += f"<br>{esc(e['observed_value'])}"
        return text
    observed = e.get("observed_value")
    if isinstance(observed, list):
        return ", ".join(esc(v) for v in observed)
    return number(observed)


def _examples(e: dict[str, Any]) -> str:
    if not e.get("examples"):
        return ""
    items = "".join(
        f"<li><code>{_value(x['value'])}</code> ×{number(x['count'])}</li>" for x in e["examples"]
    )
    return f'<ul class="plain examples">{items}</ul>'


def _lines(e: dict[str, Any]) -> str:
    if not e.get("lines"):
        return ""
    items = "".join(
        f"<li><code>{esc(x['file'])}:{esc(x['line'])}</code> "
        f'<span class="muted">{_value(x["value"])}</span></li>'
        for x in e["lines"]
    )
    return f'<ul class="plain lines">{items}</ul>'


def _where(e: dict[str, Any]) -> str:
    return f"column <code>{esc(e['column'])}</code>" if e.get("column") else "table"


def _failure_card(e: dict[str, Any], contract: Contract) -> str:
    parts = [
        f'<div class="card bad" data-column="{esc(e.get("column") or "")}" '
        f'data-expectation="{esc(e["expectation"])}">',
        f"<h3>{_where(e)}: expected {esc(e['description'])}</h3>",
        f'<div class="muted mono">{esc(e["expectation"])}</div>',
        f"<p>{_observed(e, contract)}</p>",
    ]
    if e.get("examples"):
        parts.append(f"<div><strong>Example values</strong>{_examples(e)}</div>")
    if e.get("lines"):
        parts.append(f"<div><strong>Source lines</strong>{_lines(e)}</div>")
    parts.append("</div>")
    return "".join(parts)


def render(summary: dict[str, Any], contract: Contract, problem_file: str) -> str:
    """The HTML page of a validation summary (deterministic: same summary, same bytes)."""
    expectations = summary["expectations"]
    failed = [e for e in expectations if not e["success"]]
    title = f"Validation report: {summary['data']}"
    if summary["success"]:
        verdict = (
            f'<div class="verdict ok" id="verdict">PASSED: all {summary["evaluated"]} '
            f"expectations met on {number(summary['rows'])} rows</div>"
        )
    else:
        verdict = (
            f'<div class="verdict bad" id="verdict">FAILED: {summary["failed"]} of '
            f"{summary['evaluated']} expectations failed on {number(summary['rows'])} rows</div>"
        )
    body = [
        f"<h1>{esc(title)}</h1>",
        '<p class="lead">Great Expectations suite built from the data contract '
        f"(<code>{esc(problem_file)}</code>). Line numbers count the header as line 1.</p>",
        verdict,
    ]
    if failed:
        body.append(f"<h2>Failed expectations ({len(failed)})</h2>")
        body.append(
            f'<div class="cards">{"".join(_failure_card(e, contract) for e in failed)}</div>'
        )
        rules = {e.get("rule") for e in failed}
        if rules - set(TARGET_RULES):
            body.append(
                '<p class="muted">What to do: fix the source, or, for a few bad rows in an '
                "otherwise good batch, raise <code>validate.row_error_tolerance</code> in "
                "<code>params.yaml</code> so that <code>clean</code> quarantines them.</p>"
            )
        if CLASS_ROWS in rules:
            advice = esc(TARGET_ADVICE)
            body.append(f'<p class="muted">Too few rows of a target class: {advice}.</p>')
        if CLASS_SHARE in rules:
            advice = esc(CONSTANT_ADVICE)
            body.append(f'<p class="muted">An almost constant target: {advice}.</p>')

    rows, attrs = [], []
    for n, e in enumerate(expectations, start=1):
        cls, badge = _status(e)
        rows.append(
            [
                str(n),
                badge,
                esc(e.get("column") or "(table)"),
                f'{esc(e["description"])}<div class="muted mono">{esc(e["expectation"])}</div>',
                _observed(e, contract),
                _examples(e),
                _lines(e),
            ]
        )
        attrs.append(
            f'class="{cls}" data-column="{esc(e.get("column") or "")}" '
            f'data-expectation="{esc(e["expectation"])}"'
        )
    body.append(f"<h2>All expectations ({len(expectations)})</h2>")
    body.append(
        table(
            ["#", "status", "column", "expected", "observed", "example values", "source lines"],
            rows,
            numeric=[0],
            row_attrs=attrs,
            cls="expectations",
            widths=["3%", "12%", "11%", "23%", "17%", "12%", "22%"],
        )
    )
    return page(title, "\n".join(body))
