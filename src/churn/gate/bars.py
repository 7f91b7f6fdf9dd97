"""The quality gate: the model must clear the problem file's bars on the test split."""

from __future__ import annotations

from typing import Any

from churn.core.errors import QualityGateError
from churn.core.params import GateBars

#: (bar, metric path in the evaluate metrics, label)
CHECKS = (
    ("min_test_roc_auc", ("test", "roc_auc"), "test ROC-AUC"),
    ("min_test_top_decile_lift", ("test", "top_decile_lift"), "test top-decile lift"),
)


def check(
    metrics: dict[str, Any],
    bars: GateBars,
    enforce: bool = True,
    source: str = "metrics",
    problem_file: str = "the problem file",
) -> list[str]:
    """One line per check; raises QualityGateError naming every failed check if enforced."""
    lines, failed = [], []
    for key, path, label in CHECKS:
        node: Any = metrics
        for part in path:
            if not isinstance(node, dict) or part not in node:
                raise QualityGateError(f"{source} has no {'.'.join(path)}: run evaluate first")
            node = node[part]
        bar = getattr(bars, key)
        ok = float(node) >= bar
        line = f"{label} {float(node):.4f} {'>=' if ok else '<'} {bar:g} (gate.{key})"
        lines.append(("pass: " if ok else "FAIL: ") + line)
        if not ok:
            failed.append(line)
    if failed and enforce:
        raise QualityGateError(
            "the model does not clear the quality gate:\n  "
            + "\n  ".join(failed)
            + "\n  what to do: improve the model (see README, Experiments), or change the bar"
            f" in {problem_file} (gate.*); gate.enforce=false in params.yaml records the run"
            " without failing"
        )
    return lines
