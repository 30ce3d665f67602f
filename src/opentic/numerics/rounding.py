"""Rounding of results per GB/T 8170-2008 (数值修约规则), on decimal values, never on floats.

The retained digit is rounded half to even (四舍六入五成双): a dropped part below half is cut, above half
carries, exactly half leaves an even retained digit. The sign is put back afterwards, so -0.0365 to three
places is -0.036. A value is rounded once, from its unrounded form: rounding 97.46 to units gives 97, and
never 97.5 then 98 (不允许连续修约). Intervals may be 10^n, or 0.5 and 0.2 units of a place (0.5 单位修约:
double, round, halve; 0.2 单位修约: times five, round, divide by five). Pure Python, no Django.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext

# The widest rounding computed: every digit of the value and of the result is kept (a rounding in fewer
# digits would round the dropped part first, then the retained digit: a double rounding, which the rule
# forbids). Result fields take 40 characters, so a value written out in full has at most 40 digits; 120
# leaves room for rounding it to any places a method asks for. A value beyond (1E+999 to two places) is
# refused with a message rather than computed in a context that would round it silently.
MAX_DIGITS = 120
# What a result may be: at most 60 significant digits, magnitudes from 1E−60 to 1E+60 (a 40-character field
# written out in full stays well inside; "1E+999" is refused where it is entered, not when it is printed).
RANGE = 60


class RoundingError(ValueError):
    pass


def to_decimal(value: Decimal | int | str) -> Decimal:
    """A result as entered: a decimal string keeps its digits; floats are refused (they have none)."""
    if isinstance(value, float):
        raise RoundingError("results are decimal numbers; pass them as text or Decimal, not float")
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise RoundingError(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise RoundingError(f"not a finite number: {value!r}")
    if number and (len(number.as_tuple().digits) > RANGE or not -RANGE <= number.adjusted() <= RANGE):
        raise RoundingError(f"{value!r} is outside the numbers results can have (at most {RANGE} digits, "
                            f"between 1E-{RANGE} and 1E+{RANGE})")
    return number


def _exact() -> Context:
    """A context in which the few operations of a rounding are exact (MAX_DIGITS checked beforehand)."""
    return Context(prec=MAX_DIGITS + 5, rounding=ROUND_HALF_EVEN, Emax=10 * MAX_DIGITS, Emin=-10 * MAX_DIGITS,
                   traps=[InvalidOperation])


def round_to_interval(value: Decimal | int | str, interval: Decimal | str) -> Decimal:
    """Round to a multiple of `interval`: 10^n (0.01, 1, 100), or 5·10^n and 2·10^n (the 0.5 and 0.2 units)."""
    number = to_decimal(value)
    step = to_decimal(interval)
    if step <= 0:
        raise RoundingError("the rounding interval must be positive")
    normal = step.normalize()
    digits = normal.as_tuple().digits
    if digits not in ((1,), (5,), (2,)):
        raise RoundingError(f"the rounding interval must be 1, 2 or 5 times a power of ten, not {interval}")
    exponent = normal.adjusted()
    # 0.5 units: double, round to the next power of ten, halve; 0.2 units: times five, round, divide by five.
    factor = {1: 1, 5: 2, 2: 5}[digits[0]]
    unit = exponent + (0 if factor == 1 else 1)
    width = max(len(number.as_tuple().digits) + 1, number.adjusted() - exponent + 3)
    if width > MAX_DIGITS or abs(exponent) > MAX_DIGITS:
        raise RoundingError(f"{value} cannot be rounded to {interval}: the rounding would need more than "
                            f"{MAX_DIGITS} digits")
    try:
        with localcontext(_exact()):
            scaled = abs(number) * factor
            rounded = scaled.quantize(Decimal(1).scaleb(unit), rounding=ROUND_HALF_EVEN) / factor
            # Keep the interval's exponent, so 1.050 to 0.1 reads 1.0 and 2500 to 1000 reads 2E+3, as GB/T 8170
            # writes.
            rounded = rounded.quantize(Decimal(1).scaleb(exponent))
    except InvalidOperation as exc:  # not expected after the width check; never leaked as decimal's own
        raise RoundingError(f"{value} cannot be rounded to {interval}") from exc
    return -rounded if number < 0 else rounded


def round_to_places(value: Decimal | int | str, places: int) -> Decimal:
    """Round to `places` decimal places (negative: to tens, hundreds …)."""
    if abs(places) > MAX_DIGITS:
        raise RoundingError(f"cannot round to {places} places (at most {MAX_DIGITS})")
    return round_to_interval(value, Decimal(1).scaleb(-places))


def round_to_significant(value: Decimal | int | str, figures: int) -> Decimal:
    """Round to `figures` significant figures. A carry that adds a digit (9.96 → 10.0) moves the first
    significant figure up, so the result is written with one place fewer (10, not 10.0): the dropped digit
    is the zero the carry made, so nothing is rounded twice."""
    if figures < 1:
        raise RoundingError("at least one significant figure")
    if figures > MAX_DIGITS:
        raise RoundingError(f"at most {MAX_DIGITS} significant figures")
    number = to_decimal(value)
    if number == 0:
        return number
    exponent = number.adjusted()  # the position of the first significant digit
    rounded = round_to_places(number, figures - 1 - exponent)
    if rounded.adjusted() > exponent:
        with localcontext(_exact()):
            rounded = rounded.quantize(Decimal(1).scaleb(rounded.adjusted() - figures + 1))
    return rounded
