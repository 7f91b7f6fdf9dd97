"""Service operations: the Prometheus alert rules and the Grafana dashboard of deploy/.

promtool (Debian's `prometheus` package, installed by scripts/install-system-deps.sh) checks
the rules and runs their unit tests; the dashboard is checked structurally; then a real
Prometheus scrapes the real service on 127.0.0.1 while the test sends requests, and every
dashboard query and every rule is evaluated through Prometheus' HTTP API. Grafana itself is
not in Debian and does not run here: its variables are substituted as Grafana would
(`grafana_expr`).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from churn.core.errors import ChurnError
from churn.serve import model_source
from tests.serve.conftest import Server, copy_for_start, free_port, get
from tests.support import sandbox
from tests.support.sandbox import REPO_ROOT
from tests.support.telco import TELCO as contract

PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts_test.yml"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "churn-service.json"
README = REPO_ROOT / "deploy" / "README.md"
DECISION = REPO_ROOT / "models" / "decision.json"
JOB = "churn-service"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
#: Series that Prometheus makes itself rather than scraping them from the service.
PROMETHEUS_SERIES = {"up"}
#: Each panel the dashboard must have, by the service metric its query reads.
REQUIRED_METRICS = {
    "request rate by path and status": "churn_http_requests_total",
    "error ratio by kind": "churn_http_errors_total",
    "latency quantiles": "churn_http_request_duration_seconds_bucket",
    "share of positive decisions": "churn_predictions_total",
    "distribution of predicted probabilities": "churn_predicted_probability_bucket",
    "model version": "churn_model_info",
}


# --- Grafana's variables, as Grafana substitutes them ---------------------------------------
# $__rate_interval is max($__interval + scrape interval, 4 * scrape interval), with the scrape
# interval of the data source's settings (Grafana's default and prometheus.yml's: 15 s), and
# $__interval is the time range over the panel's width in pixels: 6 hours (the dashboard's
# default range) over 800-1,600 px is 14-27 s, so $__rate_interval is 1m. That fixed window is
# used here, although the test's Prometheus scrapes every second. The job is the one
# prometheus.yml scrapes; "All" instances is the variable's allValue.
GRAFANA_VALUES = {"__rate_interval": "1m", "job": JOB, "instance": ".*"}


def grafana_expr(expr: str) -> str:
    """``expr`` with the dashboard's variables replaced; an unknown variable is an error."""

    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in GRAFANA_VALUES:
            raise AssertionError(f"variable ${name} in {expr!r} has no substitute in the test")
        return GRAFANA_VALUES[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


# --- Metric names in a PromQL expression ---------------------------------------------------
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (not functions, keywords or label names)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings, e.g. regexes with parentheses
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range and subquery windows
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\b(group_left|group_right)\b", " ", text)  # without a label list
    tokens = re.finditer(r"[A-Za-z_:][\w:]*|\d[\w.]*", text)
    return {
        t.group()
        for t in tokens
        if not t.group()[0].isdigit()
        and t.group().lower() not in _KEYWORDS
        and not text[t.end() :].lstrip().startswith("(")  # a function or an aggregation
    }


def test_metric_names_are_found_in_promql():
    expr = (
        'histogram_quantile(0.99, sum by (le, path) (rate(a_bucket{path=~"/x|(y)", le!=""}[5m])))'
        " > 0.1 and on (job) sum without (kind) (increase(b_total[1h] offset 5m)) >= 1e3"
        ' or c:recorded / ignoring (kind) group_left (version) d{job="e"} unless up'
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c:recorded", "d", "up"}
    assert metric_names("vector(0) or absent(up{job='x'})") == {"up"}


# --- The rules and promtool ------------------------------------------------------------------
def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: run scripts/install-system-deps.sh (make test does)")
    return subprocess.run(
        [path, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def rules(path: Path = RULES) -> list[dict]:
    return [r for group in yaml.safe_load(path.read_text())["groups"] for r in group["rules"]]


def alert_rules() -> dict[str, dict]:
    return {r["alert"]: r for r in rules() if "alert" in r}


def test_rules_and_example_config_pass_promtool():
    checked = promtool("check", "rules", RULES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules())} rules found" in checked.stdout
    config = promtool("check", "config", CONFIG)  # also checks the rule files it names
    assert config.returncode == 0, config.stdout + config.stderr
    tested = promtool("test", "rules", RULE_TESTS)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_promtool_rejects_a_broken_rule_file(tmp_path):
    broken = tmp_path / "alerts.yml"
    broken.write_text(
        "groups:\n  - name: broken\n    rules:\n      - alert: Unbalanced\n"
        "        expr: sum(rate(churn_http_requests_total[5m])\n        for: 5m\n"
    )
    result = promtool("check", "rules", broken)
    assert result.returncode != 0
    assert "unclosed left parenthesis" in result.stdout + result.stderr


@pytest.mark.parametrize("mutation", ["never fires", "always fires"])
def test_rule_unit_tests_catch_an_alert_that_never_or_always_fires(tmp_path, mutation):
    """Replace one alert's expression at a time: promtool's unit tests must fail for each,
    so every alert has a case where it fires and a case where it stays silent."""
    expr = "vector(1) < 0" if mutation == "never fires" else "vector(1)"
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    survivors = []
    for name in alert_rules():
        doc = yaml.safe_load(RULES.read_text())
        for rule in (r for g in doc["groups"] for r in g["rules"]):
            if rule.get("alert") == name:
                rule["expr"] = expr
        (tmp_path / RULES.name).write_text(yaml.safe_dump(doc, sort_keys=False))
        result = promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
        if result.returncode == 0 or f"alertname: {name}," not in result.stdout + result.stderr:
            survivors.append(name)
    assert not survivors, f"alerts_test.yml does not notice these alerts when they {mutation}"


def test_every_alert_says_what_it_means_and_what_to_check_first():
    dashboard_titles = {p["title"] for p in panels(load_dashboard())}
    readme = README.read_text()
    for name, rule in alert_rules().items():
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "")), f"{name}: no `for:`"
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        summary, description = rule["annotations"]["summary"], rule["annotations"]["description"]
        assert summary and len(description) > 100, f"{name}: say what it means"
        assert "First check" in description, f"{name}: say what to check first"
        for title in re.findall(r'"([^"]+)" panel', description):
            assert title in dashboard_titles, f"{name} points to a panel that is not there: {title}"
        assert f"`{name}`" in readme, f"deploy/README.md does not explain {name}"


def test_positive_share_band_is_centred_on_the_validation_share():
    """The band of ChurnPositiveShareOutOfBand comes from models/decision.json: after a
    retraining that moves the validation share, this fails until the band is re-centred."""
    expr = alert_rules()["ChurnPositiveShareOutOfBand"]["expr"]
    low = float(re.search(r"ratio1h\s*<\s*([\d.]+)", expr).group(1))
    high = float(re.search(r"ratio1h\s*>\s*([\d.]+)", expr).group(1))
    share = json.loads(DECISION.read_text())["contacted_share"]["validation"]
    assert low < share < high
    assert abs((low + high) / 2 - share) <= 0.05, (low, high, share)


# --- The dashboard ---------------------------------------------------------------------------
def load_dashboard(path: Path = DASHBOARD) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> list[dict]:
    """The panels that draw something (rows hold panels but query nothing)."""
    found = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            found.extend(panel.get("panels", []))  # a collapsed row keeps its panels inside
        else:
            found.append(panel)
    return found


def dashboard_problems(dashboard: dict) -> list[str]:
    """What would stop the dashboard from importing or drawing in Grafana."""
    problems = []
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", str(dashboard.get("uid"))):
        problems.append(f"uid {dashboard.get('uid')!r} is not a stable Grafana uid")
    if dashboard.get("id") is not None:
        problems.append("id must be null (Grafana assigns it on import)")
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < 41:
        problems.append(f"schemaVersion {dashboard.get('schemaVersion')} is not current")
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    ds = variables.get("datasource", {})
    if ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append("no Prometheus data source variable named datasource")
    for name in set(variables) - {"datasource"}:
        if name not in GRAFANA_VALUES:
            problems.append(f"variable {name} has no substitute in the test")
    all_ids = [p["id"] for p in dashboard["panels"]]
    all_ids += [q["id"] for p in dashboard["panels"] for q in p.get("panels", [])]
    if len(all_ids) != len(set(all_ids)):
        problems.append(f"panel ids are not unique: {sorted(all_ids)}")
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard["panels"]:  # those of a collapsed row are laid out when it opens
        title, grid = panel.get("title", "?"), panel["gridPos"]
        if grid["x"] < 0 or grid["w"] < 1 or grid["x"] + grid["w"] > 24 or grid["h"] < 1:
            problems.append(f"{title}: gridPos {grid} is outside the 24 columns")
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                if cells.setdefault((x, y), title) != title:
                    problems.append(f"{title} overlaps {cells[(x, y)]}")
                    break
            else:
                continue
            break
    for panel in panels(dashboard):
        title = panel.get("title", "?")
        if panel.get("datasource") != DATASOURCE:
            problems.append(f"{title}: datasource is {panel.get('datasource')}")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"{title}: no query")
        if len({t.get("refId") for t in targets}) != len(targets):
            problems.append(f"{title}: refIds are not unique")
        for t in targets:
            if not str(t.get("expr", "")).strip():
                problems.append(f"{title} {t.get('refId')}: empty expr")
            if t.get("datasource", DATASOURCE) != DATASOURCE:
                problems.append(f"{title} {t.get('refId')}: datasource is {t['datasource']}")
    return problems


def dashboard_exprs(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title and refId, expression) of every query of the dashboard."""
    return [
        (f"{p['title']} [{t['refId']}]", t["expr"]) for p in panels(dashboard) for t in p["targets"]
    ]


def test_dashboard_is_structurally_valid():
    dashboard = load_dashboard()
    assert dashboard_problems(dashboard) == []
    used = set().union(*(metric_names(grafana_expr(e)) for _, e in dashboard_exprs(dashboard)))
    missing = {what: m for what, m in REQUIRED_METRICS.items() if m not in used}
    assert not missing, f"panels missing: {missing}"


def test_dashboard_check_finds_broken_panels():
    dashboard = load_dashboard()
    first, second = panels(dashboard)[:2]
    second["id"] = first["id"]
    first["datasource"] = {"type": "prometheus", "uid": "my-prometheus"}
    second["targets"][0]["expr"] = " "
    second["gridPos"] = dict(first["gridPos"])
    problems = "\n".join(dashboard_problems(dashboard))
    assert "panel ids are not unique" in problems
    assert f"{first['title']}: datasource" in problems
    assert "empty expr" in problems
    assert "overlaps" in problems


# --- A real Prometheus scraping the real service ---------------------------------------------
class Prometheus:
    """`prometheus` on a free loopback port, its storage in a temporary folder."""

    def __init__(self, workdir: Path, service_port: int) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.fail("prometheus is missing: run scripts/install-system-deps.sh")
        config = yaml.safe_load(CONFIG.read_text())
        assert config["scrape_configs"][0]["job_name"] == JOB, "alerts.yml names this job"
        # Every second, so that a test of seconds sees several scrapes and rule evaluations.
        config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
        config["rule_files"] = [str(RULES)]
        config["scrape_configs"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{service_port}"]}]
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "prometheus.log"
        self.http = requests.Session()
        self.http.trust_env = False  # loopback: never through a proxy from the environment
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={workdir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self.wait_for(lambda: get(self.port, "/-/ready", timeout=1)[0] == 200, "ready", 30)
        except BaseException:
            self.stop()
            raise

    def api(self, path: str, **params: str) -> dict:
        response = self.http.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = response.json()
        assert body["status"] == "success", f"{path} {params}: {body}"
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", (expr, data["resultType"])
        return data["result"]

    def value(self, expr: str) -> float | None:
        """The value of a one-series expression, None when it has no data."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def active_alerts(self) -> dict[str, list[dict]]:
        alerts: dict[str, list[dict]] = {}
        for alert in self.api("alerts")["alerts"]:
            alerts.setdefault(alert["labels"]["alertname"], []).append(alert)
        return alerts

    def wait_for(self, condition: Callable[[], object], what: str, seconds: float = 20) -> None:
        """Poll ``condition`` until it is true; on time-out, fail with the active alerts."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited:\n{self.log.read_text()[-3000:]}")
            try:
                if condition():
                    return
            except (OSError, requests.RequestException):
                pass
            time.sleep(0.2)
        raise AssertionError(
            f"waited {seconds} s for {what}; active alerts: "
            f"{json.dumps(self.api('alerts')['alerts'], indent=1)}\n{self.log.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def service_files(request, tmp_path_factory) -> Path:
    """What the service reads at start: from the workspace when its model matches dvc.lock
    (after `make repro`), else from the serving tests' sandbox (a `dvc repro` of its own)."""
    try:
        model_source.load(REPO_ROOT)
        source = sandbox.Sandbox(REPO_ROOT)
    except ChurnError:
        source = request.getfixturevalue("served_repo")
    return copy_for_start(source, tmp_path_factory.mktemp("service"))


@pytest.fixture
def stack(service_files, tmp_path) -> Iterator[tuple[Server, Prometheus]]:
    service = Server(service_files, tmp_path / "predictions.sqlite")
    try:
        prometheus = Prometheus(tmp_path, service.port)
        try:
            yield service, prometheus
        finally:
            prometheus.stop()
    finally:
        service.stop()


def customer(i: int, risky: bool) -> dict:
    """A valid record: month-to-month fiber (high churn risk) or two-year DSL (low)."""
    record = dict(contract.example) | {"customerID": f"{i:04d}-OPSTT", "tenure": 1 + i % 24}
    if not risky:
        record |= {"Contract": "Two year", "InternetService": "DSL", "tenure": 60 + i % 12}
    record["TotalCharges"] = round(record["tenure"] * record["MonthlyCharges"], 2)
    return record


def send_traffic(service: Server, rounds: int = 4) -> dict[tuple[str, int], int]:
    """Valid and invalid requests spread over several scrapes; the count per (path, status)."""
    sent: dict[tuple[str, int], int] = {}

    def count(path: str, status: int) -> None:
        sent[(path, status)] = sent.get((path, status), 0) + 1

    for r in range(rounds):
        for i in range(4):
            status, _ = service.post("/predict", customer(10 * r + i, risky=i % 2 == 0))
            count("/predict", status)
        batch = {"customers": [customer(100 * r + i, risky=i < 3) for i in range(5)]}
        count("/predict/batch", service.post("/predict/batch", batch)[0])
        bad = dict(contract.example) | {"tenure": "many"}
        count("/predict", service.post("/predict", bad)[0])
        count("other", get(service.port, "/no-such-page")[0])
        count("/model", get(service.port, "/model")[0])
        time.sleep(1.1)  # the next round lands in another scrape
    return sent


@pytest.mark.e2e
def test_prometheus_scrapes_the_service_and_evaluates_every_query_and_rule(stack):
    service, prometheus = stack
    instance = f"127.0.0.1:{service.port}"

    # Up, but no prediction yet: the counter of predictions does not even exist, and the
    # no-traffic alert must see that (pending; it fires after its `for:`).
    prometheus.wait_for(
        lambda: "ChurnNoPredictions" in prometheus.active_alerts(), "ChurnNoPredictions pending"
    )

    sent = send_traffic(service)
    assert sent == {
        ("/predict", 200): 16,
        ("/predict", 422): 4,
        ("/predict/batch", 200): 4,
        ("other", 404): 4,
        ("/model", 200): 4,
    }
    prometheus.wait_for(
        lambda: prometheus.value('sum(churn_http_requests_total{path="/predict"})') == 20,
        "the traffic in Prometheus",
    )
    # Healthy service with traffic: every rule evaluates without error, no alert is active.
    prometheus.wait_for(
        lambda: (
            all(r["health"] == "ok" for g in prometheus.api("rules")["groups"] for r in g["rules"])
            and not prometheus.active_alerts()
        ),
        "all rules healthy and no alert active",
    )

    # Every metric a query names is one the service exports (or Prometheus' own `up`).
    status, body = get(service.port, "/metrics")
    assert status == 200
    exported = {s.name for f in text_string_to_metric_families(body.decode()) for s in f.samples}
    recorded = {r["record"] for r in rules() if "record" in r}
    dashboard = load_dashboard()
    for where, expr in dashboard_exprs(dashboard):
        unknown = metric_names(grafana_expr(expr)) - exported - PROMETHEUS_SERIES
        assert not unknown, f"dashboard {where}: unknown metrics {unknown}"
    for rule in rules():
        unknown = metric_names(rule["expr"]) - exported - PROMETHEUS_SERIES - recorded
        assert not unknown, f"rule {rule.get('alert') or rule.get('record')}: {unknown}"

    # Every panel query returns data with a finite value (all of them have traffic to show).
    for where, expr in dashboard_exprs(dashboard):
        result = prometheus.query(grafana_expr(expr))
        values = [float(s["value"][1]) for s in result]
        assert any(math.isfinite(v) for v in values), f"{where}: {grafana_expr(expr)} -> {result}"
    share = dict(dashboard_exprs(dashboard))["Share of customers flagged churn [A]"]
    assert 0.3 < prometheus.value(grafana_expr(share)) < 0.7  # 5 risky customers in 9 a round
    # The template variables' queries, the way Grafana runs label_values(selector, label).
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            selector, label = re.fullmatch(
                r"label_values\((.+), (\w+)\)", grafana_expr(variable["query"]["query"])
            ).groups()
            values = prometheus.api(f"label/{label}/values", **{"match[]": selector})
            assert {"job": JOB, "instance": instance}[label] in values, (variable, values)

    # Every rule's expression runs; the recorded series have data, alerts are silent.
    for rule in rules():
        result = prometheus.query(rule["expr"])
        if "record" in rule:
            assert result, f"{rule['record']} has no data"
        else:
            assert result == [], f"{rule['alert']} holds on a healthy service: {result}"

    # Everyone in the next batch is a high-risk customer: the share of "churn" decisions
    # leaves the band and the drift alert goes pending.
    batch = [customer(1000 + i, risky=True) for i in range(250)]
    status, body = service.post("/predict/batch", {"customers": batch})
    assert status == 200 and all(p["churn"] for p in body["predictions"])
    prometheus.wait_for(
        lambda: "ChurnPositiveShareOutOfBand" in prometheus.active_alerts(),
        "ChurnPositiveShareOutOfBand pending",
    )
    (alert,) = prometheus.active_alerts()["ChurnPositiveShareOutOfBand"]
    assert alert["state"] == "pending" and alert["labels"]["job"] == JOB
    assert float(alert["value"]) > 0.70

    # The service goes away: its target is down and the down alert goes pending.
    service.stop()
    prometheus.wait_for(
        lambda: any(
            a["labels"]["instance"] == instance
            for a in prometheus.active_alerts().get("ChurnServiceDown", [])
        ),
        "ChurnServiceDown pending",
    )
