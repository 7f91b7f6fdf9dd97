"""Monitor the deployed model: per period of the prediction log, what moved and what to do.

Reads the extent of the prediction log recorded by `python -m churn.monitor.log_state`
(predictions of the service and of batch scoring, batch runs' quarantine counts, outcomes
loaded later), the training split (the inputs' reference), the validation predictions (the
score's reference), the deployed model's decision and validation metrics, and the problem
file (its words, segments, economics and gate). Writes per period: the metrics
(metrics/monitor/periods.json, for `dvc metrics diff`), the verdicts with their reasons
(metrics/monitor/verdicts.json), plot series over time (`dvc plots show`) and an offline
HTML dashboard.

When params.yaml declares SIMULATED months (section ``stream``, the worked example), the
monitor reads them instead of the log: the ``stream`` stage's months are replayed through
batch scoring into a scratch log (``churn.simulate.scratch``) with their outcomes, and
every output says the stream is simulated and which scenario each month was built under.
"""

if __name__ == "__main__":  # worker processes get ready while this one imports
    from churn.core.compute import start_workers_early

    # On large data the workers also draw the dashboard's charts (one core each).
    start_workers_early("--reference", figures=True)

import json
import tempfile
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from churn.core.cli import log, parser, run
from churn.core.compute import LocalEngine, figure_processes
from churn.core.decision import Decision
from churn.core.errors import DataError
from churn.core.io import read_parquet, write_json
from churn.core.params import ComputeParams, load
from churn.core.problem import load_problem
from churn.core.tables import read_sample
from churn.evaluate.business import Economics
from churn.monitor.assess import assess, bars_for, baseline, threshold_cache
from churn.monitor.dashboard import render_dashboard
from churn.monitor.log_state import extent as log_extent
from churn.monitor.records import Extent, open_log, periods, read_period
from churn.monitor.results import period_metrics, plot_series, verdicts_document
from churn.monitor.settings import MonitorParams
from churn.monitor.verdict import judge
from churn.serve import model_source
from churn.simulate.scratch import replay_into_log
from churn.simulate.stream import StreamParams


def simulated_extent(stream: Path, scratch: Path) -> tuple[Extent, dict]:
    """The scratch log the simulated stream was replayed into, and the stream's manifest."""
    log_path = scratch / "predictions.sqlite"
    manifest = replay_into_log(stream, model_source.load(Path(".")), log_path, scratch)
    extent = Extent.parse(log_extent(log_path), "the simulated stream's scratch log")
    return extent, manifest


def simulation_note(stream: Path, manifest: dict) -> dict:
    """What the outputs say about a simulated stream: where it is and each month's scenario."""
    return {
        "stream": stream.as_posix(),
        "what": manifest.get("what", ""),
        "model_trained_on": manifest.get("model_trained_on"),
        "pool": manifest.get("pool"),
        "scenarios": {m["period"]: m["scenario"] for m in manifest["months"]},
    }


def main(args) -> None:
    params = load(MonitorParams)
    problem = load_problem()
    contract, words = problem.contract, problem.words
    decision = Decision.parse(args.decision.read_bytes(), str(args.decision), "the workspace")
    validation = json.loads(args.evaluate_metrics.read_text())["validation"]
    compute = load(ComputeParams)
    # The inputs' reference: every row of the training split, or a seeded sample of
    # compute.sample_rows where it is larger (the drift profile and its calibration need
    # thousands of rows; a 7M-row split read whole peaked at 5.6 GB), read on this
    # machine in compute.threads processes.
    reference, reference_rows = read_sample(
        args.reference,
        contract.id_column,
        compute.sample_rows,
        compute.seed,
        LocalEngine(compute.threads),
        compute.batch_rows,
    )
    reference_sample = None
    if len(reference) < reference_rows:
        reference_sample = {"rows": len(reference), "of": reference_rows, "seed": compute.seed}
        log.info(
            "drift reference: a seeded sample of %s of the training split's %s rows "
            "(compute.sample_rows)",
            f"{len(reference):,}",
            f"{reference_rows:,}",
        )
    scores = read_parquet(args.score_reference)["probability"].to_numpy(dtype=np.float64)
    gate = {
        "roc_auc": problem.spec.gate.min_test_roc_auc,
        "top_decile_lift": problem.spec.gate.min_test_top_decile_lift,
    }
    base = baseline(
        contract,
        reference,
        scores,
        model_version=decision.model_md5,
        threshold=decision.threshold,
        econ=Economics.from_params(problem.business),
        bars=bars_for(params, gate, validation),
        segments=problem.segments,
    )
    stream = load(StreamParams)
    scratch = tempfile.TemporaryDirectory(prefix="churn-monitor-")
    simulated = None
    if stream.months:
        log.info(
            "monitoring the SIMULATED stream %s (params.yaml declares stream.months; set "
            "stream.months: [] to monitor the prediction log)",
            args.stream,
        )
        extent, manifest = simulated_extent(args.stream, Path(scratch.name))
        simulated = simulation_note(args.stream, manifest)
        db = open_log(extent, "the simulated stream's scratch log", root=Path("/"))
        # What the outputs name: the stream, not the scratch file thrown away below.
        extent = Extent(args.stream / "manifest.json", True, extent.tables)
    else:
        try:
            extent = Extent.parse(json.loads(args.log_state.read_text()), str(args.log_state))
        except json.JSONDecodeError:
            raise DataError("not JSON", file=str(args.log_state)) from None
        db = open_log(extent, str(args.log_state))
    assessments = []
    cache = threshold_cache(params, base)
    with threadpool_limits(limits=1):
        if db is not None:
            try:
                for period in periods(db, extent):
                    records = read_period(db, extent, contract, period)
                    assessments.append(assess(records, base, params, cache))
            finally:
                db.close()
        verdicts = judge(assessments, base, params, words)
        write_json(period_metrics(assessments, verdicts), args.metrics)
        write_json(
            verdicts_document(
                assessments,
                verdicts,
                base,
                extent,
                retrain_periods=params.retrain.periods,
                evidence=params.retrain.evidence,
                simulated=simulated,
                reference_sample=reference_sample,
            ),
            args.verdicts,
        )
        for name, rows in plot_series(assessments, base).items():
            write_json(rows, args.plots_dir / f"{name}.json")
        html = render_dashboard(
            assessments,
            verdicts,
            base,
            problem,
            extent,
            dpi=params.dpi,
            simulated=simulated,
            processes=figure_processes(args.reference, compute),
        )
    scratch.cleanup()
    args.dashboard.parent.mkdir(parents=True, exist_ok=True)
    args.dashboard.write_text(html, encoding="utf-8")
    if not assessments:
        log.info("no predictions in %s yet: nothing to monitor", extent.path)
    for v in verdicts:
        log.info("%s: %s%s", v.period, v.verdict, "".join(f"\n    - {r}" for r in v.reasons))
    log.info("dashboard: %s (%s bytes)", args.dashboard, f"{len(html.encode()):,}")


if __name__ == "__main__":
    p = parser("churn.monitor", __doc__)
    p.add_argument("--log-state", type=Path, required=True, help="log extent (JSON)")
    p.add_argument("--reference", type=Path, required=True, help="training split (Parquet)")
    p.add_argument(
        "--score-reference", type=Path, required=True, help="validation predictions (Parquet)"
    )
    p.add_argument("--stream", type=Path, required=True, help="the simulated stream (stage stream)")
    p.add_argument("--decision", type=Path, required=True, help="decision file (JSON)")
    p.add_argument("--evaluate-metrics", type=Path, required=True, help="evaluate's metrics")
    p.add_argument("--metrics", type=Path, required=True, help="metrics per period (JSON)")
    p.add_argument("--verdicts", type=Path, required=True, help="verdicts per period (JSON)")
    p.add_argument("--plots-dir", type=Path, required=True, help="plot series (JSON files)")
    p.add_argument("--dashboard", type=Path, required=True, help="dashboard (HTML)")
    run("monitor", main, p.parse_args())
