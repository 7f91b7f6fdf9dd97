"""The challenge stage: the champion against the challenger the pipeline just trained.

Runs as ``challenge@champion`` in the challenger's experiment (``python -m churn.retrain
challenge`` adds it with ``retrain.compare_with: [champion]``), after ``gate``. Both models
score the evidence that ``python -m churn.retrain window`` assembled (the held-out newest
labelled periods and the champion's test split: rows neither trained on), each at the
threshold of its own decision file; a paired bootstrap gives the gain in profit per unit and
in ROC-AUC with intervals (``churn.retrain.comparison``); the rule says whether the
challenger may replace the champion, and why.

Writes the record read by promotion, the stakeholder report and the compare report
(``--record``: words and figures) and the numbers for ``dvc metrics diff`` and ``dvc exp
show`` (``--metrics``).
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from churn.core.artifacts import file_md5, load_model, load_model_with_md5
from churn.core.cli import log, parser, run
from churn.core.decision import Decision
from churn.core.errors import ArtifactError
from churn.core.io import read_parquet, write_json
from churn.core.params import parse_section, read_params_file
from churn.core.problem import load_problem
from churn.evaluate.business import Economics
from churn.gate.bars import check
from churn.retrain.comparison import Comparison, compare, judge
from churn.retrain.record import RECORD_SCHEMA, champion_files
from churn.retrain.settings import ChallengeParams
from churn.retrain.window import PART, TEST

#: The bodies of evidence, in the order they are reported.
NEWEST, ALL = "newest", "all"


def _interval(i) -> dict[str, float]:
    return {"value": round(i.value, 6), "low": round(i.low, 6), "high": round(i.high, 6)}


def comparison_json(c: Comparison) -> dict[str, Any]:
    return {
        "rows": c.rows,
        "events": c.events,
        "champion": {
            "profit_per_customer": _interval(c.profit.a),
            "roc_auc": _interval(c.auc.a),
            "contacted_share": round(c.contacted_share[0], 6),
        },
        "challenger": {
            "profit_per_customer": _interval(c.profit.b),
            "roc_auc": _interval(c.auc.b),
            "contacted_share": round(c.contacted_share[1], 6),
        },
        "gain": {
            "profit_per_customer": _interval(c.profit.difference),
            "roc_auc": _interval(c.auc.difference),
        },
        "level": c.profit.difference.level,
        "resamples": c.profit.difference.resamples,
    }


def comparison_metrics(c: Comparison) -> dict[str, float]:
    """Flat numbers for ``dvc metrics``: each model's value and the gain with its bounds."""
    g, a = c.profit.difference, c.auc.difference
    return {
        "rows": c.rows,
        "champion_profit_per_customer": round(c.profit.a.value, 6),
        "challenger_profit_per_customer": round(c.profit.b.value, 6),
        "profit_gain": round(g.value, 6),
        "profit_gain_low": round(g.low, 6),
        "profit_gain_high": round(g.high, 6),
        "champion_roc_auc": round(c.auc.a.value, 6),
        "challenger_roc_auc": round(c.auc.b.value, 6),
        "roc_auc_gain": round(a.value, 6),
        "roc_auc_gain_low": round(a.low, 6),
        "roc_auc_gain_high": round(a.high, 6),
    }


def load_champion(folder: Path) -> tuple[Any, Decision, dict[str, Any]]:
    """The champion's pipeline and decision, after checking the model's md5."""
    model_path, decision_path, facts_path = champion_files(folder)
    facts = json.loads(facts_path.read_text(encoding="utf-8"))
    decision = Decision.parse(decision_path.read_bytes(), str(decision_path), str(folder))
    try:
        model = load_model_with_md5(model_path, facts["md5"], str(facts_path))
    except ArtifactError as exc:
        raise ArtifactError(
            f"{exc}\n  what to do: `python -m churn.retrain window` assembles the champion again"
        ) from None
    decision.require_model(facts["md5"])
    return model, decision, facts


def main(args) -> None:
    raw = read_params_file().get("retrain", {})
    params: ChallengeParams = parse_section(
        "retrain.challenge", raw.get("challenge", {}), ChallengeParams
    )
    problem = load_problem()
    contract, words = problem.contract, problem.words
    econ = Economics.from_params(problem.business)

    champion, champion_decision, champion_facts = load_champion(args.retrain_dir / "champion")
    challenger = load_model(args.model)  # refuses a file that does not match dvc.lock
    challenger_decision = Decision.parse(args.decision.read_bytes(), str(args.decision))
    challenger_decision.require_model(file_md5(args.model))
    manifest = json.loads((args.retrain_dir / "manifest.json").read_text(encoding="utf-8"))

    evidence = read_parquet(args.retrain_dir / "evidence.parquet")
    y = evidence[contract.label].to_numpy()
    inputs = contract.inputs(evidence)
    p_champion = champion.predict_proba(inputs)[:, 1]
    p_challenger = challenger.predict_proba(inputs)[:, 1]
    parts = evidence[PART].to_numpy()
    thresholds = (champion_decision.threshold, challenger_decision.threshold)
    masks = {NEWEST: parts != TEST, TEST: parts == TEST, ALL: np.ones(len(parts), dtype=bool)}
    names = {
        NEWEST: "the newest labelled period(s) " + ", ".join(manifest["holdout_periods"]),
        TEST: "the champion's test split",
        ALL: "the newest period(s) and the champion's test split",
    }
    results = {}
    for key, mask in masks.items():
        results[key] = compare(
            names[key],
            y[mask],
            p_champion[mask],
            p_challenger[mask],
            thresholds,
            econ,
            strata=parts[mask],
            n_boot=params.bootstrap,
            seed=[params.seed, zlib.crc32(key.encode())],
            level=params.level,
        )
    metrics = json.loads(args.evaluate_metrics.read_text(encoding="utf-8"))
    gate_lines = check(metrics, problem.spec.gate, enforce=False)
    gate_passed = bool(json.loads(args.gate.read_text(encoding="utf-8"))["passed"])
    verdict = judge(
        results[params.decide_on], params.tolerance, gate_passed, gate_lines, words.unit
    )
    status = "accepted" if verdict.accepted else "refused"
    for reason in verdict.reasons:
        log.info(reason)
    log.info("the challenger is %s", status)

    record = {
        "schema_version": RECORD_SCHEMA,
        "status": status,
        "reasons": list(verdict.reasons),
        "rule": {
            "decide_on": params.decide_on,
            "tolerance": params.tolerance,
            "bootstrap": params.bootstrap,
            "level": params.level,
            "seed": params.seed,
        },
        "champion": {**champion_facts, "threshold": champion_decision.threshold},
        "challenger": {
            "md5": challenger_decision.model_md5,
            "threshold": challenger_decision.threshold,
            "gate_passed": gate_passed,
            "gate": gate_lines,
        },
        "window": manifest,
        "evidence": {key: {"name": names[key], **comparison_json(c)} for key, c in results.items()},
    }
    write_json(record, args.record)
    write_json(
        {
            "accepted": int(verdict.accepted),
            "gate_passed": int(gate_passed),
            "tolerance": params.tolerance,
            **{key: comparison_metrics(c) for key, c in results.items()},
        },
        args.metrics,
    )


if __name__ == "__main__":
    p = parser("churn.retrain.challenge", __doc__)
    p.add_argument(
        "--retrain-dir",
        type=Path,
        required=True,
        help="what `python -m churn.retrain window` assembled (champion/, evidence, manifest)",
    )
    p.add_argument("--model", type=Path, required=True, help="the challenger (joblib)")
    p.add_argument("--decision", type=Path, required=True, help="the challenger's decision file")
    p.add_argument(
        "--evaluate-metrics", type=Path, required=True, help="the challenger's evaluate metrics"
    )
    p.add_argument("--gate", type=Path, required=True, help="the challenger's gate outcome")
    p.add_argument("--record", type=Path, required=True, help="the challenge record (JSON)")
    p.add_argument("--metrics", type=Path, required=True, help="the challenge metrics (JSON)")
    run("challenge", main, p.parse_args())
