"""The challenger's window and the evidence: what goes where, and files collect reads back."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from churn.clean.rules import clean
from churn.collect.files import CsvSource
from churn.collect.snapshot import collect, with_row_id
from churn.core import lineage
from churn.core.errors import DataError
from churn.core.problem import read_problem
from churn.retrain.settings import WindowParams
from churn.retrain.window import OUTCOME, PART, PERIOD, TEST, assemble, write_csv
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import TELCO

IDC = TELCO.id_column


def labelled_from(clean_rows: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """Clean rows cut into consecutive periods, as labelled rows of the prediction log."""
    size = len(clean_rows) // len(periods)
    out = clean_rows[[IDC, *TELCO.feature_names]].copy()
    out[PERIOD] = [periods[min(i // size, len(periods) - 1)] for i in range(len(out))]
    out[OUTCOME] = TELCO.labels(clean_rows).to_numpy()
    return out.reset_index(drop=True)


def with_label(clean_rows: pd.DataFrame) -> pd.DataFrame:
    out = clean_rows.copy()
    out[TELCO.label] = TELCO.labels(clean_rows)
    return out


@pytest.fixture(scope="module")
def parts(telco_raw, telco_clean):
    """3,000 original rows (100 of them the champion's test split) and three periods of
    300 other units."""
    first = set(telco_clean[IDC].iloc[:3000])
    original = telco_raw.loc[telco_raw[IDC].isin(first)].reset_index(drop=True)
    labelled = labelled_from(telco_clean.iloc[3000:3900], ["2024-03", "2024-04", "2024-05"])
    test = with_label(telco_clean.iloc[:100])
    return original, labelled, test


def test_expanding_keeps_the_original_and_all_but_the_newest_period(parts):
    original, labelled, test = parts
    window = assemble(original, labelled, test, TELCO, WindowParams(kind="expanding"))
    assert list(window.files) == ["original.csv", "period-2024-03.csv", "period-2024-04.csv"]
    assert window.manifest["trained_periods"] == ["2024-03", "2024-04"]
    assert window.manifest["holdout_periods"] == ["2024-05"]
    # The champion's test rows are evidence, never training rows.
    assert len(window.files["original.csv"]) == 3000 - 100
    assert not set(test[IDC]) & set(window.files["original.csv"][IDC])
    assert window.manifest["excluded_champion_test_rows"] == 100
    assert window.rows == 2900 + 600 == window.manifest["window_rows"]
    parts_ = window.evidence[PART].value_counts().to_dict()
    assert parts_ == {"2024-05": 300, TEST: 100}
    newest = window.evidence.loc[window.evidence[PART] == "2024-05"]
    expected = labelled.loc[labelled[PERIOD] == "2024-05"].sort_values(IDC)
    assert list(newest[TELCO.label]) == list(expected[OUTCOME])
    assert window.manifest["seen_through"] == "2024-05"


def test_sliding_keeps_only_the_newest_periods(parts):
    original, labelled, test = parts
    window = assemble(original, labelled, test, TELCO, WindowParams(kind="sliding", periods=1))
    assert list(window.files) == ["period-2024-04.csv"]
    assert window.manifest["rows"] == {"original": 0, "period 2024-04": 300}


def test_a_unit_present_twice_keeps_its_newest_record(parts):
    original, labelled, test = parts
    twice = labelled.copy()
    moved = twice.index[twice[PERIOD] == "2024-04"][:5]
    twice.loc[moved, IDC] = original[IDC].iloc[200:205].to_numpy()  # also in the original
    first = twice.index[twice[PERIOD] == "2024-03"][:3]
    twice.loc[first, IDC] = twice.loc[moved[:3], IDC].to_numpy()  # and in an older period
    window = assemble(original, twice, test, TELCO, WindowParams())
    everywhere = pd.concat(list(window.files.values()))[IDC]
    assert everywhere.is_unique
    assert set(twice.loc[moved, IDC]) <= set(window.files["period-2024-04.csv"][IDC])


def test_too_few_labelled_periods_is_a_clear_error(parts):
    original, labelled, test = parts
    one = labelled.loc[labelled[PERIOD] == "2024-03"]
    with pytest.raises(DataError, match=r"1 labelled period\(s\) \(2024-03\).*holdout_periods"):
        assemble(original, one, test, TELCO, WindowParams())


def test_the_files_read_back_as_the_same_records(parts, tmp_path):
    """collect + clean of the window gives back the labelled rows' values and outcomes."""
    original, labelled, test = parts
    window = assemble(original, labelled, test, TELCO, WindowParams())
    for name, rows in window.files.items():
        write_csv(rows, tmp_path / "window" / name)
    collect(CsvSource(kind="csv", path="window"), tmp_path / "raw.parquet", root=tmp_path)
    raw = pd.read_parquet(tmp_path / "raw.parquet")
    cleaned, quarantined, _ = clean(raw, TELCO)
    assert len(quarantined) == 0 and len(cleaned) == window.rows
    back = cleaned.set_index(IDC)
    trained = labelled.loc[labelled[PERIOD] != "2024-05"].set_index(IDC)
    for column in TELCO.feature_names:
        assert back.loc[trained.index, column].tolist() == trained[column].tolist(), column
    assert TELCO.labels(back.loc[trained.index]).tolist() == trained[OUTCOME].tolist()
    # The original rows are written exactly as read (the same text, blanks included).
    from_original = raw.loc[raw[lineage.SOURCE_FILE].str.endswith("original.csv")]
    kept = original.loc[~original[IDC].isin(test[IDC])]
    names = [c for c in original.columns if c not in lineage.COLUMNS]
    assert from_original[names].reset_index(drop=True).equals(kept[names].reset_index(drop=True))


def test_a_problem_without_an_identifier_gets_the_same_made_ids(tmp_path):
    """German credit: collect makes each row's id from its text; the window's files leave
    that id out, and collect gives the original rows the same ids again."""
    problem = read_problem(REPO_ROOT / "examples" / "german_credit" / "problem.yaml")
    contract = problem.contract
    assert contract.made_id
    source = CsvSource(kind="csv", path="examples/german_credit/german_credit.csv")
    batches = [with_row_id(b, contract.id_column) for b in source.blocks(REPO_ROOT)]
    original = pa.Table.from_batches(batches).to_pandas()
    cleaned, _, _ = clean(original, contract)
    labelled = cleaned.iloc[600:900][[contract.id_column, *contract.feature_names]].copy()
    labelled[PERIOD] = ["2024-03"] * 150 + ["2024-04"] * 150
    labelled[OUTCOME] = contract.labels(cleaned.iloc[600:900]).to_numpy()
    test = cleaned.iloc[:50].copy()
    test[contract.label] = contract.labels(test)
    window = assemble(original, labelled, test, contract, WindowParams())
    assert contract.id_column not in window.files["original.csv"].columns
    for name, rows in window.files.items():
        write_csv(rows, tmp_path / "window" / name)
    collect(
        CsvSource(kind="csv", path="window/original.csv"),
        tmp_path / "raw.parquet",
        root=tmp_path,
        make_id=contract.id_column,
    )
    again = pd.read_parquet(tmp_path / "raw.parquet")[contract.id_column]
    # The same rows also make the trained period here: they count once, in the period.
    trained = labelled.loc[labelled[PERIOD] == "2024-03", contract.id_column]
    expected = set(original[contract.id_column]) - set(test[contract.id_column]) - set(trained)
    assert set(again) == expected and len(again) == len(window.files["original.csv"])
    assert set(window.evidence[PART]) == {"2024-04", TEST}
