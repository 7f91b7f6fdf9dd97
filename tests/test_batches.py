"""Monthly batch files: shipped, combined deterministically, the same clean data as one file."""

from __future__ import annotations

import importlib.util

import pandas as pd

from churn.clean.rules import clean
from churn.collect.files import CsvSource
from churn.collect.snapshot import collect
from churn.core.io import write_parquet
from churn.core.lineage import SOURCE_FILE, SOURCE_LINE
from tests.conftest import collect_csv, write_csv
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import TELCO

BATCHES = REPO_ROOT / "data" / "external" / "batches"


def load_script():
    spec = importlib.util.spec_from_file_location(
        "split_batches", REPO_ROOT / "scripts" / "split_batches.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_batches_are_what_the_script_makes(tmp_path):
    made = load_script().split(REPO_ROOT / "data/external/telco_customer_churn.csv", tmp_path, 4)
    assert [p.name for p in made] == ["2024-01.csv", "2024-02.csv", "2024-03.csv", "2024-04.csv"]
    committed = sorted(BATCHES.glob("*.csv"))
    assert [p.name for p in committed] == [p.name for p in made]
    for ours, theirs in zip(made, committed, strict=True):
        assert ours.read_bytes() == theirs.read_bytes(), f"{theirs} is out of date"


def test_the_batch_folder_gives_the_same_clean_bytes_as_the_single_file(tmp_path, telco_raw):
    raw = tmp_path / "raw.parquet"
    collect(CsvSource(kind="csv", path="data/external/batches"), raw, root=REPO_ROOT)
    from_batches = pd.read_parquet(raw)
    assert from_batches[SOURCE_FILE].drop_duplicates().tolist() == [
        f"data/external/batches/2024-0{m}.csv" for m in (1, 2, 3, 4)
    ]
    assert len(from_batches) == 7043
    clean_batches, quarantine, report = clean(from_batches, TELCO)
    clean_single, _, _ = clean(telco_raw, TELCO)
    assert len(quarantine) == 0 and report.exact_duplicates_removed == 0
    write_parquet(clean_batches, tmp_path / "a.parquet")
    write_parquet(clean_single, tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_duplicates_across_batches_exact_and_conflicting(tmp_path, telco_text):
    january, february = telco_text.iloc[:40].copy(), telco_text.iloc[40:80].copy()
    repeated = telco_text.iloc[[3]]  # the same customer again, identical: an exact duplicate
    changed = telco_text.iloc[[7]].copy()
    changed["Contract"] = "Two year"  # the same customer again, different: a conflict
    assert telco_text.iloc[7]["Contract"] != "Two year"
    february = pd.concat([february, repeated, changed])
    folder = tmp_path / "batches"
    write_csv(january, folder / "2024-01.csv")
    write_csv(february, folder / "2024-02.csv")
    raw = collect_csv(folder, tmp_path)
    cleaned, quarantine, report = clean(raw, TELCO)
    assert report.rows_in == 82
    assert report.exact_duplicates_removed == 1
    conflict = quarantine[quarantine[TELCO.id_column] == telco_text.iloc[7][TELCO.id_column]]
    assert conflict["reason"].tolist() == ["conflicting_duplicate_id"] * 2
    assert conflict[[SOURCE_FILE, SOURCE_LINE]].values.tolist() == [
        ["batches/2024-01.csv", 9],
        ["batches/2024-02.csv", 43],
    ]
    assert report.quarantine_reasons == {"conflicting_duplicate_id": 2}
    assert telco_text.iloc[7][TELCO.id_column] not in set(cleaned[TELCO.id_column])
    assert report.rows_in == report.rows_clean + report.rows_quarantined + 1
