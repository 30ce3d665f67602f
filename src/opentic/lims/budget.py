"""A method's uncertainty budget turned into the expanded uncertainty of each result (GUM 5.1.6 for a model of
products and quotients: relative standard uncertainties combine in quadrature; Welch–Satterthwaite for νeff;
k from Student's t at 95 %). U is reported with two significant digits (GUM 7.2.6). A calculated result's
U comes from its inputs' through the method's formula. Pure Python."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

from opentic.numerics.formula import Formula
from opentic.numerics.stats.uncertainty import Budget, Contribution, combine, propagate

# The divisor that turns a half-width into a standard uncertainty (GUM 4.3.7, 4.3.9; JCGM 101 6.4.6).
DIVISORS = {"normal": 1.0, "rectangular": math.sqrt(3), "triangular": math.sqrt(6), "arcsine": math.sqrt(2)}


@dataclass(frozen=True)
class Input:
    name: str
    distribution: str
    relative_percent: float
    dof: int | None = None

    @property
    def u_relative(self) -> float:
        return self.relative_percent / 100 / DIVISORS[self.distribution]


def relative_budget(inputs: Sequence[Input]) -> Budget:
    """The budget of relative uncertainties: uc, νeff, k and U, all relative (fractions, not %)."""
    if not inputs:
        raise ValueError("an uncertainty budget needs at least one input")
    return combine([Contribution(i.name, i.u_relative, 1.0, float(i.dof) if i.dof else math.inf) for i in inputs])


def two_digits(x: Decimal) -> Decimal:
    """Rounded up to two significant digits: an uncertainty is never understated by its rounding."""
    if x == 0:
        return x
    exponent = x.adjusted() - 1
    return x.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_UP)


def expanded(value: Decimal, budget: Budget) -> tuple[Decimal, Decimal]:
    """U = k · u_rel · |x| and k, as the result will carry them."""
    k = Decimal(str(round(budget.k, 2)))
    u = two_digits(abs(value) * Decimal(str(budget.expanded)))
    return u, k


def formula_model(formula: Formula) -> Callable[[Mapping[str, float]], float]:
    """The method's formula as the model of the law of propagation, through the same safe evaluator."""

    def model(x: Mapping[str, float]) -> float:
        return float(formula.evaluate({k: Decimal(repr(v)) for k, v in x.items()}))

    return model


def calculated_uncertainty(formula: Formula, inputs: Mapping[str, tuple[Decimal, Decimal, Decimal]]
                           ) -> tuple[Decimal, Decimal] | None:
    """U and k of a calculated result from its inputs' (value, U, k), uncorrelated, with the sensitivity
    coefficients taken from the formula itself (GUM 5.1.3); None when an input has no U. k = 2."""
    if formula.names - set(inputs):
        return None
    estimates = {k: float(v) for k, (v, _, _) in inputs.items() if k in formula.names}
    u = {k: float(big_u / (kk or Decimal(2))) for k, (_, big_u, kk) in inputs.items() if k in formula.names}
    result = propagate(formula_model(formula), estimates, u)
    return two_digits(Decimal(repr(2 * result.u))), Decimal(2)
