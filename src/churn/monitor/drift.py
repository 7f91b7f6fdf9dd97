"""Drift of one period against a reference: an effect size and a test per column.

The reference is the training split (raw contract columns) for the inputs and the
validation predictions for the score. :func:`fit_reference` summarizes it once (bins,
categories, counts, scale); :func:`period_drift` compares a period with it. Formulas:

* **PSI**, population stability index (Siddiqi 2006, *Credit Risk Scorecards*, ch. 8;
  Yurdakul 2018, "Statistical properties of population stability index", Western Michigan
  University): ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` over bins, with ``r_i``, ``c_i``
  the reference's and the period's share of rows in bin ``i``. It is the symmetrized
  Kullback-Leibler divergence. Numeric bins are the reference deciles (see
  :func:`decile_edges`); categorical bins are the categories. A share of 0 is replaced by
  :data:`PSI_EPSILON` (1e-4) on either side, without renormalizing, so an empty bin adds a
  large but finite term (an unseen category, values appearing in an empty bin). Missing
  values are a bin of their own. Without drift ``E[PSI] ~ (B-1) (1/n_ref + 1/n_cur)``
  (B bins): about 0.09 for ten bins and 100 rows, which is why fixed cut-offs (0.1, 0.25)
  raise false alarms on small periods and :mod:`churn.monitor.alarms` calibrates them.
* **Wasserstein distance** (earth mover's, order 1): ``W1 = integral |F_ref(x) - F_cur(x)| dx``
  (Villani 2009, *Optimal Transport*; Ramdas, Garcia Trillos and Cuturi 2017, "On
  Wasserstein two-sample testing", Entropy 19(2)), computed by
  ``scipy.stats.wasserstein_distance`` on the non-missing values and **divided by the
  reference's standard deviation** (ddof=1). Why the standard deviation rather than the IQR:
  W1 is a mean absolute displacement, so for a pure location shift ``W1/sd`` is the shift in
  standard deviations (Cohen's d, a scale people know), and it is the "normed" Wasserstein
  Evidently reports, so numbers compare with its 0.1 convention; the IQR is 0 whenever one
  value holds half the rows (a zero-inflated column) and then the distance is undefined.
  The contract bounds every numeric column, so outliers cannot blow the standard deviation up.
  A constant reference (sd 0) gives NaN with a note.
* **Jensen-Shannon distance** (Lin 1991, "Divergence measures based on the Shannon
  entropy", IEEE Trans. Inf. Theory 37(1); Endres and Schindelin 2003 show its square root
  is a metric): ``sqrt(JS(P, Q))`` with ``JS = (KL(P||M) + KL(Q||M)) / 2``, ``M = (P+Q)/2``,
  in base 2 so that it lies in [0, 1] (``scipy.spatial.distance.jensenshannon``). It needs no
  epsilon: an unseen category gives a finite value.
* **Two-sample Kolmogorov-Smirnov test** (Smirnov 1939; Hodges 1958): ``D = sup |F_ref - F_cur|``
  with the asymptotic p-value of ``scipy.stats.ks_2samp(method="asymp")`` (``kstwo`` at
  ``round(n m / (n + m))``). "asymp" rather than "exact" because the calibration in
  :mod:`churn.monitor.alarms` recomputes the same p-value for thousands of resamples, and
  both assume continuous data: with ties (tenure is an integer) the p-value is conservative.
* **Chi-square test of homogeneity** (Pearson 1900) on the 2 x K table of counts (reference,
  period) over the categories present on either side, ``scipy.stats.chi2_contingency`` with
  ``correction=False`` (the plain Pearson statistic: Yates' correction would apply to binary
  columns only and make them more conservative than the others). With expected counts below
  about 5 (rare categories, small periods) the chi-square approximation is rough: another
  reason the alarm rule also requires a calibrated effect size.
* **Benjamini-Hochberg** (Benjamini and Hochberg 1995, "Controlling the false discovery rate",
  JRSS B 57(1) 289-300): ``scipy.stats.false_discovery_control(method="bh")`` over the
  columns tested in one period; adjusted ``p_(i) = min_{j>=i} min(1, m p_(j) / j)``.

Degenerate inputs get documented answers, never an exception: an empty period gives NaN
statistics with the note ``"empty period"``; a category alone on both sides gives chi-square
0 and p = 1 (nothing can differ); categories absent on both sides are dropped (their
expected count would be 0); a numeric column with no non-missing value in the period gives
a PSI (its missing bin) and NaN distance and test. Every such case is named in ``note``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

#: Floor for a bin's share in PSI: an empty bin would make ln(c/r) infinite. 1e-4 is below
#: one row's share in any period under 10,000 rows, so it only ever stands for "empty".
PSI_EPSILON = 1e-4
#: Quantile levels of the numeric bin edges: the reference deciles.
DECILES = tuple(np.round(np.arange(1, 10) / 10, 1))
#: The category that stands for a missing value (NaN/None) in a categorical column.
MISSING = "<missing>"

Kind = Literal["numeric", "categorical", "score"]


# --- Formulas on counts (shared with the vectorized calibration) -------------------------


def psi(reference_counts: np.ndarray, current_counts: np.ndarray, epsilon: float = PSI_EPSILON):
    """Population stability index between two count vectors over the same bins.

    Works on the last axis, so stacks of count vectors (one per resample) give one PSI
    each. Shares of 0 are raised to ``epsilon`` on either side (not renormalized).
    """
    r = np.asarray(reference_counts, dtype=np.float64)
    c = np.asarray(current_counts, dtype=np.float64)
    r = np.maximum(r / r.sum(axis=-1, keepdims=True), epsilon)
    c = np.maximum(c / c.sum(axis=-1, keepdims=True), epsilon)
    return np.sum((c - r) * np.log(c / r), axis=-1)


def decile_edges(values: np.ndarray) -> np.ndarray:
    """Interior bin edges of a numeric reference: its deciles, deduplicated.

    Bins are right-closed: ``(-inf, e1], (e1, e2], ..., (ek, inf)``. Edges are observed
    values (``method="inverted_cdf"``), so every bin holds at least one reference row. A value
    holding more than a tenth of the rows makes equal deciles, merged here into fewer bins
    (on the pipeline's training split none does: tenure's largest tie, 1 month, is 8.9%, so
    all three numeric columns keep 10 bins); an edge equal to the maximum is dropped (it
    would leave the top bin empty).
    A constant reference gets the bins "below", "equal to" and "above" its value, so that
    any change of a constant column moves rows to a bin the reference does not hold.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        raise ValueError("no non-missing reference values to take deciles of")
    edges = np.unique(np.quantile(x, DECILES, method="inverted_cdf"))
    top = x.max()
    edges = edges[edges < top]
    if edges.size == 0:  # a constant reference
        edges = np.array([np.nextafter(top, -np.inf), top])
    return edges


def bin_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value for right-closed bins; missing values get ``len(edges) + 1``."""
    x = np.asarray(values, dtype=np.float64)
    codes = np.searchsorted(edges, x, side="left")
    codes[np.isnan(x)] = edges.size + 1
    return codes


# --- The reference ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NumericReference:
    """A numeric reference column summarized for drift: bins, counts, scale, raw values."""

    name: str
    #: Interior edges of the right-closed value bins (deduplicated deciles).
    edges: np.ndarray
    #: Rows per value bin, then missing rows (length ``len(edges) + 2``).
    counts: np.ndarray
    #: Standard deviation (ddof=1) of the non-missing values: the Wasserstein scale.
    scale: float
    #: The reference's values in row order, NaN for missing (the calibration resamples them).
    values: np.ndarray

    @property
    def n(self) -> int:
        return int(self.values.size)

    @cached_property
    def present_sorted(self) -> np.ndarray:
        """The non-missing values, sorted once for every period's tests (the Wasserstein
        distance sorts a sorted reference of 1.5M scores in a fifth of the time)."""
        return np.sort(self.values[~np.isnan(self.values)])

    @property
    def effective_bins(self) -> int:
        """Value bins that hold reference rows (fewer than 10 when ties merge deciles)."""
        return int(np.count_nonzero(self.counts[:-1]))


@dataclass(frozen=True, eq=False)
class CategoricalReference:
    """A categorical reference column: its categories and counts, and its raw codes."""

    name: str
    #: Categories seen in the reference, sorted; :data:`MISSING` last if any value is missing.
    categories: tuple[str, ...]
    counts: np.ndarray
    #: Index into ``categories`` of each reference row, in row order.
    codes: np.ndarray

    @property
    def n(self) -> int:
        return int(self.codes.size)


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """Everything drift needs from the reference, computed once (see :func:`fit_reference`)."""

    numeric: tuple[NumericReference, ...]
    categorical: tuple[CategoricalReference, ...]
    #: The predicted score's reference (the validation predictions), if given.
    score: NumericReference | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Names in the order drift results are reported: numeric, categorical, score."""
        names = [c.name for c in (*self.numeric, *self.categorical)]
        return tuple(names + ([self.score.name] if self.score is not None else []))


def _numbers(values) -> np.ndarray:
    """Float array with NaN for anything missing or unparseable (" " in raw TotalCharges)."""
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def _labels(values) -> np.ndarray:
    """Text labels with :data:`MISSING` for missing values (0/1 codes become "0"/"1")."""
    raw = np.asarray(values, dtype=object)
    # numpy text rather than pandas: a period's 16 columns cost about 1 ms instead of 60.
    return np.where(pd.isna(raw), MISSING, raw.astype(str))


def fit_numeric_reference(name: str, values) -> NumericReference:
    """Summarize one numeric reference column (raises if it has no non-missing value)."""
    x = _numbers(values)
    if np.isnan(x).all():
        raise ValueError(f"reference column {name!r} has no value: cannot be a reference")
    edges = decile_edges(x)
    counts = np.bincount(bin_codes(x, edges), minlength=edges.size + 2)
    finite = x[~np.isnan(x)]
    scale = float(np.std(finite, ddof=1)) if finite.size > 1 else 0.0
    return NumericReference(name, edges, counts, scale, x)


def fit_categorical_reference(name: str, values) -> CategoricalReference:
    """Summarize one categorical reference column."""
    labels = _labels(values)
    if labels.size == 0:
        raise ValueError(f"reference column {name!r} is empty: cannot be a reference")
    found, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
    # Sorted categories, MISSING last ("<" sorts between digits and letters).
    order = sorted(range(found.size), key=lambda i: (found[i] == MISSING, found[i]))
    rank = np.empty(found.size, dtype=np.int64)
    rank[order] = np.arange(found.size)
    categories = tuple(str(found[i]) for i in order)
    return CategoricalReference(name, categories, counts[order], rank[codes])


def fit_reference(
    reference: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    score: np.ndarray | None = None,
    score_name: str = "score",
) -> ReferenceProfile:
    """Summarize the reference table (and the reference scores) for :func:`period_drift`.

    ``numeric`` and ``categorical`` name the columns to monitor; ``score`` is the reference
    of the predicted probability (the validation predictions), kept under ``score_name``.
    """
    missing = [c for c in (*numeric, *categorical) if c not in reference.columns]
    if missing:
        raise ValueError(f"reference table has no column(s) {missing}")
    if score is not None and score_name in (*numeric, *categorical):
        raise ValueError(f"score_name {score_name!r} is also an input column: pick another")
    return ReferenceProfile(
        numeric=tuple(fit_numeric_reference(c, reference[c]) for c in numeric),
        categorical=tuple(fit_categorical_reference(c, reference[c]) for c in categorical),
        score=None if score is None else fit_numeric_reference(score_name, score),
    )


# --- One column, one period ----------------------------------------------------------------


@dataclass(frozen=True)
class ColumnDrift:
    """Drift of one column in one period: effect sizes, a test, and what was compared."""

    column: str
    kind: Kind
    n_reference: int
    #: Rows in the period (missing values included).
    n_current: int
    #: Bins compared: effective numeric bins (reference deciles after ties), or categories.
    bins: int
    psi: float
    #: Wasserstein / reference sd (numeric, score) or Jensen-Shannon distance (categorical).
    distance: float
    distance_name: Literal["wasserstein_sd", "jensen_shannon"]
    test: Literal["ks", "chi2"]
    statistic: float
    p_value: float
    #: Benjamini-Hochberg adjusted over the columns of the period (see :func:`period_drift`).
    p_value_adjusted: float = math.nan
    missing_share_reference: float = 0.0
    missing_share_current: float = 0.0
    #: Categories of the period absent from the reference.
    unseen: tuple[str, ...] = ()
    #: Why a statistic is NaN or degenerate, in words ("" when nothing is special).
    note: str = ""


def _empty(ref_n: int, name: str, kind: Kind, bins: int, numeric: bool) -> ColumnDrift:
    return ColumnDrift(
        column=name,
        kind=kind,
        n_reference=ref_n,
        n_current=0,
        bins=bins,
        psi=math.nan,
        distance=math.nan,
        distance_name="wasserstein_sd" if numeric else "jensen_shannon",
        test="ks" if numeric else "chi2",
        statistic=math.nan,
        p_value=math.nan,
        note="empty period: no drift statistics",
    )


def numeric_drift(ref: NumericReference, current, kind: Kind = "numeric") -> ColumnDrift:
    """PSI on the reference deciles, Wasserstein / reference sd, and the KS test."""
    x = _numbers(current)
    if x.size == 0:
        return _empty(ref.n, ref.name, kind, ref.effective_bins, numeric=True)
    counts = np.bincount(bin_codes(x, ref.edges), minlength=ref.edges.size + 2)
    ref_values = ref.present_sorted
    cur_values = x[~np.isnan(x)]
    notes = []
    if cur_values.size == 0:
        distance = statistic = p_value = math.nan
        notes.append("no non-missing value in the period: PSI only (its missing bin)")
    else:
        ks = stats.ks_2samp(ref_values, cur_values, method="asymp")
        statistic, p_value = float(ks.statistic), float(ks.pvalue)
        if ref.scale > 0:
            distance = float(stats.wasserstein_distance(ref_values, cur_values) / ref.scale)
        else:
            distance = math.nan
            notes.append("constant reference (sd 0): scaled Wasserstein undefined")
    return ColumnDrift(
        column=ref.name,
        kind=kind,
        n_reference=ref.n,
        n_current=int(x.size),
        bins=ref.effective_bins,
        psi=float(psi(ref.counts, counts)),
        distance=distance,
        distance_name="wasserstein_sd",
        test="ks",
        statistic=statistic,
        p_value=p_value,
        missing_share_reference=float(ref.counts[-1] / ref.n),
        missing_share_current=float(counts[-1] / x.size),
        note="; ".join(notes),
    )


def categorical_drift(ref: CategoricalReference, current) -> ColumnDrift:
    """PSI over the categories, the Jensen-Shannon distance and the chi-square test."""
    labels = _labels(current)
    if labels.size == 0:
        return _empty(ref.n, ref.name, "categorical", len(ref.categories), numeric=False)
    found, found_counts = np.unique(labels, return_counts=True)
    cur = dict(zip(found.tolist(), found_counts.tolist(), strict=True))
    unseen = tuple(sorted(set(cur) - set(ref.categories)))
    categories = (*ref.categories, *unseen)
    ref_counts = np.concatenate([ref.counts, np.zeros(len(unseen), dtype=np.int64)])
    cur_counts = np.array([int(cur.get(c, 0)) for c in categories])
    # Categories on neither side would have an expected count of 0: leave them out.
    present = (ref_counts + cur_counts) > 0
    table = np.vstack([ref_counts[present], cur_counts[present]])
    notes = []
    if table.shape[1] == 1:
        statistic, p_value = 0.0, 1.0
        notes.append("a single category on both sides: nothing can differ (p = 1)")
    else:
        test = stats.chi2_contingency(table, correction=False)
        statistic, p_value = float(test.statistic), float(test.pvalue)
    if unseen:
        notes.append(f"categories absent from the reference: {list(unseen)}")
    missing_ref = ref.counts[ref.categories.index(MISSING)] if MISSING in ref.categories else 0
    return ColumnDrift(
        column=ref.name,
        kind="categorical",
        n_reference=ref.n,
        n_current=int(labels.size),
        bins=int(present.sum()),
        psi=float(psi(ref_counts, cur_counts)),
        distance=float(
            jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum(), base=2)
        ),
        distance_name="jensen_shannon",
        test="chi2",
        statistic=statistic,
        p_value=p_value,
        missing_share_reference=float(missing_ref / ref.n),
        missing_share_current=float(cur.get(MISSING, 0) / labels.size),
        unseen=unseen,
        note="; ".join(notes),
    )


# --- One period -----------------------------------------------------------------------------


def adjust_p_values(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN (no test) stays NaN and does not count in m."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        adjusted[tested] = stats.false_discovery_control(p[tested], method="bh")
    return adjusted


@dataclass(frozen=True)
class PeriodDrift:
    """Drift of every monitored column in one period, p-values adjusted together."""

    n_current: int
    columns: tuple[ColumnDrift, ...] = field(default_factory=tuple)

    def column(self, name: str) -> ColumnDrift:
        """The result of one column, by name."""
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(f"no drift result for column {name!r}")

    def to_records(self) -> list[dict]:
        """One plain dict per column (JSON-ready apart from NaN)."""
        return [{**asdict(c), "unseen": list(c.unseen)} for c in self.columns]

    def to_frame(self) -> pd.DataFrame:
        """One row per column."""
        return pd.DataFrame(self.to_records())


def period_drift(
    profile: ReferenceProfile, current: pd.DataFrame, score: np.ndarray | None = None
) -> PeriodDrift:
    """Drift of a period's table (and its scores) against the reference profile.

    Every column of the profile is compared; p-values are then adjusted with
    Benjamini-Hochberg over all the columns tested in this period (the score included).
    ``score`` must be given when the profile has a score reference, and holds one predicted
    probability per row of ``current``.
    """
    missing = [c.name for c in (*profile.numeric, *profile.categorical) if c.name not in current]
    if missing:
        raise ValueError(f"period table has no column(s) {missing}")
    results = [numeric_drift(ref, current[ref.name]) for ref in profile.numeric]
    results += [categorical_drift(ref, current[ref.name]) for ref in profile.categorical]
    if profile.score is not None:
        if score is None:
            raise ValueError("the profile has a score reference: pass the period's scores")
        if len(score) != len(current):
            raise ValueError(f"{len(score)} scores for {len(current)} rows")
        results.append(numeric_drift(profile.score, score, kind="score"))
    elif score is not None:
        raise ValueError("scores given but the profile has no score reference: fit it with one")
    adjusted = adjust_p_values([r.p_value for r in results])
    return PeriodDrift(
        n_current=len(current),
        columns=tuple(
            replace(r, p_value_adjusted=float(a)) for r, a in zip(results, adjusted, strict=True)
        ),
    )
