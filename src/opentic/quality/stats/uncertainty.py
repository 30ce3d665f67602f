"""GUM uncertainty budgets: combined standard uncertainty, Welch–Satterthwaite degrees of freedom,
the coverage factor from Student's t, the expanded uncertainty (JCGM 100:2008 clause 5, 6 and Annex G)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class Contribution:
    name: str
    u: float  # the input's standard uncertainty
    sensitivity: float = 1.0  # cᵢ = ∂f/∂xᵢ
    dof: float = math.inf

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
    cu = [c.sensitivity * c.u for c in contributions]
    variance = math.fsum(x * x for x in cu)
    if correlation is not None:
        variance += math.fsum(2 * cu[i] * cu[j] * correlation[i][j] for i in range(n) for j in range(i + 1, n))
    uc = math.sqrt(variance)
    denominator = math.fsum(c.value ** 4 / c.dof for c in contributions if math.isfinite(c.dof) and c.value)
    dof = math.inf if denominator == 0 else uc ** 4 / denominator
    if math.isfinite(dof):
        dof = float(math.floor(dof))
    k = float(stats.norm.ppf((1 + p) / 2)) if not math.isfinite(dof) else float(stats.t.ppf((1 + p) / 2, dof))
    return Budget(uc, dof, k, k * uc)
