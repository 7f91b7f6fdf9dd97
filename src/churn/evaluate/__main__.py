"""Evaluate the trained pipeline on the validation and test splits.

Records accuracy, precision, recall, F1, ROC-AUC and average precision, and the
ROC, precision-recall, confusion-matrix and calibration plots, with dvclive.
Writes each split's predicted probabilities for later stages.

The business decision: the contact threshold that maximises expected profit per
customer is chosen on the VALIDATION predictions (params `business`), then
applied unchanged to the test split, which is read here and nowhere else. Both
splits report profit per customer at that threshold, at `evaluate.threshold`
(0.5), at the break-even threshold and for contacting everyone, the top-decile
lift and the expected maximum profit (EMP). The chosen threshold goes to
`--decision` (read by the prediction service).

Splits of any size are predicted part by part (compute.batch_rows,
compute.engine); every metric uses every row, while the dvclive plots of a split
larger than compute.sample_rows are drawn from a seeded sample of it (the metrics
then record `<split>/plot_rows`).
"""

if __name__ == "__main__":  # worker processes get ready while this one imports
    from churn.core.compute import start_workers_early

    start_workers_early(
        "--splits-dir",
        "lightgbm",
        "churn.train.pipeline",
        table="test.parquet",
    )

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dvclive import Live

from churn.core.artifacts import file_md5, load_model
from churn.core.cli import log, parser, run
from churn.core.compute import engine
from churn.core.io import write_json
from churn.core.params import ComputeParams, EvaluateParams, load
from churn.core.problem import load_problem
from churn.evaluate import business
from churn.evaluate.decision import choose_threshold, make_decision
from churn.evaluate.metrics import classification_metrics, log_split
from churn.evaluate.predictions import predict_table

SPLITS = ("validation", "test")


def main(args) -> None:
    params = load(EvaluateParams)
    compute = load(ComputeParams)
    problem = load_problem()
    contract, money = problem.contract, problem.business
    econ = business.Economics.from_params(money)
    model = load_model(args.model)  # refuses a file that does not match dvc.lock
    with engine(compute) as work:
        scored = {
            s: predict_table(
                model,
                args.splits_dir / f"{s}.parquet",
                args.predictions_dir / f"{s}.parquet",
                contract,
                work,
                compute.batch_rows,
                compute.sample_rows,
                compute.seed,
            )
            for s in SPLITS
        }
    labels = {s: v.labels for s, v in scored.items()}
    probabilities = {s: v.probabilities for s, v in scored.items()}

    grid = business.threshold_grid(money.threshold_step)
    threshold = choose_threshold(labels["validation"], probabilities["validation"], grid, econ)
    log.info(
        "threshold %.2f maximises validation profit (break-even for calibrated p: %.3f)",
        threshold,
        econ.break_even_threshold,
    )

    def numbers(split: str) -> dict:
        """Every figure of one split: the work of the stage after prediction."""
        y, probability = labels[split], probabilities[split]
        report = business.decision_report(
            y, probability, threshold, params.threshold, econ, money.emp_alpha, money.emp_beta
        )
        return {
            "metrics": classification_metrics(y, probability, params.threshold),
            "report": report,
            "profit": business.profit_curve(y, probability, grid, econ),
            "gains": business.cumulative_gains(y, probability),
        }

    # The splits side by side, on the stage's threads: numpy's sorts release the GIL, and
    # on two 1.5M-row splits this took 1.8 s instead of 3.6 s. dvclive logs in one thread.
    with ThreadPoolExecutor(max(1, compute.threads)) as pool:
        figures = dict(zip(SPLITS, pool.map(numbers, SPLITS), strict=True))
    reports = {}
    plots = args.live_dir / "plots" / "business"
    # dvclive's defaults would rewrite dvc.yaml and create experiments: dvc.yaml declares all.
    with Live(dir=str(args.live_dir), dvcyaml=False, save_dvc_exp=False, report=None) as live:
        for split in SPLITS:
            y, probability = labels[split], probabilities[split]
            plotted = scored[split].plotted if scored[split].sampled else None
            metrics, report = figures[split]["metrics"], figures[split]["report"]
            log_split(live, split, metrics, y, probability, params.threshold, plotted)
            log.info("%-10s %s", split, "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
            reports[split] = {k: round(v, 6) for k, v in report.items()}
            for name, value in reports[split].items():
                # Shares contacted have no better/worse direction: decision.json keeps them.
                if "contacted_share" not in name:
                    live.log_metric(f"{split}/{name}", value, plot=False)
            log.info(
                "%-10s profit/customer: tuned %.2f  at %.2f %.2f  contact all %.2f  "
                "lift@10%% %.2f  EMP %.2f",
                split,
                report["profit_tuned_threshold"],
                params.threshold,
                report["profit_default_threshold"],
                report["profit_contact_all"],
                report["top_decile_lift"],
                report["emp"],
            )
            write_json(figures[split]["profit"], plots / f"profit_{split}.json")
            write_json(figures[split]["gains"], plots / f"gains_{split}.json")
    decision = make_decision(
        threshold,
        model_path=str(args.model),
        model_md5=file_md5(args.model),
        money=money,
        reports=reports,
    )
    decision.write(args.decision)


if __name__ == "__main__":
    p = parser("churn.evaluate", __doc__)
    p.add_argument("--model", type=Path, required=True, help="fitted pipeline (joblib)")
    p.add_argument("--splits-dir", type=Path, required=True, help="folder of the split files")
    p.add_argument("--live-dir", type=Path, required=True, help="dvclive output folder")
    p.add_argument(
        "--predictions-dir",
        type=Path,
        required=True,
        help="folder for per-split predicted probabilities",
    )
    p.add_argument(
        "--decision",
        type=Path,
        required=True,
        help="JSON with the chosen contact threshold, for the prediction service",
    )
    run("evaluate", main, p.parse_args())
