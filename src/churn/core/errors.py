"""Errors a user can cause, with messages that say what went wrong and what to do."""

from __future__ import annotations

from collections.abc import Sequence


class ChurnError(Exception):
    """Base class of errors reported to the user without a traceback."""


class ConfigError(ChurnError):
    """``params.yaml`` is missing a key, has an unknown one, or a value of the wrong type."""


class DataError(ChurnError):
    """Input data breaks the contract. The message names the file, column, rows and expectation."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        column: str | None = None,
        rows: Sequence[int] = (),
        expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.column = column
        self.rows = list(rows)
        self.expected = expected
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.column:
            where.append(f"column {self.column!r}")
        if self.rows:
            where.append(f"line{'s' if len(self.rows) > 1 else ''} {format_rows(self.rows)}")
        text = self.problem
        if where:
            text = f"{', '.join(where)}: {text}"
        if self.expected:
            text += f"\n  expected: {self.expected}"
        if self.hint:
            text += f"\n  what to do: {self.hint}"
        return text


class QualityGateError(ChurnError):
    """A model or data-quality gate set in ``params.yaml`` was not met."""


class ArtifactError(ChurnError):
    """A model or decision file is missing, unknown to dvc.lock, or does not match it."""


def format_rows(rows: Sequence[int], limit: int = 10) -> str:
    """``[3, 5, 9, ...]`` as ``3, 5, 9 (and 12 more)``."""
    shown = ", ".join(str(r) for r in list(rows)[:limit])
    more = len(rows) - limit
    return f"{shown} (and {more} more)" if more > 0 else shown
