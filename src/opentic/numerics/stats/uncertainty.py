"""GUM uncertainty budgets: combined standard uncertainty, Welch–Satterthwaite degrees of freedom,
the coverage factor from Student's t, the expanded uncertainty (JCGM 100:2008 clause 5, 6 and Annex G)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

from opentic.numerics.stats.checks import (
    StatisticsInputError,
    degrees_of_freedom,
    finite,
    non_negative,
    probability,
)
from opentic.numerics.stats.checks import (
    correlation as checked_correlation,
)


@dataclass(frozen=True)
class Contribution:
    name: str
    u: float  # the input's standard uncertainty
    sensitivity: float = 1.0  # cᵢ = ∂f/∂xᵢ
    dof: float = math.inf

    def __post_init__(self) -> None:
        non_negative(self.u, f"the standard uncertainty of {self.name}")
        finite(self.sensitivity, f"the sensitivity coefficient of {self.name}")
        degrees_of_freedom(self.dof, f"the degrees of freedom of {self.name}")

    @property
    def value(self) -> float:
        """|cᵢ|·u(xᵢ), the input's contribution to the combined uncertainty."""
        return abs(self.sensitivity) * self.u


@dataclass(frozen=True)
class Budget:
    uc: float
    dof: float  # effective degrees of freedom (Welch–Satterthwaite)
    k: float
    expanded: float


def combine(contributions: Sequence[Contribution], p: float = 0.95,
            correlation: Sequence[Sequence[float]] | None = None) -> Budget:
    """Law of propagation (GUM 5.1.2, with correlations 5.2.2), νeff by Welch–Satterthwaite (G.4.1, truncated
    to the next lower integer as G.4.1 note 1 says), k = t_p(νeff)."""
    n = len(contributions)
    probability(p)
    cu = [c.sensitivity * c.u for c in contributions]
    variance = math.fsum(x * x for x in cu)
    if correlation is not None:
        if len(correlation) != n or any(len(row) != n for row in correlation):
            raise StatisticsInputError(f"the correlation matrix must be {n} × {n}")
        for i in range(n):
            for j in range(n):
                checked_correlation(correlation[i][j], f"the correlation r({i + 1}, {j + 1})")
        variance += math.fsum(2 * cu[i] * cu[j] * correlation[i][j] for i in range(n) for j in range(i + 1, n))
    uc = math.sqrt(variance)
    denominator = math.fsum(c.value ** 4 / c.dof for c in contributions if math.isfinite(c.dof) and c.value)
    dof = math.inf if denominator == 0 else uc ** 4 / denominator
    if math.isfinite(dof):
        # νeff ≥ the smallest νᵢ ≥ 1 (G.4.1); the tolerance keeps a rounding of 0.99999… from truncating to 0.
        dof = float(math.floor(dof + 1e-9))
        degrees_of_freedom(dof, "the effective degrees of freedom")
    k = float(stats.norm.ppf((1 + p) / 2)) if not math.isfinite(dof) else float(stats.t.ppf((1 + p) / 2, dof))
    return Budget(uc, dof, k, k * uc)


# ---------------------------------------------------------------- law of propagation over a model


Model = Callable[[Mapping[str, float]], float]


@dataclass(frozen=True)
class Propagation:
    value: float
    u: float
    sensitivities: dict[str, float]  # cᵢ = ∂f/∂xᵢ at the estimates


def sensitivities(model: Model, estimates: Mapping[str, float], uncertainties: Mapping[str, float]) -> dict[str, float]:
    """cᵢ by central differences with a step of 10⁻⁴·u(xᵢ): small against the input's spread, so the
    linearization is the one the GUM takes, and large enough for the model's rounding not to matter."""
    out: dict[str, float] = {}
    _check_inputs(estimates, uncertainties)
    for name, x in estimates.items():
        h = (uncertainties.get(name) or abs(x) or 1.0) * 1e-4
        if not uncertainties.get(name):
            out[name] = 0.0
            continue
        up, down = dict(estimates), dict(estimates)
        up[name], down[name] = x + h, x - h
        out[name] = finite(float(model(up) - model(down)) / (2 * h), f"the sensitivity coefficient of {name}")
    return out


def _check_inputs(estimates: Mapping[str, float], uncertainties: Mapping[str, float]) -> None:
    for name, x in estimates.items():
        finite(x, f"the estimate of {name}")
    for name, u in uncertainties.items():
        non_negative(u, f"the standard uncertainty of {name}")


def _check_correlations(estimates: Mapping[str, float], correlation: Mapping[tuple[str, str], float] | None) -> None:
    for (a, b), r in (correlation or {}).items():
        if a not in estimates or b not in estimates or a == b:
            raise StatisticsInputError(f"the correlation ({a}, {b}) names an unknown or the same input")
        checked_correlation(r, f"the correlation r({a}, {b})")


def propagate(model: Model, estimates: Mapping[str, float], uncertainties: Mapping[str, float],
              correlation: Mapping[tuple[str, str], float] | None = None) -> Propagation:
    """The law of propagation of uncertainty (GUM 5.1.2 and, with correlation coefficients r(xᵢ, xⱼ), 5.2.2)
    through any model, its sensitivity coefficients taken from the model itself."""
    _check_correlations(estimates, correlation)
    c = sensitivities(model, estimates, uncertainties)
    names = list(estimates)
    terms = [c[n] * uncertainties.get(n, 0.0) for n in names]
    variance = math.fsum(t * t for t in terms)
    for (a, b), r in (correlation or {}).items():
        variance += 2 * r * terms[names.index(a)] * terms[names.index(b)]
    value = finite(float(model(estimates)), "the model's value")
    return Propagation(value, math.sqrt(max(variance, 0.0)), c)


def output_covariance(models: Sequence[Model], estimates: Mapping[str, float], uncertainties: Mapping[str, float],
                      correlation: Mapping[tuple[str, str], float] | None = None) -> list[list[float]]:
    """The covariance matrix of several outputs of the same inputs (GUM H.2): U_y = J U_x Jᵀ."""
    _check_inputs(estimates, uncertainties)
    _check_correlations(estimates, correlation)
    names = list(estimates)
    ux = [[0.0] * len(names) for _ in names]
    for i, n in enumerate(names):
        ux[i][i] = uncertainties.get(n, 0.0) ** 2
    for (a, b), r in (correlation or {}).items():
        i, j = names.index(a), names.index(b)
        ux[i][j] = ux[j][i] = r * uncertainties[a] * uncertainties[b]
    jac = [[sensitivities(m, estimates, uncertainties)[n] for n in names] for m in models]
    return [[math.fsum(jac[p][i] * ux[i][j] * jac[q][j] for i in range(len(names)) for j in range(len(names)))
             for q in range(len(models))] for p in range(len(models))]
