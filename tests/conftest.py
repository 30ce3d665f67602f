"""One shared world of named personas, as healthchecks does: two institutions and their people.

- lab A: 重庆江津检测 in 江津区 (渝西 cluster C3), accredited for 铅 in 大米 per GB 5009.12-2017;
- lab B: in 渝中区, accredited for 铅 in 食品 per GB 5009.268-2016;
- personas: platform_admin, regulator, a_admin, a_analyst, a_reviewer, a_signatory, b_admin, anonymous.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from opentic.core.models import Role, User
from opentic.registry import tally
from opentic.registry.models import (
    Institution,
    InstitutionStatus,
    Instrument,
    Parameter,
    ScopeLine,
    Staff,
    Standard,
    TestObject,
)

# The working lab (tests/lims/fixtures.py) serves the LIMS tests and the browser tests alike.
pytest_plugins = ["tests.lims.fixtures"]

PASSWORD = "correct-horse-battery-staple"
# Valid unified social credit codes (GB 32100-2015 check digits).
CODE_A = "91500116MA5U7K3T2R"
CODE_B = "12500103MB1C38962M"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@dataclass
class World:
    lab_a: Institution
    lab_b: Institution
    platform_admin: User
    regulator: User
    a_admin: User
    a_analyst: User
    a_reviewer: User
    a_signatory: User
    b_admin: User

    def client(self, persona: str | None) -> Client:
        client = Client()
        if persona and persona != "anonymous":
            client.force_login(getattr(self, persona))
        return client


PERSONAS = ["anonymous", "platform_admin", "regulator", "a_admin", "a_analyst", "a_reviewer", "a_signatory",
            "b_admin"]


def make_user(username: str, roles: list[str], institution: Institution | None = None, **extra: object) -> User:
    user = User(username=username, roles=roles, institution=institution, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def catalogue(name_object: str, parent: str | None, parameter: str, standard: str, title: str
              ) -> tuple[TestObject, Parameter, Standard]:
    from opentic.registry.codes import parse_standard_code

    parent_obj = TestObject.objects.get_or_create(name=parent)[0] if parent else None
    obj = TestObject.objects.get_or_create(name=name_object, defaults={"parent": parent_obj})[0]
    param = Parameter.objects.get_or_create(name=parameter)[0]
    code = parse_standard_code(standard)
    std = Standard.objects.get_or_create(code=code.code, year=code.year,
                                         defaults={"compact": code.compact, "title": title})[0]
    return obj, param, std


@pytest.fixture
def world(db: None) -> World:
    from django.apps import apps

    from opentic.registry import reference
    from opentic.registry.models import District

    if not District.objects.exists():  # a transactional test before this one flushed the migrations' data
        reference.load(apps)
    today = timezone.localdate()
    with transaction.atomic():
        lab_a = Institution.objects.create(
            name="重庆江津检测有限公司", credit_code=CODE_A, cma_number="212212050001",
            cma_valid_from=today - dt.timedelta(days=400), cma_valid_until=today + dt.timedelta(days=1800),
            ownership="private", district_id="500116", phone="023-47000000",
        )
        lab_b = Institution.objects.create(
            name="重庆渝中食品检验所", credit_code=CODE_B, cma_number="202212060002",
            cma_valid_from=today - dt.timedelta(days=800), cma_valid_until=today + dt.timedelta(days=1000),
            ownership="public_institution", district_id="500103",
        )
        lab_a.domains.set(["M8"])
        lab_b.domains.set(["M8", "M13"])
        food = TestObject.objects.get_or_create(name="食品")[0]
        grain = TestObject.objects.get_or_create(name="粮食加工品", defaults={"parent": food})[0]
        TestObject.objects.filter(pk=grain.pk).update(parent=food)
        rice, lead, gb12 = catalogue("大米", "粮食加工品", "铅", "GB 5009.12-2017", "食品安全国家标准 食品中铅的测定")
        _, _, gb268 = catalogue("食品", None, "铅", "GB 5009.268-2016", "食品安全国家标准 食品中多元素的测定")
        cadmium = Parameter.objects.get_or_create(name="镉")[0]
        gb15 = catalogue("大米", "粮食加工品", "镉", "GB 5009.15-2014", "食品安全国家标准 食品中镉的测定")[2]
        start = today - dt.timedelta(days=300)
        ScopeLine.objects.bulk_create([
            ScopeLine(institution=lab_a, seq=1, field="食品", category="污染物", test_object=rice, parameter=lead,
                      standard=gb12, valid_from=start),
            ScopeLine(institution=lab_a, seq=2, field="食品", category="污染物", test_object=rice,
                      parameter=cadmium, standard=gb15, valid_from=start),
            ScopeLine(institution=lab_b, seq=1, field="食品", category="污染物", test_object=food, parameter=lead,
                      standard=gb268, valid_from=start),
        ])
        tally.rebuild()
        Staff.objects.create(institution=lab_a, name="张伟", employee_no="E0001", person_key="k-a-1",
                             id_masked="5001**********1234")
        Staff.objects.create(institution=lab_b, name="李娜", employee_no="E0001", person_key="k-b-1",
                             id_masked="5001**********5678")
        Instrument.objects.create(institution=lab_a, asset_number="YQ-00001", name="电感耦合等离子体质谱仪",
                                  model="Agilent 7900", is_large=True, value_yuan=1650000, shared=True,
                                  calibration_due=today + dt.timedelta(days=100))
        Instrument.objects.create(institution=lab_b, asset_number="YQ-00001", name="原子吸收分光光度计")
    return World(
        lab_a=lab_a, lab_b=lab_b,
        platform_admin=make_user("platform", [Role.PLATFORM_ADMIN], is_staff=True, is_superuser=True),
        regulator=make_user("regulator", [Role.REGULATOR]),
        a_admin=make_user("a-admin", [Role.INSTITUTION_ADMIN], lab_a),
        a_analyst=make_user("a-analyst", [Role.ANALYST], lab_a),
        a_reviewer=make_user("a-reviewer", [Role.REVIEWER], lab_a),
        a_signatory=make_user("a-signatory", [Role.SIGNATORY], lab_a),
        b_admin=make_user("b-admin", [Role.INSTITUTION_ADMIN], lab_b),
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    # PBKDF2's deliberate slowness protects real passwords; personas are made for every test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _no_rate_limit_by_default(settings: object, request: pytest.FixtureRequest) -> None:
    if "ratelimit" not in request.keywords:
        settings.RATELIMIT_ENABLE = False  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.core.cache import cache

    cache.clear()


def expire(institution: Institution) -> None:
    Institution.objects.filter(pk=institution.pk).update(status=InstitutionStatus.EXPIRED)


def b_signatory(world: World) -> User:
    """Lab B's authorized signatory: only a signatory registers the lab's reports (issue 12, finding 1)."""
    found = User.objects.filter(username="b-signatory").first()
    return found or make_user("b-signatory", [Role.SIGNATORY], world.lab_b)


@pytest.fixture(autouse=True)
def _jobs_inline(settings: object, tmp_path: object) -> None:
    """Jobs run in the test's own process and transaction (tests that need a real worker start one), and
    each test's database keeps its audit anchor checkpoint apart (a test database is new every run)."""
    settings.OPENTIC_JOBS_INLINE = True  # type: ignore[attr-defined]
    settings.OPENTIC_AUDIT_ANCHOR_FILE = str(tmp_path) + "/audit-anchors.checkpoint"  # type: ignore[attr-defined]
