"""Quality gate: fail the pipeline when the test metrics are below the problem file's bars.

Reads the evaluate metrics; exits 1 with a message naming each failed check.
Writes whether every check passed to --report (useful with gate.enforce=false).
"""

import json
from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.io import write_json
from churn.core.params import GateParams, load
from churn.core.problem import load_problem
from churn.gate.bars import check


def main(args) -> None:
    params = load(GateParams)
    problem = load_problem()
    metrics = json.loads(args.metrics.read_text(encoding="utf-8"))
    # Raises when enforced and failed.
    lines = check(metrics, problem.spec.gate, params.enforce, str(args.metrics), problem.path)
    for line in lines:
        log.info(line)
    write_json({"passed": all(x.startswith("pass") for x in lines)}, args.report)


if __name__ == "__main__":
    p = parser("churn.gate", __doc__)
    p.add_argument("--metrics", type=Path, required=True, help="evaluate metrics (JSON)")
    p.add_argument("--report", type=Path, required=True, help="gate outcome (JSON)")
    run("gate", main, p.parse_args())
