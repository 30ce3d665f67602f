"""GB/T 8170-2008 数值修约规则, clause 3 and its examples (the numbers are the standard's own)."""

from decimal import Decimal

import pytest

from opentic.numerics.reporting import Reporting, formatted
from opentic.numerics.rounding import RoundingError, round_to_interval, round_to_places, round_to_significant

D = Decimal


@pytest.mark.parametrize(("value", "interval", "expected"), [
    # 3.3.1: the leftmost dropped digit is below 5: cut.
    ("12.1498", "0.1", "12.1"),
    ("12.1498", "1", "12"),
    # 3.3.2: above 5 (or 5 followed by non-zero digits): carry.
    ("1268", "100", "13E+2"),
    ("10.5002", "1", "11"),
    # 3.3.4: exactly 5: keep an even retained digit.
    ("1.050", "0.1", "1.0"),
    ("0.35", "0.1", "0.4"),
    ("2500", "1000", "2E+3"),
    ("3500", "1000", "4E+3"),
    # 3.3.5: negative numbers: round the absolute value, then restore the sign.
    ("-355", "10", "-36E+1"),
    ("-325", "10", "-32E+1"),
    ("-0.0365", "0.001", "-0.036"),
    # 3.5.1: 0.5-unit rounding.
    ("60.25", "0.5", "60.0"),
    ("60.38", "0.5", "60.5"),
    ("60.28", "0.5", "60.5"),
    ("-60.75", "0.5", "-61.0"),
    # 3.5.2: 0.2-unit rounding (to 20 units).
    ("830", "20", "84E+1"),
    ("842", "20", "84E+1"),
    ("-930", "20", "-92E+1"),
])
def test_the_standards_examples(value: str, interval: str, expected: str) -> None:
    rounded = round_to_interval(value, interval)
    assert rounded == D(expected)
    if "E" not in expected:  # decimals keep the interval's places: 1.0, not 1
        assert str(rounded) == expected


def test_no_double_rounding() -> None:
    # 3.4: 97.46 to units is 97, from the value itself; rounding first to 97.5 and then to 98 is wrong.
    assert round_to_places("97.46", 0) == 97
    assert round_to_places(round_to_places("97.46", 1), 0) == 98  # what the rule forbids, for contrast
    assert round_to_places("15.4546", 0) == 15


def test_places_and_significant_figures() -> None:
    assert str(round_to_places("0.04250", 3)) == "0.042"
    assert str(round_to_places("0.04251", 3)) == "0.043"
    assert str(round_to_significant("0.0012345", 3)) == "0.00123"
    assert str(round_to_significant("123456", 2)) == "1.2E+5"
    assert round_to_significant("0", 3) == 0


def test_bad_input_is_refused() -> None:
    for bad in [0.1, "abc", "NaN", "Infinity"]:
        with pytest.raises(RoundingError):
            round_to_places(bad, 1)  # type: ignore[arg-type]
    with pytest.raises(RoundingError):
        round_to_interval("1.2", "0.3")
    with pytest.raises(RoundingError):
        round_to_interval("1.2", "0")


def test_no_double_rounding_beyond_28_digits() -> None:
    # decimal's default context keeps 28 digits: the quotient 2.5000000000000000000000000000(1) was rounded to
    # 2.5 first, then half to even: 0.2. The value is above half: it carries.
    assert str(round_to_places("0.25000000000000000000000000001", 1)) == "0.3"
    assert str(round_to_places("0.2500000000000000000000000000000000000000", 1)) == "0.2"  # 40 characters, half
    assert str(round_to_places("-0.35000000000000000000000000000000000001", 1)) == "-0.4"
    assert round_to_interval("60.250000000000000000000000000000000001", "0.5") == D("60.5")
    assert round_to_interval("850.00000000000000000000000000000000001", "20") == D("860")  # 42.5000…05 units
    # 40 significant digits rounded to 39: the last digit decides, half to even
    assert str(round_to_places("1234567890123456789012345678901234567.25", 1)) == \
        "1234567890123456789012345678901234567.2"


def test_large_values_round_instead_of_raising_invalid_operation() -> None:
    assert round_to_places("1E+30", 0) == D(10) ** 30
    assert str(round_to_places("1E+30", 0)) == "1" + "0" * 30
    assert formatted(D("1e30"), Reporting(places=2)) == "1" + "0" * 30 + ".00"
    assert round_to_significant("1.23456E+45", 3) == D("1.23E+45")
    # beyond what a result may be: refused with a message, never decimal.InvalidOperation
    for bad in ("1E+999", "1E-999", "9" * 61):
        with pytest.raises(RoundingError, match="outside the numbers"):
            round_to_places(bad, 2)
    with pytest.raises(RoundingError):
        round_to_places("1.5", 10**6)


@pytest.mark.parametrize(("value", "figures", "expected"), [
    ("9.96", 2, "10"),  # the carry adds a digit: two figures are 10, not 10.0
    ("0.0999", 2, "0.10"),
    ("99.5", 2, "1.0E+2"),  # 99.5 → 100 (half to even: 9 is odd), two figures
    ("9.5", 1, "1E+1"),
    ("0.995", 2, "1.0"),  # 0.99|5 → 1.00 → 1.0
    ("-9.96", 2, "-10"),
    ("9.94", 2, "9.9"),  # no carry: unchanged behaviour
    ("0.0012345", 3, "0.00123"),
])
def test_significant_figures_after_a_carry(value: str, figures: int, expected: str) -> None:
    rounded = round_to_significant(value, figures)
    assert str(rounded) == expected
    assert len(rounded.as_tuple().digits) == figures  # exactly that many figures are written
