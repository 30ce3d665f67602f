"""Register endpoints: institutions (regulators: all; institution staff: their own), status, import, export."""


import datetime as dt
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.params import FileEx, P, PathEx, QueryEx
from ninja.responses import Status
from pydantic import Field

from opentic.core.api_auth import AUTH
from opentic.core.api_schemas import ErrorOut, Paged, id_param
from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.permissions import can_view_private, is_regulator
from opentic.registry import services
from opentic.registry.filters import filter_institutions
from opentic.registry.importing import ImportRejected
from opentic.registry.models import Institution, InstitutionStatus, Instrument, Ownership, Staff
from opentic.registry.sheets import export, run_import

router = Router(tags=["register"], auth=AUTH)
InstitutionId = PathEx[int, id_param("the institution's id")]


class InstitutionCore(Schema):
    """What identifies an institution and its certificate; public and private views both start here."""

    id: int
    name: str
    credit_code: str
    cma_number: str
    cma_valid_from: dt.date
    cma_valid_until: dt.date


class InstitutionOut(InstitutionCore):
    ownership: str
    third_party: bool
    district: str = Field(alias="district_id")
    address: str
    phone: str
    status: str = Field(description="the status today: an ended certificate reads expired (registry.validity)")
    certificate_ends_soon: bool = Field(description="valid, and the certificate ends within 3 months")

    @staticmethod
    def resolve_status(obj: Institution) -> str:
        return obj.current_status

    @staticmethod
    def resolve_certificate_ends_soon(obj: Institution) -> bool:
        return obj.expires_soon


class InstitutionFilter(Schema):
    q: str | None = Field(None, max_length=100, description="part of the name, credit code or certificate number")
    status: InstitutionStatus | None = Field(None, description="the status today (an ended certificate: expired)")
    expiring: bool | None = Field(None, description="only certificates ending within 3 months")
    region: str | None = Field(None, max_length=40, description="region of Chongqing")
    district: str | None = Field(None, pattern=r"^\d{6}$", description="district code (6 digits)")
    unit: str | None = Field(None, max_length=4, description="spatial unit code (a cluster or zone)")
    domain: str | None = Field(None, max_length=4, description="industry domain code (e.g. M8)")
    ownership: Ownership | None = Field(None, description="kind of ownership")


class StaffOut(Schema):
    id: int
    employee_no: str
    name: str
    id_masked: str
    title: str
    position: str
    active: bool


class InstrumentOut(Schema):
    id: int
    asset_number: str
    name: str
    model: str
    serial_number: str
    measuring_range: str
    calibration_due: dt.date | None
    is_large: bool
    value_yuan: Decimal
    shared: bool
    status: str


class StatusIn(Schema):
    status: InstitutionStatus = Field(description="the new certificate status")
    reason: str = Field(min_length=1, max_length=2000, description="why (kept in the institution's history)")


class RegisterImportOut(Schema):
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class RegisterImportErrorOut(ErrorOut):
    """The file's refusal with every row at fault (none when the request itself was malformed)."""

    errors: list[RowErrorOut] = []


def _visible(request: HttpRequest) -> QuerySet[Institution]:
    user = request.user
    if is_regulator(user):
        return Institution.objects.all()
    return Institution.objects.filter(pk=getattr(user, "institution_id", None) or 0)


def _private(request: HttpRequest, pk: int) -> Institution:
    if not can_view_private(request.user, pk):
        raise Http404
    return get_object_or_404(Institution, pk=pk)


@router.get("/institutions", response=list[InstitutionOut], summary="Institutions",
            description="Regulators see every institution; institution staff see their own. Filtered, paged.")
@paginate(Paged)
def list_institutions(request: AuthenticatedHttpRequest, filters: Query[InstitutionFilter]) -> QuerySet[Institution]:
    return filter_institutions(_visible(request), filters.model_dump(exclude_none=True)).order_by("name")


@router.get("/institutions/{int:pk}", response=InstitutionOut, summary="An institution",
            description="The register's record of one institution (its regulator or its own staff; 404 to others).")
def get_institution(request: AuthenticatedHttpRequest, pk: InstitutionId) -> Institution:
    return _private(request, pk)


@router.get("/institutions/{int:pk}/staff", response=list[StaffOut], summary="An institution's staff",
            description="Staff on the register, ID numbers masked (its regulator or its own staff; 404 to others).")
@paginate(Paged)
def list_staff(request: AuthenticatedHttpRequest, pk: InstitutionId) -> QuerySet[Staff]:
    return _private(request, pk).staff.order_by("employee_no")


@router.get("/institutions/{int:pk}/instruments", response=list[InstrumentOut], summary="An institution's instruments",
            description="Instruments with calibration due dates (its regulator or its own staff; 404 to others).")
@paginate(Paged)
def list_instruments(request: AuthenticatedHttpRequest, pk: InstitutionId) -> QuerySet[Instrument]:
    return _private(request, pk).instruments.order_by("asset_number")


@router.post("/institutions/{int:pk}/status", response=InstitutionOut, summary="Change an institution's status",
             description="Suspend, revoke, expire or restore a certificate, with the reason. Regulators only; "
                         "a transition the rules forbid answers 422.")
def change_status(request: AuthenticatedHttpRequest, payload: StatusIn, pk: InstitutionId) -> Institution:
    institution = _private(request, pk)
    return services.change_institution_status(request.user, institution, payload.status, payload.reason)


@router.post("/imports/{kind}", response={200: RegisterImportOut, 422: RegisterImportErrorOut},
             summary="Import a register file", description="Institutions (regulators), or an institution's scope, "
             "staff or instruments, from XLSX or CSV; all rows or none, every faulty row named in the 422.")
def import_file(
    request: AuthenticatedHttpRequest, file: FileEx[UploadedFile, P(description="the XLSX or CSV file")],
    kind: PathEx[Literal["institutions", "scope", "staff", "instruments"], P(description="what the file holds")],
) -> Status[object]:
    try:
        result = run_import(request.user, kind, file.name or "upload", file.read())
    except ImportRejected as exc:
        return Status(422, {"detail": str(exc), "errors": [e.__dict__ for e in exc.errors]})
    return Status(200, result)


@router.get("/exports/{kind}", summary="Export the register",
            description="The institutions visible to you (filtered) and their scope, staff or instruments, as a "
                        "spreadsheet in the import's own layout.")
def export_file(
    request: AuthenticatedHttpRequest, filters: Query[InstitutionFilter],
    kind: PathEx[Literal["institutions", "scope", "staff", "instruments"], P(description="what to export")],
    format: QueryEx[Literal["xlsx", "csv"], P(description="file format")] = "xlsx",
) -> HttpResponse:
    if not is_regulator(request.user) and kind == "institutions":
        raise PermissionDenied
    queryset = filter_institutions(_visible(request), filters.model_dump(exclude_none=True))
    data, filename = export(kind, queryset, format)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8" if format == "csv" else
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

