"""A deterministic, realistic Chongqing: institutions, accredited scopes, staff, instruments, accounts.

The same seed and day give the same data. Institutions are spread over the value-chain domains in the
proportions of the plan's table (reference/domains.csv) and over the districts by region; their scopes
are drawn from a catalogue of real Chinese standards (data/catalogue.csv). Staff and instruments follow
the plan's ratios: 27,400 staff and 211,000 instruments for 689 institutions.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from stdnum.cn import ric

from opentic.core import audit
from opentic.core.bulk import insert_rows
from opentic.core.models import Role, User
from opentic.registry import tally
from opentic.registry.codes import credit_check_char, mask_resident_id, parse_standard_code
from opentic.registry.models import (
    District,
    Domain,
    Institution,
    InstitutionStatus,
    InstitutionStatusChange,
    Instrument,
    Parameter,
    ScopeLine,
    SignatoryAuthorization,
    Staff,
    Standard,
    TestObject,
)
from opentic.registry.services import person_key

DATA = Path(__file__).resolve().parent / "data"
DEMO_PASSWORD = "opentic-demo"


@dataclass(frozen=True)
class Scale:
    institutions: int
    staff_per_institution: float  # 0 leaves staff out
    instruments_per_institution: float
    lines_factor: float  # share of catalogue lines an institution holds, per domain
    related: float  # chance that a lab also holds each domain related to its main one
    secondary: float  # share of a related domain's catalogue lines it holds


SCALES = {
    "tiny": Scale(24, 6, 8, 0.7, 0.5, 0.56),
    "chongqing": Scale(689, 27_400 / 689, 211_000 / 689, 0.8, 0.6, 0.64),
    # A national register: 53,000 institutions and about 10 million scope lines; no staff or instruments.
    "national": Scale(53_000, 0, 0, 0.95, 0.95, 0.95),
}

REGION_WEIGHTS = {"中心城区": 45, "主城新区": 35, "渝东北三峡库区城镇群": 12, "渝东南武陵山区城镇群": 8}
# Domains a lab of one domain commonly also holds (a CDC also tests food; a food lab, farm produce).
RELATED = {
    "M13": ["M8", "M11", "M14"], "M8": ["M7", "M13"], "M7": ["M8", "M11"], "M11": ["M14", "M7"],
    "M15": ["M3", "M14"], "M3": ["M15", "M4"], "M1": ["M2", "M3"], "M2": ["M5", "M4"],
    "M4": ["M2", "M3"], "M14": ["M11", "M15"], "M17": ["M3", "M14"], "M9": ["M3", "M8"],
    "M10": ["M11", "M3"], "M12": ["M13", "M9"], "M6": ["M4", "M2"], "M5": ["M2"], "M16": ["M13"],
    "U1": ["M4", "M2"],
}
ZONE_DISTRICTS = {
    "LJXQ": {"500105", "500112", "500109"},
    "GXQ": {"500106", "500107", "500109", "500116", "500120"},
    "JKQ": {"500108"},
    "WSJKQ": {"500110"},
}
NAME_PATTERNS: dict[str, list[tuple[str, str]]] = {
    # domain: [(ownership, name pattern)]; {d} district, {b} brand
    "M13": [("public_institution", "重庆市{d}疾病预防控制中心"), ("public_institution", "重庆市{d}卫生监督检测所"),
            ("private", "重庆{b}卫生检测技术有限公司")],
    "M8": [("public_institution", "重庆市{d}食品药品检验检测所"), ("private", "重庆{b}食品检测有限公司")],
    "M7": [("public_institution", "重庆市{d}农产品质量安全检测中心"), ("private", "重庆{b}农业检测有限公司")],
    "M11": [("public_institution", "重庆市{d}生态环境监测站"), ("private", "重庆{b}环境检测有限公司")],
    "M15": [("state_owned", "重庆{d}建设工程质量检测中心有限公司"), ("private", "重庆{b}建设工程检测有限公司")],
    "M14": [("private", "重庆{b}安全技术服务有限公司"), ("public_institution", "重庆市{d}防雷中心")],
    "M16": [("private", "重庆{b}司法鉴定所"), ("public_institution", "重庆市{d}公安局物证鉴定所")],
    "M17": [("public_institution", "重庆市{d}特种设备检测研究院分院"), ("private", "重庆{b}无损检测有限公司")],
    "M1": [("private", "重庆{b}机动车检测有限公司"), ("foreign", "{b}汽车技术服务(重庆)有限公司")],
    "M2": [("private", "重庆{b}电子产品检测有限公司"), ("foreign", "{b}电子技术检测(重庆)有限公司")],
    "M3": [("private", "重庆{b}材料检测技术有限公司"), ("state_owned", "重庆{b}理化检测中心有限公司")],
    "M4": [("private", "重庆{b}智能装备检测有限公司")],
    "M5": [("private", "重庆{b}软件测评中心有限公司")],
    "M6": [("public_institution", "重庆市{d}计量质量检测研究院"), ("private", "重庆{b}计量校准有限公司")],
    "M9": [("public_institution", "重庆市{d}产品质量监督检验所"), ("private", "重庆{b}产品检测有限公司")],
    "M10": [("state_owned", "重庆{b}能源检测有限公司")],
    "M12": [("public_institution", "重庆市{d}医疗器械检验所"), ("private", "重庆{b}生物医药检测有限公司")],
    "U1": [("private", "重庆{b}仪器科技有限公司")],
}
DOMAIN_NOUN = {"M13": "卫生检测", "M8": "食品检测", "M7": "农产品检测", "M11": "环境检测", "M15": "建设工程检测",
               "M14": "安全技术", "M16": "司法鉴定", "M17": "特种设备检测", "M1": "机动车检测",
               "M2": "电子产品检测", "M3": "材料检测", "M6": "计量校准", "M9": "产品质量检测"}
BRANDS = [
    "渝环", "巴渝", "山城", "两江", "嘉陵", "长江", "缙云", "渝信", "正源", "中渝",
    "博睿", "精诚", "绿源", "德信", "联测", "华渝", "金佛", "九龙", "明月", "南山",
    "歌乐", "朝天", "龙湖", "渝州", "鼎衡", "卓测", "信诺", "安测", "鑫源", "众诚",
    "天衡", "科信", "恒信", "铭测", "海棠", "沙坪", "黔渝",
]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马胡朱郭何罗高林郑梁谢唐许冯宋韩邓彭曹曾田萧潘袁蔡蒋余于杜叶程魏苏吕丁任卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国红梅鹏飞晓东婷宇浩然思雨欣怡俊杰志强子涵雪莉"
TITLES = ["工程师", "高级工程师", "正高级工程师", "助理工程师", "技术员", "主管技师", "副主任技师", ""]
POSITIONS = ["检测员", "检测员", "检测员", "报告审核员", "技术负责人", "质量负责人", "样品管理员", "设备管理员"]
INSTRUMENTS_LARGE = [
    ("电感耦合等离子体质谱仪", "Agilent 7900", Decimal("1650000")),
    ("液相色谱-串联质谱仪", "SCIEX Triple Quad 6500+", Decimal("2800000")),
    ("气相色谱-质谱联用仪", "Agilent 8890-5977B", Decimal("980000")),
    ("电感耦合等离子体发射光谱仪", "Thermo iCAP PRO", Decimal("720000")),
    ("原子吸收分光光度计", "PerkinElmer PinAAcle 900T", Decimal("560000")),
    ("电液伺服万能试验机", "WAW-1000D", Decimal("520000")),
    ("电磁兼容测试系统", "R&S ESW26", Decimal("3200000")),
    ("X射线荧光光谱仪", "Bruker S8 TIGER", Decimal("1900000")),
]
INSTRUMENTS_SMALL = [
    ("电子天平", "Mettler Toledo XS205", "0~220 g", Decimal("38000")),
    ("电热恒温干燥箱", "DHG-9140A", "RT+10~250 ℃", Decimal("6800")),
    ("箱式电阻炉", "SX2-4-10", "≤1000 ℃", Decimal("9500")),
    ("pH计", "Mettler Toledo FE28", "0.00~14.00", Decimal("4200")),
    ("紫外可见分光光度计", "Shimadzu UV-2600i", "185~900 nm", Decimal("128000")),
    ("原子荧光光度计", "北京吉天 AFS-8520", "—", Decimal("168000")),
    ("高效液相色谱仪", "Waters e2695", "—", Decimal("420000")),
    ("气相色谱仪", "Agilent 8860", "—", Decimal("310000")),
    ("可调移液器", "Eppendorf Research plus", "100~1000 μL", Decimal("3200")),
    ("温湿度计", "TH101B", "-20~60 ℃", Decimal("350")),
    ("压力试验机", "YAW-3000", "0~3000 kN", Decimal("185000")),
    ("数显回弹仪", "HT225-W", "10~60 MPa", Decimal("4800")),
    ("声级计", "AWA5688", "28~133 dB(A)", Decimal("12000")),
    ("接地电阻测试仪", "Fluke 1625-2", "0.020 Ω~300 kΩ", Decimal("36000")),
    ("生物安全柜", "Thermo 1300 Series A2", "—", Decimal("68000")),
]


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _org_code(rng: random.Random) -> str:
    """A GB 11714 organisation code: eight characters and their check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(rng.choice(alphabet) for _ in range(8))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(w * (int(c) if c.isdigit() else ord(c) - 55) for w, c in zip(weights, body, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, ownership: str, district: str) -> str:
    head = "12" if ownership in ("public_institution", "administrative") else "91"
    body = head + district + _org_code(rng)
    return body + credit_check_char(body)


def resident_id(rng: random.Random, district: str) -> str:
    born = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(365 * 37))
    body = f"{district}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body)


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _catalogue() -> tuple[dict[str, TestObject], dict[str, Parameter], dict[str, Standard]]:
    """Create the shared catalogues (objects with their tree, parameters, standards)."""
    objects: dict[str, TestObject] = {o.name: o for o in TestObject.objects.all()}
    for row in read_csv("objects.csv"):
        if row["name"] not in objects:
            objects[row["name"]] = TestObject.objects.create(
                name=row["name"], parent=objects.get(row["parent"]) if row["parent"] else None
            )
    lines = read_csv("catalogue.csv")
    parameters = {p.name: p for p in Parameter.objects.all()}
    for name in sorted({p for r in lines for p in r["parameters"].split(";")} - set(parameters)):
        parameters[name] = Parameter.objects.create(name=name)
    standards = {s.full_code: s for s in Standard.objects.all()}
    for row in lines:
        code = parse_standard_code(row["standard"])
        if code.full not in standards:
            standards[code.full] = Standard.objects.create(
                code=code.code, year=code.year, compact=code.compact, title=row["title"]
            )
    return objects, parameters, standards


def analyze() -> None:
    """After a bulk load on PostgreSQL: planner statistics, and the visibility map that lets the finder's
    covering indexes answer without the heap. Must run outside a transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


@dataclass
class Summary:
    institutions: int = 0
    scope_lines: int = 0
    staff: int = 0
    instruments: int = 0


@transaction.atomic
def generate(scale: str = "chongqing", seed: int = 2023, today: dt.date | None = None,
             institutions: int | None = None) -> Summary:
    if Institution.objects.exists():
        raise ValueError("the register is not empty; demo data goes into an empty database")
    params = SCALES[scale]
    count = institutions or params.institutions
    today = today or timezone.localdate()
    rng = random.Random(seed)
    summary = Summary()

    objects, parameters, standards = _catalogue()
    catalogue = read_csv("catalogue.csv")
    by_domain: dict[str, list[dict[str, str]]] = {}
    for row in catalogue:
        by_domain.setdefault(row["domain"], []).append(row)
    domain_weights = {d.code: float(d.institutions_2022 or 0) for d in Domain.objects.all()
                      if d.institutions_2022 and (d.code in by_domain or d.code == "U1")}
    districts = list(District.objects.all())
    district_weights = {
        d.code: REGION_WEIGHTS[d.region] / sum(1 for x in districts if x.region == d.region) for d in districts
    }
    district_names = {d.code: d.name for d in districts}

    # Institutions: created through the ORM in bulk, with their status history.
    new: list[Institution] = []
    plans: list[tuple[list[str], list[str]]] = []
    used_names: set[str] = set()
    for i in range(count):
        primary = _weighted(rng, domain_weights)
        domains = [primary] + [d for d in RELATED.get(primary, []) if rng.random() < params.related]
        district = _weighted(rng, district_weights)
        zones = [z for z, ds in ZONE_DISTRICTS.items() if district in ds and rng.random() < 0.4]
        ownership, pattern = rng.choice(NAME_PATTERNS[primary])
        name = pattern.format(d=district_names[district], b=rng.choice(BRANDS))
        if name in used_names:  # one CDC per district: a second lab of the kind is a company
            ownership, pattern = "private", f"重庆{{b}}{DOMAIN_NOUN.get(primary, '检测技术')}有限公司"
            name = pattern.format(b="".join(rng.sample(BRANDS, 2)))
        if name in used_names:
            name = name.replace("有限公司", f"{district_names[district]}分公司")
        if name in used_names:
            name = name.replace("分公司", f"第{i}分公司")
        used_names.add(name)
        issued = today - dt.timedelta(days=rng.randrange(6 * 365))
        roll = rng.random()
        status = (InstitutionStatus.SUSPENDED if roll < 0.01 else InstitutionStatus.REVOKED if roll < 0.015
                  else InstitutionStatus.VALID)
        valid_until = issued + dt.timedelta(days=6 * 365) if rng.random() > 0.03 else today - dt.timedelta(days=30)
        authority = "22" if count <= 9999 else f"{i % 32:02d}"
        serial = i + 1 if count <= 9999 else i // 32 + 1
        new.append(Institution(
            name=name, credit_code=credit_code(rng, ownership, district),
            # The field is drawn as it always was (the rest of the data set stays the same) and folded into the
            # published field codes 00–21.
            cma_number=(f"{issued.year % 100:02d}{authority}{rng.randrange(1, 30) % 22:02d}"
                        f"{rng.randrange(0, 20):02d}{serial:04d}"),
            cma_valid_from=issued, cma_valid_until=valid_until, ownership=ownership,
            third_party=ownership not in ("administrative",) and rng.random() > 0.1, district_id=district,
            address=f"重庆市{district_names[district]}{rng.choice(BRANDS)}路{rng.randrange(1, 999)}号",
            phone=f"023-{rng.randrange(60000000, 69999999)}", status=status,
        ))
        plans.append((domains, zones))
    Institution.objects.bulk_create(new, batch_size=2000)
    created = list(Institution.objects.order_by("pk"))
    Through = Institution.domains.through
    Through.objects.bulk_create(
        [Through(institution_id=inst.pk, domain_id=d) for inst, (ds, _) in zip(created, plans, strict=True)
         for d in ds], batch_size=5000)
    ZoneThrough = Institution.zones.through
    ZoneThrough.objects.bulk_create(
        [ZoneThrough(institution_id=inst.pk, functionalzone_id=z) for inst, (_, zs) in zip(created, plans, strict=True)
         for z in zs], batch_size=5000)
    InstitutionStatusChange.objects.bulk_create(
        [InstitutionStatusChange(institution=inst, new_status=inst.status, reason="资质认定发证登记")
         for inst in created], batch_size=5000)
    summary.institutions = len(created)

    def scope_rows() -> Iterable[Sequence[Any]]:
        for inst, (domains, _) in zip(created, plans, strict=True):
            seq = 0
            held: set[tuple[str, str, str]] = set()
            for domain in domains:
                factor = params.lines_factor if domain == domains[0] else params.secondary
                for row in by_domain.get(domain, by_domain["M4"]):
                    if rng.random() > factor:
                        continue
                    names = row["objects"].split(";")
                    chosen = [n for n in names if rng.random() < factor] or [rng.choice(names)]
                    for obj in chosen:
                        for parameter in row["parameters"].split(";"):
                            key = (obj, parameter, row["standard"])
                            if key in held:
                                continue
                            held.add(key)
                            seq += 1
                            restriction = ("只用第一法" if row["standard"].startswith("GB 5009") and rng.random() < 0.1
                                           else "")
                            yield (inst.pk, seq, row["field"], row["category"], objects[obj].pk,
                                   parameters[parameter].pk, standards[row["standard"]].pk,
                                   restriction, "", inst.cma_valid_from, None)

    summary.scope_lines = insert_rows(
        ScopeLine, ["institution_id", "seq", "field", "category", "test_object_id", "parameter_id",
                    "standard_id", "restriction", "note", "valid_from", "valid_until"], scope_rows())
    tally.rebuild()

    if params.staff_per_institution:
        summary.staff = _staff(rng, created, params.staff_per_institution, today)
    if params.instruments_per_institution:
        summary.instruments = _instruments(rng, created, params.instruments_per_institution, today)
    _accounts(created)
    audit.record(actor=None, action="demo-data", entity="registry.Institution", entity_id="*",
                 changes={"scale": scale, "seed": seed, "institutions": summary.institutions,
                          "scope_lines": summary.scope_lines})
    return summary


def _staff(rng: random.Random, institutions: list[Institution], per: float, today: dt.date) -> int:
    staff: list[Staff] = []
    seen: set[str] = set()
    for inst in institutions:
        for n in range(max(3, round(rng.gauss(per, per / 4)))):
            number = resident_id(rng, inst.district_id)
            while number in seen:
                number = resident_id(rng, inst.district_id)
            seen.add(number)
            staff.append(Staff(
                institution=inst, name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2)))),
                employee_no=f"E{n + 1:04d}", person_key=person_key(number), id_masked=mask_resident_id(number),
                title=rng.choice(TITLES), position=rng.choice(POSITIONS),
            ))
    Staff.objects.bulk_create(staff, batch_size=5000)
    fields_of = {inst.pk: sorted({line.field for line in inst.scope_lines.all()}) for inst in
                 Institution.objects.prefetch_related("scope_lines").filter(pk__in=[i.pk for i in institutions[:50]])}
    signatories = []
    for s in Staff.objects.filter(position__in=["技术负责人", "质量负责人"]).select_related("institution"):
        fields = fields_of.get(s.institution_id) or sorted(
            set(ScopeLine.objects.filter(institution_id=s.institution_id).values_list("field", flat=True)))
        if fields:
            signatories.append(SignatoryAuthorization(
                staff=s, fields="；".join(fields), valid_from=today - dt.timedelta(days=rng.randrange(1000))))
    SignatoryAuthorization.objects.bulk_create(signatories, batch_size=5000)
    return len(staff)


def _instruments(rng: random.Random, institutions: list[Institution], per: float, today: dt.date) -> int:
    rows = []
    for inst in institutions:
        for n in range(max(5, round(rng.gauss(per, per / 3)))):
            if rng.random() < 0.06:
                name, model, value = rng.choice(INSTRUMENTS_LARGE)
                measuring_range = "—"
            else:
                name, model, measuring_range, value = rng.choice(INSTRUMENTS_SMALL)
            is_large = value >= Decimal("500000")  # 大型科学仪器: 单台套 50 万元及以上
            rows.append((inst.pk, f"YQ-{n + 1:05d}", name, model, f"SN{rng.randrange(10**7, 10**8)}",
                         measuring_range, today + dt.timedelta(days=rng.randrange(-40, 365)), is_large,
                         value, is_large and rng.random() < 0.35, "in_service"))
    return insert_rows(Instrument, ["institution_id", "asset_number", "name", "model", "serial_number",
                                "measuring_range", "calibration_due", "is_large", "value_yuan", "shared",
                                "status"], rows)


def _accounts(institutions: list[Institution]) -> None:
    """Demo sign-ins, all with the password DEMO_PASSWORD (shown in the README)."""
    def make(username: str, roles: list[str], institution: Institution | None = None, **extra: Any) -> None:
        user = User(username=username, roles=roles, institution=institution, **extra)
        user.set_password(DEMO_PASSWORD)
        user.save()

    make("admin", [Role.PLATFORM_ADMIN], is_staff=True, is_superuser=True)
    make("regulator", [Role.REGULATOR])
    # The demo labs are food-safety labs (domain M8), whose daily work the LIMS demo shows in mg/kg.
    food = set(Institution.domains.through.objects.filter(domain_id="M8").values_list("institution_id", flat=True))
    valid = sorted((i for i in institutions if i.status == InstitutionStatus.VALID),
                   key=lambda i: (i.pk not in food, i.pk))[:2]
    for n, inst in enumerate(valid, start=1):
        make(f"lab{n}-admin", [Role.INSTITUTION_ADMIN], inst)
        make(f"lab{n}-analyst", [Role.ANALYST], inst)
        make(f"lab{n}-reviewer", [Role.REVIEWER], inst)
        make(f"lab{n}-signatory", [Role.SIGNATORY, Role.REVIEWER], inst)
