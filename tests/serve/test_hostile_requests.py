"""Requests an attacker (or a careless client) would send, against the real service.

Non-finite numbers, values of the wrong type, bodies over the size limit (declared or
chunked), and a property-based test that throws all of it at the running server:
never a 5xx, always a JSON body, and the service still answers afterwards (issue 13,
items 2 to 4 and the property test).
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churn.serve.prediction_log import read
from tests.serve.conftest import copy_for_start, get
from tests.serve.test_api import metric, start
from tests.support.telco import TELCO as contract

pytestmark = pytest.mark.e2e

NUMBERS = contract.numeric_features
#: Non-finite and out-of-range number literals, as a client's JSON text may hold them.
NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e999")


def strict_json(body: bytes):
    """``body`` parsed as standard JSON: NaN and Infinity are not JSON, so they fail."""

    def refuse(token: str):
        raise AssertionError(f"the body holds {token}, which is not JSON: {body[:200]!r}")

    return json.loads(body, parse_constant=refuse)


def with_literal(record: dict, field: str, literal: str) -> bytes:
    """``record`` as JSON text with ``field`` set to the raw ``literal`` (e.g. NaN)."""
    marker = "__literal__"
    return json.dumps({**record, field: marker}).replace(f'"{marker}"', literal).encode()


def exchange(port: int, path: str, body: bytes, limit: int) -> tuple[int, dict, bytes]:
    """POST ``body``; one over ``limit`` is not sent: the service must answer from the
    headers alone (as a client sending `Expect: 100-continue` would let it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + (body if len(body) <= limit else b""))
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, dict(response.getheaders()), response.read()


# --- non-finite numbers (item 2) -----------------------------------------------------------

JSON = {"Content-Type": "application/json"}


def test_non_finite_numbers_get_422_with_a_json_body(client, log_path):
    record = dict(contract.example)
    for field in NUMBERS:
        for literal in NON_FINITE:
            response = client.post(
                "/predict", content=with_literal(record, field, literal), headers=JSON
            )
            assert response.status_code == 422, (field, literal, response.text)
            [error] = strict_json(response.content)["detail"]
            assert error["loc"] == ["body", field]
            assert error["input"] in ("NaN", "Infinity", "-Infinity")
    batch = b'{"customers": [%s, %s]}' % (
        json.dumps(record).encode(),
        with_literal(record, "TotalCharges", "NaN"),
    )
    response = client.post("/predict/batch", content=batch, headers=JSON)
    assert response.status_code == 422
    [error] = strict_json(response.content)["detail"]
    assert error["loc"] == ["body", "customers", 1, "TotalCharges"]
    for body in (b"NaN", b"[Infinity]", b'{"customers": -Infinity}'):
        response = client.post("/predict/batch", content=body, headers=JSON)
        assert response.status_code == 422 and strict_json(response.content)["detail"]
    assert not log_path.exists() or read(log_path) == []


def test_a_refused_huge_batch_is_not_echoed_back(client, serve_settings):
    too_many = {"customers": [dict(contract.example)] * (serve_settings.max_batch_size + 1)}
    response = client.post("/predict/batch", json=too_many)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "too_long" and "input" not in error
    assert len(response.content) < 1000


# --- strict types (item 4) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("tenure", True, "int_type"),
        ("tenure", "12", "int_type"),
        ("tenure", 12.5, "int_type"),
        ("MonthlyCharges", True, "float_type"),
        ("MonthlyCharges", "85.5", "float_type"),
        ("gender", "female", "literal_error"),
        ("customerID", 7590, "string_type"),
    ],
)
def test_values_of_the_wrong_type_are_refused_not_converted(client, field, value, error):
    response = client.post("/predict", json={**dict(contract.example), field: value})
    assert response.status_code == 422, response.text
    [found] = response.json()["detail"]
    assert (found["loc"], found["type"], found["input"]) == (["body", field], error, value)


def test_a_whole_number_is_a_number(client):
    response = client.post("/predict", json={**dict(contract.example), "MonthlyCharges": 85})
    assert response.status_code == 200, response.text


# --- the body limit (item 3) ---------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_before_it_is_read(server, serve_settings):
    limit = serve_settings.max_request_bytes
    # Only the headers: the 413 comes without the service waiting for a byte of the body.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/predict/batch")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(48_000_000))
    conn.endheaders()
    response = conn.getresponse()
    body = strict_json(response.read())
    conn.close()
    assert response.status == 413 and response.getheader("connection") == "close"
    assert body["detail"].startswith("request body of 48,000,000 bytes (Content-Length)")
    assert f"limit of {limit:,} bytes (serve.max_request_bytes)" in body["detail"]

    # A chunked body (no Content-Length) is refused while it streams in.
    total = 32 * limit
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /predict/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        while sent < total and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 65536
        deadline = time.monotonic() + 30
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            assert time.monotonic() < deadline, answer
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert sent < total, "the whole body was read before the refusal"
    assert "refused while it was read" in strict_json(payload)["detail"]

    # A full batch still fits, and the refusals are counted as client errors.
    batch = {"customers": [dict(contract.example)] * serve_settings.max_batch_size}
    status, _ = server.post("/predict/batch", batch)
    assert status == 200
    status, text = get(server.port, "/metrics")
    assert metric(text.decode(), "churn_http_errors_total", path="/predict/batch", kind="client")
    assert "Traceback" not in server.output()


def test_a_limit_too_small_for_a_batch_stops_the_service_at_start(served_repo, tmp_path):
    root = copy_for_start(served_repo, tmp_path / "copy")
    params = root / "params.yaml"
    params.write_text(
        params.read_text().replace("max_request_bytes: 2000000", "max_request_bytes: 100000")
    )
    result = start(root)
    assert result.returncode == 1
    assert "serve.max_request_bytes (100,000) cannot hold a batch of serve.max_batch_size" in (
        result.stderr
    )
    assert "raise serve.max_request_bytes, or lower serve.max_batch_size" in result.stderr
    assert "Traceback" not in result.stderr


# --- the property-based test ---------------------------------------------------------------

#: Number literals Python's own JSON encoder would not write (beyond float, beyond the
#: parser's 4,300-digit limit for integers), substituted as raw text.
RAW_NUMBERS = ("NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" * 5000, "9" * 400, "1e-400")


@dataclass(frozen=True)
class Raw:
    """A number literal to write as it is into the JSON text (not a str subclass:
    hypothesis's shrinker takes those for its own string choices)."""

    text: str


hostile = st.one_of(
    st.floats(),  # NaN, infinities, subnormals, -0.0
    st.integers(min_value=-(10**40), max_value=10**40),
    st.booleans(),
    st.none(),
    st.text(max_size=20),
    st.sampled_from(RAW_NUMBERS).map(Raw),
    # Oversized strings, the last one past the body limit (2,000,000 bytes by default).
    st.sampled_from([1_000, 1_000_000, 2_100_000]).map(lambda n: "x" * n),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
FIELDS = [contract.id_column, *contract.feature_names, "unknown"]
record = st.builds(
    lambda changes, dropped: {
        k: v for k, v in {**dict(contract.example), **changes}.items() if k not in dropped
    },
    st.dictionaries(st.sampled_from(FIELDS), hostile, max_size=3),
    st.sets(st.sampled_from(FIELDS), max_size=2),
)


def batch_of(values) -> dict:
    return {"customers": values}


bodies = st.one_of(
    st.tuples(st.just("/predict"), record),
    st.tuples(st.just("/predict/batch"), st.lists(record, max_size=4).map(batch_of)),
    st.tuples(st.sampled_from(["/predict", "/predict/batch"]), hostile),
    st.tuples(st.just("/predict/batch"), hostile.map(batch_of)),
)


def encode(payload) -> bytes:
    """JSON text of ``payload``, with ``Raw`` literals written as they are."""
    literals: list[str] = []

    def mark(value):
        if isinstance(value, Raw):
            literals.append(value.text)
            return f"__raw_{len(literals) - 1}__"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(payload))
    for i, literal in enumerate(literals):
        text = text.replace(f'"__raw_{i}__"', literal)
    return text.encode()


def test_hostile_requests_never_get_a_server_error(server, serve_settings):
    """Whatever the body holds: no 5xx, a JSON body, and the service still answers."""
    limit = serve_settings.max_request_bytes
    seen: set[int] = set()

    @given(request=bodies)
    @settings(
        max_examples=150,
        # One request must never take seconds (the unbounded body took about 10 s).
        deadline=timedelta(seconds=10),
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def check(request) -> None:
        path, payload = request
        status, headers, body = exchange(server.port, path, encode(payload), limit)
        seen.add(status)
        assert status < 500, (path, status, body[:300])
        assert headers.get("content-type") == "application/json", headers
        answer = strict_json(body)
        if status == 200:
            predictions = answer.get("predictions", [answer])
            assert all(0 <= p["probability"] <= 1 for p in predictions)

    check()
    assert {200, 413, 422} <= seen, seen
    # The service still answers, and nothing went wrong inside it.
    assert get(server.port, "/ready")[0] == 200
    assert server.post("/predict", dict(contract.example))[0] == 200
    _, text = get(server.port, "/metrics")
    for path in ("/predict", "/predict/batch"):
        assert metric(text.decode(), "churn_http_errors_total", path=path, kind="server") == 0
    assert "Traceback" not in server.output()
