"""Developer tooling: compare runs, comment on pull requests, rank experiments.

    python -m churn.experiments compare --base main        # reports/compare/report.md
    python -m churn.experiments pr-comment --report reports/compare/report.md --pr 12
    python -m churn.experiments rank --metric test.roc_auc --top 5

Each command has its own --help.
"""

from __future__ import annotations

import sys

COMMANDS = {
    "compare": "this workspace against a base revision: params, metrics, plots (Markdown)",
    "pr-comment": "post the comparison report as one pull-request comment, updated in place",
    "rank": "DVC experiments sorted by a metric, with the params that differ",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__.strip() + "\n\ncommands:")
        for name, what in COMMANDS.items():
            print(f"  {name:<11} {what}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    command, rest = argv[0], argv[1:]
    # Each command imports only what it needs.
    if command == "compare":
        from churn.experiments.compare import main as run
    elif command == "pr-comment":
        from churn.experiments.pr_comment import main as run
    else:
        from churn.experiments.rank import main as run
    return run(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
