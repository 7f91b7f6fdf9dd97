"""The simulated production stream of the worked example, and the monitoring demo.

  python -m churn.simulate demo [--workspace DIR] [--replace]
      the whole loop in a copy of the repository: train the monitored model on the
      stream's training source, score the months through the service and batch scoring,
      load the outcomes, run the monitor; prints the dashboard's path (make monitor-demo)

  python -m churn.simulate stream --output-dir DIR
      only write the months, their outcomes and the manifest (from this workspace's files)

The stream is SIMULATED: real records, cut into disjoint months and changed as the spec
(examples/monitoring/telco_stream.yaml) declares; the manifest records what was injected.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from churn.core.cli import parser, run
from churn.core.paths import workspace_paths
from churn.core.problem import load_problem
from churn.monitor.outcomes import read_source
from churn.simulate.demo import read_spec, run_demo
from churn.simulate.stream import build_stream, write_stream

SPEC = Path("examples/monitoring/telco_stream.yaml")
DEFAULT_WORKSPACE = Path(tempfile.gettempdir()) / "churn-monitor-demo"


def stream(args: argparse.Namespace) -> None:
    spec = read_spec(args.spec)
    if args.rows_per_month:
        spec = spec.model_copy(update={"rows_per_month": args.rows_per_month})
    months = build_stream(read_source(spec.pool), load_problem().contract, spec)
    write_stream(months, spec, args.output_dir, args.spec.as_posix())
    print(f"[simulate] {len(months)} months in {args.output_dir} (manifest.json)")


def demo(args: argparse.Namespace) -> None:
    after = run_demo(
        Path("."),
        args.workspace,
        args.spec,
        rows_per_month=args.rows_per_month,
        months=args.months,
        replace=args.replace,
    )
    workspace = args.workspace.resolve()
    dashboard = workspace / workspace_paths(workspace)["monitor_dashboard"]
    print()
    for period in after["periods"]:
        print(f"  {period['period']}  {period['verdict']:<11}")
        for reason in period["reasons"]:
            print(f"      - {reason}")
    print(f"\nThe dashboard: {dashboard}")
    print(f"  open it: xdg-open {dashboard}   (macOS: open ...)")
    print(f"  what the outcomes changed: cd {workspace} && dvc metrics diff HEAD~1")


if __name__ == "__main__":
    p = parser("churn.simulate", __doc__)
    commands = p.add_subparsers(dest="command", required=True)
    d = commands.add_parser("demo", help="run the whole monitoring loop in a copy of the repo")
    d.add_argument("--workspace", type=Path, default=DEFAULT_WORKSPACE, help="the copy")
    d.add_argument("--replace", action="store_true", help="replace a workspace this demo made")
    s = commands.add_parser("stream", help="write the simulated months and their outcomes")
    s.add_argument("--output-dir", type=Path, required=True)
    for sub in (d, s):
        sub.add_argument("--spec", type=Path, default=SPEC, help="the stream's declaration")
        sub.add_argument("--rows-per-month", type=int, help="override the spec's rows per month")
    d.add_argument("--months", type=int, help="only the first N months of the spec")
    args = p.parse_args()
    run("simulate", demo if args.command == "demo" else stream, args)
