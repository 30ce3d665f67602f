"""Control charts for internal quality control: individuals with moving range, EWMA, tabular CUSUM, X̄-R,
X̄-S, p, np, c and u, and the Westgard multirules. Pure Python on numpy and scipy."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import integrate, stats

D2_N2 = 1.128  # d2 for moving ranges of two (Montgomery, Appendix VI)


@dataclass(frozen=True)
class Limits:
    center: float
    lower: float
    upper: float


def individuals(xs: Sequence[float]) -> tuple[Limits, float]:
    """Individuals chart: x̄ ± 3·MR̄/d2; returns the limits and MR̄."""
    if len(xs) < 2:
        raise ValueError("an individuals chart needs two values or more")
    center = math.fsum(xs) / len(xs)
    mr_bar = math.fsum(abs(b - a) for a, b in itertools.pairwise(xs)) / (len(xs) - 1)
    half = 3 * mr_bar / D2_N2
    return Limits(center, center - half, center + half), mr_bar


def ewma(xs: Sequence[float], lam: float, target: float, sigma: float, width: float = 3.0,
         asymptotic: bool = True) -> tuple[list[float], list[Limits]]:
    """EWMA statistics zᵢ = λxᵢ + (1−λ)zᵢ₋₁ from z₀ = target, with their limits (exact or asymptotic)."""
    if not 0 < lam <= 1:
        raise ValueError("λ is in (0, 1]")
    z, series, limits = target, [], []
    for i, x in enumerate(xs, start=1):
        z = lam * x + (1 - lam) * z
        series.append(z)
        factor = lam / (2 - lam) * (1 if asymptotic else 1 - (1 - lam) ** (2 * i))
        half = width * sigma * math.sqrt(factor)
        limits.append(Limits(target, target - half, target + half))
    return series, limits


@dataclass(frozen=True)
class CusumPoint:
    high: float
    low: float
    signal: bool


def cusum(xs: Sequence[float], target: float, k: float, h: float) -> list[CusumPoint]:
    """Tabular CUSUM: Sₕᵢ = max(0, Sₕᵢ + x − target − k), Sₗₒ = max(0, Sₗₒ + target − x − k); signal above h."""
    high = low = 0.0
    points = []
    for x in xs:
        high = max(0.0, high + x - target - k)
        low = max(0.0, low + target - x - k)
        points.append(CusumPoint(high, low, high > h or low > h))
    return points


# ---------------------------------------------------------------- Westgard multirules


@dataclass(frozen=True)
class Violation:
    rule: str
    scope: str  # "warning", "within run" or "across runs"
    index: int  # the run (0-based) at which the rule fired
    reject: bool


def westgard(runs: Sequence[Sequence[float]]) -> list[Violation]:
    """The Westgard rules on control results expressed as z-scores, one list per run (one or more levels).

    1-2s is a warning only. Within a run: 1-3s, 2-2s (two controls beyond the same 2s), R-4s (one above
    +2s and one below −2s). Across runs, on the runs' results in order: 2-2s (the same control in two
    consecutive runs), 4-1s (four consecutive results beyond the same 1s) and 10-x (ten consecutive on one
    side of the mean)."""
    found: list[Violation] = []
    history: list[float] = []
    for i, run in enumerate(runs):
        if any(abs(z) > 2 for z in run):
            found.append(Violation("1-2s", "warning", i, False))
        if any(abs(z) > 3 for z in run):
            found.append(Violation("1-3s", "within run", i, True))
        if sum(z > 2 for z in run) >= 2 or sum(z < -2 for z in run) >= 2:
            found.append(Violation("2-2s", "within run", i, True))
        if any(z > 2 for z in run) and any(z < -2 for z in run):
            found.append(Violation("R-4s", "within run", i, True))
        previous = history[-1:] if history else []
        history.extend(run)
        if previous and run and ((previous[0] > 2 and run[0] > 2) or (previous[0] < -2 and run[0] < -2)):
            found.append(Violation("2-2s", "across runs", i, True))
        last4 = history[-4:]
        if len(last4) == 4 and (all(z > 1 for z in last4) or all(z < -1 for z in last4)):
            found.append(Violation("4-1s", "across runs", i, True))
        last10 = history[-10:]
        if len(last10) == 10 and (all(z > 0 for z in last10) or all(z < 0 for z in last10)):
            found.append(Violation("10-x", "across runs", i, True))
    return found


# ---------------------------------------------------------------- subgroup charts (X̄-R, X̄-S) and attributes


@functools.cache
def d2(n: int) -> float:
    """The mean range of n standard normal values: ∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx."""
    value, _ = integrate.quad(lambda x: 1 - stats.norm.cdf(x) ** n - stats.norm.sf(x) ** n, -np.inf, np.inf)
    return float(value)


@functools.cache
def d3(n: int) -> float:
    """The standard deviation of that range, from E[W²] = 2 ∫∫_{x<y} 1 − Φ(y)ⁿ − (1 − Φ(x))ⁿ + (Φ(y) − Φ(x))ⁿ."""
    def integrand(y: float, x: float) -> float:
        fx, fy = stats.norm.cdf(x), stats.norm.cdf(y)
        return float(1 - fy**n - (1 - fx) ** n + (fy - fx) ** n)

    second, _ = integrate.dblquad(integrand, -8, 8, lambda x: x, lambda x: 8)
    return math.sqrt(2 * second - d2(n) ** 2)


def c4(n: int) -> float:
    """E[s]/σ for samples of n: √(2/(n − 1)) Γ(n/2)/Γ((n − 1)/2)."""
    return math.sqrt(2 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


@dataclass(frozen=True)
class SubgroupChart:
    means: Limits
    spread: Limits  # of ranges (X̄-R) or standard deviations (X̄-S)


def _subgroups(groups: Sequence[Sequence[float]]) -> tuple[int, np.ndarray]:
    data = np.asarray(groups, dtype=float)
    if data.ndim != 2 or data.shape[1] < 2 or data.shape[0] < 2:
        raise ValueError("subgroup charts need at least 2 subgroups of equal size ≥ 2")
    return data.shape[1], data


def xbar_r(groups: Sequence[Sequence[float]]) -> SubgroupChart:
    """X̄ ± A₂R̄ and R̄ between D₃R̄ and D₄R̄, with A₂ = 3/(d₂√n), D₃,₄ = 1 ∓ 3d₃/d₂ (Montgomery 6.2)."""
    n, data = _subgroups(groups)
    xbar = float(data.mean(axis=1).mean())
    rbar = float((data.max(axis=1) - data.min(axis=1)).mean())
    a2 = 3 / (d2(n) * math.sqrt(n))
    ratio = 3 * d3(n) / d2(n)
    return SubgroupChart(Limits(xbar, xbar - a2 * rbar, xbar + a2 * rbar),
                         Limits(rbar, max(0.0, 1 - ratio) * rbar, (1 + ratio) * rbar))


def xbar_s(groups: Sequence[Sequence[float]]) -> SubgroupChart:
    """X̄ ± A₃s̄ and s̄ between B₃s̄ and B₄s̄, with A₃ = 3/(c₄√n), B₃,₄ = 1 ∓ 3√(1 − c₄²)/c₄ (Montgomery 6.3)."""
    n, data = _subgroups(groups)
    xbar = float(data.mean(axis=1).mean())
    sbar = float(data.std(axis=1, ddof=1).mean())
    a3 = 3 / (c4(n) * math.sqrt(n))
    ratio = 3 * math.sqrt(1 - c4(n) ** 2) / c4(n)
    return SubgroupChart(Limits(xbar, xbar - a3 * sbar, xbar + a3 * sbar),
                         Limits(sbar, max(0.0, 1 - ratio) * sbar, (1 + ratio) * sbar))


def p_chart(defectives: Sequence[int], n: int) -> Limits:
    """Fraction nonconforming: p̄ ± 3√(p̄(1 − p̄)/n), the lower limit floored at 0."""
    if n < 1 or not defectives or any(d < 0 or d > n for d in defectives):
        raise ValueError("counts must lie between 0 and the sample size")
    pbar = sum(defectives) / (n * len(defectives))
    half = 3 * math.sqrt(pbar * (1 - pbar) / n)
    return Limits(pbar, max(0.0, pbar - half), pbar + half)


def np_chart(defectives: Sequence[int], n: int) -> Limits:
    p = p_chart(defectives, n)
    return Limits(p.center * n, p.lower * n, p.upper * n)


def c_chart(counts: Sequence[int]) -> Limits:
    """Nonconformities per unit: c̄ ± 3√c̄."""
    if not counts or any(c < 0 for c in counts):
        raise ValueError("counts cannot be negative")
    cbar = sum(counts) / len(counts)
    return Limits(cbar, max(0.0, cbar - 3 * math.sqrt(cbar)), cbar + 3 * math.sqrt(cbar))


def u_chart(counts: Sequence[int], units: Sequence[float]) -> list[Limits]:
    """Nonconformities per unit with varying inspection units: ū ± 3√(ū/nᵢ), one set of limits per sample."""
    if len(counts) != len(units) or not counts or any(n <= 0 for n in units):
        raise ValueError("each count needs a positive number of units")
    ubar = sum(counts) / sum(units)
    return [Limits(ubar, max(0.0, ubar - 3 * math.sqrt(ubar / n)), ubar + 3 * math.sqrt(ubar / n)) for n in units]
