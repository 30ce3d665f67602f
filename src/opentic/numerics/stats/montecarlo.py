"""Propagation of distributions by the Monte Carlo method (JCGM 101:2008): inputs given as probability
distributions, the model evaluated on whole arrays of trials, the estimate, its standard uncertainty and the
shortest coverage interval (7.7.2), with the adaptive number of trials of 7.9. Pure Python on numpy."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from opentic.numerics.stats.checks import StatisticsInputError, degrees_of_freedom, finite, probability

Array = npt.NDArray[np.float64]
VectorModel = Callable[[Mapping[str, Array]], Array]


@dataclass(frozen=True)
class Distribution:
    """An input's probability distribution (JCGM 101, 6.4). `kind` is one of normal (mean, sd),
    rectangular (low, high), triangular (low, high: symmetric), t (mean, scale, dof: the scaled and shifted
    t of 6.4.9) or arcsine (low, high)."""

    kind: str
    a: float
    b: float
    dof: float = math.inf

    def __post_init__(self) -> None:
        if self.kind not in {"normal", "rectangular", "triangular", "t", "arcsine"}:
            raise StatisticsInputError(f"unknown distribution {self.kind!r}")
        finite(self.a, "a distribution's first parameter")
        finite(self.b, "a distribution's second parameter")
        if self.kind == "t":
            degrees_of_freedom(self.dof, "the degrees of freedom of a t distribution")
        if self.kind in {"normal", "t"} and self.b < 0:
            raise StatisticsInputError("a standard deviation cannot be negative")
        if self.kind in {"rectangular", "triangular", "arcsine"} and self.b < self.a:
            raise StatisticsInputError("the upper limit is below the lower limit")

    def sample(self, rng: np.random.Generator, m: int) -> Array:
        match self.kind:
            case "normal":
                return rng.normal(self.a, self.b, m)
            case "rectangular":
                return rng.uniform(self.a, self.b, m)
            case "triangular":
                return rng.triangular(self.a, (self.a + self.b) / 2, self.b, m)
            case "t":
                return self.a + self.b * rng.standard_t(self.dof, m)
            case _:  # arcsine (U-shaped), 6.4.6
                mid, half = (self.a + self.b) / 2, (self.b - self.a) / 2
                return mid + half * np.sin(2 * math.pi * rng.random(m))


@dataclass(frozen=True)
class Result:
    value: float  # the average of the model values
    u: float  # their standard deviation
    low: float  # the shortest coverage interval
    high: float
    trials: int


def shortest_interval(sorted_values: Array, p: float) -> tuple[float, float]:
    """The shortest interval holding a share p of the sorted values (7.7.2)."""
    m = len(sorted_values)
    q = int(probability(p) * m + 0.5)
    if q < 1 or q > m:
        raise ValueError("too few trials for this coverage probability")
    widths = sorted_values[q - 1:] - sorted_values[: m - q + 1]
    r = int(np.argmin(widths))
    return float(sorted_values[r]), float(sorted_values[r + q - 1])


def _values(model: VectorModel, inputs: Mapping[str, Distribution], trials: int,
            rng: np.random.Generator) -> Array:
    draws = {name: dist.sample(rng, trials) for name, dist in inputs.items()}
    y = np.asarray(model(draws), dtype=float)
    if y.shape != (trials,) or not np.all(np.isfinite(y)):
        raise ValueError("the model must give one finite value per trial")
    return y


def _summary(y: Array, p: float) -> Result:
    ordered = np.sort(y)
    low, high = shortest_interval(ordered, p)
    return Result(float(y.mean()), float(y.std(ddof=1)), low, high, len(y))


def run(model: VectorModel, inputs: Mapping[str, Distribution], trials: int = 1_000_000, p: float = 0.95,
        seed: int | None = None) -> Result:
    """A fixed number of trials (7.2)."""
    return _summary(_values(model, inputs, trials, np.random.default_rng(seed)), p)


def tolerance(u: float, digits: int) -> float:
    """δ = ½·10ˡ where u is written c × 10ˡ with c of `digits` digits (7.9.2)."""
    if finite(u, "u(y)") <= 0:
        return 0.0
    ell = math.floor(math.log10(u)) - digits + 1
    return 0.5 * 10.0**ell


def adaptive(model: VectorModel, inputs: Mapping[str, Distribution], digits: int = 2, p: float = 0.95,
             batch: int = 100_000, max_batches: int = 1000, seed: int | None = None) -> Result:
    """The adaptive Monte Carlo procedure of 7.9.4: batches of M trials until twice the standard deviation
    of the batch results for y, u(y) and the interval's ends is below the numerical tolerance of u(y); the
    result then comes from all h·M trials together."""
    rng = np.random.default_rng(seed)
    batches: list[Array] = []
    per_batch: list[list[float]] = []
    for h in range(1, max_batches + 1):
        y = _values(model, inputs, batch, rng)
        batches.append(y)
        r = _summary(y, p)
        per_batch.append([r.value, r.u, r.low, r.high])
        if h < 2:
            continue
        table = np.array(per_batch)
        spread = table.std(axis=0, ddof=1) / math.sqrt(h)
        if np.all(2 * spread < tolerance(float(table[:, 1].mean()), digits)):
            return _summary(np.concatenate(batches), p)
    raise ArithmeticError("the adaptive Monte Carlo procedure did not stabilize")
