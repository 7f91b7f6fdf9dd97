"""Compare this workspace with a base revision, as a Markdown report for a pull request.

The report has the params that changed, every metric with its delta and a
better/worse mark that respects the metric's direction
(:func:`churn.experiments.directions.metric_direction`), and the top-level ``dvc.yaml`` plots
of both revisions drawn together as PNG images.

Everything comes from the real ``dvc`` CLI and git: metrics and plot data are
``cache: false`` outputs committed with ``dvc.lock``, so ``dvc metrics diff BASE``,
``dvc params diff BASE`` and ``dvc plots diff BASE`` need no DVC remote. The images are
drawn by vl-convert (Vega-Lite compiled and rendered in-process): no browser, no network.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from churn.core.errors import ChurnError
from churn.experiments.directions import metric_direction
from churn.experiments.pr_comment import MARKER

#: How the workspace (this branch, after ``dvc repro``) is labelled in tables and plots.
THIS = "this change"
#: Changes smaller than this are shown as unchanged (float noise in JSON round trips).
TOLERANCE = 1e-12
REPORT_NAME = "report.md"
IMAGES_DIR = "plots"

MARKS = {
    "better": "✅ better",
    "worse": "❌ worse",
    "same": "= same",
    "changed": "• changed",
    "added": "🆕 added",
    "removed": "➖ removed",
}


class CompareError(ChurnError):
    """A comparison cannot be made (unknown base revision, dvc failed)."""


@dataclass(frozen=True)
class ParamChange:
    """One params key whose value differs between the base and this change."""

    file: str
    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class MetricChange:
    """One metric in the base and/or this change, with the verdict on the change."""

    file: str
    key: str
    old: Any
    new: Any

    @property
    def delta(self) -> float | None:
        if _is_number(self.old) and _is_number(self.new):
            return self.new - self.old
        return None

    @property
    def verdict(self) -> str:
        """better | worse | same | changed (no direction, or not a number) | added | removed."""
        if self.old is None and self.new is not None:
            return "added"
        if self.new is None and self.old is not None:
            return "removed"
        delta = self.delta
        if delta is None:
            return "same" if self.old == self.new else "changed"
        if abs(delta) <= TOLERANCE:
            return "same"
        higher_is_better = metric_direction(self.key)
        if higher_is_better is None:
            return "changed"
        return "better" if (delta > 0) == higher_is_better else "worse"


@dataclass(frozen=True)
class Comparison:
    base: str
    base_commit: str
    head_commit: str
    params: list[ParamChange]
    metrics: list[MetricChange]
    images: dict[str, Path]  # plot title -> PNG, relative to the report's folder
    stale_stages: list[str]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _run(args: list[str], cwd: Path) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise CompareError(f"`{' '.join(args)}` failed in {cwd}:\n  " + "\n  ".join(detail))
    return result.stdout


def dvc_json(args: list[str], cwd: Path) -> Any:
    """Run ``dvc <args> --json`` and parse its output (DVC writes ``Infinity`` for inf)."""
    out = _run(["dvc", *args, "--json"], cwd)
    return json.loads(out) if out.strip() else {}


def resolve(revision: str, cwd: Path) -> str:
    """The commit a revision names, or a clear error (a CI checkout may lack the base)."""
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise CompareError(
            f"base revision {revision!r} is not a commit in {cwd}; fetch it first "
            f"(for example `git fetch origin main` and BASE=origin/main)"
        )
    return result.stdout.strip()


def params_diff(base: str, cwd: Path) -> list[ParamChange]:
    """The params keys that differ, sorted by file and key."""
    diff = dvc_json(["params", "diff", base], cwd)
    return sorted(
        (
            ParamChange(file, key, change.get("old"), change.get("new"))
            for file, keys in diff.items()
            for key, change in keys.items()
        ),
        key=lambda c: (c.file, c.key),
    )


def metrics_diff(base: str, cwd: Path) -> list[MetricChange]:
    """Every metric of both revisions (changed or not), sorted by file and key."""
    diff = dvc_json(["metrics", "diff", base, "--all"], cwd)
    return sorted(
        (
            MetricChange(file, key, change.get("old"), change.get("new"))
            for file, keys in diff.items()
            for key, change in keys.items()
        ),
        key=lambda c: (c.file, c.key),
    )


def stale_stages(cwd: Path) -> list[str]:
    """Stages whose outputs do not match their inputs (the metrics would be out of date).

    A stage that is only ``always changed`` (``source_state``, the fingerprint of a
    database or API source) is listed by ``dvc status`` on every run: not stale.
    """
    status = dvc_json(["status"], cwd)
    return sorted(name for name, changes in status.items() if changes != ["always changed"])


def _finite(value: Any) -> Any:
    """The spec with inf/NaN as null: JSON has no such numbers (ROC thresholds start at inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def prepare_spec(spec: dict[str, Any], base: str) -> dict[str, Any]:
    """A ``dvc plots diff`` Vega-Lite spec made ready for a static image.

    Revisions are relabelled (``workspace`` means this change; the base gets its name),
    and checkbox parameters such as the confusion matrix's ``showValues`` are switched on,
    since nobody can tick a box in a PNG.
    """
    labels = {"workspace": THIS, base: f"base ({base})"}
    spec = _finite(spec)
    for row in spec.get("data", {}).get("values", []):
        if row.get("rev") in labels:
            row["rev"] = labels[row["rev"]]

    def relabel_domains(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "domain" and isinstance(value, list):
                    node[key] = [labels.get(v, v) if isinstance(v, str) else v for v in value]
                else:
                    relabel_domains(value)
        elif isinstance(node, list):
            for item in node:
                relabel_domains(item)

    relabel_domains(spec)
    # DVC's confusion templates facet with `sort: []`; with both a row and a column facet
    # Vega-Lite then draws cells under the wrong headers. Default (sorted) order is right.
    for channel in spec.get("facet", {}).values():
        if isinstance(channel, dict) and channel.get("sort") == []:
            del channel["sort"]
    for param in spec.get("params", []):
        bind = param.get("bind")
        if isinstance(bind, dict) and bind.get("input") == "checkbox":
            param["value"] = True
    return spec


def declared_plots(cwd: Path) -> set[str]:
    """The ids of the top-level ``plots:`` in this workspace's ``dvc.yaml``."""
    plots = (yaml.safe_load((Path(cwd) / "dvc.yaml").read_text()) or {}).get("plots") or []
    return {(next(iter(item)) if isinstance(item, dict) else str(item)) for item in plots if item}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "plot"


def render_plots(base: str, cwd: Path, out_dir: Path, scale: float = 1.5) -> dict[str, Path]:
    """Draw each top-level plot of this workspace, both revisions in one image, as PNG.

    Only the plots ``dvc.yaml`` declares at the top level are drawn: they carry the
    titles, axes and overlays; anything else DVC finds in the base is left out.
    """
    import vl_convert  # imported here: only this step needs it

    data = dvc_json(["plots", "diff", base], cwd).get("data", {})
    wanted = declared_plots(cwd)
    out_dir.mkdir(parents=True, exist_ok=True)
    images: dict[str, Path] = {}
    for name in data:  # dvc.yaml order
        if name.removeprefix("dvc.yaml::") not in wanted:
            continue  # e.g. a base whose stages still declared raw plot files
        for index, item in enumerate(data[name]):
            if item.get("type") != "vega":
                continue  # image plots (PNG outputs) are not part of this pipeline
            spec = prepare_spec(item["content"], base)
            title = (spec.get("title") or {}).get("text") or name
            if index:
                title += f" ({index + 1})"
            path = out_dir / f"{slug(title)}.png"
            path.write_bytes(vl_convert.vegalite_to_png(json.dumps(spec), scale=scale))
            images[title] = path
    return images


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, list | dict):
        text = json.dumps(value)
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _delta(change: MetricChange) -> str:
    delta = change.delta
    if delta is None:
        return ""
    if abs(delta) <= TOLERANCE:
        return "0"
    if isinstance(delta, int):
        return f"{delta:+d}"
    text = f"{delta:+.4g}"
    if change.old:
        text += f" ({delta / abs(change.old):+.2%})"
    return text


def _metric_table(rows: list[MetricChange], base: str) -> list[str]:
    lines = [
        f"| file | metric | base ({base}) | {THIS} | Δ | |",
        "|---|---|---:|---:|---:|---|",
    ]
    for c in rows:
        lines.append(
            f"| `{c.file}` | `{c.key}` | {_cell(c.old)} | {_cell(c.new)} | {_delta(c)} "
            f"| {MARKS[c.verdict]} |"
        )
    return lines


def render_markdown(comparison: Comparison) -> str:
    """The report: summary, params table, metrics tables, plots (relative image links)."""
    c = comparison
    base = c.base
    changed = [m for m in c.metrics if m.verdict != "same"]
    unchanged = [m for m in c.metrics if m.verdict == "same"]
    counts = {v: sum(m.verdict == v for m in c.metrics) for v in MARKS}
    summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    lines = [
        MARKER,
        f"## Model comparison: {THIS} (workspace on `{c.head_commit[:10]}`) vs base `{base}` "
        f"(`{c.base_commit[:10]}`)",
        "",
        f"**Metrics:** {summary or 'none found'}. "
        "Marks follow each metric's direction (higher is better for scores, lower for "
        "losses and spreads; `churn.experiments.directions.HIGHER_IS_BETTER`).",
        "",
    ]
    if c.stale_stages:
        lines += [
            f"> ⚠️ The pipeline is not up to date here (`dvc status`: "
            f"{', '.join(c.stale_stages)}): run `dvc repro` before comparing.",
            "",
        ]
    lines += ["### Params", ""]
    if c.params:
        lines += [f"| file | param | base ({base}) | {THIS} |", "|---|---|---|---|"]
        lines += [f"| `{p.file}` | `{p.key}` | {_cell(p.old)} | {_cell(p.new)} |" for p in c.params]
    else:
        lines.append("No parameter changed.")
    lines += ["", "### Metrics", ""]
    if changed:
        lines += _metric_table(changed, base)
    else:
        lines.append("No metric changed.")
    if unchanged:
        lines += [
            "",
            f"<details><summary>{len(unchanged)} unchanged metrics</summary>",
            "",
            *_metric_table(unchanged, base),
            "",
            "</details>",
        ]
    lines += ["", "### Plots", ""]
    if c.images:
        lines.append(f"Each plot shows the base and {THIS} together (colour = revision).")
        for name, path in c.images.items():
            lines += ["", f"#### {name}", "", f"![{name}]({path.as_posix()})"]
    else:
        lines.append("No plots found.")
    lines.append("")
    return "\n".join(lines)


def compare(base: str, cwd: Path, out_dir: Path) -> Comparison:
    """Write ``<out_dir>/report.md`` and ``<out_dir>/plots/*.png``; return what they hold."""
    cwd = Path(cwd)
    out_dir = Path(out_dir)
    base_commit = resolve(base, cwd)
    head_commit = resolve("HEAD", cwd)
    images_dir = out_dir / IMAGES_DIR
    if images_dir.exists():  # no image of an earlier run may linger in the report folder
        for old in images_dir.glob("*.png"):
            old.unlink()
    images = render_plots(base, cwd, images_dir)
    comparison = Comparison(
        base=base,
        base_commit=base_commit,
        head_commit=head_commit,
        params=params_diff(base, cwd),
        metrics=metrics_diff(base, cwd),
        images={name: path.relative_to(out_dir) for name, path in images.items()},
        stale_stages=stale_stages(cwd),
    )
    (out_dir / REPORT_NAME).write_text(render_markdown(comparison), encoding="utf-8")
    return comparison


# --- command line --------------------------------------------------------------------------

CLI_HELP = """Compare this workspace with a base revision: params, metrics with better/worse marks,
and base-versus-this plots as PNG images, in one Markdown report.

Run `dvc repro` first so the workspace metrics are current (`make compare` does not run
it). The base needs no DVC remote: its metrics and plot data are committed.

  python -m churn.experiments compare --base main
  python -m churn.experiments compare --base origin/main --output reports/compare
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m churn.experiments compare",
        description=CLI_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--base", default="main", help="git revision to compare with (default main)")
    p.add_argument(
        "--output",
        type=Path,
        default=Path("reports/compare"),
        help="folder for report.md and plots/*.png (default reports/compare)",
    )
    p.add_argument("--repo", type=Path, default=Path.cwd(), help="repository root (default .)")
    args = p.parse_args(argv)
    try:
        result = compare(args.base, args.repo, args.output)
    except ChurnError as exc:
        print(f"compare: ERROR: {exc}", file=sys.stderr)
        return 1
    report = args.output / REPORT_NAME
    print(
        f"wrote {report} ({report.stat().st_size} bytes): {len(result.params)} params changed, "
        f"{sum(m.verdict != 'same' for m in result.metrics)} of {len(result.metrics)} metrics "
        f"changed, {len(result.images)} plots"
    )
    return 0
