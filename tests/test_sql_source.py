"""sql source: real databases read through SQLAlchemy, a SQLite file and a PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from churn.clean.rules import clean
from churn.collect.snapshot import collect, fingerprint
from churn.collect.sources import CollectParams
from churn.collect.sql import SqlSource
from churn.core.errors import ConfigError, DataError
from churn.core.lineage import SOURCE_FILE, SOURCE_LINE
from churn.core.params import parse_section
from tests.conftest import PROBLEM_PARAMS, collect_csv, collect_params, run_stage
from tests.support.databases import Database, Databases
from tests.support.postgres import PASSWORD, PASSWORD_ROLE
from tests.support.sandbox import environment
from tests.support.telco import TELCO

MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04")


def typed(text: pd.DataFrame) -> pd.DataFrame:
    """The Telco text as a database would type it: integers, reals, NULL for a blank."""
    df = text.copy()
    df["SeniorCitizen"] = df["SeniorCitizen"].astype(int)
    df["tenure"] = df["tenure"].astype(int)
    df["MonthlyCharges"] = df["MonthlyCharges"].astype(float)
    df["TotalCharges"] = pd.to_numeric(df["TotalCharges"].str.strip().replace("", None))
    return df


def make_database(databases: Databases, name: str, text: pd.DataFrame) -> Database:
    """A database with a typed ``customers`` table and a ``batch_month`` per row."""
    df = typed(text)
    df["batch_month"] = [MONTHS[i % len(MONTHS)] for i in range(len(df))]
    return databases.create(name, {"customers": df})


def sql(db: Database, **settings) -> SqlSource:
    return SqlSource.model_validate({"kind": "sql", "url_env": db.url_env, **settings})


def snapshot(src: SqlSource, tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / "raw.parquet"
    collect(src, out)
    return pd.read_parquet(out)


@pytest.fixture(scope="module")
def database(sql_databases, telco_text) -> Database:
    return make_database(sql_databases, "crm", telco_text)


# Quoted: PostgreSQL folds unquoted names to lower case (customerID would be customerid).
CONTRACT_QUERY = "SELECT " + ", ".join(f'"{c}"' for c in TELCO.names) + " FROM customers"


def test_a_table_gives_the_same_clean_data_as_the_csv(tmp_path, database, telco_raw):
    raw = snapshot(sql(database, table="customers"), tmp_path)
    assert raw[SOURCE_FILE].unique().tolist() == ["sql:customers"]
    assert raw[SOURCE_LINE].tolist() == list(range(1, 7044))
    assert raw["customerID"].is_monotonic_increasing  # ordered by the key
    assert (raw["TotalCharges"] == "").sum() == 11  # NULL is a blank, as in a CSV export
    assert raw.loc[raw["customerID"] == "7590-VHVEG", "MonthlyCharges"].item() == "29.85"
    from_sql, _, report = clean(raw.drop(columns=["batch_month"]), TELCO)
    from_csv, _, _ = clean(telco_raw, TELCO)
    assert report.rows_quarantined == 0
    pd.testing.assert_frame_equal(from_sql, from_csv)


def test_a_query_with_a_date_range_reads_those_batches(tmp_path, database):
    src = sql(
        database,
        query=CONTRACT_QUERY + ' WHERE batch_month BETWEEN :first AND :last ORDER BY "customerID"',
        parameters={"first": "2024-02", "last": "2024-03"},
    )
    raw = snapshot(src, tmp_path)
    assert list(raw.columns) == [*TELCO.names, SOURCE_FILE, SOURCE_LINE]
    assert len(raw) == sum(MONTHS[i % 4] in ("2024-02", "2024-03") for i in range(7043))
    assert raw[SOURCE_FILE].unique().tolist()[0].startswith("sql:query-")


def test_a_query_with_no_rows_gives_an_empty_snapshot_with_columns(tmp_path, database):
    src = sql(database, query=CONTRACT_QUERY + ' WHERE 1 = 0 ORDER BY "customerID"')
    raw = snapshot(src, tmp_path)
    assert len(raw) == 0 and list(raw.columns) == [*TELCO.names, SOURCE_FILE, SOURCE_LINE]


def test_a_missing_table_is_a_clear_error(tmp_path, database):
    with pytest.raises(DataError) as err:
        snapshot(sql(database, table="clients"), tmp_path)
    message = str(err.value)
    assert "sql:clients" in message
    assert "no such table: clients" in message or 'relation "clients" does not exist' in message
    assert "Traceback" not in message


def test_settings_are_checked():
    def parse(**settings):
        return parse_section("collect", {"source": {"kind": "sql", **settings}}, CollectParams)

    with pytest.raises(ConfigError, match="needs an ORDER BY"):
        parse(url="sqlite:///x.db", query="SELECT * FROM customers")
    with pytest.raises(ConfigError, match="exactly one of table and query"):
        parse(url="sqlite:///x.db")
    with pytest.raises(ConfigError, match="exactly one of url"):
        parse(table="customers")
    with pytest.raises(ConfigError) as err:
        parse(url="postgresql+psycopg://churn:hunter2@db.internal/crm", table="customers")
    assert "literal password" in str(err.value) and "hunter2" not in str(err.value)


def test_fingerprint_follows_the_data(sql_databases, telco_text):
    db = make_database(sql_databases, "f", telco_text.head(50))
    src = sql(db, table="customers")
    first = fingerprint(src)
    assert fingerprint(src) == first
    seventh = telco_text["customerID"][6]
    db.execute(f"""UPDATE customers SET tenure = tenure + 1 WHERE "customerID" = '{seventh}'""")
    assert fingerprint(src) != first
    cheap = sql(
        db, table="customers", fingerprint_query="SELECT count(*), sum(tenure) FROM customers"
    )
    assert fingerprint(cheap)["fingerprint_query"] == [
        f"50\t{telco_text.head(50)['tenure'].astype(int).sum() + 1}"
    ]


def test_the_database_url_comes_from_the_environment_and_appears_nowhere(tmp_path, database):
    env = {**environment(), "CHURN_DB_URL": database.url}
    params = {
        "problem": PROBLEM_PARAMS,
        "collect": collect_params({"kind": "sql", "url_env": "CHURN_DB_URL", "table": "customers"}),
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    state = run_stage("collect.source_state", tmp_path, env, "--output", "state.json")
    result = run_stage("collect", tmp_path, env, "--output", "raw.parquet")
    assert state.returncode == 0 and result.returncode == 0, result.stderr + state.stderr
    assert "collected 7,043 rows from sql:customers" in result.stderr
    for blob in (
        (tmp_path / "raw.parquet").read_bytes().decode("latin-1"),
        (tmp_path / "state.json").read_text(),
        result.stderr + result.stdout + state.stderr + state.stdout,
    ):
        assert not [text for text in database.reveals if text in blob]

    # A server database with a password from the environment: the password is never shown,
    # whether the driver is missing or the server cannot be reached.
    env["CHURN_DB_PASSWORD"] = "pw-19af-secret"
    params["collect"]["source"] = {
        "kind": "sql",
        "url": "postgresql+psycopg://churn:${CHURN_DB_PASSWORD}@127.0.0.1:9/crm",
        "table": "customers",
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    failed = run_stage("collect", tmp_path, env, "--output", "raw2.parquet")
    assert failed.returncode == 1
    assert "pw-19af-secret" not in failed.stderr + failed.stdout
    assert "Traceback" not in failed.stderr
    assert "psycopg" in failed.stderr or "reading the database failed" in failed.stderr


EVERY_TYPE = """
CREATE EXTENSION hstore;
CREATE TYPE plan AS ENUM ('basic', 'premium');
CREATE TABLE readings (
    "customerID" text PRIMARY KEY, amount numeric(10, 2), ratio numeric, small real,
    wide double precision, flag boolean, seen timestamp, seen_tz timestamptz, day date,
    at time, span interval, doc json, docb jsonb, tags text[], counts int[], id uuid,
    raw bytea, note text, big bigint, attrs hstore, tier plan
);
INSERT INTO readings VALUES
    ('0001-A', 1889.5, 1.10, 29.85, 0.1, true, '2024-01-15 10:30:00', '2024-01-15 10:30+02',
     '2024-01-15', '10:30', '1 day 2 hours', '{"a": 1, "b": [1,2]}', '{"b": 2}', '{x,"y z"}',
     '{1,NULL}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\xdeadbeef', 'é, "quoted"',
     9007199254740993, 'k=>1, "x y"=>NULL', 'premium'),
    ('0002-B', 0, 'NaN', 'Infinity', '-Infinity', false, '2024-01-15 10:30:00.123456',
     'infinity', '-infinity', '23:59:59.5', '-3 mons', 'null', '[]', '{}', '{}', NULL, '', '',
     -1, '', 'basic'),
    ('0003-C', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""


@pytest.mark.postgres
def test_each_value_is_the_text_of_the_servers_own_csv_export(
    tmp_path, monkeypatch, postgres_cluster
):
    """Whatever a column's type, the snapshot holds what COPY ... CSV writes for it."""
    name = postgres_cluster.create_database("every_type")
    with postgres_cluster.admin(name) as conn:
        conn.execute(EVERY_TYPE)
        export = (
            'COPY (SELECT * FROM readings ORDER BY "customerID") TO STDOUT (FORMAT csv, HEADER)'
        )
        with conn.cursor().copy(export) as copy:
            (tmp_path / "export.csv").write_bytes(b"".join(bytes(block) for block in copy))
    monkeypatch.setenv("CHURN_TEST_DB_URL", postgres_cluster.url(name))
    # Two rows per block: the rows come through a server-side cursor, in several blocks.
    src = SqlSource(kind="sql", url_env="CHURN_TEST_DB_URL", table="readings", chunk_rows=2)
    from_sql = snapshot(src, tmp_path).drop(columns=[SOURCE_FILE, SOURCE_LINE])
    from_csv = collect_csv(tmp_path / "export.csv", tmp_path).drop(
        columns=[SOURCE_FILE, SOURCE_LINE]
    )
    pd.testing.assert_frame_equal(from_sql, from_csv)
    assert from_sql["flag"].tolist() == ["t", "f", ""]
    assert from_sql["amount"].tolist() == ["1889.50", "0.00", ""]


@pytest.mark.postgres
def test_a_password_from_the_environment_may_hold_any_character(
    tmp_path, monkeypatch, postgres_cluster
):
    """``${VAR}`` in the URL's password: @ : / ? % # & + reach the server as they are."""
    name = postgres_cluster.create_database("password")
    with postgres_cluster.admin(name) as conn:
        conn.execute(
            """CREATE TABLE customers ("customerID" text); INSERT INTO customers VALUES ('a')"""
        )
    url = postgres_cluster.url(name, user=PASSWORD_ROLE, password="${CHURN_TEST_DB_PASSWORD}")
    src = SqlSource(kind="sql", url=url, table="customers")
    monkeypatch.setenv("CHURN_TEST_DB_PASSWORD", PASSWORD)
    assert snapshot(src, tmp_path)["customerID"].tolist() == ["a"]

    # A wrong one is refused by the server, and no part of it is shown.
    monkeypatch.setenv("CHURN_TEST_DB_PASSWORD", "wrong@secret/guess")
    with pytest.raises(DataError) as err:
        snapshot(src, tmp_path)
    message = str(err.value)
    assert f'password authentication failed for user "{PASSWORD_ROLE}"' in message
    assert not [part for part in ("wrong", "secret", "guess") if part in message]


def test_a_table_may_be_named_with_its_schema(tmp_path, database):
    """``crm.customers`` is the table customers in the schema crm, not a table named so."""
    schema = {"sqlite": "main", "postgresql": "public"}[database.kind]
    raw = snapshot(sql(database, table=f"{schema}.customers"), tmp_path)
    assert len(raw) == 7043
    assert raw[SOURCE_FILE].unique().tolist() == [f"sql:{schema}.customers"]
