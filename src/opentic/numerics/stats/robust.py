"""Robust estimators of location and scale for proficiency testing (ISO 13528:2022, clause C and 9.3).

Median, MADe and nIQR (C.2); Algorithm A with its stopping rule (C.3.1); Algorithm S for pooled standard
deviations (C.4); the Q method for the robust standard deviation with the Hampel estimator for the mean
(C.5). Pure Python on numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from opentic.numerics.stats.checks import StatisticsInputError, finite, finite_array, non_negative, positive

# Results as a list or an array: the services pass arrays, the tests the printed lists.
Data = Sequence[float] | npt.NDArray[np.float64]


@dataclass(frozen=True)
class Estimate:
    location: float
    scale: float
    iterations: int = 0


def _values(xs: Data, least: int) -> np.ndarray:
    data = finite_array(xs, "the results")
    if data.ndim != 1 or len(data) < least:
        raise StatisticsInputError(f"at least {least} values are needed")
    return data


def median(xs: Data) -> float:
    return float(np.median(_values(xs, 1)))


def made(xs: Data) -> float:
    """MADe = 1.483 × median |xᵢ − med(x)| (C.2.2)."""
    data = _values(xs, 2)
    return float(1.483 * np.median(np.abs(data - np.median(data))))


def niqr(xs: Data) -> float:
    """nIQR = 0.7413 × (Q3 − Q1) (C.2.3), quartiles interpolated linearly between order statistics (the
    definition that reproduces the printed 0.0402 of Annex E.3)."""
    q1, q3 = np.percentile(_values(xs, 2), [25, 75], method="linear")
    return float(0.7413 * (q3 - q1))


def _third_figure(value: float) -> float:
    """The value rounded to three significant figures, for the stopping rule of C.3.1."""
    if value == 0:
        return 0.0
    return round(value, 2 - math.floor(math.log10(abs(value))))


def algorithm_a(xs: Data, tol: float | None = None, max_iterations: int = 1000) -> Estimate:
    """Algorithm A (C.3.1): start from the median and MADe, winsorize at x* ± 1.5 s*, recompute
    x* = mean and s* = 1.134 × standard deviation of the winsorized values.

    The standard's stopping rule ends the iteration when neither x* nor s* changes in its third significant
    figure; with `tol`, it runs until both change by less than `tol` relative instead."""
    data = _values(xs, 3)
    if tol is not None:
        positive(tol, "the tolerance")
    x = float(np.median(data))
    s = made(data)
    if s == 0:
        raise StatisticsInputError("more than half the values are equal: the robust standard deviation is zero")
    for iteration in range(1, max_iterations + 1):
        delta = 1.5 * s
        w = np.clip(data, x - delta, x + delta)
        new_x = float(w.mean())
        new_s = 1.134 * float(np.sqrt(np.sum((w - new_x) ** 2) / (len(w) - 1)))
        if tol is None:
            done = _third_figure(new_x) == _third_figure(x) and _third_figure(new_s) == _third_figure(s)
        else:
            done = abs(new_x - x) <= tol * abs(new_x) and abs(new_s - s) <= tol * new_s
        x, s = new_x, new_s
        if done:
            return Estimate(x, s, iteration)
    raise ArithmeticError("Algorithm A did not converge")


# Algorithm S (C.4, Table C.2): limit factor η and adjustment factor ξ by the degrees of freedom of the
# pooled standard deviations. They follow from the χ² distribution; the table prints them for ν = 1…10.
def algorithm_s_factors(nu: int) -> tuple[float, float]:
    if nu < 1:
        raise StatisticsInputError("ν is at least 1")
    eta = math.sqrt(stats.chi2.ppf(0.9, nu) / nu)
    # ξ makes the winsorized estimate consistent: 1/ξ² = E[min(χ²ν/ν, η²)]
    expectation = stats.chi2.cdf(nu * eta**2, nu + 2) + eta**2 * stats.chi2.sf(nu * eta**2, nu)
    return eta, 1 / math.sqrt(expectation)


def algorithm_s(sds: Data, nu: int, tol: float = 1e-10, max_iterations: int = 1000) -> Estimate:
    """Algorithm S (C.4): a robust pooled value w* of standard deviations or ranges with ν degrees of
    freedom each. `scale` is unused and returned as 0."""
    data = _values(sds, 2)
    if np.any(data < 0):
        raise StatisticsInputError("standard deviations and ranges cannot be negative")
    finite(tol, "the tolerance")
    eta, xi = algorithm_s_factors(nu)
    w = float(np.median(data))
    for iteration in range(1, max_iterations + 1):
        psi = eta * w
        clipped = np.minimum(data, psi)
        new_w = xi * float(np.sqrt(np.mean(clipped**2)))
        if abs(new_w - w) <= tol * new_w:
            return Estimate(new_w, 0.0, iteration)
        w = new_w
    raise ArithmeticError("Algorithm S did not converge")


def q_method(xs: Data) -> float:
    """The Q method (C.5.2) for one result per participant: from the distribution of all pairwise absolute
    differences, s* = G⁻¹(0.25 + 0.75·H(0)) / (√2 · Φ⁻¹(0.625 + 0.375·H(0)))."""
    data = _values(xs, 3)
    i, j = np.triu_indices(len(data), k=1)
    diffs = np.sort(np.abs(data[i] - data[j]))
    pairs = len(diffs)
    steps = np.unique(diffs)
    # H(x) = share of differences ≤ x, at each distinct difference
    h = np.searchsorted(diffs, steps, side="right") / pairs
    h0 = float(h[0]) if steps[0] == 0 else 0.0
    # G is H's continuous version: at each jump the midpoint of the step, linear in between.
    previous = np.concatenate(([0.0], h[:-1]))
    g = (h + previous) / 2
    if steps[0] != 0:  # G starts from (0, 0)
        steps = np.concatenate(([0.0], steps))
        g = np.concatenate(([0.0], g))
    target = 0.25 + 0.75 * h0
    upper = float(np.interp(target, g, steps))
    s = upper / (math.sqrt(2) * float(stats.norm.ppf(0.625 + 0.375 * h0)))
    if s == 0:
        raise StatisticsInputError("the values are too often equal: the Q method gives a zero standard deviation")
    return s


# Hampel's redescending Ψ with the constants of C.5.3: 1.5, 3.0 and 4.5 robust standard deviations.
HAMPEL = (1.5, 3.0, 4.5)


def _psi(q: np.ndarray) -> np.ndarray:
    a, b, c = HAMPEL
    magnitude = np.abs(q)
    out = np.where(magnitude <= a, magnitude, 0.0)
    out = np.where((magnitude > a) & (magnitude <= b), a, out)
    out = np.where((magnitude > b) & (magnitude <= c), c - magnitude, out)
    result: np.ndarray = np.sign(q) * out
    return result


def hampel(xs: Data, s: float) -> float:
    """The Hampel location estimate (C.5.3, the finite-step algorithm): the sum of Ψ((xᵢ − x)/s*) is linear
    in x between the nodes xᵢ ± {1.5, 3, 4.5}·s*, so its zeros are found exactly by interpolating between
    the nodes; of several zeros, the one closest to the median is taken."""
    data = _values(xs, 3)
    s = positive(s, "the robust standard deviation s*")
    med = float(np.median(data))
    offsets = np.array([-HAMPEL[2], -HAMPEL[1], -HAMPEL[0], HAMPEL[0], HAMPEL[1], HAMPEL[2]]) * s
    nodes = np.unique((data[:, None] + offsets[None, :]).ravel())
    sums = np.array([_psi((data - node) / s).sum() for node in nodes])
    zeros: list[float] = [float(n) for n, v in zip(nodes, sums, strict=True) if v == 0]
    change = np.nonzero(np.sign(sums[:-1]) * np.sign(sums[1:]) < 0)[0]
    for k in change:
        x0, x1, y0, y1 = nodes[k], nodes[k + 1], sums[k], sums[k + 1]
        zeros.append(float(x0 - y0 * (x1 - x0) / (y1 - y0)))
    if not zeros:
        return med
    return min(zeros, key=lambda z: (abs(z - med), z))


def q_hampel(xs: Data) -> Estimate:
    """The Q/Hampel method (C.5): s* by the Q method, x* by the Hampel estimator with that s*."""
    s = q_method(xs)
    return Estimate(hampel(xs, s), s)


def u_consensus(scale: float, p: int) -> float:
    """Standard uncertainty of a robust consensus value, u(x_pt) = 1.25 × s* / √p (7.7.3)."""
    if p < 1:
        raise StatisticsInputError("at least one participant")
    return 1.25 * non_negative(scale, "the robust standard deviation") / math.sqrt(p)
