"""Clients, orders and their contract review (ISO/IEC 17025 7.1), and the analyses an order proposes.

An order (委托单, or the task of a supervision sampling) records what was agreed with the client before any
work: the kind of testing, the due date, the methods, the product standards the results are judged
against (the judgement basis: specification sets of the lab's setup) and the decision rule, and any
subcontracting, which needs the client's consent and is named in the report (SAMR Order 39 art. 10).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import User
from opentic.numerics.formula import FormulaError, parse
from opentic.registry.models import Institution, ScopeLine, TestObject

from .judgement import object_chain
from .models import AnalysisService, Client, Order, Specification
from .services import require_member

ORDER_FIELDS = ("kind", "due_on", "methods_agreed", "judgement_basis", "decision_rule", "subcontracted",
                "subcontractor", "subcontract_consent", "note")


@transaction.atomic
def create_client(actor: User, institution: Institution, name: str, **fields: Any) -> Client:
    require_member(actor, institution.pk)
    name = (name or "").strip()
    if Client.objects.filter(institution=institution, name=name).exists():
        raise ValidationError({"name": f"客户“{name}”已登记，请直接选用"})
    client = Client(institution=institution, name=name, **fields)
    client.full_clean()
    client.save()
    audit.record(actor=actor, action="create", entity=client, institution_id=institution.pk,
                 changes={"name": client.name, "kind": client.kind, "credit_code": client.credit_code,
                          "contact": client.contact, "phone": client.phone, "address": client.address})
    return client


def spec_sets(institution_id: int) -> list[str]:
    """The product standards this lab has limits for: what an order may name as its judgement basis."""
    return sorted(set(Specification.objects.filter(institution_id=institution_id).values_list("name", flat=True)))


def _review(client: Client, order: Order) -> None:
    """Contract review: each finding names the field and says why."""
    errors: dict[str, str] = {}
    if order.due_on is not None and order.due_on < order.received_on:
        errors["due_on"] = f"约定完成日期 {order.due_on:%Y年%m月%d日} 早于委托日期"
    basis = [b.strip() for b in order.judgement_basis if b and b.strip()]
    known = set(spec_sets(client.institution_id))
    unknown = [b for b in basis if b not in known]
    if unknown:
        errors["judgement_basis"] = (f"实验室设置中没有这些产品标准的限量：{'、'.join(unknown)}；"
                                     "请先在实验室设置中录入限量，或不作判定只报告结果")
    if len(set(basis)) != len(basis):
        errors["judgement_basis"] = "判定依据重复"
    if order.subcontracted.strip():
        if not order.subcontract_consent:
            errors["subcontract_consent"] = "分包须经客户同意（《检验检测机构监督管理办法》第十条）"
        if not order.subcontractor.strip():
            errors["subcontractor"] = "请写明分包给哪家检验检测机构"
    if order.decision_rule.startswith("guarded") and not basis:
        errors["decision_rule"] = "没有判定依据时不需要判定规则；保护带规则须与判定依据一起约定"
    if errors:
        raise ValidationError(errors)
    order.judgement_basis = basis


@transaction.atomic
def create_order(actor: User, client: Client, number: str, received_on: dt.date, **fields: Any) -> Order:
    require_member(actor, client.institution_id)
    unknown = set(fields) - set(ORDER_FIELDS)
    if unknown:
        raise TypeError(f"unknown order fields: {sorted(unknown)}")
    number = (number or "").strip()
    if Order.objects.filter(institution_id=client.institution_id, number=number).exists():
        raise ValidationError({"number": f"委托单号 {number} 已经使用"})
    order = Order(institution_id=client.institution_id, client=client, number=number, received_on=received_on,
                  **fields)
    _review(client, order)
    order.full_clean()
    order.save()
    audit.record(actor=actor, action="create", entity=order, institution_id=client.institution_id,
                 changes={"number": order.number, "client": client.name, "kind": order.kind,
                          "received_on": order.received_on, "due_on": order.due_on,
                          "judgement_basis": order.judgement_basis, "decision_rule": order.decision_rule,
                          "methods_agreed": order.methods_agreed, "subcontracted": order.subcontracted,
                          "subcontractor": order.subcontractor, "subcontract_consent": order.subcontract_consent})
    return order


def proposed_services(institution_id: int, test_object: TestObject, basis: Sequence[str],
                      day: dt.date | None = None) -> list[AnalysisService]:
    """The analyses to propose for an object under a judgement basis: the parameters the basis limits for this
    object (or a broader one), each by a method of the lab that its accredited scope covers for the object.

    Without a basis, nothing is proposed: the client names the tests."""
    if not basis:
        return []
    day = day or timezone.localdate()
    chain = object_chain(test_object)
    parameters = set(Specification.objects.filter(institution_id=institution_id, name__in=list(basis),
                                                  test_object__in=chain).values_list("parameter_id", flat=True))
    covered = set(ScopeLine.objects.valid_on(day).filter(
        institution_id=institution_id, test_object__in=chain, parameter__in=parameters,
    ).values_list("parameter_id", "standard_id"))
    services = (AnalysisService.objects.filter(institution_id=institution_id, parameter__in=parameters)
                .select_related("parameter", "standard").order_by("parameter__name", "id"))
    chosen: dict[int, AnalysisService] = {}
    for s in services:
        # One method per parameter: the accredited one first; calculated methods (the reported value) win
        # over their inputs, which are proposed with them when the formula names them.
        if (s.parameter_id, s.standard_id) not in covered:
            continue
        best = chosen.get(s.parameter_id)
        if best is None or (s.formula and not best.formula):
            chosen[s.parameter_id] = s
    picked = list(chosen.values())
    keywords = {k for s in picked if s.formula for k in _formula_names(s.formula)}
    if keywords:
        picked += [s for s in AnalysisService.objects.filter(institution_id=institution_id, keyword__in=keywords)
                   .select_related("parameter", "standard") if s not in picked]
    return picked


def _formula_names(text: str) -> set[str]:
    try:
        return parse(text).names
    except FormulaError:
        return set()
