"""Control charts for internal quality control: individuals with moving range, EWMA, tabular CUSUM, and
the Westgard multirules. Pure Python."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

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
