"""Orders and contract review: created in the UI and the API, their basis reaching every result."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opentic.core.models import AuditEvent
from opentic.lims import lab_setup, orders, services
from opentic.lims.judgement import conclude, sample_conclusion
from opentic.lims.models import Order, Sample
from tests.lims.fixtures import Lab


def _limits(lab: Lab) -> None:
    admin, a = lab.world.a_admin, lab.world.lab_a
    lab_setup.save_specification(admin, a, "GB 2762-2022", lab.rice, lab.pb.parameter_id, "mg/kg", upper=Decimal("0.2"))
    lab_setup.save_specification(admin, a, "GB 2762-2022", lab.rice, lab.cd.parameter_id, "mg/kg", upper=Decimal("0.2"))


@pytest.mark.django_db
def test_contract_review_refuses_with_the_field_and_the_reason(lab: Lab) -> None:
    _limits(lab)
    client = lab.order.client
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        orders.create_order(lab.world.a_admin, client, "WT-X", today, due_on=today - dt.timedelta(days=1),
                            judgement_basis=["GB 9999-2000"], subcontracted="铬", subcontractor="")
    errors = exc.value.message_dict
    assert "早于委托日期" in errors["due_on"][0]
    assert "GB 9999-2000" in errors["judgement_basis"][0]
    assert "客户同意" in errors["subcontract_consent"][0]
    assert "subcontractor" in errors
    assert not Order.objects.filter(number="WT-X").exists()
    with pytest.raises(ValidationError, match="已经使用"):
        orders.create_order(lab.world.a_admin, client, lab.order.number, today)


@pytest.mark.django_db
def test_the_basis_proposes_the_scope_methods_and_judges_every_result(lab: Lab) -> None:
    _limits(lab)
    order = orders.create_order(lab.world.a_admin, lab.order.client, "JD-2026-001", timezone.localdate(),
                                kind=Order.Kind.SUPERVISION, judgement_basis=["GB 2762-2022"])
    proposed = orders.proposed_services(lab.world.lab_a.pk, lab.rice, order.judgement_basis)
    # GB 2762 limits lead and cadmium in rice (not moisture); lab A's scope covers both methods.
    assert sorted(s.keyword for s in proposed) == ["cd", "pb"]
    sample = services.register_samples(lab.world.a_admin, order, [
        {"name": "大米", "test_object": lab.rice, "services": [lab.pb, lab.cd], "sampled_on": timezone.localdate(),
         "manufacturer": "五常米业", "sampled_unit": "永辉超市"}], allow_non_accredited=True)[0]
    assert sample.specification == "GB 2762-2022"
    sample = services.receive_sample(lab.world.a_admin, sample, "完好")
    pb, cd = sample.analyses.order_by("id")
    services.enter_result(lab.world.a_analyst, pb, "0.25", instrument=lab.icp)
    services.enter_result(lab.world.a_analyst, cd, "0.05", instrument=lab.icp)
    pb.refresh_from_db()
    cd.refresh_from_db()
    assert (pb.conformity, pb.limit) == ("fail", "≤ 0.2 mg/kg")
    assert cd.conformity == "pass"
    conclusion = sample_conclusion(Sample.objects.get(pk=sample.pk))
    assert conclusion.verdict == "nonconform"
    assert conclusion.text == "经检验，所检项目不符合 GB 2762-2022 要求。不合格项目：铅。"


def test_conclusions_a_lab_would_write() -> None:
    assert conclude([], [("铅", "")]).text == "本报告仅提供检测结果，不作符合性判定。"
    assert conclude(["GB 2762-2022"], [("铅", "pass"), ("镉", "pass")]).text == \
        "经检验，所检项目符合 GB 2762-2022 要求。"
    partial = conclude(["GB 2762-2022"], [("铅", "pass"), ("水分", "")])
    assert partial.verdict == "conform" and partial.unjudged == ["水分"]
    assert "水分：GB 2762-2022 未规定限量，仅报告检测结果。" in partial.text
    assert conclude(["GB 2762-2022"], [("水分", "")]).verdict == "results_only"


@pytest.mark.django_db
def test_an_analyst_creates_an_order_and_registers_two_samples_in_the_browserless_ui(lab: Lab) -> None:
    _limits(lab)
    client = lab.world.client("a_analyst")
    page = client.get("/lims/orders/new/")
    assert page.status_code == 200 and "GB 2762-2022" in page.content.decode()
    refused = client.post("/lims/orders/new/", {
        "number": "JD-2026-7", "kind": "supervision", "received_on": "2026-12-01", "decision_rule": "simple",
        "judgement_basis": ["GB 2762-2022"], "subcontracted": "铬", "subcontractor": "某检测公司",
        "client-name": "重庆市市场监督管理局", "client-kind": "government"})
    body = refused.content.decode()
    assert refused.status_code == 422 and "客户同意" in body
    assert 'value="JD-2026-7"' in body  # what was typed stays
    assert not Order.objects.filter(number="JD-2026-7").exists()
    created = client.post("/lims/orders/new/", {
        "number": "JD-2026-7", "kind": "supervision", "received_on": "2026-12-01", "due_on": "2026-12-20",
        "decision_rule": "simple", "judgement_basis": ["GB 2762-2022"],
        "client-name": "重庆市市场监督管理局", "client-kind": "government"})
    order = Order.objects.get(number="JD-2026-7")
    assert created.status_code == 302 and order.judgement_basis == ["GB 2762-2022"]
    form = client.get(f"/lims/orders/{order.pk}/?test_object=大米&count=2").content.decode()
    assert form.count('class="rows sample-row"') == 2 and "抽样日期" in form
    assert re.search(rf'value="{lab.pb.pk}"[^>]*checked', form)  # proposed from the scope and the basis
    assert not re.search(rf'value="{lab.moisture.pk}"[^>]*checked', form)
    rows = {"s-TOTAL_FORMS": "2", "s-INITIAL_FORMS": "0", "s-MIN_NUM_FORMS": "1", "s-MAX_NUM_FORMS": "50",
            "test_object": "大米", "services": [str(lab.pb.pk)]}
    for i, name in enumerate(["大米 A", "大米 B"]):
        rows |= {f"s-{i}-name": name, f"s-{i}-production_date": "2026-11-20", f"s-{i}-batch_number": f"B{i}",
                 f"s-{i}-sampled_on": "2026-12-01", f"s-{i}-sampler": "张三、李四", f"s-{i}-sampling_place": "超市",
                 f"s-{i}-sampled_unit": "永辉超市", f"s-{i}-manufacturer": "五常米业"}
    done = client.post(f"/lims/orders/{order.pk}/samples/", rows)
    assert done.status_code == 302, done.content.decode()[:2000]
    samples = list(Sample.objects.filter(order=order).order_by("id"))
    assert [s.name for s in samples] == ["大米 A", "大米 B"]
    assert samples[0].production_date == dt.date(2026, 11, 20) and samples[0].sampled_unit == "永辉超市"
    assert samples[0].specification == "GB 2762-2022"
    page = client.get(f"/lims/samples/{samples[0].pk}/").content.decode()
    for shown in ("永辉超市", "五常米业", "2026年11月20日", "GB 2762-2022"):
        assert shown in page, shown
    assert AuditEvent.objects.filter(entity="lims.Order", entity_id=str(order.pk), action="create").exists()


@pytest.mark.django_db
def test_orders_through_the_api(lab: Lab) -> None:
    _limits(lab)
    client = lab.world.client("a_analyst")
    made = client.post("/api/lims/orders", {
        "client": {"name": "重庆粮油集团有限公司"}, "number": "API-1", "kind": "commission",
        "received_on": "2026-12-01", "judgement_basis": ["GB 2762-2022"]}, content_type="application/json")
    assert made.status_code == 201, made.content
    order = Order.objects.get(number="API-1")
    assert order.client == lab.order.client  # the existing client by name
    bad = client.post("/api/lims/orders", {"client": {"name": "x"}, "number": "API-2", "kind": "commission",
                                           "received_on": "2026-12-01", "judgement_basis": ["GB 1-1"]},
                      content_type="application/json")
    assert bad.status_code == 422 and "GB 1-1" in bad.content.decode()
    other = lab.world.client("b_admin").get(f"/api/lims/orders/{order.pk}")
    assert other.status_code == 404


@pytest.mark.django_db
def test_an_orders_samples_through_the_api(lab: Lab) -> None:
    _limits(lab)
    client = lab.world.client("a_analyst")
    order = orders.create_order(lab.world.a_admin, lab.order.client, "API-S", timezone.localdate(),
                                judgement_basis=["GB 2762-2022"])
    made = client.post(f"/api/lims/orders/{order.pk}/samples", {
        "test_object": "大米", "samples": [{"name": "大米 1", "batch_number": "B1"}, {"name": "大米 2"}]},
        content_type="application/json")
    assert made.status_code == 201, made.content
    assert [sorted(s["tests"]) for s in made.json()] == [["cd", "pb"], ["cd", "pb"]]
    bad = client.post(f"/api/lims/orders/{order.pk}/samples", {"test_object": "大米", "tests": ["nope"],
                                                               "samples": [{"name": "x"}]},
                      content_type="application/json")
    assert bad.status_code == 422 and "nope" in bad.content.decode()
    assert Sample.objects.filter(order=order).count() == 2
    other = lab.world.client("b_admin").post(f"/api/lims/orders/{order.pk}/samples", {
        "test_object": "大米", "samples": [{"name": "x"}]}, content_type="application/json")
    assert other.status_code == 404
