"""http source: a real JSON API on 127.0.0.1, paginated, flaky, malformed or silent."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from churn.collect.http import HttpSource
from churn.collect.snapshot import collect
from churn.collect.sources import CollectParams
from churn.core.errors import ConfigError, DataError
from churn.core.lineage import SOURCE_FILE, SOURCE_LINE
from churn.core.params import parse_section
from tests.conftest import PROBLEM_PARAMS, collect_params, run_stage
from tests.http_api import Api, serve
from tests.support.sandbox import environment
from tests.support.telco import TELCO

FAST = {"retries": 2, "backoff_factor": 0.01, "connect_timeout": 2, "read_timeout": 5}


@pytest.fixture(scope="module")
def records(telco_text) -> list[dict]:
    return telco_text.head(250).to_dict(orient="records")


def source(url: str, **settings) -> HttpSource:
    return HttpSource.model_validate({"kind": "http", "url": url, **FAST, **settings})


def snapshot(src: HttpSource, tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / "raw.parquet"
    collect(src, out)
    return pd.read_parquet(out)


def test_page_numbers_are_followed_until_an_empty_page(tmp_path, records, telco_text):
    api = Api(records)
    with serve(api) as base:
        raw = snapshot(source(f"{base}/customers", query={"per_page": 100}), tmp_path)
    pd.testing.assert_frame_equal(raw[list(TELCO.names)], telco_text.head(250), check_dtype=False)
    assert raw[SOURCE_FILE].drop_duplicates().tolist() == [
        f"http:{base}/customers#page={n}" for n in (1, 2, 3)
    ]
    assert raw[SOURCE_LINE].tolist() == [*range(1, 101), *range(1, 101), *range(1, 51)]
    assert len(api.requests) == 4  # three pages and the empty one that ends the listing
    assert api.requests[0] == "/customers?per_page=100&page=1"


@pytest.mark.parametrize("style", ["next", "link"])
def test_next_links_are_followed(tmp_path, records, telco_text, style):
    api = Api(records, style=style)
    with serve(api) as base:
        settings = {"pagination": style}
        if style == "next":
            settings |= {"records": "results.items", "next_key": "links.next"}
        else:
            settings |= {"records": ""}
        raw = snapshot(source(f"{base}/customers", **settings), tmp_path)
    pd.testing.assert_frame_equal(raw[list(TELCO.names)], telco_text.head(250), check_dtype=False)
    assert len(api.requests) == 3


def test_transient_503_is_retried_with_backoff(tmp_path, records):
    api = Api(records, fail_first=2)
    with serve(api) as base:
        raw = snapshot(source(f"{base}/customers", retries=3), tmp_path)
    assert len(raw) == 250
    assert api.requests[:3] == ["/customers?page=1"] * 3  # two 503s, then the page


def test_a_server_that_keeps_failing_is_a_clear_error(tmp_path, records):
    api = Api(records, fail_first=1000)
    with serve(api) as base, pytest.raises(DataError) as err:
        snapshot(source(f"{base}/customers", retries=2), tmp_path)
    message = str(err.value)
    assert f"http:{base}/customers#page=1" in message
    assert "kept failing after 3 tries" in message and "503" in message
    assert len(api.requests) == 3


def test_malformed_json_names_the_url_and_page(tmp_path, records):
    api = Api(records, malformed_page=2)
    with serve(api) as base, pytest.raises(DataError) as err:
        snapshot(source(f"{base}/customers"), tmp_path)
    message = str(err.value)
    assert f"http:{base}/customers#page=2" in message
    assert "not valid JSON" in message and "expected: a JSON document" in message


@pytest.mark.timeout(30)
def test_a_server_that_never_answers_times_out_clearly(tmp_path, records):
    api = Api(records, silent=True)
    start = time.monotonic()
    with serve(api) as base, pytest.raises(DataError) as err:
        snapshot(source(f"{base}/customers", read_timeout=0.5, retries=1), tmp_path)
    elapsed = time.monotonic() - start
    message = str(err.value)
    assert f"http:{base}/customers#page=1" in message
    assert "no answer within the timeouts" in message and "read 0.5 s" in message
    assert len(api.requests) == 2  # the first try and one retry
    assert elapsed < 10


def test_records_missing_from_the_page_and_empty_api(tmp_path, records):
    no_key = pytest.raises(DataError, match=r"page=1: the page has no key 'items'")
    with serve(Api(records)) as base, no_key:
        snapshot(source(f"{base}/customers", records="items"), tmp_path)
    no_records = pytest.raises(DataError, match=r"page=1: the API returned no records")
    with serve(Api([])) as base, no_records:
        snapshot(source(f"{base}/customers"), tmp_path)


def test_a_record_with_different_fields_names_page_and_line(tmp_path, records):
    changed = [dict(r) for r in records]
    del changed[130]["gender"]
    with serve(Api(changed)) as base, pytest.raises(DataError) as err:
        snapshot(source(f"{base}/customers"), tmp_path)
    assert "page=2" in str(err.value) and "line 31" in str(err.value)
    assert "missing ['gender']" in str(err.value)


def test_literal_credentials_in_params_are_refused_without_echoing_them():
    for settings in (
        {"url": "http://127.0.0.1:9/c?api_key=hunter2"},
        {"url": "http://bob:hunter2@127.0.0.1:9/c"},
        {"url": "http://127.0.0.1:9/c", "headers": {"Authorization": "Bearer hunter2"}},
    ):
        with pytest.raises(ConfigError) as err:
            parse_section("collect", {"source": {"kind": "http", **settings}}, CollectParams)
        assert "hunter2" not in str(err.value)
        assert "${VAR}" in str(err.value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_credentials_come_from_the_environment_and_appear_nowhere(tmp_path, records):
    token, key = "tok-7f3a9c-secret", "key-b81d22-secret"
    api = Api(records, token=token)
    env = {**environment(), "CHURN_API_TOKEN": token, "CHURN_API_KEY": key}
    with serve(api) as base:
        params = {
            "problem": PROBLEM_PARAMS,
            "collect": collect_params(
                {
                    "kind": "http",
                    "url": f"{base}/customers?api_key=${{CHURN_API_KEY}}",
                    "headers": {"Authorization": "Bearer ${CHURN_API_TOKEN}"},
                    **FAST,
                }
            ),
        }
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        state = run_stage("collect.source_state", tmp_path, env, "--output", "state.json")
        result = run_stage("collect", tmp_path, env, "--output", "raw.parquet")
    assert state.returncode == 0, state.stderr
    assert result.returncode == 0, result.stderr
    assert f"api_key={key}" in api.requests[0]  # the key was sent ...
    raw = pd.read_parquet(tmp_path / "raw.parquet")
    assert len(raw) == 250
    # ... but is in no output, lineage column, log line or param.
    for blob in (
        (tmp_path / "raw.parquet").read_bytes().decode("latin-1"),
        (tmp_path / "state.json").read_text(),
        (tmp_path / "params.yaml").read_text(),
        result.stdout + result.stderr + state.stdout + state.stderr,
        " ".join(raw[SOURCE_FILE].unique()),
    ):
        assert token not in blob and key not in blob

    # An unreachable API: the error names the URL as written, not the key.
    params["collect"]["source"]["url"] = (
        f"http://127.0.0.1:{free_port()}/customers?api_key=${{CHURN_API_KEY}}"
    )
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    failed = run_stage("collect", tmp_path, env, "--output", "raw2.parquet")
    assert failed.returncode == 1
    assert "cannot connect after 3 tries" in failed.stderr
    assert "api_key=${CHURN_API_KEY}" in failed.stderr
    assert key not in failed.stderr and token not in failed.stderr
    assert "Traceback" not in failed.stderr
    assert not (tmp_path / "raw2.parquet").exists()

    # A variable that is not set is named, with what to do.
    del env["CHURN_API_KEY"]
    missing = run_stage("collect", tmp_path, env, "--output", "raw3.parquet")
    assert missing.returncode == 1
    assert "environment variable CHURN_API_KEY, which is not set" in missing.stderr
