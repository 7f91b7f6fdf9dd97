"""The body of a 422: pydantic's errors, made valid JSON and short, whatever the input held.

FastAPI's own handler echoes each error's input as it was parsed: Python's JSON parser
accepts ``NaN`` and ``Infinity``, which no JSON encoder may write, so the client got a
500 and the log a traceback; and a refused 100,000-customer list was echoed whole. Here
an echoed input is a scalar, non-finite numbers are spelled as strings, long values are
cut, and a list or object is left out (``loc`` already says where the error is).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

#: Characters of an input value echoed back; longer strings (or huge integers) are cut.
MAX_ECHO = 100
_KEYS = ("type", "loc", "msg")
_OMIT = object()


def echo(value: Any) -> Any:
    """A JSON-safe, short form of an input value, or ``_OMIT`` for lists and objects."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int):
        text = str(value)  # within the parser's digit limit, so this cannot fail
        return value if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"
    if isinstance(value, str | bytes):
        text = value if isinstance(value, str) else value.decode("utf-8", "replace")
        return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"
    return _OMIT


def safe_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``errors`` (pydantic's or FastAPI's) with JSON-safe inputs and context."""
    out = []
    for error in errors:
        item = {k: error[k] for k in _KEYS if k in error}
        item["loc"] = [p if isinstance(p, int | str) else str(p) for p in item.get("loc", ())]
        if "input" in error and (value := echo(error["input"])) is not _OMIT:
            item["input"] = value
        if error.get("ctx"):
            item["ctx"] = {str(k): _context(v) for k, v in error["ctx"].items()}
        out.append(item)
    return out


def _context(value: Any) -> Any:
    """A context value (a bound, an expected value, an exception) as JSON-safe text."""
    shown = echo(value)
    return shown if shown is not _OMIT else echo(str(value))
