"""The one validator of the statistics core's inputs. A statistic computed from NaN or ±inf is a number that
means nothing (NaN compares False with everything, so a NaN control is "in control" and a NaN result makes a
homogeneity check "sufficient"), so every public function of numerics/stats passes its inputs through here
and refuses them with an error that names the input. Pure Python on numpy."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt


class StatisticsInputError(ValueError):
    """An input the statistics cannot use; the message names it."""


class NotFinite(StatisticsInputError):
    """NaN or ±inf among the inputs."""


def finite(value: float, name: str) -> float:
    """A finite number, as float; NaN, ±inf and non-numbers are refused."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise StatisticsInputError(f"{name} must be a number, not {value!r}") from exc
    if not math.isfinite(number):
        raise NotFinite(f"{name} must be a finite number, not {number}")
    return number


def parse_finite(text: str, name: str = "the value") -> float:
    """A number typed in a form, as float: "nan", "inf", "1e999" (which float() reads as inf) and non-numbers
    are refused, so a form cannot hand the statistics a value float() alone would let through."""
    try:
        number = float(text)
    except (TypeError, ValueError) as exc:
        raise StatisticsInputError(f"{name} is not a number: {text!r}") from exc
    if not math.isfinite(number):
        raise NotFinite(f"{name} must be a finite number, not {text!r}")
    return number


def finite_array(values: Any, name: str) -> npt.NDArray[np.float64]:
    """The values as a float array, every one finite; ragged or non-numeric input is refused too."""
    try:
        data = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise StatisticsInputError(f"{name} must be numbers in a regular shape") from exc
    if not np.all(np.isfinite(data)):
        bad = data[~np.isfinite(data)].ravel()[0]
        raise NotFinite(f"{name} must be finite numbers; found {bad}")
    return data


def finite_rows(rows: Iterable[Sequence[float]], name: str) -> list[list[float]]:
    """Rows of possibly different lengths (runs of controls, laboratories' replicates), every value finite."""
    out = [[finite(x, name) for x in row] for row in rows]
    return out


def positive(value: float, name: str) -> float:
    number = finite(value, name)
    if number <= 0:
        raise StatisticsInputError(f"{name} must be positive, not {number}")
    return number


def non_negative(value: float, name: str) -> float:
    number = finite(value, name)
    if number < 0:
        raise StatisticsInputError(f"{name} cannot be negative, not {number}")
    return number


def correlation(value: float, name: str = "a correlation coefficient") -> float:
    """A correlation coefficient lies in [−1, 1] (GUM C.3.6)."""
    r = finite(value, name)
    if not -1 <= r <= 1:
        raise StatisticsInputError(f"{name} must lie between −1 and 1, not {r}")
    return r


def degrees_of_freedom(value: float, name: str = "degrees of freedom") -> float:
    """At least 1, or infinite (an input known exactly, a Type B evaluation taken as certain); NaN refused."""
    try:
        nu = float(value)
    except (TypeError, ValueError) as exc:
        raise StatisticsInputError(f"{name} must be a number, not {value!r}") from exc
    if math.isnan(nu) or nu < 1:
        raise StatisticsInputError(f"{name} must be at least 1, not {nu}")
    return nu


def probability(value: float, name: str = "the coverage probability") -> float:
    p = finite(value, name)
    if not 0 < p < 1:
        raise StatisticsInputError(f"{name} must lie strictly between 0 and 1, not {p}")
    return p
