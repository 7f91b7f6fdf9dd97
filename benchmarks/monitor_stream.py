"""Benchmark the monitor on many simulated streams: false alarms and detections per scenario.

A script, not a test. Needs a demo workspace (``make monitor-demo``): its monitored model
(trained on the January-February batch files), its training split (the inputs' reference)
and validation predictions (the score's reference), its params and problem file. For each
seed, the stream spec is rebuilt with that seed (other months, other rows, other injected
rows), every month is checked and scored in-process exactly as batch scoring does
(``churn.score.batch``), and assessed and judged with the monitor's own functions, outcomes
known. Counted per scenario, over all seeds:

* no drift: months with any input column flagged, with the score flagged, not ``ok``;
* covariate shift: months with both shifted columns flagged (detection), with any other
  input column flagged (false alarm);
* concept drift: months with any input column flagged (it should not show there), months
  whose realized ROC-AUC is below its bar, second concept months judged ``retrain``;
* data quality: months flagged for data quality.

The seeds' streams share the pool (3,521 rows), so months of different seeds overlap: the
rates are correlated and the binomial +- shown is a lower bound on their uncertainty.

    python -m benchmarks.monitor_stream --workspace /tmp/churn-monitor-demo [--seeds 20]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import yaml
from threadpoolctl import threadpool_limits

from churn.core.artifacts import load_model
from churn.core.params import load
from churn.core.problem import load_problem
from churn.evaluate.business import Economics
from churn.monitor.assess import assess, bars_for, baseline, threshold_cache
from churn.monitor.outcomes import read_source
from churn.monitor.records import PeriodRecords
from churn.monitor.settings import MonitorParams
from churn.monitor.verdict import judge
from churn.score.batch import Duplicates, check_block, predict
from churn.simulate.stream import StreamSpec, build_stream

SHIFTED = {"Contract", "MonthlyCharges"}


def month_records(month, contract, pipeline, threshold: float) -> PeriodRecords:
    """One month as the log would hold it after batch scoring, with its outcomes."""
    raw = month.records.assign(_source_file="stream", _source_line=range(len(month.records)))
    checked = check_block(raw, contract, Duplicates(), "stream")
    table = checked.clean
    p = predict(pipeline, contract, table)
    predictions = table.assign(
        probability=p,
        decision=(p >= threshold).astype(int),
        threshold=threshold,
        channel="batch",
        model_version="m",
    )
    runs = pd.DataFrame(
        [
            {
                "rows_in": checked.rows_in,
                "rows_quarantined": len(checked.quarantine),
                "exact_duplicates_removed": checked.exact_duplicates_removed,
                "quarantine_reasons": json.dumps(checked.quarantine_reasons),
                "blanks": json.dumps(checked.blanks),
            }
        ]
    )
    target = contract.by_name[contract.target]
    outcomes = pd.DataFrame(
        {
            contract.id_column: month.outcomes[contract.id_column].astype(str),
            "outcome": (target.parse(month.outcomes[contract.target]) == contract.positive).astype(
                int
            ),
        }
    )
    return PeriodRecords(
        period=month.spec.period,
        predictions=predictions,
        logged=len(predictions),
        superseded=0,
        unfinished=0,
        channels={"batch": len(predictions)},
        model_versions={"m": len(predictions)},
        runs=runs,
        outcomes=outcomes,
    )


def rate(hits: int, n: int) -> str:
    if n == 0:
        return "-"
    p = hits / n
    return f"{p:6.1%} +- {math.sqrt(p * (1 - p) / n):.1%} ({hits}/{n})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", type=Path, required=True, help="a monitor-demo workspace")
    parser.add_argument("--spec", type=Path, default=Path("examples/monitoring/telco_stream.yaml"))
    parser.add_argument("--seeds", type=int, default=20, help="streams, seeds 0..N-1")
    parser.add_argument("--rows-per-month", type=int, nargs="+", default=[300, 500])
    args = parser.parse_args()
    ws = args.workspace
    problem = load_problem(ws / "params.yaml", ws)
    contract = problem.contract
    params = load(MonitorParams, ws / "params.yaml")
    decision = json.loads((ws / "models/decision.json").read_text())
    validation = json.loads((ws / "metrics/evaluate/metrics.json").read_text())["validation"]
    pipeline = load_model(ws / "models/model.joblib", ws / "dvc.lock")
    base = baseline(
        contract,
        pd.read_parquet(ws / "data/processed/splits/train.parquet"),
        pd.read_parquet(ws / "data/predictions/validation.parquet")["probability"].to_numpy(),
        model_version="m",
        threshold=decision["threshold"],
        econ=Economics.from_params(problem.business),
        bars=bars_for(
            params,
            {
                "roc_auc": problem.spec.gate.min_test_roc_auc,
                "top_decile_lift": problem.spec.gate.min_test_top_decile_lift,
            },
            validation,
        ),
        segments=problem.segments,
    )
    cache = threshold_cache(params, base)
    raw_spec = yaml.safe_load(args.spec.read_text())
    pool = read_source(StreamSpec.model_validate(raw_spec).pool, root=ws)
    start = time.perf_counter()
    for rows in args.rows_per_month:
        counts: dict[str, int] = defaultdict(int)
        for seed in range(args.seeds):
            spec = StreamSpec.model_validate({**raw_spec, "seed": seed, "rows_per_month": rows})
            months = build_stream(pool, contract, spec)
            with threadpool_limits(limits=1):
                found = [
                    assess(
                        month_records(m, contract, pipeline, base.threshold), base, params, cache
                    )
                    for m in months
                ]
            verdicts = judge(found, base, params, problem.words)
            concept_seen = 0
            for month, a, v in zip(months, found, verdicts, strict=True):
                scenario = month.spec.scenario
                drifted = set(a.drifted_inputs)
                counts[f"{scenario}:n"] += 1
                counts[f"{scenario}:any_input"] += bool(drifted)
                counts[f"{scenario}:score"] += a.score_drifted
                counts[f"{scenario}:not_ok"] += v.verdict != "ok"
                if scenario == "covariate_shift":
                    counts["covariate_shift:both"] += drifted >= SHIFTED
                    counts["covariate_shift:others"] += bool(drifted - SHIFTED)
                if scenario == "concept_drift":
                    concept_seen += 1
                    counts["concept_drift:below"] += "roc_auc" in v.signals["below_bar"]
                    if concept_seen == 2:
                        counts["concept_drift:second"] += 1
                        counts["concept_drift:retrain"] += v.verdict == "retrain"
                if scenario == "data_quality":
                    counts["data_quality:flagged"] += v.signals["data_quality"]
        c = counts
        lines = (
            ("no drift, any input column flagged", "no_drift:any_input", "no_drift:n"),
            ("no drift, score flagged", "no_drift:score", "no_drift:n"),
            ("no drift, verdict not ok", "no_drift:not_ok", "no_drift:n"),
            ("covariate shift, both columns caught", "covariate_shift:both", "covariate_shift:n"),
            ("covariate shift, another column too", "covariate_shift:others", "covariate_shift:n"),
            ("concept drift, any input flagged", "concept_drift:any_input", "concept_drift:n"),
            ("concept drift, ROC-AUC below its bar", "concept_drift:below", "concept_drift:n"),
            (
                "concept drift, retrain at 2nd month",
                "concept_drift:retrain",
                "concept_drift:second",
            ),
            ("data-quality incident flagged", "data_quality:flagged", "data_quality:n"),
        )
        print(f"\n{rows} rows per month, {args.seeds} streams (seeds 0-{args.seeds - 1}):")
        for label, hits, n in lines:
            print(f"  {label + ':':<40}{rate(c[hits], c[n])}")
    load_avg = os.getloadavg()[0]
    print(
        f"\n{time.perf_counter() - start:.0f} s, {os.cpu_count()} CPUs, load average "
        f"{load_avg:.1f} at the end; bars: "
        + ", ".join(f"{m} {b.value:.3f}" for m, b in base.bars.items())
    )


if __name__ == "__main__":
    main()
