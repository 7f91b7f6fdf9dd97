"""Drift alarms: per-column thresholds calibrated on no-drift resamples, and the rule.

Why calibrate: every drift statistic is noisy in proportion to ``1/n``, so a fixed cut-off
either cries wolf on small periods or sleeps through large ones. Measured on Telco (4,930
reference rows, 19 columns): plain p < 0.05 flags about half of no-drift periods at every
size, and PSI >= 0.1 flags 79% of 100-row periods.

**Resampling scheme.** For a period of ``n`` rows, each of ``repeats`` resamples draws
``n`` reference rows without replacement as a no-drift "period" and compares it with the
**other** ``N - n`` reference rows (leave-out), not with the whole reference. Comparing a
sample with a reference that contains it understates the noise: for a mean, the variance of
the difference is ``s^2 (1/n - 1/N)`` instead of ``s^2 (1/n + 1/N)`` for an independent period,
a factor ``(N-n)/(N+n)`` = 0.66 at n = 1,000, N = 4,930, which would set thresholds too low
and raise false alarms on real periods. The leave-out reference is a little smaller than the
real one (``1/(N-n)`` instead of ``1/N``), so thresholds err on the high side by a few
percent (about 4% in variance at n = 1,000). A held-out part (the validation split) was the
other option: it gives only ~1,000 rows, so 1,000-row periods drawn from it would all be
nearly the same rows. The bins (deciles) and the Wasserstein scale stay those of the whole
reference, as in production. When ``n`` exceeds half the reference (the score's reference is
the ~1,050 validation predictions), the resamples use ``N // 2`` rows: no-drift effects
shrink as ``n`` grows, so thresholds calibrated at a smaller size are conservative; the size
used is recorded per column. The score is resampled from its own reference, independently of
the inputs (their rows differ): the score moves with the inputs it is computed from, and
ignoring that association usually overstates the joint false-alarm rate of the calibration,
so the thresholds err on the high side.

**Calibration** (max-type, after Westfall and Young 1993, *Resampling-Based Multiple
Testing*, Wiley): every column's threshold is the same empirical quantile level ``q`` of its
own no-drift effect sizes, and ``q`` is the smallest level at which the share of resamples
with ANY column above its threshold is at most ``target``. A common level keeps the columns
on equal terms whatever the scale of their effect (PSI of a 2-category column and of ten
numeric bins differ by design). With 20 columns ``q`` lands near ``1 - target/20``, a tail
quantile: use ``repeats >= 1000`` (the default) or the thresholds are noisy.

**The rule**: a column drifts in a period when its Benjamini-Hochberg adjusted p-value
(KS or chi-square, see :mod:`churn.monitor.drift`) is below ``alpha`` AND its effect size is
above its calibrated threshold (and above ``min_effect``, an optional business floor). Each
condition alone keeps no-drift alarms near ``target`` (BH: the test's null distribution;
the threshold: the resampled one); requiring both guards each against the other's
approximation error: the tests' asymptotics with ties and expected counts under 5, the
thresholds' Monte Carlo error. The price is some power: the joint false-alarm rate is below
``target`` (both rates are recorded with the thresholds), and where KS is weak the test
decides: at 100 rows, +10% MonthlyCharges was flagged in 20% of periods by the rule and in
all of them by the threshold alone (``benchmarks/drift_alarms.py``; ``column_alarms`` has
``require_test=False`` for the threshold-only rule). ``min_effect`` matters for large
periods, where calibrated thresholds fall below any change that matters to the business.

Cost: all statistics of all resamples are computed at once from per-resample counts
(``numpy.bincount``): 0.5-1 s per period size for 19 columns and 1,000 resamples on one core,
about 3 s at n = 100, where scipy's exact Kolmogorov distribution (used by the KS p-value
for small samples) dominates. :class:`ThresholdCache` calibrates each size once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from churn.monitor.drift import (
    CategoricalReference,
    ColumnDrift,
    NumericReference,
    PeriodDrift,
    ReferenceProfile,
    bin_codes,
    psi,
)

Effect = Literal["psi", "distance"]
#: Resamples per block when computing grid statistics (bounds memory to a few MB per column).
_BLOCK = 128


# --- Vectorized statistics on counts (one row per resample) ------------------------------


def _counts(codes: np.ndarray, draws: np.ndarray, size: int) -> np.ndarray:
    """Per-resample counts of ``codes[draws]`` over ``size`` codes (resamples x size)."""
    repeats = draws.shape[0]
    offset = (np.arange(repeats, dtype=np.int64) * size)[:, None]
    flat = np.bincount((offset + codes[draws]).ravel(), minlength=repeats * size)
    return flat.reshape(repeats, size)


def ks_wasserstein_from_counts(
    grid: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """KS statistic and W1 of samples given as counts over the sorted distinct values ``grid``.

    ``a`` and ``b`` are (resamples x len(grid)) counts. Both empirical CDFs are step
    functions jumping only at grid values, so ``D = max_k |Fa - Fb|`` and
    ``W1 = sum_k |Fa(g_k) - Fb(g_k)| (g_{k+1} - g_k)``: the same numbers as
    ``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance`` on the expanded samples.
    """
    fa = np.cumsum(a, axis=1) / a.sum(axis=1, keepdims=True)
    fb = np.cumsum(b, axis=1) / b.sum(axis=1, keepdims=True)
    gap = np.abs(fa - fb)
    return gap.max(axis=1), gap[:, :-1] @ np.diff(grid)


def ks_pvalue(d: np.ndarray, n1: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Asymptotic two-sided KS p-value, as ``ks_2samp(method="asymp")`` computes it."""
    n1, n2 = np.asarray(n1, dtype=np.float64), np.asarray(n2, dtype=np.float64)
    return np.clip(stats.kstwo.sf(d, np.round(n1 * n2 / (n1 + n2))), 0, 1)


def js_distance_from_counts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (base 2) per row of two count arrays, as scipy's jensenshannon."""
    p = a / a.sum(axis=-1, keepdims=True)
    q = b / b.sum(axis=-1, keepdims=True)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=-1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=-1)
    return np.sqrt(np.maximum((kl_p + kl_q) / 2, 0.0))


def chi2_from_counts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson chi-square of homogeneity of the 2 x K tables [a; b] (no Yates correction).

    Categories empty on both sides of every table must be left out by the caller; one
    category left gives statistic 0 and p = 1, as in :func:`churn.monitor.drift.categorical_drift`.
    """
    k = a.shape[-1]
    if k < 2:
        zeros = np.zeros(a.shape[:-1])
        return zeros, zeros + 1.0
    table = np.stack([a, b], axis=-2).astype(np.float64)  # (..., 2, K)
    total = table.sum(axis=(-2, -1), keepdims=True)
    expected = table.sum(axis=-1, keepdims=True) * table.sum(axis=-2, keepdims=True) / total
    statistic = ((table - expected) ** 2 / expected).sum(axis=(-2, -1))
    return statistic, stats.chi2.sf(statistic, k - 1)


# --- No-drift resamples --------------------------------------------------------------------


@dataclass(frozen=True)
class NullStatistics:
    """Effect sizes and p-values of every column over the no-drift resamples."""

    columns: tuple[str, ...]
    #: Resamples x columns.
    psi: np.ndarray
    distance: np.ndarray
    p_value: np.ndarray
    #: Rows per resampled period, per column (smaller than asked when the reference is small).
    calibrated_at: dict[str, int]

    def effect(self, name: Effect) -> np.ndarray:
        return self.psi if name == "psi" else self.distance


def _draws(rng: np.random.Generator, population: int, n: int, repeats: int) -> np.ndarray:
    return np.stack([rng.choice(population, size=n, replace=False) for _ in range(repeats)])


def _numeric_null(ref: NumericReference, draws: np.ndarray) -> tuple[np.ndarray, ...]:
    """PSI, scaled W1 and KS p-value of each resample against the rest of the reference."""
    bins = bin_codes(ref.values, ref.edges)
    nbins = ref.edges.size + 2
    sample = _counts(bins, draws, nbins)
    psis = psi(ref.counts[None, :] - sample, sample)
    # Distinct non-missing values; missing rows go to an extra slot that is then dropped.
    grid, codes = np.unique(ref.values, return_inverse=True)
    finite = ~np.isnan(grid)
    grid = grid[finite]
    codes = np.where(np.isnan(ref.values), grid.size, codes)
    total = np.bincount(codes, minlength=grid.size + 1)[:-1]
    distance = np.empty(draws.shape[0])
    pvalue = np.empty(draws.shape[0])
    for start in range(0, draws.shape[0], _BLOCK):
        block = slice(start, start + _BLOCK)
        a = _counts(codes, draws[block], grid.size + 1)[:, :-1]
        b = total[None, :] - a
        with np.errstate(divide="ignore", invalid="ignore"):
            d, w1 = ks_wasserstein_from_counts(grid, a, b)
        distance[block] = w1 / ref.scale if ref.scale > 0 else np.nan
        pvalue[block] = ks_pvalue(d, a.sum(axis=1), b.sum(axis=1))
    return psis, distance, pvalue


def _categorical_null(ref: CategoricalReference, draws: np.ndarray) -> tuple[np.ndarray, ...]:
    """PSI, Jensen-Shannon distance and chi-square p of each resample against the rest."""
    sample = _counts(ref.codes, draws, len(ref.categories))
    rest = ref.counts[None, :] - sample
    _, pvalue = chi2_from_counts(rest, sample)
    return psi(rest, sample), js_distance_from_counts(rest, sample), pvalue


def null_statistics(
    profile: ReferenceProfile, n: int, repeats: int, rng: np.random.Generator
) -> NullStatistics:
    """Drift statistics of ``repeats`` no-drift periods of ``n`` rows (leave-out resamples)."""
    if n < 1:
        raise ValueError(f"period size must be at least 1 (got {n})")
    columns, results, sizes = [], [], {}
    groups = [(list(profile.numeric), list(profile.categorical))]
    if profile.score is not None:
        groups.append(([profile.score], []))
    for numeric, categorical in groups:
        if not numeric and not categorical:
            continue
        population = (numeric or categorical)[0].n
        size = min(n, population // 2)
        if size < 1:
            raise ValueError(f"a reference of {population} rows is too small to resample")
        draws = _draws(rng, population, size, repeats)
        for ref in numeric:
            results.append(_numeric_null(ref, draws))
        for ref in categorical:
            results.append(_categorical_null(ref, draws))
        for ref in (*numeric, *categorical):
            columns.append(ref.name)
            sizes[ref.name] = size
    if not results:
        raise ValueError("the profile has no column to calibrate")
    psis, distances, pvalues = (np.column_stack(x) for x in zip(*results, strict=True))
    return NullStatistics(tuple(columns), psis, distances, pvalues, sizes)


# --- Calibration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AlarmThresholds:
    """Per-column effect thresholds for periods of ``n`` rows, and how they were obtained."""

    n: int
    effect: Effect
    #: Largest share of no-drift periods with any column above its threshold.
    target: float
    #: Level of the Benjamini-Hochberg adjusted p-values in the rule.
    alpha: float
    repeats: int
    seed: int
    #: Common empirical quantile level of the per-column thresholds.
    level: float
    thresholds: dict[str, float]
    #: Rows per resampled period, per column (``n``, or half the reference when smaller).
    calibrated_at: dict[str, int]
    #: Shares of the calibration resamples with any column flagged by: the thresholds alone,
    #: BH alone, the rule (both), and plain p < 0.05 with no correction (for contrast).
    false_alarm_rate_effect: float
    false_alarm_rate_tests: float
    false_alarm_rate_rule: float
    false_alarm_rate_uncorrected: float
    min_effect: float = 0.0


def _common_level(effects: np.ndarray, target: float) -> int:
    """Index j of the smallest order statistic such that flagging ``effect > sorted[j]`` per
    column flags at most ``target`` of the resamples (binary search: monotone in j)."""
    ordered = np.sort(effects, axis=0)  # NaN sort last and never compare greater

    def rate(j: int) -> float:
        return float(np.mean((effects > ordered[j]).any(axis=1)))

    low, high = 0, effects.shape[0] - 1  # rate(high) == 0: nothing exceeds the maximum
    while low < high:
        mid = (low + high) // 2
        if rate(mid) <= target:
            high = mid
        else:
            low = mid + 1
    return low


def calibrate(
    profile: ReferenceProfile,
    n: int,
    *,
    repeats: int = 1000,
    seed: int = 0,
    target: float = 0.05,
    alpha: float = 0.05,
    effect: Effect = "psi",
    min_effect: float = 0.0,
) -> AlarmThresholds:
    """Calibrate each column's effect threshold for periods of ``n`` rows.

    ``effect`` picks the effect size of the rule: ``"psi"`` (the same unit for every column,
    the default) or ``"distance"`` (Wasserstein / sd for numeric columns, Jensen-Shannon for
    categorical ones). The random draws depend only on ``(seed, n)``, so sizes can be
    calibrated in any order.
    """
    if not 0 < target < 1 or not 0 < alpha < 1:
        raise ValueError(f"target and alpha must lie in (0, 1) (got {target}, {alpha})")
    if repeats < 1:
        raise ValueError(f"repeats must be positive (got {repeats})")
    rng = np.random.default_rng([seed, n])
    null = null_statistics(profile, n, repeats, rng)
    effects = null.effect(effect)
    j = _common_level(effects, target)
    if j == repeats - 1:
        # Even one exceedance per column is too many: the thresholds would be each column's
        # largest no-drift effect, a number that says nothing about the target.
        columns = effects.shape[1]
        raise ValueError(
            f"repeats={repeats} is too few for {columns} columns at target {target}: "
            f"use at least {math.ceil(2 * columns / target)}"
        )
    thresholds = np.maximum(np.sort(effects, axis=0)[j], min_effect)
    above = effects > thresholds
    adjusted = stats.false_discovery_control(null.p_value, axis=1, method="bh")
    significant = adjusted < alpha
    return AlarmThresholds(
        n=n,
        effect=effect,
        target=target,
        alpha=alpha,
        repeats=repeats,
        seed=seed,
        level=(j + 1) / repeats,
        thresholds=dict(zip(null.columns, map(float, thresholds), strict=True)),
        calibrated_at=null.calibrated_at,
        false_alarm_rate_effect=float(above.any(axis=1).mean()),
        false_alarm_rate_tests=float(significant.any(axis=1).mean()),
        false_alarm_rate_rule=float((above & significant).any(axis=1).mean()),
        false_alarm_rate_uncorrected=float((null.p_value < 0.05).any(axis=1).mean()),
        min_effect=min_effect,
    )


class ThresholdCache:
    """Thresholds per period size, calibrated on first use with fixed options.

    A monitor run sees a handful of period sizes; each costs about a second to calibrate.
    """

    def __init__(self, profile: ReferenceProfile, **options) -> None:
        self.profile = profile
        self.options = options
        self._by_size: dict[int, AlarmThresholds] = {}

    def __call__(self, n: int) -> AlarmThresholds:
        """The thresholds for periods of ``n`` rows."""
        if n not in self._by_size:
            self._by_size[n] = calibrate(self.profile, n, **self.options)
        return self._by_size[n]

    def __iter__(self) -> Iterator[AlarmThresholds]:
        return iter(self._by_size[n] for n in sorted(self._by_size))


# --- The rule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnAlarm:
    """The drift verdict of one column in one period, with the reason in words."""

    column: str
    drifted: bool
    effect_name: str
    effect: float
    threshold: float
    p_value_adjusted: float
    alpha: float
    reason: str


def _effect_of(result: ColumnDrift, effect: Effect) -> tuple[str, float]:
    if effect == "psi":
        return "PSI", result.psi
    label = "Wasserstein/sd" if result.distance_name == "wasserstein_sd" else "Jensen-Shannon"
    return label, result.distance


def column_alarms(
    drift: PeriodDrift, thresholds: AlarmThresholds, *, require_test: bool = True
) -> tuple[ColumnAlarm, ...]:
    """Apply the rule to every column of a period: BH-adjusted p < alpha AND effect > threshold.

    The thresholds must be calibrated for the period's number of rows (see
    :class:`ThresholdCache`). A NaN statistic (empty period, no values) never alarms.
    ``require_test=False`` drops the test condition (effect above its calibrated threshold
    alone): more power where KS is weak (a shift in the tails at 100 rows), at a no-drift
    alarm rate nearer ``target`` than the rule's; ``benchmarks/drift_alarms.py`` measures both.
    """
    if drift.n_current != thresholds.n and drift.n_current > 0:
        raise ValueError(
            f"thresholds calibrated for {thresholds.n}-row periods, this period has "
            f"{drift.n_current} rows: calibrate at the period's size"
        )
    alarms = []
    for result in drift.columns:
        if result.column not in thresholds.thresholds:
            raise ValueError(f"no threshold for column {result.column!r}: recalibrate")
        label, value = _effect_of(result, thresholds.effect)
        limit = thresholds.thresholds[result.column]
        p = result.p_value_adjusted
        test = "KS" if result.test == "ks" else "chi-square"
        large = bool(value > limit)
        significant = bool(p < thresholds.alpha)
        drifted = large and (significant or not require_test)
        if np.isnan(value) or (require_test and np.isnan(p)):
            reason = f"not assessed: {result.note or 'statistic undefined'}"
        else:
            size = f"{label} {value:.3g} {'above' if large else 'within'} its no-drift "
            size += f"threshold {limit:.3g} for {thresholds.n} rows"
            test_words = f"BH-adjusted {test} p = {p:.2g} "
            test_words += f"{'<' if significant else '>='} {thresholds.alpha:g}"
            if not require_test:
                test_words += " (not required)"
            reason = f"{'drift' if drifted else 'no drift'}: {size}; {test_words}"
        alarms.append(
            ColumnAlarm(
                column=result.column,
                drifted=drifted,
                effect_name=label,
                effect=float(value),
                threshold=limit,
                p_value_adjusted=float(p),
                alpha=thresholds.alpha,
                reason=reason,
            )
        )
    return tuple(alarms)
