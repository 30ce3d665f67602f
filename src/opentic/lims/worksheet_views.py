"""Worksheet pages: the list, a new worksheet from a method's pending analyses (the method's instruments,
its QC policy filled in), and the grid, one input per position with the limit and judgement beside."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from opentic.core.feedback import keep_typed, kept_typed, refused
from opentic.core.models import User
from opentic.core.permissions import lab_of

from . import qc, qc_policy
from .benches import bench_instruments
from .entry_forms import ReasonForm
from .forms import ChooseMethodForm, WorksheetForm, form_messages
from .judgement import CONFORMITY_LABELS
from .models import Analysis, AnalysisService, Position, ReferenceMaterial, Worksheet
from .worksheets import QC, create_worksheet, enter_worksheet_results


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def worksheets(request: HttpRequest) -> HttpResponse:
    """Open worksheets, and a new one: choose the method, then its instrument and QC (the policy's counts)."""
    institution_id = lab_of(request.user)
    methods = AnalysisService.objects.filter(institution_id=institution_id).select_related("parameter", "standard")
    chosen = None
    picked = ChooseMethodForm(request.POST if request.method == "POST" else request.GET)
    if picked.is_valid():
        chosen = methods.filter(pk=picked.cleaned_data["service"]).first()
    form = None
    if chosen is not None:
        benches = [b for b in bench_instruments(chosen) if b.usable]
        materials = ReferenceMaterial.objects.filter(institution_id=institution_id).order_by("name")
        need = qc_policy.required(chosen, chosen.qc_batch_size or 20)
        form = WorksheetForm([(str(b.pk), b.label) for b in benches],
                             [(str(m.pk), f"{m.name} {m.lot}") for m in materials],
                             request.POST if request.method == "POST" else None,
                             initial={"service": chosen.pk, "limit": chosen.qc_batch_size or 20,
                                      "blanks": need.blanks, "duplicate": bool(chosen.qc_duplicates)})
        if form.is_bound:
            if form.is_valid():
                d = form.cleaned_data
                pending = list(Analysis.objects.filter(
                    service=chosen, state=Analysis.State.PENDING, sample__state__in=["received", "in_testing"]
                ).exclude(positions__kind=Position.Kind.SAMPLE).order_by("sample__lab_number")[:d["limit"]])
                checks = [QC("blank")] * d["blanks"]
                if d["duplicate"] and pending:
                    checks.append(QC("duplicate", duplicate_of=0))
                if d["reference_material"]:
                    checks.append(QC("control", reference_material=materials.get(pk=d["reference_material"])))
                try:
                    instrument = next(b.instrument for b in benches if b.pk == int(d["instrument"]))
                    sheet = create_worksheet(_user(request), chosen, instrument, pending, checks)
                    return redirect("lims:worksheet", pk=sheet.pk)
                except (ValidationError, PermissionDenied) as exc:
                    refused(request, exc)
            else:
                messages.error(request, "；".join(form_messages(form)))
    return render(request, "lims/worksheets.html", {
        "sheets": Worksheet.objects.filter(institution_id=institution_id).select_related(
            "service__parameter", "instrument").order_by("-id")[:50],
        "services": methods, "chosen": chosen, "form": form})


@login_required
def worksheet(request: HttpRequest, pk: int) -> HttpResponse:
    """The grid: one input per position, Tab from one to the next, one Save for the lot.

    A constant number of queries whatever its size (tests/lims/test_views.py counts them)."""
    institution_id = lab_of(request.user)
    sheet = get_object_or_404(Worksheet.objects.select_related("service__parameter", "service__standard",
                                                               "instrument"), pk=pk, institution_id=institution_id)
    key = f"worksheet-{sheet.pk}"
    if request.method == "POST":
        typed = {k: str(v)[:40] for k, v in request.POST.items() if INPUT.match(k)}
        values = {int(k[1:]): v for k, v in typed.items() if k.startswith("p")}
        inputs: dict[int, dict[str, str]] = {}
        for k, v in typed.items():
            if k.startswith("i"):
                pk_, keyword = k[1:].split("-", 1)
                inputs.setdefault(int(pk_), {})[keyword] = v
        reason_form = ReasonForm(request.POST)
        reason = reason_form.cleaned_data["reason"] if reason_form.is_valid() else ""
        try:
            saved = enter_worksheet_results(_user(request), sheet, values, reason, inputs)
            messages.success(request, _("%(count)d results saved.") % {"count": len(saved)})
        except (ValidationError, PermissionDenied) as exc:
            refused(request, exc)
            keep_typed(request, key, {**typed, "reason": reason})
        return redirect("lims:worksheet", pk=sheet.pk)
    typed = kept_typed(request, key)
    positions = list(sheet.positions.select_related("analysis__sample", "reference_material").order_by("slot"))
    try:
        judgement, qc_error = qc.judge(sheet), ""
    except ValidationError as exc:
        judgement, qc_error = None, "；".join(exc.messages)
    z = {p.slot: p.z for p in judgement.points} if judgement else {}
    return render(request, "lims/worksheet.html", {
        "sheet": sheet, "grid": _grid_html(_grid_rows(sheet, positions, z, typed), sheet.service.unit),
        "judgement": judgement, "qc_error": qc_error, "rejection": sheet.rejections.first(),
        "qc_missing": qc_policy.missing(sheet) if sheet.state == Worksheet.State.OPEN else [],
        "has_controls": any(p.kind == Position.Kind.CONTROL for p in positions), "reason": typed.get("reason", "")})


@dataclass(frozen=True)
class GridRow:
    """One line of the worksheet grid, flattened so that the template does one lookup per cell: a grid of
    500 positions renders within its 150 ms."""

    pk: int
    slot: int
    kind: str
    kind_label: str
    code: str
    name: str
    value: str
    disabled: bool
    z: float | None
    limit: str = ""
    conformity: str = ""
    inputs: tuple[tuple[str, str, str, str], ...] = ()  # (keyword, label, unit, value) of a calculated method


INPUT = re.compile(r"^(p\d+|i\d+-[A-Za-z_][A-Za-z0-9_]{0,19})$")  # a result cell, or a formula input cell
GRID_ROW = ('<tr data-kind="{}"><td class="num">{}</td><td>{}</td><td>{}</td><td>{}</td>'
            '<td>{}</td><td class="nowrap">{}</td>'
            '<td class="nowrap">{}</td><td class="conformity">{}</td><td class="num">{}</td></tr>')


def _grid_html(rows: list[GridRow], unit: str) -> str:
    """The grid's rows through format_html (every value escaped): the template engine's per-variable cost,
    times ten cells and 500 rows, was most of the page's 150 ms."""
    disabled = mark_safe(" disabled")  # a constant attribute, no user text
    return format_html_join("\n", GRID_ROW, (
        (r.kind, r.slot, r.kind_label, r.code, r.name, _cell(r, disabled), unit,
         r.limit or "—", r.conformity or "", "" if r.z is None else f"{r.z:.2f}") for r in rows))


def _cell(r: GridRow, disabled: str) -> str:
    """The result's input; for a calculated method, its inputs (称样量…) and the value they give."""
    attr = disabled if r.disabled else ""
    if not r.inputs:
        return format_html('<input name="p{}" value="{}" inputmode="decimal" size="10"{}>', r.pk, r.value, attr)
    cells = format_html_join(" ", '<label class="nowrap">{} <input name="i{}-{}" value="{}" inputmode="decimal" '
                             'size="8"{}> {}</label>', ((label, r.pk, kw, value, attr, unit_)
                                                        for kw, label, unit_, value in r.inputs))
    return format_html("{} <span class=\"result-shown\">= {}</span>", cells, r.value or "—")


def _grid_rows(sheet: Worksheet, positions: list[Position], z: dict[int, float],
               typed: dict[str, str]) -> list[GridRow]:
    open_ = sheet.state == Worksheet.State.OPEN
    labels = dict(Position.Kind.choices)
    rows = []
    for p in positions:
        a, rm = p.analysis, p.reference_material
        limit = conformity = ""
        inputs: tuple[tuple[str, str, str, str], ...] = ()
        if p.kind == Position.Kind.SAMPLE and a is not None:
            code, name, value = a.sample.lab_number, a.sample.name, a.value
            disabled = not open_ or a.state not in (Analysis.State.PENDING, Analysis.State.ENTERED)
            limit, conformity = a.limit, str(CONFORMITY_LABELS.get(a.conformity, ""))
            inputs = tuple((i["keyword"], i["label"], i["unit"],
                            typed.get(f"i{p.pk}-{i['keyword']}", a.inputs.get(i["keyword"], "")))
                           for i in sheet.service.inputs) if sheet.service.formula else ()
        else:
            code = a.sample.lab_number if a is not None else rm.lot if rm is not None else ""
            name = a.sample.name if a is not None else f"{rm.name}（{rm.certified_value}）" if rm is not None else ""
            value, disabled = p.value, not open_
        value = typed.get(f"p{p.pk}", value)  # what a refused save had typed stays in its cell
        rows.append(GridRow(p.pk, p.slot, p.kind, str(labels[p.kind]), code, name, value, disabled, z.get(p.slot),
                            limit, conformity, inputs if p.kind == Position.Kind.SAMPLE else ()))
    return rows

