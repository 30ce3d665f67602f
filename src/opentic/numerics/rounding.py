"""Rounding of results per GB/T 8170-2008 (数值修约规则), on decimal values, never on floats.

The retained digit is rounded half to even (四舍六入五成双): a dropped part below half is cut, above half
carries, exactly half leaves an even retained digit. The sign is put back afterwards, so -0.0365 to three
places is -0.036. A value is rounded once, from its unrounded form: rounding 97.46 to units gives 97, and
never 97.5 then 98 (不允许连续修约). Intervals may be 10^n, or 0.5 and 0.2 units of a place (0.5 单位修约:
double, round, halve; 0.2 单位修约: times five, round, divide by five). Pure Python, no Django.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation


class RoundingError(ValueError):
    pass


def to_decimal(value: Decimal | int | str) -> Decimal:
    """A result as entered: a decimal string keeps its digits; floats are refused (they have none)."""
    if isinstance(value, float):
        raise RoundingError("results are decimal numbers; pass them as text or Decimal, not float")
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise RoundingError(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise RoundingError(f"not a finite number: {value!r}")
    return number


def round_to_interval(value: Decimal | int | str, interval: Decimal | str) -> Decimal:
    """Round to a multiple of `interval`: 10^n (0.01, 1, 100), or 5·10^n and 2·10^n (the 0.5 and 0.2 units)."""
    number = to_decimal(value)
    step = to_decimal(interval)
    if step <= 0:
        raise RoundingError("the rounding interval must be positive")
    digits = step.normalize().as_tuple()
    if digits.digits not in ((1,), (5,), (2,)):
        raise RoundingError(f"the rounding interval must be 1, 2 or 5 times a power of ten, not {interval}")
    quotient = abs(number) / step
    rounded = quotient.quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * step
    # Keep the interval's exponent, so 1.050 to 0.1 reads 1.0 and 2500 to 1000 reads 2E+3, as GB/T 8170 writes.
    rounded = rounded.quantize(Decimal(1).scaleb(step.normalize().adjusted()))
    return -rounded if number < 0 else rounded


def round_to_places(value: Decimal | int | str, places: int) -> Decimal:
    """Round to `places` decimal places (negative: to tens, hundreds …)."""
    return round_to_interval(value, Decimal(1).scaleb(-places))


def round_to_significant(value: Decimal | int | str, figures: int) -> Decimal:
    if figures < 1:
        raise RoundingError("at least one significant figure")
    number = to_decimal(value)
    if number == 0:
        return number
    exponent = number.adjusted()  # the position of the first significant digit
    return round_to_places(number, figures - 1 - exponent)
