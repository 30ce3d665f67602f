"""Control charts for internal quality control: individuals with moving range, EWMA, tabular CUSUM, X̄-R,
X̄-S, p, np, c and u, and the Westgard multirules. Pure Python on numpy and scipy."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy import integrate, stats

from opentic.numerics.stats.checks import StatisticsInputError, finite, finite_array, positive

D2_N2 = 1.128  # d2 for moving ranges of two (Montgomery, Appendix VI)


@dataclass(frozen=True)
class Limits:
    center: float
    lower: float
    upper: float


def individuals(xs: Sequence[float]) -> tuple[Limits, float]:
    """Individuals chart: x̄ ± 3·MR̄/d2; returns the limits and MR̄."""
    xs = [finite(x, "an individual value") for x in xs]
    if len(xs) < 2:
        raise StatisticsInputError("an individuals chart needs two values or more")
    center = math.fsum(xs) / len(xs)
    mr_bar = math.fsum(abs(b - a) for a, b in itertools.pairwise(xs)) / (len(xs) - 1)
    half = 3 * mr_bar / D2_N2
    return Limits(center, center - half, center + half), mr_bar


def ewma(xs: Sequence[float], lam: float, target: float, sigma: float, width: float = 3.0,
         asymptotic: bool = True) -> tuple[list[float], list[Limits]]:
    """EWMA statistics zᵢ = λxᵢ + (1−λ)zᵢ₋₁ from z₀ = target, with their limits (exact or asymptotic)."""
    if not 0 < finite(lam, "λ") <= 1:
        raise StatisticsInputError("λ is in (0, 1]")
    xs = [finite(x, "an EWMA value") for x in xs]
    target, sigma, width = finite(target, "the target"), positive(sigma, "σ"), positive(width, "the limit width")
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
    xs = [finite(x, "a CUSUM value") for x in xs]
    target, k, h = finite(target, "the target"), finite(k, "k"), positive(h, "h")
    if k < 0:
        raise StatisticsInputError("the allowance k cannot be negative")
    high = low = 0.0
    points = []
    for x in xs:
        high = max(0.0, high + x - target - k)
        low = max(0.0, low + target - x - k)
        points.append(CusumPoint(high, low, high > h or low > h))
    return points


# ---------------------------------------------------------------- Westgard multirules


class Scope(StrEnum):
    """Where a Westgard rule looks (westgard.com, "Westgard Rules" and "Multirules and QC validator"): within
    the run across its control materials, or across runs along one material. Rules across runs never mix
    materials (level 1 of this run is not the successor of level 2 of the last), unless asked to."""

    WARNING = "warning"  # 1-2s: a warning, never a rejection
    WITHIN_RUN = "within run"  # 1-3s: any one control of the run
    ACROSS_MATERIALS = "within run, across materials"  # 2-2s and R-4s on the controls of one run
    WITHIN_MATERIAL = "across runs, within material"  # 2-2s, 4-1s, 10-x on one material's results in order
    ACROSS_RUNS_AND_MATERIALS = "across runs and materials"  # 4-1s, 10-x over every result in order (opt-in)


@dataclass(frozen=True)
class Violation:
    rule: str
    scope: Scope
    index: int  # the run (0-based) at which the rule fired
    reject: bool
    material: Hashable | None = None  # the material a within-material rule followed


def _beyond(window: Sequence[float], limit: float) -> bool:
    """All beyond the same limit: all above +limit or all below −limit (strict, as the rules are drawn)."""
    return all(z > limit for z in window) or all(z < -limit for z in window)


def westgard(runs: Sequence[Sequence[float]], materials: Sequence[Sequence[Hashable]] | None = None,
             across_materials: bool = False) -> list[Violation]:
    """The Westgard multirule (1-2s warning; 1-3s, 2-2s, R-4s, 4-1s, 10-x rejecting) on control results
    expressed as z-scores, one list per run.

    `materials` names the material of each result (the same shape as `runs`); without it the i-th result of
    a run is the i-th control level. Within a run: 1-3s (one control beyond 3s), 2-2s (two controls of the
    run beyond the same 2s), R-4s (one above +2s and one below −2s). Across runs, each on one material's
    results in order, ending with this run's: 2-2s (its last two), 4-1s (its last four beyond the same 1s),
    10-x (its last ten on one side of the mean). With `across_materials`, 4-1s and 10-x are also applied to
    all results of all materials in order (four results of two levels over two runs). A material that has no
    result in a run fires nothing there."""
    zs = [[finite(z, "a control z-score") for z in run] for run in runs]
    names = [list(m) for m in materials] if materials is not None else [list(range(len(run))) for run in zs]
    if len(names) != len(zs) or any(len(m) != len(r) for m, r in zip(names, zs, strict=False)):
        raise StatisticsInputError("every control result needs its material")
    found: list[Violation] = []
    streams: dict[Hashable, list[float]] = {}
    combined: list[float] = []
    for i, (run, material_of) in enumerate(zip(zs, names, strict=True)):
        if any(abs(z) > 2 for z in run):
            found.append(Violation("1-2s", Scope.WARNING, i, False))
        if any(abs(z) > 3 for z in run):
            found.append(Violation("1-3s", Scope.WITHIN_RUN, i, True))
        if sum(z > 2 for z in run) >= 2 or sum(z < -2 for z in run) >= 2:
            found.append(Violation("2-2s", Scope.ACROSS_MATERIALS, i, True))
        if any(z > 2 for z in run) and any(z < -2 for z in run):
            found.append(Violation("R-4s", Scope.ACROSS_MATERIALS, i, True))
        for material, z in zip(material_of, run, strict=True):
            streams.setdefault(material, []).append(z)
        combined.extend(run)
        for material in dict.fromkeys(material_of):  # each material of this run once, in order
            stream = streams[material]
            for rule, count, limit in (("2-2s", 2, 2.0), ("4-1s", 4, 1.0), ("10-x", 10, 0.0)):
                if len(stream) >= count and _beyond(stream[-count:], limit):
                    found.append(Violation(rule, Scope.WITHIN_MATERIAL, i, True, material))
        if across_materials and run:
            for rule, count, limit in (("4-1s", 4, 1.0), ("10-x", 10, 0.0)):
                if len(combined) >= count and _beyond(combined[-count:], limit):
                    found.append(Violation(rule, Scope.ACROSS_RUNS_AND_MATERIALS, i, True))
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
    data = finite_array(groups, "subgroup values")
    if data.ndim != 2 or data.shape[1] < 2 or data.shape[0] < 2:
        raise StatisticsInputError("subgroup charts need at least 2 subgroups of equal size ≥ 2")
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
    if n < 1 or not defectives or any(not 0 <= finite(d, "a count") <= n for d in defectives):
        raise StatisticsInputError("counts must lie between 0 and the sample size")
    pbar = sum(defectives) / (n * len(defectives))
    half = 3 * math.sqrt(pbar * (1 - pbar) / n)
    return Limits(pbar, max(0.0, pbar - half), pbar + half)


def np_chart(defectives: Sequence[int], n: int) -> Limits:
    p = p_chart(defectives, n)
    return Limits(p.center * n, p.lower * n, p.upper * n)


def c_chart(counts: Sequence[int]) -> Limits:
    """Nonconformities per unit: c̄ ± 3√c̄."""
    if not counts or any(finite(c, "a count") < 0 for c in counts):
        raise StatisticsInputError("counts cannot be negative")
    cbar = sum(counts) / len(counts)
    return Limits(cbar, max(0.0, cbar - 3 * math.sqrt(cbar)), cbar + 3 * math.sqrt(cbar))


def u_chart(counts: Sequence[int], units: Sequence[float]) -> list[Limits]:
    """Nonconformities per unit with varying inspection units: ū ± 3√(ū/nᵢ), one set of limits per sample."""
    if len(counts) != len(units) or not counts or any(finite(n, "the units") <= 0 for n in units) \
            or any(finite(c, "a count") < 0 for c in counts):
        raise StatisticsInputError("each count needs a positive number of units")
    ubar = sum(counts) / sum(units)
    return [Limits(ubar, max(0.0, ubar - 3 * math.sqrt(ubar / n)), ubar + 3 * math.sqrt(ubar / n)) for n in units]
