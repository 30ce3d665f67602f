"""Precision of a standard method from an interlaboratory study (ISO 5725-2:2019): repeatability and
reproducibility standard deviations, Mandel's h and k with their indicators, Cochran's and Grubbs' outlier
tests with their critical values. Pure Python on numpy and scipy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from opentic.numerics.stats.checks import StatisticsInputError, finite_array, probability


@dataclass(frozen=True)
class Precision:
    mean: float  # general mean m̂
    s_r: float  # repeatability standard deviation
    s_L: float  # between-laboratory standard deviation
    s_R: float  # reproducibility standard deviation
    labs: int

    @property
    def r(self) -> float:
        """The repeatability limit 2.8 s_r (ISO 5725-6, 4.1.4)."""
        return 2.8 * self.s_r

    @property
    def R(self) -> float:  # the standard's symbol
        return 2.8 * self.s_R


def _cells(cells: Sequence[Sequence[float]]) -> list[np.ndarray]:
    out = [finite_array(c, "a laboratory's results") for c in cells]
    if any(c.ndim != 1 for c in out):
        raise StatisticsInputError("each laboratory gives a list of results")
    if len(out) < 2 or any(len(c) < 1 for c in out):
        raise StatisticsInputError("at least 2 laboratories with results are needed")
    if sum(len(c) - 1 for c in out) < 1:
        raise StatisticsInputError("replicates are needed for a repeatability standard deviation")
    return out


def precision(cells: Sequence[Sequence[float]]) -> Precision:
    """One level, the replicates of each laboratory (7.4.4 and 7.4.5), for equal or unequal numbers."""
    data = _cells(cells)
    p = len(data)
    n = np.array([len(c) for c in data], dtype=float)
    means = np.array([c.mean() for c in data])
    variances = np.array([c.var(ddof=1) if len(c) > 1 else 0.0 for c in data])
    grand = float(np.sum(n * means) / np.sum(n))
    s_r2 = float(np.sum((n - 1) * variances) / np.sum(n - 1))
    s_d2 = float(np.sum(n * (means - grand) ** 2) / (p - 1))
    n_bar = float((np.sum(n) - np.sum(n**2) / np.sum(n)) / (p - 1))
    s_l2 = max(0.0, (s_d2 - s_r2) / n_bar)
    return Precision(grand, math.sqrt(s_r2), math.sqrt(s_l2), math.sqrt(s_l2 + s_r2), p)


def mandel_h(means: Sequence[float]) -> list[float]:
    """hᵢ = (ȳᵢ − ȳ)/s(ȳ), the between-laboratory consistency statistic (7.3.1)."""
    y = finite_array(means, "the laboratory means")
    sd = float(y.std(ddof=1))
    if sd == 0:
        raise StatisticsInputError("all laboratory means are equal")
    return [float(v) for v in (y - y.mean()) / sd]


def mandel_k(sds: Sequence[float]) -> list[float]:
    """kᵢ = sᵢ √p / √Σs², the within-laboratory consistency statistic (7.3.1)."""
    s = finite_array(sds, "the standard deviations")
    norm = math.sqrt(float(np.sum(s**2)) / len(s))
    if norm == 0:
        raise StatisticsInputError("all standard deviations are zero")
    return [float(v) for v in s / norm]


def h_indicator(p: int, alpha: float) -> float:
    """The critical h for p laboratories (Table 6): (p − 1) t / √(p (t² + p − 2)), t two-sided."""
    _at_least(p, 3, "laboratories")
    t = float(stats.t.ppf(1 - probability(alpha, "α") / 2, p - 2))
    return (p - 1) * t / math.sqrt(p * (t * t + p - 2))


def k_indicator(p: int, n: int, alpha: float) -> float:
    """The critical k for p laboratories with n replicates (Table 6): √(p / (1 + (p − 1)/F))."""
    _at_least(p, 2, "laboratories")
    _at_least(n, 2, "replicates")
    f = float(stats.f.ppf(1 - probability(alpha, "α"), n - 1, (p - 1) * (n - 1)))
    return math.sqrt(p / (1 + (p - 1) / f))


def _at_least(count: int, least: int, what: str) -> None:
    """Enough for the critical value's distribution to have at least one degree of freedom."""
    if count < least:
        raise StatisticsInputError(f"at least {least} {what}")


def cochran(sds: Sequence[float]) -> float:
    """Cochran's C = s²max / Σs² (7.3.3)."""
    s2 = finite_array(sds, "the standard deviations") ** 2
    total = float(s2.sum())
    if total == 0:
        raise StatisticsInputError("all standard deviations are zero")
    return float(s2.max()) / total


def cochran_critical(p: int, n: int, alpha: float) -> float:
    """The critical C for p laboratories with n replicates (Table 4), exact from the F distribution."""
    _at_least(p, 2, "laboratories")
    _at_least(n, 2, "replicates")
    f = float(stats.f.ppf(1 - probability(alpha, "α") / p, n - 1, (p - 1) * (n - 1)))
    return 1 / (1 + (p - 1) / f)


@dataclass(frozen=True)
class Grubbs:
    statistic: float
    index: int  # the suspect value
    high: bool  # the largest (True) or the smallest (False)


def grubbs(values: Sequence[float]) -> Grubbs:
    """Grubbs' single-outlier statistic G = max |xᵢ − x̄| / s (7.3.4)."""
    x = finite_array(values, "the values")
    if len(x) < 3:
        raise StatisticsInputError("Grubbs' test needs at least 3 values")
    sd = float(x.std(ddof=1))
    if sd == 0:
        raise StatisticsInputError("all values are equal")
    high = float(x.max() - x.mean()) >= float(x.mean() - x.min())
    index = int(x.argmax() if high else x.argmin())
    return Grubbs(abs(float(x[index] - x.mean())) / sd, index, high)


def grubbs_critical(n: int, alpha: float, two_sided: bool = True) -> float:
    """The critical G: (n − 1)/√n · √(t²/(n − 2 + t²)), t at α/(2n) (two-sided) or α/n (one-sided)."""
    _at_least(n, 3, "values")
    t = float(stats.t.ppf(1 - probability(alpha, "α") / (2 * n if two_sided else n), n - 2))
    return (n - 1) / math.sqrt(n) * math.sqrt(t * t / (n - 2 + t * t))
