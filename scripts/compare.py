#!/usr/bin/env python3
"""Compare this workspace with a base revision: params, metrics with better/worse marks,
and base-versus-this plots as PNG images, in one Markdown report.

Run `dvc repro` first so the workspace metrics are current (`make compare` does not run
it). The base needs no DVC remote: its metrics and plot data are committed.

  python scripts/compare.py --base main
  python scripts/compare.py --base origin/main --output reports/compare
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from churn.compare import REPORT_NAME, compare
from churn.errors import ChurnError


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--base", default="main", help="git revision to compare with (default main)")
    p.add_argument(
        "--output",
        type=Path,
        default=Path("reports/compare"),
        help="folder for report.md and plots/*.png (default reports/compare)",
    )
    p.add_argument("--repo", type=Path, default=Path.cwd(), help="repository root (default .)")
    args = p.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
