"""The quality gate's bars: the model must clear the bars of ``params.yaml`` on test data."""

from __future__ import annotations

from typing import Any

from churn.core.errors import QualityGateError
from churn.core.params import GateParams

#: (params key, metric path in the evaluate metrics, label)
CHECKS = (
    ("min_test_roc_auc", ("test", "roc_auc"), "test ROC-AUC"),
    ("min_test_top_decile_lift", ("test", "top_decile_lift"), "test top-decile lift"),
)


def check(metrics: dict[str, Any], params: GateParams, source: str = "metrics") -> list[str]:
    """One line per check; raises QualityGateError naming every failed check if enforced."""
    lines, failed = [], []
    for key, path, label in CHECKS:
        node: Any = metrics
        for part in path:
            if not isinstance(node, dict) or part not in node:
                raise QualityGateError(f"{source} has no {'.'.join(path)}: run evaluate first")
            node = node[part]
        bar = getattr(params, key)
        ok = float(node) >= bar
        line = f"{label} {float(node):.4f} {'>=' if ok else '<'} {bar:g} (gate.{key})"
        lines.append(("pass: " if ok else "FAIL: ") + line)
        if not ok:
            failed.append(line)
    if failed and params.enforce:
        raise QualityGateError(
            "the model does not clear the quality gate:\n  "
            + "\n  ".join(failed)
            + "\n  what to do: improve the model (see README, Experiments), or change the bar"
            " in params.yaml (gate.*); gate.enforce=false records the run without failing"
        )
    return lines
