"""The audit log: every retraining decision, appended, with its reasons and figures.

One JSON object per line (JSON Lines): ``seq`` (1, 2, ...), ``at`` (UTC), ``action``
(``policy``, ``window``, ``challenge``, ``register``, ``promote``, ``rollback``),
``decision`` (e.g. ``retrain``/``no retrain``, ``accepted``/``refused``, ``promoted``),
``by`` (``policy`` for what ran unattended, or the person who approved), ``reasons`` (in
words) and ``figures`` (the numbers behind them). Lines are only ever appended (the file is
opened in append mode, each line written and flushed to disk in one call), and each line
carries the SHA-256 of the line before it (``previous``), so an edited, reordered or
deleted line breaks the chain: ``python -m churn.retrain log --verify`` finds where.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from churn.core.errors import DataError
from churn.core.io import to_json

GENESIS = "0" * 64


def _digest(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def read(path: Path) -> list[dict[str, Any]]:
    """Every entry, oldest first (an absent log has none)."""
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            raise DataError("not a JSON line", file=str(path), rows=[number]) from None
    return entries


def verify(path: Path) -> list[str]:
    """Problems with the chain (empty: every line is where it was written, unchanged)."""
    if not path.exists():
        return []
    problems = []
    previous = GENESIS
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"line {number}: not JSON")
            previous = _digest(line)
            continue
        if entry.get("seq") != number:
            problems.append(f"line {number}: seq {entry.get('seq')} (lines missing or moved)")
        if entry.get("previous") != previous:
            problems.append(f"line {number}: the line before it was changed, removed or moved")
        previous = _digest(line)
    return problems


def append(
    path: Path,
    action: str,
    decision: str,
    *,
    by: str,
    reasons: list[str],
    figures: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Append one decision; return the entry as written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entry = {
        "seq": len(lines) + 1,
        "at": (at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "action": action,
        "decision": decision,
        "by": by,
        "reasons": list(reasons),
        "figures": json.loads(to_json(figures or {})),
        "previous": _digest(lines[-1]) if lines else GENESIS,
    }
    line = json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry
