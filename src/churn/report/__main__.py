"""Write the stakeholder report: one self-contained HTML page for non-technical readers.

Reads what the pipeline already produced (data quality, exploration statistics,
training and evaluation metrics, the contact decision, the test split's
predictions) and writes a single HTML file with its plots embedded, which opens
offline, and a ``.pptx`` deck telling the same story from the same evidence and
the same PNGs (drawn once, here); both have the same bytes for the same inputs.
The only numbers computed here are the model card's metrics per segment (the
problem file's `segments`); the words are the problem file's. A test split larger
than compute.sample_rows gives its segment metrics on a seeded sample of it (the
model card says so).
"""

if __name__ == "__main__":  # worker processes get ready while this one imports
    from churn.core.compute import start_workers_early

    # On large data they draw the plots (matplotlib draws on one core).
    start_workers_early("--splits-dir", table="test.parquet", figures=True)

import json
from pathlib import Path

from churn.core import tables
from churn.core.cli import log, parser, run
from churn.core.compute import LocalEngine, figure_processes
from churn.core.decision import Decision
from churn.core.io import ensure_parent
from churn.core.params import ComputeParams, EvaluateParams, ReportParams, load
from churn.core.problem import load_problem
from churn.report.deck_pptx import render_deck
from churn.report.evidence import Evidence, choose_drivers
from churn.report.page import render_report
from churn.report.plots import draw_plots
from churn.report.segments import all_segments, join_predictions

SPLITS = ("train", "validation", "test")


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def main(args) -> None:
    params = load(ReportParams)
    compute = load(ComputeParams)
    problem = load_problem()
    default_threshold = load(EvaluateParams).threshold
    decision = Decision.parse(args.decision.read_bytes(), str(args.decision))
    # The same seeded sample of both files (every row when the split is small enough).
    sampled = {
        name: tables.read_sample(
            path,
            problem.contract.id_column,
            compute.sample_rows,
            compute.seed,
            LocalEngine(),
            compute.batch_rows,
        )
        for name, path in (
            ("predictions", args.predictions),
            ("split", args.splits_dir / "test.parquet"),
        )
    }
    test = join_predictions(
        sampled["predictions"][0],
        sampled["split"][0],
        problem.contract,
        predictions_file=str(args.predictions),
        split_file=str(args.splits_dir / "test.parquet"),
    )
    test_rows = sampled["split"][1]
    business = args.evaluate_dir / "plots" / "business"
    stats = read_json(args.stats)
    evidence = Evidence(
        validation=read_json(args.validation),
        clean=read_json(args.clean),
        stats=stats,
        train=read_json(args.train),
        tuning=read_json(args.tuning),
        decision=decision,
        metrics=read_json(args.evaluate_dir / "metrics.json"),
        profit={s: read_json(business / f"profit_{s}.json") for s in ("validation", "test")},
        gains={s: read_json(business / f"gains_{s}.json") for s in ("validation", "test")},
        segments=all_segments(test, problem.contract, problem.segments, decision.threshold),
        # Row counts from the Parquet footers: the train and validation rows are not needed.
        split_rows={s: tables.row_count(args.splits_dir / f"{s}.parquet") for s in SPLITS},
        segment_sample=len(test) if len(test) < test_rows else None,
        default_threshold=default_threshold,
        drivers=choose_drivers(stats, problem.report.drivers),
        challenge=read_json(args.challenge) if args.challenge else {},
    )
    drawing = figure_processes(args.splits_dir / "test.parquet", compute)
    pngs = draw_plots(evidence, problem.words, params.dpi, drawing)
    boxplots = args.boxplots.read_bytes()
    html = render_report(evidence, problem, pngs, boxplots=boxplots)
    ensure_parent(args.output).write_text(html, encoding="utf-8")
    size = args.output.stat().st_size
    log.info("report: %s (%s bytes, %s plots)", args.output, f"{size:,}", len(pngs) + 1)
    deck = render_deck(evidence, problem, pngs, boxplots=boxplots)
    ensure_parent(args.slides).write_bytes(deck)
    log.info("slides: %s (%s bytes)", args.slides, f"{len(deck):,}")


if __name__ == "__main__":
    p = parser("churn.report", __doc__)
    a = p.add_argument
    a("--validation", type=Path, required=True, help="raw-data validation summary (JSON)")
    a("--clean", type=Path, required=True, help="cleaning metrics (JSON)")
    a("--stats", type=Path, required=True, help="exploration statistics (JSON)")
    a("--boxplots", type=Path, required=True, help="exploration PNG: numeric features by target")
    a("--train", type=Path, required=True, help="training metrics (JSON)")
    a("--tuning", type=Path, required=True, help="tuning candidates (JSON)")
    a("--decision", type=Path, required=True, help="contact threshold and economics (JSON)")
    a("--evaluate-dir", type=Path, required=True, help="evaluate's dvclive folder")
    a("--splits-dir", type=Path, required=True, help="folder of the split files")
    a("--predictions", type=Path, required=True, help="test-split predictions (Parquet)")
    a("--challenge", type=Path, help="why this model is in service: the challenge record (JSON)")
    a("--output", type=Path, required=True, help="HTML report to write")
    a("--slides", type=Path, required=True, help="slide deck to write (.pptx)")
    run("report", main, p.parse_args())
