"""Benchmark the drift alarm rule: false alarms without drift, detection under a shift.

A script, not a test. Reference: the training split (the 19 raw contract columns; the
score is not in this family). No-drift periods: ``--periods`` seeded draws of n rows without
replacement from the validation and test splits (2,114 held-out rows the reference never
saw). Each draw is, on its own, a sample of the population independent of the reference;
at n = 1,000 two draws share about half their rows, so the 200 rates are correlated and
noisier than 200 independent periods would be (the binomial +- shown is a lower bound).

Shift: the same periods with +20 percentage points of month-to-month contracts (that many
other customers switched to month-to-month) and +10% MonthlyCharges; only those two
columns change, so any other column flagged is a false alarm.

Rules compared per size n (thresholds calibrated at n on ``--repeats`` leave-out resamples
of the reference, ``churn.monitor.alarms``): the rule (BH-adjusted p < alpha AND effect above
its calibrated threshold), the effect threshold alone, BH alone, and plain p < 0.05.

Needs the pipeline's splits (``make repro``). Run: ``python -m benchmarks.drift_alarms``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
from scipy import stats
from threadpoolctl import threadpool_limits

from churn.core.problem import read_problem
from churn.monitor.alarms import calibrate, column_alarms, null_statistics
from churn.monitor.drift import fit_reference, period_drift

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = read_problem(ROOT / "problems" / "telco.yaml")
NUMERIC = list(PROBLEM.contract.numeric_features)
CATEGORICAL = list(PROBLEM.contract.categorical_features)
SHIFTED = ("Contract", "MonthlyCharges")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="False-alarm and detection rates of the drift alarm rule on Telco.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--splits-dir", type=Path, default=ROOT / "data/processed/splits", help="split Parquets"
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 250, 1000], help="period sizes (rows)"
    )
    parser.add_argument("--periods", type=int, default=200, help="no-drift periods per size")
    parser.add_argument(
        "--repeats", type=int, default=1000, help="no-drift resamples for the calibration"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of calibration and periods")
    parser.add_argument(
        "--target", type=float, default=0.05, help="largest share of no-drift periods alarmed"
    )
    parser.add_argument("--alpha", type=float, default=0.05, help="level of BH-adjusted p")
    parser.add_argument(
        "--effect", choices=["psi", "distance"], default="psi", help="effect size of the rule"
    )
    parser.add_argument(
        "--contract-shift", type=float, default=0.20, help="added month-to-month share"
    )
    parser.add_argument(
        "--charges-factor", type=float, default=1.10, help="MonthlyCharges multiplier"
    )
    return parser.parse_args()


def shift(period: pd.DataFrame, rng: np.random.Generator, share: float, factor: float):
    """The period with ``share`` more month-to-month contracts and charges times ``factor``."""
    out = period.reset_index(drop=True).copy()
    out["MonthlyCharges"] = (out["MonthlyCharges"] * factor).round(2)
    others = np.flatnonzero(out["Contract"].to_numpy() != "Month-to-month")
    k = min(others.size, round(share * len(out)))
    out.loc[rng.choice(others, size=k, replace=False), "Contract"] = "Month-to-month"
    return out


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def rates_on_pool(profile, pool, th, args, n: int) -> dict[str, float]:
    """No-drift and shifted periods drawn from the held-out pool: share of periods alarmed."""
    rng = np.random.default_rng([args.seed, n, 1])
    counts: dict[str, float] = dict.fromkeys(
        ["rule", "threshold", "bh", "plain", "seconds"]
        + [f"{r}:{c}" for r in ("rule", "threshold") for c in (*SHIFTED, "both", "others")],
        0,
    )
    for _ in range(args.periods):
        period = pool.iloc[rng.choice(len(pool), size=n, replace=False)]
        tick = time.perf_counter()
        drift = period_drift(profile, period)
        alarms = column_alarms(drift, th)
        counts["seconds"] += time.perf_counter() - tick
        counts["rule"] += any(a.drifted for a in alarms)
        counts["threshold"] += any(a.drifted for a in column_alarms(drift, th, require_test=False))
        counts["bh"] += any(c.p_value_adjusted < args.alpha for c in drift.columns)
        counts["plain"] += any(c.p_value < 0.05 for c in drift.columns)
        moved = period_drift(profile, shift(period, rng, args.contract_shift, args.charges_factor))
        for rule, require_test in (("rule", True), ("threshold", False)):
            flagged = {
                a.column for a in column_alarms(moved, th, require_test=require_test) if a.drifted
            }
            for column in SHIFTED:
                counts[f"{rule}:{column}"] += column in flagged
            counts[f"{rule}:both"] += set(SHIFTED) <= flagged
            counts[f"{rule}:others"] += len(flagged - set(SHIFTED))
    return {k: v / args.periods for k, v in counts.items()}


def rates_on_resamples(profile, th, args, n: int) -> dict[str, float]:
    """Fresh leave-out resamples of the reference (seeds the calibration did not use)."""
    null = null_statistics(profile, n, args.periods, np.random.default_rng([args.seed, n, 2]))
    effects = null.effect(args.effect)
    above = effects > np.array([th.thresholds[c] for c in null.columns])
    significant = stats.false_discovery_control(null.p_value, axis=1, method="bh") < args.alpha
    return {
        "rule": float((above & significant).any(axis=1).mean()),
        "threshold": float(above.any(axis=1).mean()),
        "bh": float(significant.any(axis=1).mean()),
        "plain": float((null.p_value < 0.05).any(axis=1).mean()),
    }


def table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    args = parse_args()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"pandas {pd.__version__}; {os.cpu_count()} cores, this process single-threaded"
    )
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    reference = pd.read_parquet(args.splits_dir / "train.parquet")
    pool = pd.concat(
        [pd.read_parquet(args.splits_dir / f"{s}.parquet") for s in ("validation", "test")],
        ignore_index=True,
    )
    profile = fit_reference(reference, NUMERIC, CATEGORICAL)
    print(
        f"reference: {len(reference)} training rows, {len(profile.columns)} columns; "
        f"no-drift pool: {len(pool)} validation+test rows; {args.periods} periods per size; "
        f"calibration: {args.repeats} leave-out resamples, target {pct(args.target)}, "
        f"alpha {args.alpha}, effect {args.effect}"
    )
    print(
        f"shift: +{100 * args.contract_shift:.0f} points month-to-month, MonthlyCharges "
        f"x{args.charges_factor}"
    )
    null_rows, shift_rows = [], []
    for n in args.sizes:
        start = time.perf_counter()
        th = calibrate(
            profile,
            n,
            repeats=args.repeats,
            seed=args.seed,
            target=args.target,
            alpha=args.alpha,
            effect=args.effect,
        )
        calibration_s = time.perf_counter() - start
        pooled = rates_on_pool(profile, pool, th, args, n)
        fresh = rates_on_resamples(profile, th, args, n)
        null_rows.append(
            [str(n), f"{calibration_s:.1f}", f"{th.level:.4f}", f"{1000 * pooled['seconds']:.0f}"]
            + [pct(r[k]) for r in (pooled, fresh) for k in ("rule", "threshold", "bh", "plain")]
        )
        shift_rows.append(
            [str(n)]
            + [
                pct(pooled[f"{rule}:{c}"]) if c != "others" else f"{pooled[f'{rule}:{c}']:.3f}"
                for rule in ("rule", "threshold")
                for c in (*SHIFTED, "both", "others")
            ]
        )
    print()
    print("Share of no-drift periods with any column alarmed (held-out pool | fresh resamples):")
    print()
    kinds = ["rule", "threshold only", "BH only", "p<0.05"]
    table(
        ["n", "calibration s", "level", "ms/period"]
        + [f"{src}: {k}" for src in ("held-out", "resamples") for k in kinds],
        null_rows,
    )
    print()
    print("Shifted periods: share flagging each shifted column; other columns flagged per period:")
    print()
    table(
        ["n"]
        + [
            f"{rule}: {c}"
            for rule in ("rule", "threshold only")
            for c in (*SHIFTED, "both", "others/period")
        ],
        shift_rows,
    )
    se = math.sqrt(args.target * (1 - args.target) / args.periods)
    print()
    print(
        f"binomial standard error of a {pct(args.target)} rate over {args.periods} periods: "
        f"{pct(se)} (more on the held-out pool at n = 1,000, where periods overlap)"
    )
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    # One thread for the few BLAS calls: the timings then do not depend on the machine's load
    # from other processes competing for a second core. No process pools.
    with threadpool_limits(limits=1):
        main()
