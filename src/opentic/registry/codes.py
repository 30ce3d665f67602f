"""Pure parsing and validation of the identifiers the register holds. No Django import.

- unified social credit code (统一社会信用代码), GB 32100-2015, via python-stdnum;
- CMA certificate number (资质认定证书编号): 12 digits, year · issuing authority · field ·
  department · serial;
- standard codes such as ``GB 5009.12-2017`` or ``GB/T 228.1-2021``;
- resident identity card numbers (GB 11643-1999), via python-stdnum, only to key staff uniquely.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength


class CodeError(ValueError):
    """A malformed identifier; the message says what is wrong, in words a clerk can act on."""


def normalize_credit_code(value: str) -> str:
    """Return the 18-character code, or raise CodeError saying why it is not valid."""
    code = re.sub(r"\s+", "", value or "").upper()
    try:
        return str(uscc.validate(code))
    except InvalidLength as exc:
        raise CodeError(f"统一社会信用代码应为18位,实为{len(code)}位") from exc
    except InvalidChecksum as exc:
        raise CodeError("统一社会信用代码校验位错误(GB 32100-2015)") from exc
    except (InvalidFormat, InvalidComponent) as exc:
        raise CodeError("统一社会信用代码含非法字符(不得含 I、O、Z、S、V)") from exc


# The 2-digit issuing-authority codes of CMA certificates: 00 is the national authority (CNCA),
# 01–31 the provincial market regulators in the order of the national table (22 = Chongqing).
CMA_AUTHORITIES = {f"{n:02d}" for n in range(32)}


@dataclass(frozen=True)
class CmaNumber:
    number: str
    year: int
    authority: str
    field: str
    department: str
    serial: str


def parse_cma_number(value: str) -> CmaNumber:
    number = re.sub(r"\s+", "", value or "")
    if number.upper().startswith("CMA"):
        number = number[3:]
    if not re.fullmatch(r"\d{12}", number):
        raise CodeError("CMA证书编号应为12位数字")
    year, authority, field, department, serial = (
        number[0:2], number[2:4], number[4:6], number[6:8], number[8:12]
    )
    if authority not in CMA_AUTHORITIES:
        raise CodeError(f"CMA证书编号第3–4位发证机关代码 {authority} 不存在")
    if field == "00" or serial == "0000":
        raise CodeError("CMA证书编号的专业领域代码和流水号不能为0")
    return CmaNumber(number, 2000 + int(year), authority, field, department, serial)


_STANDARD = re.compile(
    r"^(?P<prefix>[A-Z]{1,6}(?:\s*/\s*[TZ])?)\s*(?P<number>[A-Z]{0,2}\d+(?:\.\d+)*)"
    r"(?:\s*[-—–－]\s*(?P<year>\d{4}|\d{2}))?$"
)


@dataclass(frozen=True)
class StandardCode:
    code: str  # "GB/T 228.1"
    year: str  # "2021", or "" when the reference is undated

    @property
    def full(self) -> str:
        return f"{self.code}-{self.year}" if self.year else self.code

    @property
    def compact(self) -> str:
        """The code without spaces, which is how people type it into a search box."""
        return compact_code(self.code)


def compact_code(code: str) -> str:
    return re.sub(r"\s+", "", code).upper()


def parse_standard_code(value: str) -> StandardCode:
    text = (value or "").strip().upper().replace("／", "/").replace("　", " ")
    match = _STANDARD.match(text)
    if not match:
        raise CodeError(f"标准编号“{value}”格式不正确,应如 GB 5009.12-2017 或 GB/T 228.1-2021")
    prefix = re.sub(r"\s+", "", match["prefix"])
    year = match["year"] or ""
    if len(year) == 2:
        # Standards before 2000 were cited with two-digit years (GB 11893-89).
        year = ("19" if int(year) >= 50 else "20") + year
    return StandardCode(f"{prefix} {match['number']}", year)


def _address_code_known(number: str, birth_year: int) -> bool:
    """Whether the first six digits are a county code (GB/T 2260) that still existed in the birth year.

    GB 11643-1999 6.2: the address code is that of the county of permanent residence when the number is
    assigned, not at birth. Chongqing's counties took codes 500xxx in 1997, and people born earlier who
    received or re-registered their numbers since carry them (江津区 500116 exists only from 2006), so a code
    created after the birth year is normal. A code retired before the person was born cannot be theirs.
    """
    from stdnum import numdb

    info = {k: v for _, props in numdb.get("cn/loc").info(number[:6]) for k, v in props.items()}
    if "county" not in info:
        return False
    for county in info["county"].split(","):
        if not county.startswith("["):
            return True
        end = county[1:].split("]")[0].split("-")[1]
        if not end or birth_year <= int(end):
            return True
    return False


def resident_id_key(value: str) -> str:
    """Validate a resident identity number (GB 11643-1999): format, check digit ISO 7064 MOD 11-2, birth date
    and address code (python-stdnum's own check compares the code with the birth year, which GB 11643 does not)."""
    number = re.sub(r"\s+", "", value or "").upper()
    if len(number) != 18:
        raise CodeError("身份证号码应为18位且出生日期有效")
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise CodeError("身份证号码应为17位数字加1位数字或X")
    if ric.calc_check_digit(number) != number[-1]:
        raise CodeError("身份证号码校验位错误")
    try:
        birth = ric.get_birth_date(number)
    except (InvalidComponent, ValueError) as exc:
        raise CodeError("身份证号码应为18位且出生日期有效") from exc
    if birth.year < 1850 or birth > dt.date.today():
        raise CodeError("身份证号码中的出生日期无效")
    if not _address_code_known(number, birth.year):
        raise CodeError("身份证号码的地址码不是有效的行政区划代码")
    return number


def mask_resident_id(number: str) -> str:
    return f"{number[:4]}{'*' * 10}{number[-4:]}" if len(number) == 18 else "*" * len(number)
