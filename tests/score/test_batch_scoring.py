"""Batch scoring on real files and a real SQLite log, with a model fitted in the test."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from churn.clean.rules import clean
from churn.collect.files import CsvSource
from churn.core import lineage
from churn.core.errors import DataError
from churn.score.run import score
from churn.serve.prediction_log import read
from tests.conftest import write_csv
from tests.support.served import fit, served
from tests.support.telco import PROBLEM
from tests.support.telco import TELCO as contract

THRESHOLD = 0.3


@pytest.fixture(scope="module")
def model(telco_clean):
    return served(PROBLEM, fit(PROBLEM, telco_clean), THRESHOLD, md5="a" * 32)


@pytest.fixture(scope="module")
def dirty(telco_text) -> pd.DataFrame:
    """600 rows of the bundled data with every kind of problem, spread over blocks of 200."""
    rows = telco_text.iloc[:600].copy().reset_index(drop=True)
    rows.loc[10, "Contract"] = "Monthly"  # unknown category
    rows.loc[20, "MonthlyCharges"] = ""  # missing
    rows.loc[30, "tenure"] = "-3"  # out of range
    rows.loc[450] = rows.loc[5]  # an exact copy, two blocks later
    rows.loc[460] = rows.loc[60]
    rows.loc[460, "gender"] = "Male" if rows.loc[60, "gender"] == "Female" else "Female"
    return rows


def run(tmp_path, model, rows: pd.DataFrame, period="2024-05", block_rows=200, log=True, out="out"):
    source_file = write_csv(rows.drop(columns=[contract.target]), tmp_path / "in" / "month.csv")
    return score(
        CsvSource(kind="csv", path=str(source_file)),
        model,
        period,
        tmp_path / out / period,
        block_rows=block_rows,
        log_path=tmp_path / "log.sqlite" if log else None,
        log_commit_rows=64,
    )


def test_bad_rows_get_the_reasons_the_clean_stage_gives_and_are_never_scored(
    tmp_path, model, dirty
):
    result = run(tmp_path, model, dirty)
    whole = dirty.assign(**{lineage.SOURCE_FILE: "f", lineage.SOURCE_LINE: range(len(dirty))})
    expected_clean, expected_quarantine, report = clean(whole, contract)
    totals = result.totals
    assert totals.rows_in == report.rows_in == 600
    assert totals.exact_duplicates_removed == report.exact_duplicates_removed == 1
    assert totals.rows_quarantined == report.rows_quarantined == 5
    assert totals.quarantine_reasons == report.quarantine_reasons
    assert totals.repairs == report.repairs
    out = result.directory
    quarantined = pd.read_parquet(out / "quarantine.parquet")
    got = sorted(zip(quarantined[contract.id_column], quarantined["reason"], strict=True))
    want = sorted(
        zip(expected_quarantine[contract.id_column], expected_quarantine["reason"], strict=True)
    )
    assert got == want
    assert ("conflicting_duplicate_id" in dict(got).values()) and len(got) == 5
    assert quarantined[lineage.SOURCE_LINE].iloc[0] == 12  # file line: header is line 1
    scored = pd.read_parquet(out / "scored.parquet")
    assert not set(scored[contract.id_column]) & set(quarantined[contract.id_column])
    first_seen = dirty[contract.id_column].drop_duplicates()
    order = first_seen[first_seen.isin(expected_clean[contract.id_column])].tolist()
    assert scored[contract.id_column].tolist() == order  # the input's order
    by_id = expected_clean.set_index(contract.id_column).loc[order].reset_index()
    expected_p = model.pipeline.predict_proba(contract.inputs(by_id))[:, 1]
    np.testing.assert_array_equal(scored["probability"].to_numpy(), expected_p)
    assert (scored["churn"] == (scored["probability"] >= THRESHOLD)).all()
    assert set(scored["period"]) == {"2024-05"} and set(scored["model_version"]) == {"a" * 32}


def test_the_contact_list_ranks_exactly_the_rows_to_contact(tmp_path, model, dirty):
    result = run(tmp_path, model, dirty)
    scored = pd.read_csv(result.directory / "scored.csv", dtype={"customerID": str})
    contacts = pd.read_csv(result.directory / "contact_list.csv")
    assert set(contacts["customerID"]) == set(scored.loc[scored["churn"], "customerID"])
    assert contacts["rank"].tolist() == list(range(1, len(contacts) + 1))
    assert contacts["probability"].is_monotonic_decreasing
    assert result.totals.contacted == len(contacts) > 0


def test_every_prediction_is_logged_once_with_its_period_channel_and_model(tmp_path, model, dirty):
    first = run(tmp_path, model, dirty)
    assert first.logged
    logged = read(tmp_path / "log.sqlite")
    assert len(logged) == first.totals.rows_scored == 594
    assert {(r["period"], r["channel"], r["model_version"]) for r in logged} == {
        ("2024-05", "batch", "a" * 32)
    }
    scored = pd.read_parquet(first.directory / "scored.parquet")
    assert [r["probability"] for r in logged] == scored["probability"].tolist()
    assert [r["decision"] for r in logged] == scored["churn"].astype(int).tolist()
    db = sqlite3.connect(tmp_path / "log.sqlite")
    [(rows_in, scored_n, quarantined, reasons)] = db.execute(
        "SELECT rows_in, rows_scored, rows_quarantined, quarantine_reasons FROM scoring_runs"
    ).fetchall()
    assert (rows_in, scored_n, quarantined) == (600, 594, 5)
    assert "unknown_category:Contract" in reasons
    assert db.execute("SELECT count(*) FROM quarantine").fetchone() == (5,)
    # The same data, model and period again: outputs rewritten, nothing logged twice.
    before = (first.directory / "scored.parquet").read_bytes()
    again = run(tmp_path, model, dirty)
    assert not again.logged and again.previous is not None
    assert len(read(tmp_path / "log.sqlite")) == 594
    assert (again.directory / "scored.parquet").read_bytes() == before
    # Another period is another run.
    assert run(tmp_path, model, dirty, period="2024-06").logged
    assert len(read(tmp_path / "log.sqlite")) == 2 * 594


def test_the_block_size_changes_neither_the_rows_nor_their_order(tmp_path, model, dirty):
    small = run(tmp_path, model, dirty, block_rows=100, log=False, out="a")
    large = run(tmp_path, model, dirty, block_rows=5000, log=False, out="b")
    for name in ("quarantine.csv", "summary.json"):
        assert (small.directory / name).read_bytes() == (large.directory / name).read_bytes()
    for name in ("scored.parquet", "contact_list.parquet"):
        a, b = (pd.read_parquet(r.directory / name) for r in (small, large))
        # A matrix product over another number of rows may sum in another order: the
        # probabilities agree to the last bits, everything else exactly.
        np.testing.assert_allclose(a.pop("probability"), b.pop("probability"), rtol=0, atol=1e-12)
        pd.testing.assert_frame_equal(a, b)


def test_a_file_without_rows_gives_files_with_their_columns(tmp_path, model, dirty):
    result = run(tmp_path, model, dirty.iloc[:0], log=False)
    scored = pd.read_parquet(result.directory / "scored.parquet")
    assert len(scored) == 0 and "probability" in scored.columns
    assert result.totals.rows_in == 0


def test_a_file_missing_contract_columns_is_refused_naming_them(tmp_path, model, dirty):
    with pytest.raises(DataError, match=r"missing the column\(s\) \['tenure'\]"):
        run(tmp_path, model, dirty.drop(columns=["tenure"]), log=False)
