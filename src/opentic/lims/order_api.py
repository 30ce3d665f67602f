"""Order endpoints for a laboratory's own systems: clients, orders with their contract review, and the
registration of an order's samples. Token or session; one lab only ever sees its own."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.params import PathEx
from ninja.responses import Status
from pydantic import Field

from opentic.core.api_auth import AUTH
from opentic.core.api_schemas import id_param
from opentic.core.models import User
from opentic.core.permissions import lab_of
from opentic.registry.models import Institution, TestObject

from . import orders, services
from .models import DECISION_RULES, AnalysisService, Client, Order

router = Router(tags=["lims"], auth=AUTH)


class ClientIn(Schema):
    name: str = Field(min_length=1, max_length=200, description="the client's registered name; an existing "
                                                                     "client of the lab with this name is reused")
    kind: str = Field("enterprise", pattern="^(enterprise|government|person)$")
    credit_code: str = Field("", max_length=18, description="统一社会信用代码")
    contact: str = Field("", max_length=60)
    phone: str = Field("", max_length=40)
    address: str = Field("", max_length=200)


class OrderIn(Schema):
    client: ClientIn = Field(description="who commissions the tests")
    number: str = Field(min_length=1, max_length=40, description="the lab's order number, unique in the lab")
    kind: str = Field("commission", pattern="^(" + "|".join(Order.Kind.values) + ")$",
                      description="commission 委托检验, supervision 监督抽检, risk 风险监测, recheck 复检")
    received_on: dt.date = Field(description="the day the lab accepted the order")
    due_on: dt.date | None = Field(None, description="the day the report is promised")
    methods_agreed: str = Field("", max_length=300, description="methods agreed with the client, if not the "
                                                                    "lab's own choice")
    judgement_basis: list[str] = Field(default_factory=list, max_length=20,
                                       description="product standards whose limits judge the results "
                                                   "(specification sets of the lab); empty: results only")
    decision_rule: str = Field("simple", pattern="^(" + "|".join(k for k, _ in DECISION_RULES) + ")$",
                               description="how a result near a limit is judged (ISO/IEC 17025 7.1.3)")
    subcontracted: str = Field("", max_length=300, description="the tests given to another laboratory")
    subcontractor: str = Field("", max_length=200, description="the laboratory they are given to")
    subcontract_consent: bool = Field(False, description="the client agreed to the subcontracting")
    note: str = Field("", max_length=500, description="anything else agreed in the contract review")


class OrderOut(Schema):
    id: int
    number: str
    client: str
    kind: str
    received_on: dt.date
    due_on: dt.date | None
    judgement_basis: list[str]
    decision_rule: str
    subcontracted: str
    samples: int


class SampleIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=500)
    quantity: str = Field("", max_length=60)
    model_spec: str = Field("", max_length=100, description="规格型号")
    trademark: str = Field("", max_length=100)
    batch_number: str = Field("", max_length=60)
    production_date: dt.date | None = None
    manufacturer: str = Field("", max_length=200, description="标称生产企业")
    sampled_on: dt.date | None = Field(None, description="抽样日期, when the lab sampled")
    sampler: str = Field("", max_length=60)
    sampling_place: str = Field("", max_length=200)
    sampled_unit: str = Field("", max_length=200, description="被抽样单位")


class SamplesIn(Schema):
    test_object: str = Field(min_length=1, max_length=100, description="the object's name in the catalogue, "
                                                                           "e.g. 大米")
    tests: list[str] = Field(default_factory=list, max_length=100,
                             description="keywords of the lab's methods; empty: the tests proposed from the "
                                         "accredited scope for the object and the order's judgement basis")
    allow_non_accredited: bool = Field(False, description="register tests outside the accredited scope too "
                                                          "(their reports carry no CMA mark)")
    samples: list[SampleIn] = Field(min_length=1, max_length=500, description="the samples, 1 to 500")


class RegisteredOut(Schema):
    id: int
    lab_number: str
    name: str
    tests: list[str]


def _out(order: Order) -> OrderOut:
    return OrderOut(id=order.pk, number=order.number, client=order.client.name, kind=order.kind,
                    received_on=order.received_on, due_on=order.due_on, judgement_basis=order.judgement_basis,
                    decision_rule=order.decision_rule, subcontracted=order.subcontracted,
                    samples=order.samples.count())


@router.post("/orders", response={201: OrderOut}, summary="Create an order",
             description="An order with its contract review (ISO/IEC 17025 7.1): kind, due date, agreed methods, "
                         "judgement basis and decision rule, subcontracting with the client's consent. Refused "
                         "with 422 and the field at fault; nothing is written then.")
def create_order(request: HttpRequest, body: OrderIn) -> Status[OrderOut]:
    institution_id = lab_of(request.user)
    actor = request.user
    assert isinstance(actor, User)
    data = body.dict()
    client_data = data.pop("client")
    with transaction.atomic():
        client = Client.objects.filter(institution_id=institution_id, name=client_data["name"].strip()).first()
        if client is None:
            client = orders.create_client(actor, Institution.objects.get(pk=institution_id),
                                          client_data.pop("name"), **client_data)
        order = orders.create_order(actor, client, data.pop("number"), data.pop("received_on"), **data)
    return Status(201, _out(order))


@router.get("/orders/{pk}", response=OrderOut, summary="One order",
            description="An order of the caller's laboratory; another lab's order answers 404.")
def get_order(request: HttpRequest, pk: PathEx[int, id_param("the order's id")]) -> OrderOut:
    return _out(get_object_or_404(Order.objects.select_related("client"), pk=pk,
                                  institution_id=lab_of(request.user)))


@router.post("/orders/{pk}/samples", response={201: list[RegisteredOut]}, summary="Register an order's samples",
             description="Several samples of one object at once, numbered in one go, all or none. Without `tests`, "
                         "the analyses proposed from the accredited scope and the order's judgement basis.")
def register_samples(request: HttpRequest, pk: PathEx[int, id_param("the order's id")],
                     body: SamplesIn) -> Status[list[RegisteredOut]]:
    order = get_object_or_404(Order, pk=pk, institution_id=lab_of(request.user))
    actor = request.user
    assert isinstance(actor, User)
    test_object = TestObject.objects.filter(name=body.test_object.strip()).first()
    if test_object is None:
        raise ValidationError({"test_object": f"目录中没有检测对象“{body.test_object}”"})
    if body.tests:
        found = {s.keyword: s for s in AnalysisService.objects.filter(institution_id=order.institution_id,
                                                                      keyword__in=body.tests)}
        unknown = [k for k in body.tests if k not in found]
        if unknown:
            raise ValidationError({"tests": f"本机构没有这些检测项目关键字：{'、'.join(unknown)}"})
        chosen = [found[k] for k in body.tests]
    else:
        chosen = orders.proposed_services(order.institution_id, test_object, order.judgement_basis)
        if not chosen:
            raise ValidationError({"tests": "判定依据没有为该对象推荐任何项目，请列出检测项目"})
    created = services.register_samples(actor, order, [
        {**s.dict(), "test_object": test_object, "services": chosen} for s in body.samples],
        allow_non_accredited=body.allow_non_accredited)
    return Status(201, [RegisteredOut(id=s.pk, lab_number=s.lab_number, name=s.name,
                                      tests=[a.keyword for a in chosen]) for s in created])
