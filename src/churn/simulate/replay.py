"""Replay a month of records through the real prediction service, as an online client would.

The client checks its records with the data contract first (the cleaning rules, as batch
scoring does) and sends the clean ones to ``POST /predict/batch`` in requests of at most
the service's batch limit, naming the month in ``X-Period`` so that the service logs the
predictions under it. Rows the contract refuses are not sent (the service would answer 422
for the whole request): they are counted and returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import requests

from churn.collect.files import CsvSource
from churn.core.contract import Contract, Kind
from churn.monitor.outcomes import read_source
from churn.score.batch import Duplicates, check_block


@dataclass(frozen=True)
class Replayed:
    sent: int
    refused_by_contract: int
    requests: int


def clean_records(path: Path, contract: Contract) -> tuple[list[dict], int]:
    """The file's rows that pass the contract, as JSON records; and how many did not."""
    raw = read_source(CsvSource(kind="csv", path=str(path)))
    checked = check_block(raw, contract, Duplicates(), str(path))
    table = checked.clean[[contract.id_column, *contract.feature_names]]
    records = []
    for row in table.to_dict("records"):
        for column in contract.features:
            value = row[column.name]
            if column.kind is Kind.INTEGER:
                row[column.name] = int(value)
            elif column.kind is Kind.NUMBER:
                row[column.name] = float(value)
        records.append(row)
    return records, len(checked.quarantine)


def wait_ready(url: str, timeout: float = 60) -> None:
    """Wait until ``GET /ready`` answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the service at {url} did not become ready in {timeout:.0f} s")


def replay(
    url: str, path: Path, contract: Contract, units: str, period: str, batch_size: int
) -> Replayed:
    """Send the month at ``path`` to the service at ``url`` under ``period``."""
    records, refused = clean_records(path, contract)
    chunks = [records[i : i + batch_size] for i in range(0, len(records), batch_size)]
    with requests.Session() as session:
        for chunk in chunks:
            answer = session.post(
                f"{url}/predict/batch",
                json={units: chunk},
                headers={"X-Period": period},
                timeout=60,
            )
            if answer.status_code != 200:
                raise RuntimeError(
                    f"the service answered {answer.status_code} for {period}: {answer.text[:500]}"
                )
            got = answer.json()["predictions"]
            if len(got) != len(chunk):
                raise RuntimeError(f"{len(got)} predictions for {len(chunk)} records")
    return Replayed(len(records), refused, len(chunks))
