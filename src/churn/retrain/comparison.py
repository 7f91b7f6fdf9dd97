"""Champion against challenger on the same rows: a paired bootstrap, and the promotion rule.

Both models score the same evidence (rows neither was trained on), each at its own
business threshold (from its decision file). The question is not "is each model good"
but "is the challenger better than the champion, here": so the two are resampled
**together**. Each bootstrap resample draws rows with replacement (within each part of the
evidence, so that every part keeps its size: the held-out newest periods and the
champion's test split), computes the statistic for both models on those same rows, and
records the difference. The percentile interval of the differences (Efron and Tibshirani
1993, *An Introduction to the Bootstrap*, ch. 13) is much narrower than what two separate
intervals suggest, because the rows that are hard for one model are mostly hard for the
other: the noise the two share cancels in the difference.

The rule (``retrain.challenge``): promote only when the lower bound of the interval of the
gain in profit per unit (challenger minus champion) is above ``tolerance`` and the
challenger passed the quality gate. The ROC-AUC difference is reported beside it (ranking
quality) but does not decide: the campaign is paid in profit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from churn.evaluate.business import Economics, profit_at_threshold
from churn.monitor.performance import Interval, roc_auc

Statistic = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class PairedInterval:
    """A statistic of model A, of model B, and of B minus A, on the same resamples."""

    a: Interval
    b: Interval
    difference: Interval


def _interval(point: float, draws: np.ndarray, level: float, n_boot: int) -> Interval:
    ok = draws[~np.isnan(draws)]
    if ok.size:
        low, high = np.quantile(ok, [(1 - level) / 2, (1 + level) / 2])
    else:
        low = high = math.nan
    return Interval(float(point), float(low), float(high), level, int(ok.size), n_boot - ok.size)


def resample_indices(strata: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row indices drawn with replacement within each stratum (each keeps its size)."""
    parts = []
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        parts.append(members[rng.integers(0, members.size, members.size)])
    return np.concatenate(parts) if parts else np.array([], dtype=np.int64)


def paired_bootstrap(
    y: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    statistics: dict[str, tuple[Statistic, Statistic]],
    *,
    strata: np.ndarray | None = None,
    n_boot: int = 2000,
    seed: int | list[int] = 0,
    level: float = 0.95,
) -> dict[str, PairedInterval]:
    """Paired percentile bootstrap of each statistic for models A and B and of B - A.

    ``statistics`` maps a name to the statistic of A and the statistic of B (two functions
    of ``(y, score)``: e.g. the profit, each at its own threshold). Every statistic and
    both models see the same resamples. A resample where a statistic is undefined (NaN,
    e.g. one class only for the ROC-AUC) is dropped for that statistic and counted.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1) (got {level})")
    y = np.asarray(y)
    a = np.asarray(score_a, dtype=np.float64)
    b = np.asarray(score_b, dtype=np.float64)
    if not y.shape == a.shape == b.shape:
        raise ValueError(f"{y.size} outcomes, {a.size} and {b.size} scores: expected as many")
    groups = np.zeros(y.size, dtype=np.int64) if strata is None else np.asarray(strata)
    if groups.shape != y.shape:
        raise ValueError(f"{groups.size} strata for {y.size} rows")
    n = y.size
    points = {
        k: (fa(y, a), fb(y, b)) if n else (math.nan, math.nan) for k, (fa, fb) in statistics.items()
    }
    draws = {k: np.full((n_boot, 2), np.nan) for k in statistics}
    rng = np.random.default_rng(seed)
    if n:
        for i in range(n_boot):
            idx = resample_indices(groups, rng)
            yy, aa, bb = y[idx], a[idx], b[idx]
            for k, (fa, fb) in statistics.items():
                draws[k][i] = (fa(yy, aa), fb(yy, bb))
    out = {}
    for k, values in draws.items():
        pa, pb = points[k]
        both = values[~np.isnan(values).any(axis=1)]
        out[k] = PairedInterval(
            a=_interval(pa, values[:, 0], level, n_boot),
            b=_interval(pb, values[:, 1], level, n_boot),
            difference=_interval(
                pb - pa, both[:, 1] - both[:, 0] if both.size else np.array([]), level, n_boot
            ),
        )
    return out


@dataclass(frozen=True)
class Comparison:
    """Champion (A) and challenger (B) on one body of evidence."""

    name: str
    rows: int
    events: int
    #: Share of rows each model acts on at its threshold.
    contacted_share: tuple[float, float]
    profit: PairedInterval
    auc: PairedInterval


def compare(
    name: str,
    y: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    thresholds: tuple[float, float],
    econ: Economics,
    *,
    strata: np.ndarray | None = None,
    n_boot: int = 2000,
    seed: int | list[int] = 0,
    level: float = 0.95,
) -> Comparison:
    """Profit per unit (each model at its own threshold) and ROC-AUC, paired."""
    ta, tb = thresholds

    def profit_a(yy: np.ndarray, s: np.ndarray) -> float:
        return profit_at_threshold(yy, s, ta, econ)

    def profit_b(yy: np.ndarray, s: np.ndarray) -> float:
        return profit_at_threshold(yy, s, tb, econ)

    result = paired_bootstrap(
        y,
        champion,
        challenger,
        {"profit": (profit_a, profit_b), "roc_auc": (roc_auc, roc_auc)},
        strata=strata,
        n_boot=n_boot,
        seed=seed,
        level=level,
    )
    y = np.asarray(y)
    return Comparison(
        name=name,
        rows=int(y.size),
        events=int(np.sum(y)),
        contacted_share=(
            float(np.mean(np.asarray(champion) >= ta)) if y.size else math.nan,
            float(np.mean(np.asarray(challenger) >= tb)) if y.size else math.nan,
        ),
        profit=result["profit"],
        auc=result["roc_auc"],
    )


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reasons: tuple[str, ...]


def judge(
    evidence: Comparison,
    tolerance: float,
    gate_passed: bool,
    gate_lines: list[str],
    unit: str = "unit",
) -> Verdict:
    """The promotion rule: profit gain's lower bound above ``tolerance``, and the gate."""
    gain = evidence.profit.difference
    level = f"{gain.level:.0%}"
    reasons = []
    profit_ok = not math.isnan(gain.low) and gain.low > tolerance
    reasons.append(
        f"profit per {unit} on {evidence.name} ({evidence.rows:,} rows): challenger "
        f"{evidence.profit.b.value:.3f}, champion {evidence.profit.a.value:.3f}; gain "
        f"{gain.value:+.3f} ({level} paired bootstrap interval {gain.low:+.3f} to "
        f"{gain.high:+.3f}): lower bound "
        + (
            f"above the tolerance {tolerance:g}"
            if profit_ok
            else f"not above the tolerance {tolerance:g} (retrain.challenge.tolerance)"
        )
    )
    auc = evidence.auc.difference
    reasons.append(
        f"ROC-AUC on {evidence.name}: challenger {evidence.auc.b.value:.3f}, champion "
        f"{evidence.auc.a.value:.3f}; difference {auc.value:+.3f} ({level} interval "
        f"{auc.low:+.3f} to {auc.high:+.3f}) (reported, does not decide)"
    )
    if gate_passed:
        reasons.append("quality gate: passed (" + "; ".join(gate_lines) + ")")
    else:
        failed = [line for line in gate_lines if line.startswith("FAIL")] or gate_lines
        reasons.append("quality gate: FAILED (" + "; ".join(failed) + ")")
    return Verdict(profit_ok and gate_passed, tuple(reasons))
