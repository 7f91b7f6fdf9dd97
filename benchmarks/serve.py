"""Benchmark the prediction service over loopback (a script, not a test).

Starts ``python -m churn.serve`` (one uvicorn worker) on a free port of 127.0.0.1
with the workspace model and a throwaway prediction log, then, from this process:

1. single-prediction latency: sequential POST /predict on one keep-alive connection;
2. throughput: POST /predict from several concurrent keep-alive connections for a
   fixed time (requests/s, and latency under that load);
3. batch: POST /predict/batch with 1,000 customers, repeated.

Targets (issue 6): p99 < 25 ms, > 300 requests/s, batch of 1,000 < 100 ms.
Needs the pipeline's outputs (``make repro``). Run: ``make bench-serve``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tests.support.telco import TELCO

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "churn.serve", "--port", str(port)),
            *("--prediction-log", str(log), "--log-level", "warning"),
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/ready")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the service did not become ready in 60 s")


def records() -> list[dict]:
    table = pd.read_parquet(ROOT / "data/processed/splits/test.parquet")
    return json.loads(table[list(TELCO.feature_names)].to_json(orient="records"))


class Client:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: bytes) -> float:
        start = time.perf_counter()
        self.conn.request("POST", path, body, {"Content-Type": "application/json"})
        response = self.conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        return elapsed


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: unlike wall time, not inflated by
    other processes competing for the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def latency(port: int, bodies: list[bytes], n: int) -> list[float]:
    client = Client(port)
    for body in bodies[:100]:  # warm up
        client.post("/predict", body)
    return [client.post("/predict", bodies[i % len(bodies)]) for i in range(n)]


def throughput(port: int, bodies: list[bytes], clients: int, seconds: float):
    times: list[list[float]] = [[] for _ in range(clients)]
    stop = time.perf_counter() + seconds

    def work(k: int) -> None:
        client = Client(port)
        i = k
        while time.perf_counter() < stop:
            times[k].append(client.post("/predict", bodies[i % len(bodies)]))
            i += clients

    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    flat = [t for ts in times for t in ts]
    return len(flat) / elapsed, flat


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=3000, help="sequential requests")
    p.add_argument("--clients", type=int, default=16, help="concurrent connections")
    p.add_argument("--seconds", type=float, default=10, help="throughput run length")
    p.add_argument("--batches", type=int, default=30, help="batches of 1,000")
    args = p.parse_args()

    rows = records()
    bodies = [json.dumps(r).encode() for r in rows]
    batch = json.dumps({"customers": (rows * (1000 // len(rows) + 1))[:1000]}).encode()
    print(f"machine: {os.cpu_count()} cores; server: 1 uvicorn worker; client: this process")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(port, Path(tmp) / "predictions.sqlite")
        try:
            cpu = cpu_seconds(server.pid)
            seq = latency(port, bodies, args.requests)
            seq_cpu = (cpu_seconds(server.pid) - cpu) / (len(seq) + 100)
            print(
                f"single prediction, sequential ({len(seq)} requests): "
                f"p50 {ms(np.percentile(seq, 50))}  p99 {ms(np.percentile(seq, 99))}  "
                f"max {ms(max(seq))}  ({len(seq) / sum(seq):.0f} requests/s on one connection)"
                f"; server CPU {ms(seq_cpu)} per request"
            )
            cpu = cpu_seconds(server.pid)
            rate, loaded = throughput(port, bodies, args.clients, args.seconds)
            load_cpu = (cpu_seconds(server.pid) - cpu) / (rate * args.seconds)
            print(
                f"throughput, {args.clients} concurrent connections for {args.seconds:g} s: "
                f"{rate:.0f} requests/s  (latency p50 {ms(np.percentile(loaded, 50))}  "
                f"p99 {ms(np.percentile(loaded, 99))}); server CPU {ms(load_cpu)} per request"
            )
            client = Client(port)
            client.post("/predict/batch", batch)  # warm up
            times = [client.post("/predict/batch", batch) for _ in range(args.batches)]
            print(
                f"batch of 1,000 ({args.batches} requests): median {ms(statistics.median(times))}"
                f"  p95 {ms(np.percentile(times, 95))}  max {ms(max(times))}"
            )
            print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
