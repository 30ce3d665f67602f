"""Fixture: a PT round of the regulator's scheme 大米中铅, with lab A, lab B and ten more participants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from opentic.core.models import Role, User
from opentic.quality import pt
from opentic.quality.models import Participation, Round, Scheme
from opentic.registry.models import Institution, Parameter, TestObject
from tests.conftest import World, make_user

# Atrazine results of ISO 13528 E.3, the first twelve, scaled to lead in rice (mg/kg): a realistic spread
# with one low outlier.
OTHER_RESULTS = ["0.040", "0.178", "0.202", "0.227", "0.230", "0.236", "0.243", "0.255", "0.264", "0.273"]


@dataclass
class PT:
    world: World
    scheme: Scheme
    round: Round
    others: list[tuple[Institution, User]]

    def participation(self, institution: Institution) -> Participation:
        return Participation.objects.get(round=self.round, institution=institution)


def other_labs(n: int, prefix: str = "pt") -> list[tuple[Institution, User]]:
    today = timezone.localdate()
    out = []
    for i in range(n):
        inst = Institution.objects.create(
            name=f"重庆{prefix}检测机构{i + 1:02d}", credit_code=f"{prefix[:2].upper()}{i:016d}",
            cma_number=f"{prefix[:2].upper()}{i:010d}",
            cma_valid_from=today - dt.timedelta(days=100), cma_valid_until=today + dt.timedelta(days=1000),
            ownership="private", district_id="500103")
        out.append((inst, make_user(f"{prefix}_admin_{i}", [Role.INSTITUTION_ADMIN], inst)))
    return out


@pytest.fixture
def pt_round(world: World) -> PT:
    scheme = pt.create_scheme(world.regulator, "CQ-PT-2026-01", "2026年川渝联合能力验证 大米中铅",
                              Parameter.objects.get(name="铅"), TestObject.objects.get(name="大米"), "mg/kg")
    r = pt.create_round(world.regulator, scheme, "2026-1", timezone.localdate() + dt.timedelta(days=14),
                        [("A", "大米粉 A"), ("B", "大米粉 B")])
    others = other_labs(len(OTHER_RESULTS))
    pt.invite(world.regulator, r, [world.lab_a, world.lab_b] + [inst for inst, _ in others])
    pt.open_round(world.regulator, r)
    return PT(world, scheme, Round.objects.get(pk=r.pk), others)


def submit_others(fixture: PT) -> None:
    items = {i.code: i for i in fixture.round.items.all()}
    for (inst, admin), value in zip(fixture.others, OTHER_RESULTS, strict=True):
        p = fixture.participation(inst)
        pt.submit_result(admin, p, items["A"], value, "0.02")
        pt.submit_result(admin, p, items["B"], str(float(value) * 1.1), "0.02")
