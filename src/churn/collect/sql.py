"""A database table or query, read through SQLAlchemy and streamed in blocks of text.

The URL comes from the environment (``url_env``, or ``${VAR}`` references in
``url``); it is never logged, and every error message is scrubbed of it. Each
value becomes text as a CSV export would write it (NULL becomes a blank), so the
raw snapshot has the same shape whatever the source. From PostgreSQL (psycopg)
that text is the server's own, exactly what ``COPY ... CSV`` writes: a timestamp,
a boolean, a JSON document, an array or an infinite date is never turned into a
Python object and back. Lineage: the file is ``sql:<table>`` or
``sql:query-<hash>``, the line is the row number (from 1).

SQLAlchemy is imported only when a database is read: collecting a file does not
pay for it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import pyarrow as pa
from pydantic import Field, model_validator

from churn.collect.base import Source, with_lineage
from churn.collect.credentials import (
    ENV_REFERENCE,
    Resolved,
    from_environment,
    masked_logs,
    redact,
    reject_literal_password,
    sql_label,
    url_secrets,
    variable,
)
from churn.core.errors import ConfigError, DataError

if TYPE_CHECKING:
    import sqlalchemy as sa

DRIVER_HINT = (
    "install the database driver; for PostgreSQL: pip install 'psycopg[binary]' "
    "and use a postgresql+psycopg:// URL"
)


class SqlSource(Source):
    """A query through SQLAlchemy. Credentials come from environment variables only."""

    kind: Literal["sql"]
    #: Name of an environment variable holding the whole database URL, or ...
    url_env: str | None = None
    #: ... a URL in which ``${VAR}`` is replaced by environment variable VAR
    #: (e.g. ``postgresql+psycopg://${DB_USER}:${DB_PASSWORD}@db.internal/crm``).
    url: str | None = None
    #: A table read whole, ordered by ``order_by`` ...
    table: str | None = None
    order_by: str = "customerID"
    #: ... or a query; it must have an ORDER BY so that the snapshot is deterministic.
    query: str | None = None
    #: Bind parameters of the query (``:name`` in the SQL), e.g. a date range of batches.
    parameters: dict[str, str | int | float] = Field(default_factory=dict)
    #: Rows fetched and written per block (memory stays bounded).
    chunk_rows: int = Field(default=50_000, gt=0)
    #: A cheap query whose result changes when the data does (e.g. a row count and the
    #: latest update time); without it the fingerprint digests the whole result.
    fingerprint_query: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SqlSource:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("set exactly one of url (with ${VAR} references) and url_env")
        if (self.table is None) == (self.query is None):
            raise ValueError("set exactly one of table and query")
        if self.query is not None and "order by" not in " ".join(self.query.lower().split()):
            raise ValueError("the query needs an ORDER BY so that the snapshot is deterministic")
        if self.url is not None:
            reject_literal_password(self.url)
        return self

    def describe(self) -> str:
        return sql_label(self.table, self.query)

    def blocks(self, root: Path) -> Iterator[pa.RecordBatch]:
        return iter_sql(self)

    def fingerprint(self, root: Path) -> dict[str, object]:
        if self.fingerprint_query:
            return {"fingerprint_query": scalar_fingerprint(self)}
        return super().fingerprint(root)


def database_url(source: SqlSource) -> Resolved:
    """The URL with its environment references substituted (secret: never print it).

    A whole URL in ``url_env`` is taken as it is: like any URL, it must percent-encode
    the special characters of its password (``@`` as ``%40``).
    """
    if source.url_env:
        url = variable(source.url_env, "collect.source.url_env")
    else:
        url = _substituted(source.url or "", "collect.source.url")
    return Resolved(url, [*url.secrets, *url_secrets(url)])


def _substituted(template: str, what: str) -> Resolved:
    """``template`` with its ``${VAR}`` references replaced by the variables' values.

    In the user name and password the value is percent-encoded: a password is any
    text, and a raw ``@``, ``:``, ``/``, ``?``, ``#`` or ``%`` would cut the URL
    elsewhere (and show a piece of the password as a host or port in the error).
    Elsewhere (host, port, database, query) the value is put in as written, so that
    a variable may hold ``db.internal:5432``.
    """
    scheme, sep, rest = template.partition("://")
    if not sep:
        return from_environment(template, what)
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo, at, _ = authority.rpartition("@")
    secrets: list[str] = []

    def encoded(match: re.Match[str]) -> str:
        value = from_environment(match.group(0), what)
        secrets.extend(value.secrets)
        return quote(value, safe="")

    head = scheme + sep + ENV_REFERENCE.sub(encoded, userinfo) + at
    tail = from_environment(rest[len(userinfo + at) :], what)
    return Resolved(head + tail, [*secrets, *tail.secrets])


def statement(source: SqlSource) -> sa.Executable:
    """The SELECT to run: the configured query, or the whole table in key order.

    ``schema.table`` names a table in a schema (PostgreSQL's ``crm.customers``).
    """
    import sqlalchemy as sa

    if source.query is not None:
        return sa.text(source.query).bindparams(**source.parameters)
    schema, _, name = (source.table or "").rpartition(".")
    table = sa.table(name, schema=schema or None)
    return sa.select(sa.text("*")).select_from(table).order_by(sa.column(source.order_by))


def _server_text(conn, cursor, statement, parameters, context, executemany) -> None:
    """Have psycopg hand over every value as PostgreSQL's text for it, parsing nothing.

    psycopg turns values into Python objects that print differently from the
    server's export (``true`` for ``t``, ``2024-01-15T10:30:00`` for
    ``2024-01-15 10:30:00``, a Python dict for JSON) or that cannot hold them at all
    (``infinity`` as a date fails the whole read). The loaders are the cursor's own,
    so nothing else on the connection is affected. Other drivers go through ``_text``.
    """
    adapters = getattr(cursor, "adapters", None)
    if adapters is None or not type(cursor).__module__.startswith("psycopg"):
        return
    from psycopg import postgres
    from psycopg.types.string import TextLoader

    for info in postgres.types:
        for oid in (info.oid, info.array_oid):
            if oid:
                adapters.register_loader(oid, TextLoader)


def _text(value: Any) -> str:
    """A database value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _batch(rows: Sequence[Sequence[Any]], names: list[str]) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = [pa.array([_text(v) for v in col], pa.string()) for col in columns]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def engine_for(source: SqlSource) -> tuple[sa.Engine, Resolved]:
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    url = database_url(source)
    try:
        # With psycopg, SQLAlchemy's own hstore loader would return a dict (see _server_text).
        psycopg = sa.make_url(url).get_driver_name() == "psycopg"
        engine = sa.create_engine(url, **({"use_native_hstore": False} if psycopg else {}))
    except sa_exc.NoSuchModuleError as exc:
        raise ConfigError(
            f"collect.source: no SQLAlchemy driver for this URL ({redact(str(exc), url.secrets)}): "
            f"{DRIVER_HINT}"
        ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(f"collect.source: {exc}: {DRIVER_HINT}") from None
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise ConfigError(
            f"collect.source: the database URL is not valid ({redact(str(exc), url.secrets)})"
        ) from None
    sa.event.listen(engine, "before_cursor_execute", _server_text)
    return engine, url


def _failure(exc: Exception, where: str, secrets: Sequence[str]) -> DataError:
    cause = getattr(exc, "orig", None) or exc
    message = str(cause).split("\n(Background on this error")[0]
    return DataError(
        f"reading the database failed: {type(cause).__name__}: {redact(message, secrets)}",
        file=where,
        hint="check the table or query in collect.source and that the database is reachable",
    )


def iter_sql(source: SqlSource) -> Iterator[pa.RecordBatch]:
    """Stream the query's rows as record batches of text (a 0-row batch if it has none)."""
    from sqlalchemy import exc as sa_exc

    where = source.describe()
    engine, url = engine_for(source)
    try:
        with masked_logs(list(url.secrets)), engine.connect() as conn:
            result = conn.execution_options(yield_per=source.chunk_rows).execute(statement(source))
            names = [str(k) for k in result.keys()]  # noqa: SIM118 - a Result, not a dict
            line = 1
            empty = True
            for rows in result.partitions(source.chunk_rows):
                empty = False
                yield with_lineage(_batch(rows, names), where, line)
                line += len(rows)
            if empty:
                yield with_lineage(_batch([], names), where, 1)
    except sa_exc.SQLAlchemyError as exc:
        raise _failure(exc, where, url.secrets) from None
    finally:
        engine.dispose()


def scalar_fingerprint(source: SqlSource) -> list[str]:
    """The rows of ``fingerprint_query`` as text (a cheap way to notice a change)."""
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    engine, url = engine_for(source)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(source.fingerprint_query or "")).all()
    except sa_exc.SQLAlchemyError as exc:
        raise _failure(exc, source.describe() + " (fingerprint_query)", url.secrets) from None
    finally:
        engine.dispose()
    return ["\t".join(_text(v) for v in row) for row in rows]
