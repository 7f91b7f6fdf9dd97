"""The databases the SQL-source tests run against: a SQLite file, a PostgreSQL database.

A test asks for a ``Databases`` (the ``sql_databases`` fixture, once per kind) and
creates what it needs with ``create``; each database's URL is exported in an
environment variable of its own, as the project requires (``url_env``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.support.postgres import Cluster


@dataclass(frozen=True)
class Database:
    kind: str
    url: str  # secret: only in the environment variable ``url_env``
    url_env: str
    #: Strings that give the database's location away: they must appear in no output.
    reveals: tuple[str, ...]

    def execute(self, statement: str) -> None:
        """Run one SQL statement and commit (identifiers quoted "thus" work in both kinds)."""
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(statement)
        finally:
            engine.dispose()


class Databases:
    """Creates databases of one kind; their environment variables are unset at ``close``."""

    kind: str
    #: SQL types of some columns, e.g. NUMERIC for money as a PostgreSQL schema would have it.
    column_types: ClassVar[dict[str, sa.types.TypeEngine]] = {}

    def __init__(self) -> None:
        self._env = pytest.MonkeyPatch()
        self._numbers = itertools.count(1)

    def _new(self, name: str) -> tuple[str, tuple[str, ...]]:
        """The URL of a new, empty database ``name``, and the strings that reveal it."""
        raise NotImplementedError

    def create(self, name: str, tables: dict[str, pd.DataFrame]) -> Database:
        """A new database holding ``tables`` (typed as the DataFrames' dtypes say)."""
        unique = f"{re.sub(r'[^A-Za-z0-9]', '_', name)}_{next(self._numbers)}"
        url, reveals = self._new(unique)
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                for table, df in tables.items():
                    types = {c: t for c, t in self.column_types.items() if c in df.columns}
                    df.to_sql(table, conn, index=False, dtype=types)
        finally:
            engine.dispose()
        url_env = f"CHURN_TEST_DB_URL_{self.kind.upper()}_{unique.upper()}"
        self._env.setenv(url_env, url)
        return Database(self.kind, url, url_env, reveals)

    def close(self) -> None:
        self._env.undo()


class SqliteDatabases(Databases):
    kind = "sqlite"

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def _new(self, name: str) -> tuple[str, tuple[str, ...]]:
        path = self.folder / f"{name}.sqlite"
        return f"sqlite:///{path}", (str(path), path.name)


class PostgresDatabases(Databases):
    kind = "postgresql"
    column_types: ClassVar[dict[str, sa.types.TypeEngine]] = {
        "SeniorCitizen": sa.SmallInteger(),
        "tenure": sa.Integer(),
        "MonthlyCharges": sa.Numeric(8, 2),
        "TotalCharges": sa.Numeric(10, 2),
    }

    def __init__(self, cluster: Cluster) -> None:
        super().__init__()
        self.cluster = cluster

    def _new(self, name: str) -> tuple[str, tuple[str, ...]]:
        self.cluster.create_database(name)
        return self.cluster.url(name), (self.cluster.url(name), f":{self.cluster.port}/{name}")
