"""Order endpoints for a laboratory's own systems: clients, orders with their contract review, and the
registration of an order's samples. Token or session; one lab only ever sees its own."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from opentic.core.api_auth import AUTH
from opentic.core.models import User
from opentic.core.permissions import lab_of
from opentic.registry.models import Institution

from . import orders
from .models import DECISION_RULES, Client, Order

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
    client: ClientIn
    number: str = Field(min_length=1, max_length=40, description="the lab's order number, unique in the lab")
    kind: str = Field("commission", pattern="^(" + "|".join(Order.Kind.values) + ")$",
                      description="commission 委托检验, supervision 监督抽检, risk 风险监测, recheck 复检")
    received_on: dt.date
    due_on: dt.date | None = None
    methods_agreed: str = Field("", max_length=300)
    judgement_basis: list[str] = Field(default_factory=list, max_length=20,
                                       description="product standards whose limits judge the results "
                                                   "(specification sets of the lab); empty: results only")
    decision_rule: str = Field("simple", pattern="^(" + "|".join(k for k, _ in DECISION_RULES) + ")$")
    subcontracted: str = Field("", max_length=300)
    subcontractor: str = Field("", max_length=200)
    subcontract_consent: bool = False
    note: str = Field("", max_length=500)


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
def get_order(request: HttpRequest, pk: int) -> OrderOut:
    return _out(get_object_or_404(Order.objects.select_related("client"), pk=pk,
                                  institution_id=lab_of(request.user)))
