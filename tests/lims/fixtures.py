"""Fixture: a working lab on the shared world: lab A's client, an order, its methods, an authorized analyst."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from opentic.lims import orders, services
from opentic.lims.models import AnalysisService, MethodAuthorization, Order
from opentic.registry.models import Instrument, Parameter, Standard, TestObject
from tests.conftest import PASSWORD, World


@dataclass
class Lab:
    world: World
    order: Order
    pb: AnalysisService
    cd: AnalysisService
    moisture: AnalysisService
    pb_dry: AnalysisService
    icp: Instrument
    rice: TestObject

    def register(self, *services_: AnalysisService, allow_non_accredited: bool = False, **fields: object):  # type: ignore[no-untyped-def]
        data = {"name": "五常大米", "test_object": self.rice, "services": list(services_ or (self.pb, self.cd)),
                **fields}
        return services.register_samples(self.world.a_admin, self.order, [data],
                                         allow_non_accredited=allow_non_accredited)[0]

    def received(self, *services_: AnalysisService, **kwargs: object):  # type: ignore[no-untyped-def]
        sample = self.register(*services_, **kwargs)
        return services.receive_sample(self.world.a_admin, sample, "包装完好,冷藏")


@pytest.fixture
def lab(world: World) -> Lab:
    institution = world.lab_a
    client = orders.create_client(world.a_admin, institution, "重庆粮油集团有限公司")
    order = orders.create_order(world.a_admin, client, "WT-2026-0001", timezone.localdate())
    pb_std = Standard.objects.get(code="GB 5009.12", year="2017")
    cd_std = Standard.objects.get(code="GB 5009.15", year="2014")
    water_std = Standard.objects.get_or_create(code="GB 5009.3", year="2016", defaults={
        "compact": "GB5009.3", "title": "食品安全国家标准 食品中水分的测定"})[0]

    def service(parameter: str, standard: Standard, keyword: str, unit: str, **extra: object) -> AnalysisService:
        return AnalysisService.objects.create(institution=institution, standard=standard, keyword=keyword, unit=unit,
                                              parameter=Parameter.objects.get_or_create(name=parameter)[0],
                                              **extra)

    lab = Lab(
        world=world, order=order,
        pb=service("铅", pb_std, "pb", "mg/kg", places=3, loq="0.010"),
        cd=service("镉", cd_std, "cd", "mg/kg", places=3, loq="0.005"),
        moisture=service("水分", water_std, "moisture", "g/100g", places=1),
        pb_dry=service("铅(以干基计)", pb_std, "pb_dry", "mg/kg", places=3, formula="pb * 100 / (100 - moisture)"),
        icp=Instrument.objects.get(institution=institution, asset_number="YQ-00001"),
        rice=TestObject.objects.get(name="大米"),
    )
    start = timezone.localdate() - dt.timedelta(days=30)
    for standard in (pb_std, cd_std, water_std):
        MethodAuthorization.objects.create(user=world.a_analyst, standard=standard, valid_from=start)
    assert world.a_reviewer.check_password(PASSWORD)
    return lab
