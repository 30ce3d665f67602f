"""Order pages: the list, a new order with its contract review, an order with its samples and the
registration of several samples at once, their tests proposed from the accredited scope and the basis."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opentic.core.feedback import form_errors
from opentic.core.models import User
from opentic.core.permissions import lab_of
from opentic.registry.models import Institution, TestObject

from . import orders, services
from .models import Order, Sample
from .order_forms import ClientForm, ObjectForm, OrderForm, SampleRows, TestsForm
from .worklists import worklist


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _order(request: HttpRequest, pk: int) -> Order:
    return get_object_or_404(Order.objects.select_related("client"), pk=pk, institution_id=lab_of(request.user))


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    institution_id = lab_of(request.user)
    rows = Order.objects.filter(institution_id=institution_id).select_related("client").order_by("-received_on", "-id")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "lims/orders.html", {"page": page})


@login_required
def order_new(request: HttpRequest) -> HttpResponse:
    institution_id = lab_of(request.user)
    basis = orders.spec_sets(institution_id)
    data = request.POST if request.method == "POST" else None
    initial = {"received_on": timezone.localdate(), "kind": request.GET.get("kind", Order.Kind.COMMISSION)}
    form = OrderForm(institution_id, basis, data, initial=initial)
    client_form = ClientForm(data, prefix="client")
    errors: list[str] = []
    if form.is_valid():
        data_ = form.cleaned_data
        fields = {k: data_[k] for k in orders.ORDER_FIELDS}
        fields["judgement_basis"] = list(data_["judgement_basis"])
        try:
            with transaction.atomic():
                client = data_["client"]
                if client is None:
                    if not client_form.is_valid():
                        raise ValidationError(_("Choose a client, or give the new client's name."))
                    c = client_form.cleaned_data
                    client = orders.create_client(_user(request), Institution.objects.get(pk=institution_id),
                                                  c.pop("name"), **c)
                order = orders.create_order(_user(request), client, data_["number"], data_["received_on"], **fields)
            messages.success(request, _("Order %(number)s created.") % {"number": order.number})
            return redirect("lims:order", pk=order.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors += form_errors(form, exc)
    elif form.is_bound:
        errors.append(_("The order was not saved: see the marked fields."))
    return render(request, "lims/order_form.html", {"form": form, "client_form": client_form, "errors": errors,
                                                    "no_basis": not basis}, status=422 if errors else 200)


def _registration(request: HttpRequest, order: Order, data: Any = None) -> dict[str, Any]:
    """The registration block of an order page: the object, the proposed tests, one row per sample."""
    institution_id = order.institution_id
    object_form = ObjectForm(data or request.GET or None)
    test_object = None
    if object_form.is_bound and object_form.is_valid():
        name = object_form.cleaned_data["test_object"].strip()
        test_object = TestObject.objects.filter(name=name).first()
        if test_object is None:
            object_form.add_error("test_object", _("Unknown object: %(name)s") % {"name": name})
    try:
        count = max(1, min(int(request.GET.get("count") or 1), 50))
    except ValueError:
        count = 1
    proposed = orders.proposed_services(institution_id, test_object, order.judgement_basis) if test_object else []
    tests = TestsForm(institution_id, data, initial={"services": [s.pk for s in proposed]})
    sampling = order.kind in Order.SAMPLING_KINDS
    rows = SampleRows(data, prefix="s", initial=[
        {"sampled_on": timezone.localdate()} if sampling else {} for _ in range(count)])
    return {"object_form": object_form, "test_object": test_object, "tests": tests, "rows": rows,
            "proposed": proposed, "sampling": sampling, "count": count}


@login_required
def order(request: HttpRequest, pk: int) -> HttpResponse:
    o = _order(request, pk)
    return render(request, "lims/order.html", _page(request, o, _registration(request, o)))


def _page(request: HttpRequest, o: Order, registration: dict[str, Any], errors: list[str] | None = None
          ) -> dict[str, Any]:
    samples = list(Sample.objects.filter(order=o).select_related("test_object").order_by("id"))
    return {"order": o, "samples": samples, "errors": errors or [], **registration}


@login_required
@require_POST
def register_samples(request: HttpRequest, pk: int) -> HttpResponse:
    o = _order(request, pk)
    registration = _registration(request, o, request.POST)
    tests, rows, test_object = registration["tests"], registration["rows"], registration["test_object"]
    errors: list[str] = []
    if test_object is None:
        errors.append(_("Name the object of the samples."))
    elif not tests.is_valid():
        errors += [str(e) for e in tests.errors.get("services", [])] or [_("Choose the tests.")]
    elif not rows.is_valid():
        errors.append(_("Some samples are incomplete: see the marked fields."))
        errors += [str(e) for e in rows.non_form_errors()]
    else:
        chosen = list(tests.cleaned_data["services"])
        batch = [{**row.cleaned_data, "test_object": test_object, "services": chosen} for row in rows
                 if row.cleaned_data]
        try:
            created = services.register_samples(_user(request), o, batch,
                                                allow_non_accredited=tests.cleaned_data["allow_non_accredited"])
            messages.success(request, _("%(count)d samples registered: %(numbers)s") % {
                "count": len(created), "numbers": "、".join(s.lab_number for s in created)})
            return redirect("lims:order", pk=o.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors += exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    return render(request, "lims/order.html", _page(request, o, registration, errors), status=422)


@login_required
def work(request: HttpRequest) -> HttpResponse:
    """Where the lab's staff land after signing in: their own work, by role."""
    return render(request, "lims/work.html", {"w": worklist(_user(request), lab_of(request.user)),
                                              "today": timezone.localdate()})
