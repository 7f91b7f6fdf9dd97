"""The retraining loop end to end, on the simulated stream, with the real dvc CLI, git and
the real service on loopback (``churn.retrain.demo``'s steps, one by one).

One story, in order, because each step starts from the state the previous one left (one
copy of the repository, one cold pipeline run, one service):

1. no drift: the monitor says ok, the policy says no retraining, no experiment is made;
2. concept drift: the policy says retrain; the challenger trained on the new window is
   accepted on the newest month; promoting it switches the running service while clients
   keep posting, and not one request fails;
3. a challenger trained on shuffled labels is refused, with the rule's reason;
4. rollback (one command) puts the previous version back in service;
5. every decision is in the audit log, whose chain is intact.
"""

from __future__ import annotations

import csv
import json
import threading
import time

import numpy as np
import pytest
import requests

from churn.retrain.demo import LoopDemo
from churn.retrain.registry import Registry
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import TELCO as contract

pytestmark = pytest.mark.e2e


def model_version(url: str) -> str:
    return requests.get(f"{url}/model", timeout=30).json()["version"]


class Clients:
    """Threads posting predictions without pause; every status and model_version seen."""

    def __init__(self, url: str, n: int = 4) -> None:
        self.url, self.seen, self.stop = url, [], threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._post, daemon=True) for _ in range(n)]

    def _post(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            try:
                r = session.post(f"{self.url}/predict", json=dict(contract.example), timeout=60)
                seen = (r.status_code, r.json().get("model_version", ""))
            except requests.RequestException as exc:  # a refused or dropped connection
                seen = (0, type(exc).__name__)
            with self.lock:
                self.seen.append(seen)
            time.sleep(0.1)  # steady traffic, without starving the promotion of CPU

    def __enter__(self) -> Clients:
        for t in self.threads:
            t.start()
        time.sleep(0.5)
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.5)
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


def shuffle_labels(folder, seed: int = 0) -> int:
    """Shuffle the target column across the rows of every batch file of the window."""
    rng = np.random.default_rng(seed)
    changed = 0
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        col = header.index(contract.target)
        labels = [r[col] for r in body]
        shuffled = rng.permutation(labels)
        changed += sum(a != b for a, b in zip(labels, shuffled, strict=True))
        for r, value in zip(body, shuffled, strict=True):
            r[col] = str(value)
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\r\n").writerows([header, *body])
    return changed


# Three pipeline runs (the first model, the challenger, the one on shuffled labels) and a
# promotion: minutes, more than the default timeout on a busy 2-core machine.
@pytest.mark.timeout(1800)
def test_the_loop_retrains_under_drift_only_refuses_a_worse_model_and_rolls_back(tmp_path):
    lines: list[str] = []
    demo = LoopDemo(REPO_ROOT, tmp_path / "loop", say=lines.append)
    demo.setup()
    demo.start_service()
    try:
        no_drift, drift = demo.phases()
        registry = Registry(demo.workspace)
        v1 = registry.in_stage("prod")
        assert v1 is not None and v1.name == "v1.0.0"
        served_v1 = model_version(demo.url)

        # 1. No drift: nothing is retrained.
        demo.score(no_drift)
        verdicts = demo.monitor()
        assert {p["verdict"] for p in verdicts["periods"]} <= {"ok", "investigate"}, verdicts
        out = demo.run_policy()
        assert "policy: no retraining" in out, out
        assert demo.challenger() is None
        assert not demo.ws.run("git", "for-each-ref", "refs/exps").stdout.strip()

        # 2. Concept drift: retrain, accepted, promoted; the service switches under load.
        demo.score(drift)
        demo.monitor()
        out = demo.run_policy("--no-report", "--until-challenge")
        assert "policy: RETRAIN" in out and "monitor says retrain" in out, out
        challenge = demo.challenger()
        assert challenge is not None and challenge["decision"] == "accepted", "\n".join(lines)
        experiment = challenge["figures"]["experiment"]
        gain = challenge["figures"]["metrics"]["newest"]
        assert gain["profit_gain_low"] > 0, gain
        assert gain["challenger_profit_per_customer"] > gain["champion_profit_per_customer"]
        assert "manual" in out and f"--experiment {experiment}" in out  # a person approves
        assert registry.in_stage("prod") == v1  # nothing promoted without approval

        with Clients(demo.url) as clients:
            started = time.perf_counter()
            demo.promote(experiment, approver="a reviewer")
            switch_seconds = time.perf_counter() - started
        v2 = registry.in_stage("prod")
        assert v2 is not None and v2.name == "v1.1.0" and v2 != v1
        served_v2 = model_version(demo.url)
        assert served_v2 != served_v1 and served_v2.endswith(v2.commit[:12])
        statuses = {s for s, _ in clients.seen}
        assert statuses == {200}, [s for s in clients.seen if s[0] != 200][:5]
        assert {v for _, v in clients.seen} == {served_v1, served_v2}
        record = json.loads((demo.workspace / "models" / "challenge.json").read_text())
        assert record["status"] == "accepted" and record["champion"]["name"] == "v1.0.0"
        print(f"promotion with 4 clients posting: {switch_seconds:.1f} s, "
              f"{len(clients.seen)} requests, all answered 200")  # fmt: skip

        # 3. A challenger trained on shuffled labels is refused, with the reason.
        demo.retrain("window", "--by", "a tester")
        assert shuffle_labels(demo.workspace / "data" / "retrain" / "window") > 100
        demo.ws.run("dvc", "add", "data/retrain")
        refused = demo.retrain(
            "challenge", "--keep-window", "--no-report", "--until-challenge",
            "--name", "shuffled-labels", "--by", "a tester",
        ).stdout  # fmt: skip
        assert "challenger shuffled-labels: REFUSED" in refused, refused
        assert "not above the tolerance" in refused, refused
        promote = demo.retrain(
            "promote", "--experiment", "shuffled-labels", "--approved-by", "a tester",
            check=False,
        )  # fmt: skip
        assert promote.returncode != 0 and "refused by the rule" in promote.stderr
        assert registry.in_stage("prod") == v2 and model_version(demo.url) == served_v2

        # 4. Rollback: one command puts v1.0.0 back, in the registry and in the service.
        demo.retrain(
            "rollback", "--by", "an operator", "--reason", "test", "--service-url", demo.url
        )
        assert registry.in_stage("prod") == v1
        assert model_version(demo.url) == served_v1

        # 5. The audit log: every decision, chained.
        actions = [(e["action"], e["decision"]) for e in demo.audit_log()]
        for expected in [
            ("policy", "no retrain"),
            ("policy", "retrain"),
            ("challenge", "accepted"),
            ("promote", "promoted"),
            ("serve", "switched"),
            ("challenge", "refused"),
            ("promote", "refused"),
            ("rollback", "rolled back"),
        ]:
            assert expected in actions, (expected, actions)
        assert "chain intact" in demo.retrain("log", "--verify").stdout
    finally:
        demo.stop_service()
