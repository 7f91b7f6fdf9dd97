"""Model performance per period: realized once labels arrive, estimated before they do.

**Realized** (labels known): ROC-AUC, top-decile lift and profit per customer at the
deployed threshold, each with a seeded **percentile bootstrap** interval (Efron and
Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 13: resample the period's customers
with replacement, recompute the statistic, take the ``(1-level)/2`` and ``(1+level)/2``
quantiles), overall and per segment (one categorical column). Resamples in which a statistic
is undefined (one class only: no AUC, no lift) are dropped and counted. The profit and lift
come from :mod:`churn.evaluate.business` (Verbraken et al. 2013), not from a copy.

ROC-AUC is the Mann-Whitney probability that a churner outscores a non-churner (ties count
one half; Hanley and McNeil 1982, "The meaning and use of the area under a receiver
operating characteristic (ROC) curve", Radiology 143(1) 29-36). Its **Hanley-McNeil standard
error** ``sqrt((A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)) / (n1 n0))``, ``Q1 = A/(2-A)``,
``Q2 = 2A^2/(1+A)``, with n1 churners and n0 others, says how much a monthly AUC moves by
chance alone: about 0.032 at AUC 0.84 and 250 customers (27% churners), so a drop of 0.03 in
one month is noise; require it to persist or pool periods.

**Estimated** (before labels), in the manner of NannyML's confidence-based performance
estimation (CBPE; NannyML documentation, "Confidence-based Performance Estimation", 2022):
if the probabilities are calibrated, customer ``i`` churns with probability ``p_i``, so the
expected confusion matrix at threshold ``t`` is ``E[TP] = sum_{p_i >= t} p_i``,
``E[FP] = sum_{p_i >= t} (1 - p_i)``, ``E[FN] = sum_{p_i < t} p_i``,
``E[TN] = sum_{p_i < t} (1 - p_i)``; precision and recall are ratios of these expectations;
the expected profit per customer is exact (profit is linear in the labels); the expected
ROC-AUC is the ratio of expectations of the Mann-Whitney numerator and denominator with
labels drawn independently from ``p`` (pairs of distinct customers). **It assumes (1) that the
probabilities are calibrated on the period's population and (2) no concept drift: the
relation between inputs and churn is the one the model learned.** Covariate shift is fine as
long as calibration holds; concept drift (churn rising in a segment for reasons the inputs
do not show) leaves the scores, hence the estimate, unchanged: it is only visible once labels
arrive, in the realized metrics.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn.evaluate.business import Economics, lift_at

#: Share of customers in the "top decile" of the lift.
TOP_FRACTION = 0.1


# --- Statistics --------------------------------------------------------------------------


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic (average ranks for ties); NaN with one class.

    Equal to ``sklearn.metrics.roc_auc_score``, about ten times cheaper per call, which
    matters inside a bootstrap.
    """
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    # Average rank of each tie group (ranks 1..n).
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], s.size]
    group_rank = (starts + ends + 1) / 2
    ranks = np.empty(s.size)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def hanley_mcneil_se(auc: float, positives: int, negatives: int) -> float:
    """Standard error of a ROC-AUC (Hanley and McNeil 1982); NaN when undefined."""
    if positives < 1 or negatives < 1 or math.isnan(auc):
        return math.nan
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (
        positives * negatives
    )
    return float(math.sqrt(max(var, 0.0)))


def top_decile_lift(y_true: np.ndarray, score: np.ndarray) -> float:
    """Churn rate among the top 10% scores over the overall rate; NaN without churners."""
    try:
        return lift_at(y_true, score, TOP_FRACTION)
    except ValueError:  # no churners: the lift's denominator is 0
        return math.nan


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile bootstrap interval."""

    value: float
    low: float
    high: float
    level: float
    #: Bootstrap resamples in which the statistic was defined (the interval uses these).
    resamples: int
    #: Resamples dropped because the statistic was undefined there (e.g. one class only).
    undefined: int


Statistic = Callable[[np.ndarray, np.ndarray], float]


def percentile_bootstrap(
    y_true: np.ndarray,
    score: np.ndarray,
    statistics: dict[str, Statistic],
    *,
    n_boot: int = 1000,
    seed: int | list[int] = 0,
    level: float = 0.95,
) -> dict[str, Interval]:
    """Percentile bootstrap intervals of several statistics of ``(y_true, score)``.

    All statistics see the same resamples (customers drawn with replacement, seeded), so
    their intervals are comparable. A statistic returning NaN on a resample skips it there.
    An empty input gives NaN intervals.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1) (got {level})")
    y = np.asarray(y_true)
    s = np.asarray(score, dtype=np.float64)
    n = y.size
    point = {k: (f(y, s) if n else math.nan) for k, f in statistics.items()}
    draws = {k: np.full(n_boot, np.nan) for k in statistics}
    rng = np.random.default_rng(seed)
    if n:
        for b in range(n_boot):
            idx = rng.integers(0, n, n)
            for k, f in statistics.items():
                draws[k][b] = f(y[idx], s[idx])
    out = {}
    for k, values in draws.items():
        ok = values[~np.isnan(values)]
        low, high = (
            np.quantile(ok, [(1 - level) / 2, (1 + level) / 2]) if ok.size else (np.nan, np.nan)
        )
        out[k] = Interval(
            float(point[k]), float(low), float(high), level, int(ok.size), int(n_boot - ok.size)
        )
    return out


# --- Realized performance ------------------------------------------------------------------


@dataclass(frozen=True)
class RealizedPerformance:
    """Realized performance of one group of customers (a period, or a segment of it)."""

    n: int
    churners: int
    churn_rate: float
    contacted_share: float
    roc_auc: Interval
    #: Hanley-McNeil standard error of the ROC-AUC: the noise to expect at this size.
    roc_auc_se: float
    top_decile_lift: Interval
    profit_per_customer: Interval


@dataclass(frozen=True)
class PerformanceReport:
    """Realized performance overall and per level of a segment column."""

    overall: RealizedPerformance
    segment_column: str | None = None
    segments: dict[str, RealizedPerformance] = field(default_factory=dict)


def _group_seed(seed: int, label: str) -> list[int]:
    # Seed each group from its name (crc32: stable across runs and processes), so a segment's
    # interval does not change when another segment appears or disappears.
    return [seed, zlib.crc32(label.encode())]


#: Most resampled values held at once by the vectorized bootstrap (memory stays bounded).
_CHUNK_VALUES = 2_000_000


def _roc_auc_rows(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """:func:`roc_auc` of every row of ``(y, s)`` (Mann-Whitney with average ranks)."""
    from scipy.stats import rankdata

    n1 = y.sum(axis=1)
    n0 = y.shape[1] - n1
    ranks = rankdata(s, method="average", axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = ((ranks * y).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)
    return np.where((n1 == 0) | (n0 == 0), np.nan, auc)


def _lift_rows(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """:func:`top_decile_lift` of every row (ties at the cut count with their group's rate)."""
    n = y.shape[1]
    k = max(1, int(np.ceil(TOP_FRACTION * n)))
    cut = -np.partition(-s, k - 1, axis=1)[:, k - 1 : k]
    above = s > cut
    tied = s == cut
    captured = (y * above).sum(axis=1) + (k - above.sum(axis=1)) * (y * tied).sum(
        axis=1
    ) / tied.sum(axis=1)
    base = y.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base == 0, np.nan, captured / k / base)


def _realized_bootstrap(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    econ: Economics,
    n_boot: int,
    seed: list[int],
    level: float,
) -> dict[str, Interval]:
    """The intervals :func:`percentile_bootstrap` gives for ROC-AUC, lift and profit (the
    same resamples), computed a block of resamples at a time instead of one by one."""
    n = y.size
    gain, loss = econ.gain_churner(), econ.loss_loyal

    def profit_rows(yy: np.ndarray, pp: np.ndarray) -> np.ndarray:
        contacted = pp >= threshold
        return ((contacted & yy).sum(axis=1) * gain - (contacted & ~yy).sum(axis=1) * loss) / n

    rows = {
        "roc_auc": lambda yy, pp: _roc_auc_rows(yy.astype(np.float64), pp),
        "lift": lambda yy, pp: _lift_rows(yy.astype(np.float64), pp),
        "profit": profit_rows,
    }
    draws = {k: np.full(n_boot, np.nan) for k in rows}
    point = {k: math.nan for k in rows}
    if n:
        yb = y.astype(bool)
        for k, f in rows.items():
            point[k] = float(f(yb[None, :], p[None, :])[0])
        rng = np.random.default_rng(seed)
        chunk = max(1, _CHUNK_VALUES // n)
        for start in range(0, n_boot, chunk):
            stop = min(n_boot, start + chunk)
            idx = rng.integers(0, n, (stop - start, n))
            for k, f in rows.items():
                draws[k][start:stop] = f(yb[idx], p[idx])
    out = {}
    for k, values in draws.items():
        ok = values[~np.isnan(values)]
        low, high = (
            np.quantile(ok, [(1 - level) / 2, (1 + level) / 2]) if ok.size else (np.nan, np.nan)
        )
        out[k] = Interval(point[k], float(low), float(high), level, int(ok.size), n_boot - ok.size)
    return out


def _realized(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    econ: Economics,
    n_boot: int,
    seed: list[int],
    level: float,
) -> RealizedPerformance:
    intervals = _realized_bootstrap(y, p, threshold, econ, n_boot, seed, level)
    churners = int(y.sum())
    return RealizedPerformance(
        n=int(y.size),
        churners=churners,
        churn_rate=float(churners / y.size) if y.size else math.nan,
        contacted_share=float(np.mean(p >= threshold)) if y.size else math.nan,
        roc_auc=intervals["roc_auc"],
        roc_auc_se=hanley_mcneil_se(intervals["roc_auc"].value, churners, y.size - churners),
        top_decile_lift=intervals["lift"],
        profit_per_customer=intervals["profit"],
    )


def realized_performance(
    y_true: np.ndarray,
    probability: np.ndarray,
    threshold: float,
    econ: Economics,
    *,
    segments: pd.Series | np.ndarray | None = None,
    segment_column: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> PerformanceReport:
    """ROC-AUC, top-decile lift and profit per customer with bootstrap intervals.

    ``y_true`` holds 1 for a customer who left; ``threshold`` is the deployed one (customers
    with ``probability >= threshold`` are contacted). ``segments`` (one label per customer,
    e.g. the Contract column) adds the same metrics per level; each group is bootstrapped
    on its own, seeded by ``seed`` and the group's label.
    """
    y = np.asarray(y_true).astype(int)
    p = np.asarray(probability, dtype=np.float64)
    if y.shape != p.shape:
        raise ValueError(f"{y.size} labels for {p.size} probabilities")
    overall = _realized(y, p, threshold, econ, n_boot, _group_seed(seed, ""), level)
    by_segment: dict[str, RealizedPerformance] = {}
    if segments is not None:
        by_segment = segment_performance(
            y, p, threshold, econ, segments, n_boot=n_boot, seed=seed, level=level
        )
    return PerformanceReport(overall, segment_column, by_segment)


def segment_performance(
    y_true: np.ndarray,
    probability: np.ndarray,
    threshold: float,
    econ: Economics,
    segments: pd.Series | np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, RealizedPerformance]:
    """The per-level part of :func:`realized_performance`, without the overall bootstrap
    (for a caller that reports several segment columns of the same customers)."""
    y = np.asarray(y_true).astype(int)
    p = np.asarray(probability, dtype=np.float64)
    labels = pd.Series(np.asarray(segments, dtype=object)).fillna("<missing>").astype(str)
    if labels.size != y.size:
        raise ValueError(f"{labels.size} segment labels for {y.size} customers")
    by_segment = {}
    for label in sorted(labels.unique()):
        mask = (labels == label).to_numpy()
        by_segment[label] = _realized(
            y[mask], p[mask], threshold, econ, n_boot, _group_seed(seed, label), level
        )
    return by_segment


# --- Estimated performance (CBPE) -----------------------------------------------------------


@dataclass(frozen=True)
class PerformanceEstimate:
    """Expected performance from calibrated probabilities alone (no labels)."""

    n: int
    expected_churn_rate: float
    contacted_share: float
    expected_true_positives: float
    expected_false_positives: float
    expected_false_negatives: float
    expected_true_negatives: float
    expected_precision: float
    expected_recall: float
    expected_profit_per_customer: float
    expected_roc_auc: float
    expected_top_decile_lift: float


def expected_roc_auc(probability: np.ndarray) -> float:
    """ROC-AUC expected if each customer churns independently with probability ``p_i``.

    Ratio of expectations over pairs of distinct customers:
    ``sum_{i != j} p_i (1-p_j) [s_i > s_j] (+ 1/2 on ties) / sum_{i != j} p_i (1-p_j)``,
    the score being the probability itself. O(n log n).
    """
    p = np.sort(np.asarray(probability, dtype=np.float64))
    if p.size < 2:
        return math.nan
    neg = 1 - p
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    sizes = np.diff(np.r_[starts, p.size])
    group_neg = np.add.reduceat(neg, starts)
    below = np.repeat(np.cumsum(group_neg) - group_neg, sizes)  # sum of (1-p_j), s_j < s_i
    tied_others = np.repeat(group_neg, sizes) - neg  # sum of (1-p_j), j != i tied with i
    numerator = np.sum(p * (below + tied_others / 2))
    denominator = p.sum() * neg.sum() - np.sum(p * neg)
    return float(numerator / denominator) if denominator > 0 else math.nan


def estimate_performance(
    probability: np.ndarray, threshold: float, econ: Economics
) -> PerformanceEstimate:
    """CBPE-style estimate of a period's performance before its labels arrive.

    Assumes the probabilities are calibrated for this period's customers and that there is
    no concept drift; under concept drift the estimate stays where it was while the realized
    performance moves (see the module docstring). Empty input gives NaN.
    """
    p = np.asarray(probability, dtype=np.float64)
    n = p.size
    if n == 0:
        nan = math.nan
        return PerformanceEstimate(0, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan)
    contacted = p >= threshold
    tp = float(p[contacted].sum())
    fp = float((1 - p[contacted]).sum())
    fn = float(p[~contacted].sum())
    tn = float((1 - p[~contacted]).sum())
    positives = tp + fn
    # The lift of the probabilities against themselves: churners expected in the top decile
    # over the churners expected overall (lift_at accepts fractional "labels").
    lift = lift_at(p, p, TOP_FRACTION) if positives > 0 else math.nan
    return PerformanceEstimate(
        n=n,
        expected_churn_rate=positives / n,
        contacted_share=float(contacted.mean()),
        expected_true_positives=tp,
        expected_false_positives=fp,
        expected_false_negatives=fn,
        expected_true_negatives=tn,
        expected_precision=tp / (tp + fp) if contacted.any() else math.nan,
        expected_recall=tp / positives if positives > 0 else math.nan,
        expected_profit_per_customer=(tp * econ.gain_churner() - fp * econ.loss_loyal) / n,
        expected_roc_auc=expected_roc_auc(p),
        expected_top_decile_lift=lift,
    )
