"""Loading outcomes into the prediction log, and recording the log's extent."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest

from churn.collect.files import CsvSource
from churn.core.errors import DataError
from churn.monitor.log_state import extent
from churn.monitor.outcomes import load_outcomes, parse_outcomes, read_source
from churn.serve.prediction_log import connect
from tests.conftest import write_csv
from tests.support.sandbox import environment
from tests.support.telco import TELCO as contract


def parsed(tmp_path, frame: pd.DataFrame) -> pd.DataFrame:
    path = write_csv(frame, tmp_path / "outcomes.csv")
    return parse_outcomes(read_source(CsvSource(kind="csv", path=str(path))), contract, str(path))


def test_the_target_with_its_aliases_or_the_0_1_column_both_give_0_1_outcomes(tmp_path):
    by_target = parsed(
        tmp_path,
        pd.DataFrame(
            {
                "customerID": ["0001-AAAAA", "0002-BBBBB"],
                "period": ["2024-05"] * 2,
                "Churn": ["Yes", "No"],
            }
        ),
    )
    assert by_target["outcome"].tolist() == [1, 0]
    by_label = parsed(
        tmp_path,
        pd.DataFrame(
            {
                "customerID": ["0001-AAAAA", "0001-AAAAA"],
                "period": ["2024-05"] * 2,
                "churn": ["1", "1"],
            }
        ),
    )
    assert by_label.to_dict("records") == [
        {"customerID": "0001-AAAAA", "period": "2024-05", "outcome": 1}
    ]  # an exact repeat counts once


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame({"customerID": ["a"], "Churn": ["Yes"]}),
            r"missing the column\(s\) \['period'\]",
        ),
        (
            pd.DataFrame({"customerID": ["a"], "period": ["2024-05"]}),
            r"missing the column\(s\) \['Churn or churn'\]",
        ),
        (
            pd.DataFrame(
                {"customerID": ["a", "b"], "period": ["2024-05", "May 2024"], "Churn": ["No"] * 2}
            ),
            r"column 'period', line 3: 1 value\(s\) are not period labels \(e.g. 'May 2024'\)",
        ),
        (
            pd.DataFrame({"customerID": ["a"], "period": ["2024-05"], "Churn": ["Maybe"]}),
            r"column 'Churn', line 2: 1 value\(s\) are not outcomes",
        ),
        (
            pd.DataFrame(
                {"customerID": ["a", "a"], "period": ["2024-05"] * 2, "Churn": ["Yes", "No"]}
            ),
            r"lines 2, 3: the same identifier and period with different outcomes",
        ),
        (
            pd.DataFrame({"customerID": [" "], "period": ["2024-05"], "Churn": ["Yes"]}),
            r"column 'customerID', line 2: blank identifiers",
        ),
    ],
)
def test_a_bad_outcome_file_is_refused_whole_naming_column_and_lines(tmp_path, frame, message):
    with pytest.raises(DataError, match=message):
        parsed(tmp_path, frame)


def test_loading_appends_counts_matches_and_the_last_outcome_loaded_wins(tmp_path):
    log = tmp_path / "log.sqlite"
    db = connect(log, contract)
    db.execute(
        "INSERT INTO predictions (request_id, item, received_at, model_version, period, channel, "
        '"customerID", '
        + ", ".join(f'"{c}"' for c in contract.feature_names)
        + ", probability, decision, threshold) VALUES ('r', 0, '', 'm', '2024-05', 'batch', "
        "'0001-AAAAA', " + ", ".join("?" for _ in contract.feature_names) + ", 0.5, 1, 0.3)",
        [contract.example[c] for c in contract.feature_names],
    )
    db.close()
    first = pd.DataFrame(
        {"customerID": ["0001-AAAAA", "0009-ZZZZZ"], "period": ["2024-05"] * 2, "outcome": [0, 0]}
    )
    loaded = load_outcomes(log, contract, first, "a.csv")
    assert (loaded.rows, loaded.periods, loaded.matched) == (2, {"2024-05": 2}, 1)
    correction = first.iloc[:1].assign(outcome=1)
    load_outcomes(log, contract, correction, "b.csv")
    db = sqlite3.connect(log)
    rows = db.execute("SELECT customerID, outcome, source FROM outcomes ORDER BY id").fetchall()
    assert rows == [
        ("0001-AAAAA", 0, "a.csv"),
        ("0009-ZZZZZ", 0, "a.csv"),
        ("0001-AAAAA", 1, "b.csv"),
    ]


def test_the_extent_names_each_table_and_is_the_same_bytes_for_the_same_log(tmp_path):
    log = tmp_path / "logs" / "predictions.sqlite"
    assert extent(log) == {"exists": False, "prediction_log": log.as_posix()}
    connect(log, contract).close()
    state = extent(log)
    assert state["tables"] == {
        t: {"rows": 0, "last_id": 0}
        for t in ("predictions", "scoring_runs", "quarantine", "outcomes")
    }
    out = tmp_path / "state.json"
    for _ in range(2):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "churn.monitor.log_state",
                "--output",
                str(out),
                "--prediction-log",
                str(log),
            ],
            check=True,
            env=environment(),
            capture_output=True,
        )
        assert json.loads(out.read_text()) == state
