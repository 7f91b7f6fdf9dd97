"""Rank DVC experiments by a metric: ``dvc exp show --json`` as a sorted table.

    python -m churn.experiments rank --metric test.roc_auc            # runs dvc exp show
    python -m churn.experiments rank --metric cv.roc_auc_mean --top 5
    dvc exp show --json | python -m churn.experiments rank --metric test.emp --input -

A metric is named by its dotted path inside a metrics file (``test.roc_auc`` in
``metrics/evaluate/metrics.json``); prefix the file (``metrics/train.json:cv.roc_auc_mean``)
when the path exists in more than one. Experiments that failed, or lack the
metric, are listed after the ranked ones. The table also shows the parameters
that differ between the rows, so a sweep reads as "which setting won".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from churn.core.errors import ChurnError


@dataclass
class Experiment:
    name: str
    rev: str
    baseline: bool
    metrics: dict[str, Any] = field(default_factory=dict)  # "file:dotted.path" -> value
    params: dict[str, Any] = field(default_factory=dict)  # "dotted.path" -> value
    failed: bool = False


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` as ``{"a.b": 1}`` (lists stay values)."""
    if not isinstance(node, dict):
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _experiment(entry: dict[str, Any], baseline: bool) -> Experiment:
    data = entry.get("data") or {}
    rev = str(entry.get("rev", ""))
    short = rev[:7] if rev != "workspace" else "-"
    exp = Experiment(name=entry.get("name") or rev, rev=short, baseline=baseline)
    exp.failed = bool(entry.get("error")) or not data
    for file, content in (data.get("metrics") or {}).items():
        for key, value in flatten((content or {}).get("data") or {}).items():
            exp.metrics[f"{file}:{key}"] = value
    for content in (data.get("params") or {}).values():
        exp.params.update(flatten((content or {}).get("data") or {}))
    return exp


def parse(shown: list[dict[str, Any]]) -> list[Experiment]:
    """Every baseline commit and experiment in the output of ``dvc exp show --json``."""
    out = []
    for commit in shown:
        out.append(_experiment(commit, baseline=True))
        for group in commit.get("experiments") or []:
            for rev in group.get("revs") or []:
                exp = _experiment(rev, baseline=False)
                exp.name = group.get("name") or exp.name
                out.append(exp)
    return out


def resolve_metric(experiments: list[Experiment], metric: str) -> str:
    """The full ``file:path`` key of ``metric`` (a path, or already ``file:path``)."""
    keys = {k for e in experiments for k in e.metrics}
    if metric in keys:
        return metric
    matches = sorted({k for k in keys if k.split(":", 1)[1] == metric})
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = sorted({k.split(":", 1)[1] for k in keys})
        raise ChurnError(f"no metric {metric!r} in any experiment; known metrics: {known}")
    raise ChurnError(f"metric {metric!r} is in several files, name one of: {matches}")


def rank(
    experiments: list[Experiment], metric: str, lower_is_better: bool = False
) -> tuple[str, list[Experiment]]:
    """Experiments with the metric, best first (ties by name); then the others."""
    key = resolve_metric(experiments, metric)

    def number(e: Experiment) -> float | None:
        value = e.metrics.get(key)
        return float(value) if isinstance(value, (int, float)) and not e.failed else None

    scored = [e for e in experiments if number(e) is not None]
    scored.sort(key=lambda e: ((number(e) if lower_is_better else -number(e)), e.name))
    rest = [e for e in experiments if number(e) is None]
    return key, scored + rest


def changed_params(experiments: list[Experiment]) -> list[str]:
    """Parameters whose value differs between the experiments that have params (sorted)."""
    with_params = [e for e in experiments if e.params]
    keys = sorted({k for e in with_params for k in e.params})
    return [
        k
        for k in keys
        if len({json.dumps(e.params.get(k), sort_keys=True) for e in with_params}) > 1
    ]


def table(experiments: list[Experiment], key: str, extra: list[str], top: int | None = None) -> str:
    """A Markdown table: rank, experiment, the metric, the extra metrics, changed params."""
    rows = experiments[:top] if top else experiments
    params = changed_params(rows)
    extra_keys = []
    for m in extra:  # extra columns are optional: skip the ones no row has
        try:
            extra_keys.append(resolve_metric(rows, m))
        except ChurnError:
            continue
    header = ["rank", "experiment", "rev", key.split(":", 1)[1]]
    header += [k.split(":", 1)[1] for k in extra_keys] + params
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, e in enumerate(rows, start=1):
        value = e.metrics.get(key)
        cells = [
            str(i) if isinstance(value, (int, float)) and not e.failed else "-",
            e.name + (" (baseline)" if e.baseline else "") + (" FAILED" if e.failed else ""),
            e.rev,
            _cell(value),
        ]
        cells += [_cell(e.metrics.get(k)) for k in extra_keys]
        cells += [_cell(e.params.get(p)) for p in params]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value) if not isinstance(value, (list, dict)) else json.dumps(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m churn.experiments rank",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--metric", default="test.roc_auc", help="metric to rank by")
    parser.add_argument("--lower-is-better", action="store_true", help="sort ascending")
    parser.add_argument("--top", type=int, default=None, help="show only the best N")
    parser.add_argument(
        "--also",
        nargs="*",
        default=["cv.roc_auc_mean", "test.top_decile_lift", "test.profit_tuned_threshold"],
        help="more metrics to show as columns (e.g. cv.roc_auc_mean test.emp)",
    )
    parser.add_argument(
        "--input", help="read `dvc exp show --json` output from this file ('-' for stdin)"
    )
    parser.add_argument(
        "--all-commits", "-A", action="store_true", help="experiments of all commits"
    )
    args = parser.parse_args(argv)
    try:
        if args.input == "-":
            text = sys.stdin.read()
        elif args.input:
            with open(args.input, encoding="utf-8") as fh:
                text = fh.read()
        else:
            command = ["dvc", "exp", "show", "--json"] + (["-A"] if args.all_commits else [])
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise ChurnError(f"{' '.join(command)} failed:\n{done.stderr.strip()}")
            text = done.stdout
        experiments = parse(json.loads(text))
        key, ranked = rank(experiments, args.metric, args.lower_is_better)
        print(table(ranked, key, args.also, args.top))
    except ChurnError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
