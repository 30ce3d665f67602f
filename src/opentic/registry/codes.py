"""Pure parsing and validation of the identifiers the register holds. No Django import.

- unified social credit code (统一社会信用代码), GB 32100-2015 and its amendment, over its whole alphabet (the
  registration-authority codes A, N and Y included);
- CMA certificate number (资质认定证书编号): 12 digits, year · issuing authority · field ·
  department · serial, each code from the published tables;
- standard codes such as ``GB 5009.12-2017`` or ``GB/T 228.1-2021``;
- resident identity card numbers (GB 11643-1999), via python-stdnum, only to key staff uniquely.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent


class CodeError(ValueError):
    """A malformed identifier; the message says what is wrong, in words a clerk can act on."""


# GB 32100-2015 法人和其他组织统一社会信用代码编码规则, with its amendment No. 1: 18 characters of a 31-character
# alphabet (digits and capitals without I, O, Z, S, V). Position 1 is the registration authority, 2 the kind
# of organisation within it, 3–8 the administrative division of the registering office (GB/T 2260), 9–17
# the subject's organisation code (GB 11714), 18 the check character (GB/T 17710, ISO 7064 MOD 31-3).
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Registration authority → its kinds of organisation (Table 1 of the standard and the amendment).
CREDIT_KINDS: dict[str, dict[str, str]] = {
    "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},  # 机构编制
    "2": {"1": "外国常驻新闻机构", "9": "其他"},  # 外交
    "3": {"1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构", "5": "仲裁委员会",
          "9": "其他"},  # 司法行政
    "4": {"1": "外国在华文化中心", "9": "其他"},  # 文化
    "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},  # 民政
    "6": {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},  # 旅游
    "7": {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"},  # 宗教
    "8": {"1": "基层工会", "9": "其他"},  # 工会
    "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},  # 工商 (市场监管)
    "A": {"1": "军队事业单位", "9": "其他"},  # 中央军委改革和编制办公室
    "N": {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},  # 农业
    "Y": {"1": "其他"},  # 其他: one kind only
}
# The weight of position i (1-based) is 3^(i−1) mod 31.
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def credit_check_char(body: str) -> str:
    """The 18th character of a code whose first 17 are `body`: 31 − (Σ value × weight mod 31), 31 written 0."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    """Return the 18-character code, or raise CodeError saying why it is not valid."""
    code = re.sub(r"\s+", "", value or "").upper()
    if len(code) != 18:
        raise CodeError(f"统一社会信用代码应为18位,实为{len(code)}位")
    bad = [c for c in code if c not in CREDIT_ALPHABET]
    if bad:
        raise CodeError(f"统一社会信用代码含非法字符“{bad[0]}”(只用数字和大写字母,不得含 I、O、Z、S、V)")
    kinds = CREDIT_KINDS.get(code[0])
    if kinds is None:
        raise CodeError(f"统一社会信用代码第1位登记管理部门代码“{code[0]}”不存在（应为 1–9、A、N 或 Y）")
    if code[1] not in kinds:
        raise CodeError(f"统一社会信用代码第2位机构类别代码“{code[1]}”不属于登记管理部门“{code[0]}”"
                        f"（可为 {'、'.join(kinds)}）")
    if not all(c in "0123456789" for c in code[2:8]):
        raise CodeError("统一社会信用代码第3–8位应为登记管理机关的行政区划代码（6位数字）")
    if code[17] != credit_check_char(code[:17]):
        raise CodeError("统一社会信用代码校验位错误(GB 32100-2015)")
    return code


# The numbering rule of CMA certificates (资质认定证书编号, CNCA, in force since the 2015 certificates): 12 digits,
# positions 1–2 the year of issue, 3–4 the issuing authority, 5–6 the professional field, 7–8 the supervising
# department of the industry, 9–12 a serial from 0001.
CMA_AUTHORITIES = {
    "00": "国家认监委", "01": "北京", "02": "天津", "03": "河北", "04": "山西", "05": "内蒙古", "06": "辽宁",
    "07": "吉林", "08": "黑龙江", "09": "上海", "10": "江苏", "11": "浙江", "12": "安徽", "13": "福建", "14": "江西",
    "15": "山东", "16": "河南", "17": "湖北", "18": "湖南", "19": "广东", "20": "广西", "21": "海南", "22": "重庆",
    "23": "四川", "24": "贵州", "25": "云南", "26": "西藏", "27": "陕西", "28": "甘肃", "29": "青海", "30": "宁夏",
    "31": "新疆",
}
# A laboratory able to test food is always field 00, whatever else it tests.
CMA_FIELDS = {
    "00": "食品", "01": "建筑工程", "02": "建材", "03": "卫生计生", "04": "农林牧渔", "05": "机动车安检",
    "06": "公安刑事技术", "07": "司法鉴定", "08": "机械", "09": "电子信息", "10": "轻工", "11": "纺织服装",
    "12": "环境与环保", "13": "水质", "14": "化工", "15": "医疗器械", "16": "采矿冶金", "17": "能源", "18": "医学",
    "19": "生物安全", "20": "综合", "21": "其他",
}
CMA_DEPARTMENTS = {
    "00": "教育", "01": "工业和信息", "02": "公安", "03": "司法", "04": "国土资源", "05": "环保", "06": "住房与建设",
    "07": "交通", "08": "水利", "09": "农业", "10": "卫计委", "11": "技术监督", "12": "检验检疫", "13": "安全生产",
    "14": "食品药品", "15": "林业", "16": "中科院", "17": "粮食", "18": "国防科工", "19": "海洋", "20": "测绘",
    "21": "铁路", "22": "机械", "23": "化工", "24": "石油", "25": "电力", "26": "轻工", "27": "商贸", "28": "建材",
    "29": "供销", "30": "分析测试与冶金", "31": "有色", "32": "节能", "33": "军队", "34": "其他",
}


@dataclass(frozen=True)
class CmaNumber:
    number: str
    year: int
    authority: str
    field: str
    department: str
    serial: str

    @property
    def authority_name(self) -> str:
        return CMA_AUTHORITIES[self.authority]

    @property
    def field_name(self) -> str:
        return CMA_FIELDS[self.field]

    @property
    def department_name(self) -> str:
        return CMA_DEPARTMENTS[self.department]


def parse_cma_number(value: str) -> CmaNumber:
    number = re.sub(r"\s+", "", value or "")
    if number.upper().startswith("CMA"):
        number = number[3:]
    if not re.fullmatch(r"[0-9]{12}", number):  # ASCII digits only: \d would take full-width and other digits
        raise CodeError("CMA证书编号应为12位数字")
    year, authority, field, department, serial = (
        number[0:2], number[2:4], number[4:6], number[6:8], number[8:12]
    )
    if authority not in CMA_AUTHORITIES:
        raise CodeError(f"CMA证书编号第3–4位发证机关代码 {authority} 不存在"
                        "（00 为国家认监委，01–31 为各省级市场监管部门）")
    if field not in CMA_FIELDS:
        raise CodeError(f"CMA证书编号第5–6位专业领域类别代码 {field} 不存在（应为 00 食品至 21 其他）")
    if department not in CMA_DEPARTMENTS:
        raise CodeError(f"CMA证书编号第7–8位行业主管部门代码 {department} 不存在（应为 00 至 34）")
    if serial == "0000":
        raise CodeError("CMA证书编号第9–12位发证流水号从 0001 开始，不能为 0000")
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
