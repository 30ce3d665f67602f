"""Mean, standard deviation and lag-1 autocorrelation, computed so that large offsets do not eat the digits.

The standard deviation is two-pass (deviations from the mean, summed with math.fsum): the textbook
one-pass sum of squares loses every significant digit on data such as NIST StRD NumAcc4
(10,000,000.2 ± 0.1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from opentic.numerics.stats.checks import StatisticsInputError, finite


def mean(xs: Sequence[float]) -> float:
    if not xs:
        raise StatisticsInputError("no data")
    return math.fsum(finite(x, "a value") for x in xs) / len(xs)


def stdev(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        raise StatisticsInputError("a standard deviation needs two values or more")
    m = mean(xs)
    return math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def autocorrelation(xs: Sequence[float]) -> float:
    """Lag-1 autocorrelation as NIST StRD defines it: Σ(xᵢ−x̄)(xᵢ₋₁−x̄) / Σ(xᵢ−x̄)²."""
    m = mean(xs)
    if len(xs) < 2:
        raise StatisticsInputError("an autocorrelation needs two values or more")
    num = math.fsum((xs[i] - m) * (xs[i - 1] - m) for i in range(1, len(xs)))
    denominator = math.fsum((x - m) ** 2 for x in xs)
    if denominator == 0:
        raise StatisticsInputError("all values are equal: the autocorrelation is undefined")
    return num / denominator
