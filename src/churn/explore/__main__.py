"""Explore the clean table: summary statistics, plots and an offline HTML EDA report.

Writes the statistics (JSON), one PNG per plot (histograms, box plots by target,
pair plot, target rate by category, correlation heatmap; listed by `dvc plots
show`) and a single HTML report with the images embedded, which opens offline.
A clean table larger than compute.sample_rows is explored on a seeded sample of
it; the statistics (`sample`) and the report say so.
"""

if __name__ == "__main__":  # worker processes get ready while this one imports
    from churn.core.compute import start_workers_early

    # On large data the workers also draw the plots (matplotlib draws on one core).
    start_workers_early("--input", figures=True)

from pathlib import Path

from churn.core.cli import log, parser, run
from churn.core.compute import LocalEngine, figure_processes
from churn.core.io import ensure_parent, write_json
from churn.core.params import ComputeParams, ExploreParams, load
from churn.core.problem import load_problem
from churn.core.tables import read_sample
from churn.explore.page import render_report
from churn.explore.plots import draw_plots
from churn.explore.stats import summarize


def main(args) -> None:
    params = load(ExploreParams)
    compute = load(ComputeParams)
    problem = load_problem()
    contract, words = problem.contract, problem.words
    # A sample at most: read on this machine whatever the engine (no cluster needed for
    # it), in compute.threads processes (the whole clean table passes through).
    df, total = read_sample(
        args.input,
        contract.id_column,
        compute.sample_rows,
        compute.seed,
        LocalEngine(compute.threads),
        compute.batch_rows,
    )
    summary = summarize(df, contract, params)
    if len(df) < total:  # said only when sampled: small data keeps its bytes
        summary["sample"] = {"population_rows": total, "seed": compute.seed}
    write_json(summary, args.stats)
    pngs = draw_plots(df, contract, words, params, figure_processes(args.input, compute))
    args.plots_dir.mkdir(parents=True, exist_ok=True)
    for name, png in pngs.items():
        (args.plots_dir / f"{name}.png").write_bytes(png)
    report = render_report(summary, pngs, str(args.input), contract, words, problem.path)
    ensure_parent(args.report).write_text(report, encoding="utf-8")
    log.info(
        "%s rows, %s rate %.1f%%; %s plots; report: %s",
        f"{summary['rows']:,}",
        words.event,
        100 * summary["positive_rate"],
        len(pngs),
        args.report,
    )


if __name__ == "__main__":
    p = parser("churn.explore", __doc__)
    p.add_argument("--input", type=Path, required=True, help="clean table (Parquet)")
    p.add_argument("--stats", type=Path, required=True, help="statistics to write (JSON)")
    p.add_argument("--plots-dir", type=Path, required=True, help="folder for the PNG plots")
    p.add_argument("--report", type=Path, required=True, help="HTML report to write")
    run("explore", main, p.parse_args())
