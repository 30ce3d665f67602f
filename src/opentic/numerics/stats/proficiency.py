"""Proficiency testing by interlaboratory comparison (ISO 13528:2022): assigned values and their standard
uncertainty (clause 7), the standard deviation for proficiency assessment (clause 8), performance
statistics and their classes (clause 9), homogeneity and stability of the items (Annex B). Pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy import stats

from opentic.numerics.stats import robust
from opentic.numerics.stats.checks import StatisticsInputError, finite, finite_array, non_negative, positive


class Consensus(StrEnum):
    """How a consensus value is computed from the participants' results (7.7)."""

    ALGORITHM_A = "algorithm_a"
    Q_HAMPEL = "q_hampel"
    MEDIAN = "median"  # with nIQR as its scale
    MEAN = "mean"  # the arithmetic mean and standard deviation, for data without outliers


@dataclass(frozen=True)
class AssignedValue:
    x_pt: float
    u: float  # u(x_pt)
    scale: float  # the robust (or plain) standard deviation of the results, s*; 0 when not from results
    n: int = 0


def consensus(xs: robust.Data, method: Consensus | str = Consensus.ALGORITHM_A) -> AssignedValue:
    """The assigned value as the participants' consensus, with u(x_pt) = 1.25 s*/√p (7.7.3); for the plain
    mean, u = s/√p."""
    data = finite_array(xs, "the participants' results")
    p = len(data)
    match Consensus(method):
        case Consensus.ALGORITHM_A:
            est = robust.algorithm_a(data)
            return AssignedValue(est.location, robust.u_consensus(est.scale, p), est.scale, p)
        case Consensus.Q_HAMPEL:
            est = robust.q_hampel(data)
            return AssignedValue(est.location, robust.u_consensus(est.scale, p), est.scale, p)
        case Consensus.MEDIAN:
            scale = robust.niqr(data)
            return AssignedValue(robust.median(data), robust.u_consensus(scale, p), scale, p)
        case Consensus.MEAN:
            if p < 2:
                raise StatisticsInputError("at least 2 values are needed")
            sd = float(data.std(ddof=1))
            return AssignedValue(float(data.mean()), sd / math.sqrt(p), sd, p)


def from_reference(value: float, expanded: float, k: float = 2.0) -> AssignedValue:
    """A reference or certified value, or a formulation value, with its expanded uncertainty (7.3–7.5)."""
    value, expanded = finite(value, "the reference value"), non_negative(expanded, "the expanded uncertainty")
    return AssignedValue(value, expanded / positive(k, "the coverage factor"), 0.0)


def from_crm_comparison(x_crm: float, u_crm: float, differences: Sequence[float]) -> AssignedValue:
    """Assigned value by direct comparison with a certified reference material (7.5): x_pt = x_CRM + d̄,
    u(x_pt) = √(u²(x_CRM) + u²(d̄)), u(d̄) = s_d/√n."""
    d = finite_array(differences, "the differences")
    x_crm, u_crm = finite(x_crm, "the certified value"), non_negative(u_crm, "u(x_CRM)")
    if d.ndim != 1 or len(d) < 2:
        raise StatisticsInputError("at least 2 differences are needed")
    u_d = float(d.std(ddof=1)) / math.sqrt(len(d))
    return AssignedValue(x_crm + float(d.mean()), math.hypot(u_crm, u_d), u_d, len(d))


def uncertainty_is_negligible(u_x_pt: float, sigma_pt: float) -> bool:
    """u(x_pt) < 0.3 σ_pt (9.2.1): otherwise z′ (or ζ) should be used instead of z."""
    return non_negative(u_x_pt, "u(x_pt)") < 0.3 * positive(sigma_pt, "σ_pt")


# ---------------------------------------------------------------- σ_pt (clause 8)


def horwitz(mass_fraction: float) -> float:
    """The Horwitz curve σ = 0.22c for c < 1.2×10⁻⁷, 0.02c^0.8495 up to 0.138, 0.01c^0.5 above (8.5, after
    Thompson), all as mass fractions."""
    c = finite(mass_fraction, "the mass fraction")
    if c <= 0:
        raise StatisticsInputError("the concentration must be positive")
    if c < 1.2e-7:
        return 0.22 * c
    if c <= 0.138:
        return float(0.02 * c**0.8495)
    return float(0.01 * c**0.5)


def from_precision(s_reproducibility: float, s_repeatability: float, replicates: int) -> float:
    """σ_pt from a precision experiment (8.4): √(σ_R² − σ_r²(1 − 1/m)) for the mean of m replicates."""
    if replicates < 1:
        raise StatisticsInputError("at least one replicate")
    s_reproducibility = non_negative(s_reproducibility, "s_R")
    s_repeatability = non_negative(s_repeatability, "s_r")
    variance = s_reproducibility**2 - s_repeatability**2 * (1 - 1 / replicates)
    if variance <= 0:
        raise StatisticsInputError("the repeatability exceeds the reproducibility")
    return math.sqrt(variance)


# ---------------------------------------------------------------- performance statistics (clause 9)


def difference(x: float, x_pt: float) -> float:
    return finite(x, "the result") - finite(x_pt, "the assigned value")


def percent_difference(x: float, x_pt: float) -> float:
    """D% = 100 (x − x_pt)/x_pt (9.3)."""
    if finite(x_pt, "the assigned value") == 0:
        raise StatisticsInputError("D% needs a non-zero assigned value")
    return 100 * (finite(x, "the result") - x_pt) / x_pt


def percent_allowed(x: float, x_pt: float, delta_e: float) -> float:
    """P_A = 100 (x − x_pt)/δ_E, the difference as a share of the maximum permissible error (9.3.4)."""
    return 100 * difference(x, x_pt) / positive(delta_e, "δ_E")


def z_score(x: float, x_pt: float, sigma_pt: float) -> float:
    return difference(x, x_pt) / positive(sigma_pt, "σ_pt")


def z_prime_score(x: float, x_pt: float, sigma_pt: float, u_x_pt: float) -> float:
    return difference(x, x_pt) / math.hypot(positive(sigma_pt, "σ_pt"), non_negative(u_x_pt, "u(x_pt)"))


def zeta_score(x: float, x_pt: float, u_x: float, u_x_pt: float) -> float:
    return difference(x, x_pt) / _scale(non_negative(u_x, "u(x)"), non_negative(u_x_pt, "u(x_pt)"))


def en_score(x: float, x_pt: float, expanded_x: float, expanded_x_pt: float) -> float:
    return difference(x, x_pt) / _scale(non_negative(expanded_x, "U(x)"), non_negative(expanded_x_pt, "U(x_pt)"))


def _scale(a: float, b: float) -> float:
    scale = math.hypot(a, b)
    if scale == 0:
        raise StatisticsInputError("the uncertainties cannot both be zero")
    return scale


class Performance(StrEnum):
    SATISFACTORY = "satisfactory"
    QUESTIONABLE = "questionable"  # a warning signal
    UNSATISFACTORY = "unsatisfactory"  # an action signal


def classify(score: float, kind: str) -> Performance:
    """z, z′ and ζ: |s| ≤ 2 satisfactory, 2 < |s| < 3 questionable, |s| ≥ 3 unsatisfactory (9.4.1, 9.5,
    9.6). En: |En| ≤ 1 satisfactory, otherwise unsatisfactory (9.7)."""
    magnitude = abs(finite(score, "the score"))
    if kind == "En":
        return Performance.SATISFACTORY if magnitude <= 1 else Performance.UNSATISFACTORY
    if magnitude <= 2:
        return Performance.SATISFACTORY
    return Performance.QUESTIONABLE if magnitude < 3 else Performance.UNSATISFACTORY


# ---------------------------------------------------------------- homogeneity and stability (Annex B)


@dataclass(frozen=True)
class Homogeneity:
    mean: float  # general average of the items
    s_x: float  # standard deviation of the item averages
    s_w: float  # within-item standard deviation
    s_s: float  # between-item standard deviation
    criterion: float  # 0.3 σ_pt
    expanded_criterion: float  # √(F1 (0.3 σ_pt)² + F2 s_w²)
    sufficient: bool  # s_s ≤ 0.3 σ_pt
    sufficient_expanded: bool


def expanded_criterion_factors(items: int, p: float = 0.95) -> tuple[float, float]:
    """F1 = χ²_{p, g−1}/(g − 1) and F2 = (F_{p, g−1, g} − 1)/2 (B.2.3, Table B.1)."""
    if items < 2:
        raise StatisticsInputError("at least 2 items")
    f1 = float(stats.chi2.ppf(p, items - 1)) / (items - 1)
    f2 = (float(stats.f.ppf(p, items - 1, items)) - 1) / 2
    return f1, f2


def homogeneity(pairs: Sequence[Sequence[float]], sigma_pt: float | None = None) -> Homogeneity:
    """The homogeneity check of B.2 on g items measured twice each. Without σ_pt, σ_pt = 0 is not assumed:
    the criteria are then NaN and the verdicts False."""
    data = finite_array(pairs, "the homogeneity results")
    if sigma_pt is not None:
        sigma_pt = positive(sigma_pt, "σ_pt")
    if data.ndim != 2 or data.shape[1] != 2 or data.shape[0] < 2:
        raise StatisticsInputError("homogeneity needs at least 2 items with 2 results each")
    averages = data.mean(axis=1)
    within = np.abs(data[:, 0] - data[:, 1])
    g = len(data)
    s_x = float(averages.std(ddof=1))
    s_w = float(np.sqrt(np.sum(within**2) / (2 * g)))
    s_s = math.sqrt(max(0.0, s_x**2 - s_w**2 / 2))
    if sigma_pt is None:
        return Homogeneity(float(averages.mean()), s_x, s_w, s_s, math.nan, math.nan, False, False)
    criterion = 0.3 * sigma_pt
    f1, f2 = expanded_criterion_factors(g)
    expanded = math.sqrt(f1 * criterion**2 + f2 * s_w**2)
    return Homogeneity(float(averages.mean()), s_x, s_w, s_s, criterion, expanded, s_s <= criterion,
                       s_s <= expanded)


@dataclass(frozen=True)
class Stability:
    mean_1: float  # the homogeneity (or first) measurements
    mean_2: float  # the stability (or later) measurements
    difference: float
    criterion: float  # 0.3 σ_pt
    stable: bool


def stability(first: Sequence[float], later: Sequence[float], sigma_pt: float) -> Stability:
    """|ȳ₁ − ȳ₂| ≤ 0.3 σ_pt (B.5)."""
    a, b = finite_array(first, "the first measurements"), finite_array(later, "the later measurements")
    sigma_pt = positive(sigma_pt, "σ_pt")
    if a.ndim != 1 or b.ndim != 1 or not len(a) or not len(b):
        raise StatisticsInputError("both sets of measurements are needed")
    m1, m2 = float(np.mean(a)), float(np.mean(b))
    diff = abs(m1 - m2)
    return Stability(m1, m2, diff, 0.3 * sigma_pt, diff <= 0.3 * sigma_pt)
