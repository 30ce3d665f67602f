import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc

from opentic.registry.codes import (
    CMA_AUTHORITIES,
    CMA_DEPARTMENTS,
    CMA_FIELDS,
    CREDIT_ALPHABET,
    CREDIT_KINDS,
    CodeError,
    credit_check_char,
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
        # a correct check character can still fail on the authority, kind or division; never on the checksum
        with pytest.raises(CodeError, match=r"(登记管理部门|机构类别|行政区划)"):
            normalize_credit_code(body + check)


def test_cma_number_parts() -> None:
    cma = parse_cma_number("CMA 162212050386")
    assert (cma.year, cma.authority, cma.field, cma.department, cma.serial) == (2016, "22", "12", "05", "0386")


@pytest.mark.parametrize(("number", "message"), [
    ("16221205038", "12位数字"), ("1622120503861", "12位数字"), ("16AB12050386", "12位数字"),
    ("１６２２１２０５０３８６", "12位数字"),  # full-width digits are not the number's digits
    ("169912050386", "发证机关代码 99"), ("163212050386", "发证机关代码 32"),
    ("162222050386", "专业领域类别代码 22"), ("210099990001", "专业领域类别代码 99"),
    ("162212350386", "行业主管部门代码 35"), ("162212990386", "行业主管部门代码 99"),
    ("162212050000", "流水号"),
])
def test_cma_number_rejects_codes_outside_the_published_tables(number: str, message: str) -> None:
    with pytest.raises(CodeError, match=message):
        parse_cma_number(number)


def test_cma_field_00_food_is_accepted() -> None:
    # "具备食品检验检测能力的机构一律按照00类划分": food laboratories are field 00 (was refused)
    cma = parse_cma_number("212200110123")
    assert (cma.year, cma.authority_name, cma.field, cma.field_name, cma.department_name, cma.serial) == (
        2021, "重庆", "00", "食品", "技术监督", "0123")


@pytest.mark.parametrize("authority", [f"{n:02d}" for n in range(32)])
@pytest.mark.parametrize("field", [f"{n:02d}" for n in range(22)])
def test_every_authority_and_field_of_the_tables(authority: str, field: str) -> None:
    cma = parse_cma_number(f"23{authority}{field}110001")
    assert (cma.authority, cma.field, cma.department) == (authority, field, "11")
    assert cma.authority_name and cma.field_name


@pytest.mark.parametrize("department", [f"{n:02d}" for n in range(35)])
def test_every_supervising_department_of_the_table(department: str) -> None:
    cma = parse_cma_number(f"242212{department}0001")
    assert cma.department == department and cma.department_name


def test_the_tables_are_the_published_ones() -> None:
    assert (len(CMA_AUTHORITIES), len(CMA_FIELDS), len(CMA_DEPARTMENTS)) == (32, 22, 35)
    assert (CMA_AUTHORITIES["22"], CMA_FIELDS["00"], CMA_FIELDS["21"], CMA_DEPARTMENTS["34"]) == (
        "重庆", "食品", "其他", "其他")


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


# GB 32100-2015 Table 2 prints the weights of positions 1–17; the check character is 31 − (Σ mod 31).
PRINTED_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def printed_check(body: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(body, PRINTED_WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    """Valid codes of every registration authority and kind, any division and organisation code."""
    authority = draw(st.sampled_from(sorted(CREDIT_KINDS)))
    kind = draw(st.sampled_from(sorted(CREDIT_KINDS[authority])))
    division = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    subject = draw(st.text(alphabet=ALPHABET, min_size=9, max_size=9))
    body = authority + kind + division + subject
    return body + printed_check(body)


@given(valid_codes())
def test_valid_codes_of_every_kind_are_accepted(code: str) -> None:
    assert normalize_credit_code(code.lower()) == code
    assert credit_check_char(code[:17]) == code[17] == uscc.calc_check_digit(code[:17])


@pytest.mark.parametrize("authority", sorted(CREDIT_KINDS))
def test_every_registration_authority_and_kind(authority: str) -> None:
    for kind in CREDIT_KINDS[authority]:
        body = f"{authority}{kind}500112MF0000000"
        assert normalize_credit_code(body + printed_check(body)) == body + printed_check(body)
    outside = next(k for k in "123456789" if k not in CREDIT_KINDS[authority])
    body = f"{authority}{outside}500112MF0000000"
    with pytest.raises(CodeError, match="机构类别代码"):
        normalize_credit_code(body + printed_check(body))


def test_the_reviews_agricultural_collective_code() -> None:
    # N (农业) 2 (村级集体经济组织), 500112 (渝北区): the library that assumes digits called it "含非法字符".
    assert printed_check("N2500112MF0000000") == "K"
    assert normalize_credit_code("N2500112MF0000000K") == "N2500112MF0000000K"
    assert normalize_credit_code("A1500000MF0000000" + printed_check("A1500000MF0000000"))
    assert normalize_credit_code("Y1500000MF0000000" + printed_check("Y1500000MF0000000"))


@pytest.mark.parametrize(("code", "message"), [
    ("B1500112MF0000000K", "登记管理部门代码“B”"),
    ("Y2500112MF0000000K", "机构类别代码“2”"),
    ("N25001A2MF0000000K", "行政区划"),
    ("N2500112MF0000000A", "校验位"),
    ("N2500112MF000000ZK", "非法字符“Z”"),
])
def test_credit_codes_refused_with_the_reason(code: str, message: str) -> None:
    with pytest.raises(CodeError, match=message):
        normalize_credit_code(code)
    assert CREDIT_ALPHABET == ALPHABET
