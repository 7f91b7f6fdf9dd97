"""The comparison report's parts, the PR-comment poster, the CI files and the plots page.

Fast tests (no dvc pipeline run): the real git CLI, a real HTTP server on 127.0.0.1
standing in for the GitHub API, the committed template and workflow files.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import threading
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from churn.experiments.compare import MARKER, Comparison, MetricChange, ParamChange, prepare_spec
from churn.experiments.compare import render_markdown as render
from churn.experiments.directions import HIGHER_IS_BETTER, metric_direction
from churn.experiments.pr_comment import image_paths, publish_images, rewrite_images
from tests.support.sandbox import REPO_ROOT, environment

# ------------------------------------------------------------------ directions and marks


def test_metric_direction_resolves_dotted_keys_from_the_single_table():
    assert metric_direction("test.roc_auc") is True
    assert metric_direction("validation.average_precision") is True
    assert metric_direction("cv.roc_auc_std") is False
    assert metric_direction("validation.log_loss") is False
    assert metric_direction("quarantined_fraction") is False
    assert metric_direction("cv.folds") is None
    assert metric_direction("model") is None
    # every metric the evaluate stage writes has a direction
    metrics = json.loads((REPO_ROOT / "metrics/evaluate/metrics.json").read_text())
    for split in metrics.values():
        assert all(name in HIGHER_IS_BETTER for name in split)


@pytest.mark.parametrize(
    ("key", "old", "new", "verdict"),
    [
        ("test.roc_auc", 0.80, 0.81, "better"),
        ("test.roc_auc", 0.81, 0.80, "worse"),
        ("validation.log_loss", 0.45, 0.40, "better"),
        ("validation.log_loss", 0.40, 0.45, "worse"),
        ("cv.roc_auc_std", 0.010, 0.012, "worse"),
        ("test.f1", 0.5, 0.5, "same"),
        ("rows_in", 7043, 7000, "changed"),  # no direction
        ("model", "logistic_regression", "random_forest", "changed"),
        ("model", "logistic_regression", "logistic_regression", "same"),
        ("test.brier_score", None, 0.1, "added"),
        ("test.brier_score", 0.1, None, "removed"),
    ],
)
def test_verdict_respects_each_metric_direction(key, old, new, verdict):
    assert MetricChange("m.json", key, old, new).verdict == verdict


def test_markdown_report_has_params_metrics_deltas_marks_and_images():
    comparison = Comparison(
        base="main",
        base_commit="a" * 40,
        head_commit="b" * 40,
        params=[ParamChange("params.yaml", "train.logistic_regression.C", 1.0, 0.05)],
        metrics=[
            MetricChange("metrics/evaluate/metrics.json", "test.roc_auc", 0.8337, 0.8301),
            MetricChange("metrics/evaluate/metrics.json", "test.log_loss", 0.45, 0.44),
            MetricChange("metrics/clean.json", "rows_in", 7043, 7043),
        ],
        images={"ROC curve": Path("plots/roc-curve.png")},
        stale_stages=[],
    )
    text = render(comparison)
    assert text.startswith(MARKER + "\n")
    assert "| `params.yaml` | `train.logistic_regression.C` | 1 | 0.05 |" in text
    assert "| `test.roc_auc` | 0.8337 | 0.8301 | -0.0036 (-0.43%) | ❌ worse |" in text
    assert "| `test.log_loss` | 0.45 | 0.44 | -0.01 (-2.22%) | ✅ better |" in text
    # unchanged metrics are folded away, still listed
    assert "<details><summary>1 unchanged metrics</summary>" in text
    assert "| `rows_in` | 7043 | 7043 | 0 | = same |" in text
    assert "**Metrics:** 1 better, 1 worse, 1 same." in text
    assert "![ROC curve](plots/roc-curve.png)" in text
    assert "not up to date" not in text


def test_prepare_spec_relabels_revisions_and_fixes_facet_order():
    spec = {
        "data": {"values": [{"rev": "workspace", "x": 1}, {"rev": "origin/main", "x": 2}]},
        "facet": {"column": {"field": "rev", "sort": []}, "row": {"field": "filename"}},
        "params": [{"name": "showValues", "bind": {"input": "checkbox"}}, {"name": "g"}],
        "encoding": {"color": {"scale": {"domain": ["workspace", "origin/main"]}}},
        "layer": [{"threshold": float("inf")}],
    }
    out = prepare_spec(spec, "origin/main")
    assert [r["rev"] for r in out["data"]["values"]] == ["this change", "base (origin/main)"]
    assert out["encoding"]["color"]["scale"]["domain"] == ["this change", "base (origin/main)"]
    assert "sort" not in out["facet"]["column"]
    assert out["params"][0]["value"] is True and "value" not in out["params"][1]
    assert out["layer"][0]["threshold"] is None
    json.dumps(out, allow_nan=False)  # valid JSON for vl-convert


# ------------------------------------------------------------------ images and comment


def test_rewrite_images_points_links_at_urls_or_drops_them():
    md = "a\n![ROC](plots/roc.png)\n![PR](plots/pr.png)\n[link](x.md)\n"
    assert image_paths(md) == ["plots/roc.png", "plots/pr.png"]
    urls = {"plots/roc.png": "https://example.invalid/roc.png?raw=true"}
    out = rewrite_images(md, urls.get)
    assert "![ROC](https://example.invalid/roc.png?raw=true)" in out
    assert "![PR]" not in out and "*(PR: see the workflow artifact)*" in out
    assert "[link](x.md)" in out


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=environment(), check=True, capture_output=True, text=True
    ).stdout.strip()


def test_publish_images_commits_to_an_orphan_branch_without_touching_the_checkout(tmp_path):
    remote = tmp_path / "remote.git"
    _git(tmp_path, "init", "-q", "--bare", str(remote))
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "feature")
    (repo / "README.md").write_text("hello\n")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "remote", "add", "origin", str(remote))
    head = _git(repo, "rev-parse", "HEAD")
    pngs = tmp_path / "plots"
    pngs.mkdir()
    (pngs / "roc.png").write_bytes(b"PNG first")

    first = publish_images([(pngs / "roc.png", "pr-7/plots/roc.png")], repo, "imgs", "one")
    (pngs / "roc.png").write_bytes(b"PNG second")
    second = publish_images([(pngs / "roc.png", "pr-7/plots/roc.png")], repo, "imgs", "two")

    assert _git(remote, "rev-parse", "refs/heads/imgs") == second
    assert _git(remote, "rev-parse", f"{second}^") == first  # history keeps old links valid
    assert _git(remote, "rev-list", "--max-parents=0", first) == first  # orphan: no code
    assert _git(remote, "ls-tree", "-r", "--name-only", second) == "pr-7/plots/roc.png"
    assert _git(remote, "show", f"{first}:pr-7/plots/roc.png") == "PNG first"
    assert _git(remote, "show", f"{second}:pr-7/plots/roc.png") == "PNG second"
    # the checkout is untouched: same HEAD and branch, clean index and tree
    assert _git(repo, "rev-parse", "HEAD") == head
    assert _git(repo, "branch", "--show-current") == "feature"
    assert _git(repo, "status", "--porcelain") == ""


class FakeGitHub(BaseHTTPRequestHandler):
    """The issue-comments REST endpoints, in memory, with GitHub's pagination."""

    comments: list[dict]
    calls: list[tuple[str, str]]

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _reply(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") != "Bearer test-token":
            self._reply(401, {"message": "Bad credentials"})
            return False
        return True

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.calls.append(("GET", url.path))
        if not self._authorized():
            return
        query = parse_qs(url.query)
        per_page, page = int(query["per_page"][0]), int(query["page"][0])
        self._reply(200, self.comments[(page - 1) * per_page : page * per_page])

    def _body(self) -> str:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))["body"]

    def do_POST(self) -> None:
        self.calls.append(("POST", self.path))
        if not self._authorized():
            return
        comment = {"id": 1000 + len(self.comments), "body": self._body()}
        self.comments.append(comment)
        self._reply(201, comment)

    def do_PATCH(self) -> None:
        self.calls.append(("PATCH", self.path))
        if not self._authorized():
            return
        comment_id = int(self.path.rsplit("/", 1)[1])
        comment = next(c for c in self.comments if c["id"] == comment_id)
        comment["body"] = self._body()
        self._reply(200, comment)


@pytest.fixture
def github():
    handler = type("Handler", (FakeGitHub,), {"comments": [], "calls": []})
    # 120 comments by people: the bot's comment is found beyond the first page of 100
    handler.comments.extend({"id": i, "body": f"review comment {i}"} for i in range(120))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _post(report: Path, api: str, token: str = "test-token") -> subprocess.CompletedProcess:
    env = environment() | {"GITHUB_TOKEN": token}
    return subprocess.run(
        [
            sys.executable,
            *("-m", "churn.experiments", "pr-comment"),
            "--report",
            str(report),
            "--pr",
            "7",
            "--repository",
            "acme/churn",
            "--api-url",
            api,
            "--run-url",
            "https://github.invalid/acme/churn/actions/runs/1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_pr_comment_is_created_once_then_updated_in_place(github, tmp_path):
    handler, api = github
    report = tmp_path / "report.md"
    report.write_text(f"{MARKER}\n## first run\n![ROC](plots/roc.png)\n")
    first = _post(report, api)
    assert first.returncode == 0, first.stderr
    assert "created comment 1120 on acme/churn#7" in first.stdout
    report.write_text(f"{MARKER}\n## second run\n")
    second = _post(report, api)
    assert second.returncode == 0, second.stderr
    assert "updated comment 1120" in second.stdout

    mine = [c for c in handler.comments if MARKER in c["body"]]
    assert len(mine) == 1 and len(handler.comments) == 121
    assert "## second run" in mine[0]["body"] and "first run" not in mine[0]["body"]
    assert "[CI run and report artifact](https://github.invalid/" in mine[0]["body"]
    assert handler.comments[5]["body"] == "review comment 5"  # others untouched
    patches = [path for method, path in handler.calls if method == "PATCH"]
    assert patches == ["/repos/acme/churn/issues/comments/1120"]
    # without images published, the first run's image became a pointer to the artifact
    assert [c for c in handler.calls if c[0] == "POST"] == [
        ("POST", "/repos/acme/churn/issues/7/comments")
    ]


def test_pr_comment_reports_api_errors_clearly(github, tmp_path):
    _, api = github
    report = tmp_path / "report.md"
    report.write_text(f"{MARKER}\nx\n")
    result = _post(report, api, token="wrong")
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr and "Bad credentials" in result.stderr
    assert "Traceback" not in result.stderr


class FakeGitLab(FakeGitHub):
    """Merge-request notes and project uploads of the GitLab v4 API, in memory."""

    uploads: dict[str, bytes]

    def _authorized(self) -> bool:
        if self.headers.get("PRIVATE-TOKEN") != "test-token":
            self._reply(401, {"message": "401 Unauthorized"})
            return False
        return True

    def do_POST(self) -> None:
        if not self.path.endswith("/uploads"):
            super().do_POST()
            return
        self.calls.append(("POST", self.path))
        if not self._authorized():
            return
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        message = BytesParser(policy=default).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw
        )
        (part,) = message.iter_parts()
        name = part.get_filename()
        url = f"/uploads/{len(self.uploads):032x}/{name}"
        self.uploads[url] = part.get_payload(decode=True)
        self._reply(201, {"url": url, "markdown": f"![{name}]({url})"})

    def do_PUT(self) -> None:
        self.do_PATCH()


def test_gitlab_note_is_upserted_with_images_uploaded_to_the_instance(tmp_path):
    handler = type("Handler", (FakeGitLab,), {"comments": [], "calls": [], "uploads": {}})
    handler.comments.append({"id": 1, "body": "LGTM"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    report = tmp_path / "report.md"
    (tmp_path / "plots").mkdir()
    png = bytes(range(256)) * 4  # binary content must arrive intact
    (tmp_path / "plots" / "roc.png").write_bytes(png)
    report.write_text(f"{MARKER}\n![ROC](plots/roc.png)\n")
    env = environment() | {"GITLAB_TOKEN": "test-token", "CI_MERGE_REQUEST_IID": "3"}
    command = [
        sys.executable,
        *("-m", "churn.experiments", "pr-comment"),
        "--platform",
        "gitlab",
        "--report",
        str(report),
        "--project",
        "acme/churn",
        "--api-url",
        api,
    ]
    try:
        for expected in ("created comment 1001", "updated comment 1001"):
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            assert f"{expected} on acme/churn#3" in result.stdout
    finally:
        server.shutdown()
        server.server_close()
    assert len(handler.comments) == 2 and handler.comments[0]["body"] == "LGTM"
    assert list(handler.uploads.values()) == [png, png]
    assert f"![ROC]({list(handler.uploads)[-1]})" in handler.comments[1]["body"]
    paths = {path for _, path in handler.calls}
    assert "/api/v4/projects/acme%2Fchurn/merge_requests/3/notes/1001" in paths


# ------------------------------------------------------------------ CI files


def make_targets() -> set[str]:
    text = (REPO_ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_-]+):", text, flags=re.M))


def check_commands(commands: list[str]) -> list[str]:
    """The make targets and repository scripts the commands use; fail on unknown ones."""
    targets = make_targets()
    used = []
    for command in commands:
        # valid shell once the CI system has expanded its own ${{ ... }} expressions
        shell = re.sub(r"\$\{\{[^}]*\}\}", "x", command)
        syntax = subprocess.run(["bash", "-n", "-c", shell], capture_output=True, text=True)
        assert syntax.returncode == 0, f"{command!r}: {syntax.stderr}"
        for target in re.findall(r"\bmake\s+([a-z][\w-]*)", command):
            assert target in targets, f"{command!r}: no make target {target!r}"
            used.append(f"make {target}")
        for module, rest in re.findall(r"python -m ([\w.]+)((?: [a-z][\w-]*)?)", command):
            found = importlib.util.find_spec(module)
            assert found is not None, f"{command!r}: no module {module}"
            used.append(f"python -m {module}{rest}")
    return used


def test_github_workflow_runs_tests_pipeline_compare_and_posts_comment():
    path = REPO_ROOT / ".github/workflows/pull-request.yml"
    workflow = yaml.safe_load(path.read_text())
    # PyYAML reads the bare key `on` as True (YAML 1.1)
    assert "pull_request" in workflow[True]
    assert workflow["permissions"] == {"contents": "write", "pull-requests": "write"}
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = [s["run"] for s in steps if "run" in s]
    used = check_commands(runs)
    assert used[:3] == ["make test", "make repro", "make compare"]
    assert "python -m churn.experiments pr-comment" in used
    compare = next(r for r in runs if "make compare" in r)
    assert "BASE=origin/${{ github.base_ref }}" in compare
    post = next(s for s in steps if "pr-comment" in s.get("run", ""))
    assert post["env"]["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    assert "--images-branch" in post["run"]
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps)
    assert "cml" not in path.read_text().lower()  # no CML image publishing


def test_gitlab_ci_mirrors_the_workflow():
    config = yaml.safe_load((REPO_ROOT / ".gitlab-ci.yml").read_text())
    job = config["merge-request-compare"]
    used = check_commands(job["script"])
    assert used == [
        "make test",
        "make repro",
        "make compare",
        "python -m churn.experiments pr-comment",
    ]
    assert "--platform gitlab" in job["script"][-1]
    assert job["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert job["artifacts"]["paths"] == ["reports/compare/"]


def test_pr_comment_script_help_runs():
    out = subprocess.run(
        [sys.executable, "-m", "churn.experiments", "pr-comment", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--images-branch" in out


# ------------------------------------------------------------------ the offline plots page


def _build_script():
    spec = importlib.util.spec_from_file_location(
        "build_plots_template", REPO_ROOT / "scripts/build_plots_template.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_offline_plots_template_is_configured_and_matches_its_pins():
    config = (REPO_ROOT / ".dvc/config").read_text()
    assert re.search(r"^\[plots\]\n\s+html_template = offline_plots.html$", config, re.M)
    page = (REPO_ROOT / ".dvc/offline_plots.html").read_text(encoding="utf-8")
    build = _build_script()
    assert page.count("{plot_divs}") == 1
    assert "{scripts}" not in page  # DVC would insert its CDN <script src> tags there
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert "<link" not in page
    scripts = re.findall(r'<script data-bundle="([^"]+)">(.*?)</script>', page, re.S)
    assert [name for name, _ in scripts] == [b.spec for b in build.BUNDLES]
    header = page.split("-->", 1)[0]
    for bundle, (_, code) in zip(build.BUNDLES, scripts, strict=True):
        digest = hashlib.sha256(code.encode("utf-8")).hexdigest()
        line = f"bundle {bundle.package} {bundle.version} "
        assert line in header and f"sha256={digest}" in header, bundle.package
        assert f"tarball={bundle.integrity} license=BSD-3-Clause" in header
    assert "Redistribution and use in source and binary forms" in header
    # the same majors DVC's own page loads from its CDN
    from dvc_render.vega import VegaRenderer

    for bundle in build.BUNDLES:
        pinned_major = bundle.version.split(".")[0]
        assert re.search(rf"npm/{bundle.package}@{pinned_major}\.", VegaRenderer.SCRIPTS)


def test_roc_and_calibration_use_the_diagonal_template():
    plots = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["plots"]
    templates = {next(iter(p)): p[next(iter(p))]["template"] for p in plots}
    assert templates["ROC"] == templates["Calibration"] == "with_diagonal"
    template = json.loads((REPO_ROOT / ".dvc/plots/with_diagonal.json").read_text())
    data_layer, diagonal = template["layer"]
    assert template["data"]["values"] == "<DVC_METRIC_DATA>"
    assert data_layer["encoding"]["color"] == "<DVC_METRIC_COLOR>"
    assert diagonal["data"]["values"] == [{"diagonal": 0}, {"diagonal": 1}]
