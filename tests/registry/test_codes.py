import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc

from opentic.registry.codes import (
    CodeError,
    mask_resident_id,
    normalize_credit_code,
    parse_cma_number,
    parse_standard_code,
    resident_id_key,
)
from tests.conftest import CODE_A

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def test_credit_code_accepts_valid_and_normalises_spacing_and_case() -> None:
    assert normalize_credit_code(" 91500116ma5u7k3t2r ") == CODE_A


@pytest.mark.parametrize(("code", "message"), [
    ("91500116MA5U7K3T2", "应为18位"),
    ("91500116MA5U7K3T2A", "校验位错误"),
    ("91500116MA5U7K3TOR", "非法字符"),
])
def test_credit_code_rejects_with_the_reason(code: str, message: str) -> None:
    with pytest.raises(CodeError, match=message):
        normalize_credit_code(code)


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17), st.sampled_from(ALPHABET))
def test_exactly_one_check_character_is_valid(body: str, check: str) -> None:
    # GB 32100-2015: weights 3^i mod 31, check = 31 - sum mod 31. One and only one check character fits.
    expected = uscc.calc_check_digit(body)
    valid = True
    try:
        normalize_credit_code(body + check)
    except CodeError:
        valid = False
    if valid:
        assert check == expected
    elif check == expected:
        # a correct check digit can still fail on the organisation-code part; never on the checksum
        with pytest.raises(CodeError, match=r"(非法字符|格式)"):
            normalize_credit_code(body + check)


def test_cma_number_parts() -> None:
    cma = parse_cma_number("CMA 162212050386")
    assert (cma.year, cma.authority, cma.field, cma.department, cma.serial) == (2016, "22", "12", "05", "0386")


@pytest.mark.parametrize("number", ["16221205038", "1622120503861", "16AB12050386", "169912050386",
                                    "162200050386", "162212050000"])
def test_cma_number_rejects_malformed(number: str) -> None:
    with pytest.raises(CodeError):
        parse_cma_number(number)


@pytest.mark.parametrize(("text", "code", "year"), [
    ("GB 5009.12-2017", "GB 5009.12", "2017"),
    ("gb5009.12—2017", "GB 5009.12", "2017"),
    ("GB/T 228.1-2021", "GB/T 228.1", "2021"),
    ("GB／T228.1－2021", "GB/T 228.1", "2021"),
    ("GB 11893-89", "GB 11893", "1989"),
    ("JGJ/T 23-2011", "JGJ/T 23", "2011"),
    ("TSG ZF001-2006", "TSG ZF001", "2006"),
    ("HJ 700", "HJ 700", ""),
])
def test_standard_codes(text: str, code: str, year: str) -> None:
    parsed = parse_standard_code(text)
    assert (parsed.code, parsed.year) == (code, year)


@given(st.sampled_from(["GB", "GB/T", "HJ", "NY/T", "JJG", "YY", "GBZ/T"]),
       st.lists(st.integers(1, 9999), min_size=1, max_size=3), st.integers(1950, 2049))
def test_standard_code_round_trip(prefix: str, parts: list[int], year: int) -> None:
    text = f"{prefix} {'.'.join(map(str, parts))}-{year}"
    assert parse_standard_code(text).full == text
    assert parse_standard_code(parse_standard_code(text).compact + f"-{year}").full == text


@pytest.mark.parametrize("text", ["", "5009.12-2017", "GB", "GB 5009.12-17-1", "铅"])
def test_standard_code_rejects(text: str) -> None:
    with pytest.raises(CodeError, match="格式不正确"):
        parse_standard_code(text)


def test_resident_id_check_digit_and_mask() -> None:
    assert resident_id_key("11010519491231002X") == "11010519491231002X"
    with pytest.raises(CodeError, match="校验位"):
        resident_id_key("110105194912310021")
    assert mask_resident_id("11010519491231002X") == "1101**********002X"
