"""Each role lands on its work; navigation shows each role what it may do; one lab's orders stay its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from opentic.lims.models import ReferenceMaterial
from opentic.registry.models import Instrument
from tests.conftest import PASSWORD, PERSONAS, World
from tests.lims.fixtures import Lab


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "lands_on"), [("a_analyst", "/lims/work/"), ("a_reviewer", "/lims/work/"),
                                                   ("a_signatory", "/lims/work/"), ("regulator", "/registry/")])
def test_each_role_lands_on_its_work_after_signing_in(world: World, persona: str, lands_on: str) -> None:
    from django.test import Client

    user = getattr(world, persona)
    response = Client().post("/login/", {"username": user.get_username(), "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == lands_on


@pytest.mark.django_db
def test_the_worklists_show_each_roles_work(lab: Lab) -> None:
    sample = lab.received(lab.pb)
    Instrument.objects.filter(pk=lab.icp.pk).update(calibration_due=timezone.localdate() + dt.timedelta(days=10))
    ReferenceMaterial.objects.create(institution=lab.world.lab_a, name="大米粉质控样", lot="L1", unit="mg/kg",
                                     expires_on=timezone.localdate() + dt.timedelta(days=5))
    analyst = lab.world.client("a_analyst").get("/lims/work/").content.decode()
    assert sample.lab_number in analyst and 'id="analyses-due"' in analyst and 'id="admin-due"' not in analyst
    admin = lab.world.client("a_admin").get("/lims/work/").content.decode()
    assert "YQ-00001" in admin and "L1" in admin
    signatory = lab.world.client("a_signatory").get("/lims/work/").content.decode()
    assert 'id="to-approve"' in signatory and 'id="analyses-due"' not in signatory
    assert "/lims/setup/" not in signatory  # navigation shows only what the role may do
    assert "/lims/setup/" in admin


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_an_order_and_a_method_are_their_labs_only(lab: Lab, persona: str) -> None:
    client = lab.world.client(persona)
    expected = 200 if persona.startswith("a_") else (302 if persona == "anonymous" else 404)
    for url in (f"/lims/orders/{lab.order.pk}/", f"/api/lims/orders/{lab.order.pk}"):
        got = client.get(url).status_code
        assert got == (401 if url.startswith("/api") and persona == "anonymous" else expected), (url, persona)
    method = client.get(f"/lims/setup/methods/{lab.pb.pk}/").status_code
    assert method == {"a_admin": 200, "anonymous": 302}.get(persona, 403 if persona.startswith("a_") else 404)
    posted = client.post(f"/lims/orders/{lab.order.pk}/samples/", {"test_object": "大米"}).status_code
    assert posted == {"anonymous": 302}.get(persona, 422 if persona.startswith("a_") else 404)
    created = client.post("/api/lims/orders", {"client": {"name": "x"}, "number": f"T-{persona}",
                                               "received_on": "2026-12-01"}, content_type="application/json")
    assert created.status_code == {"anonymous": 401, "platform_admin": 404, "regulator": 404}.get(persona, 201)
