"""Public endpoints: the lab finder, an institution's public record, the plan's reference data."""


import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from opentic.core.ratelimit import rate_limited
from opentic.portal.finder import MAX_QUERY_LENGTH, FinderError, FinderQuery, find
from opentic.registry.api import InstitutionCore, InstitutionId
from opentic.registry.models import District, Domain, Institution, SpatialUnit

router = Router(tags=["public"])


class FinderIn(Schema):
    q: str = Field("", max_length=MAX_QUERY_LENGTH,
                   description="what to test: object, parameter and/or standard code, in any order")
    district: str = Field("", pattern=r"^(\d{6})?$", description="district code (6 digits) where the lab is")
    region: str = Field("", max_length=40, description="region of Chongqing (e.g. 主城都市区)")
    unit: str = Field("", max_length=4, description="spatial unit code (a cluster or zone)")
    domain: str = Field("", max_length=4, description="industry domain code (e.g. M8)")
    page: int = Field(1, ge=1, le=1000, description="page of results, from 1")


class LineOut(Schema):
    seq: int
    field: str
    category: str
    test_object: str
    parameter: str
    standard: str
    standard_title: str
    restriction: str


class HitOut(Schema):
    institution_id: int
    name: str
    district: str
    cma_number: str
    cma_valid_until: dt.date
    score: int
    matched_lines: int
    lines: list[LineOut]


class ReadingOut(Schema):
    standards: list[str]
    parameters: list[str]
    objects: list[str]
    free_text: str


class FinderOut(Schema):
    reading: ReadingOut
    total: int
    page: int
    pages: int
    hits: list[HitOut]


class PublicInstitutionOut(InstitutionCore):
    status: str
    valid_today: bool
    district: str
    address: str
    phone: str
    scope: list[LineOut]


class ReferenceOut(Schema):
    code: str
    name: str
    kind: str = ""


def _line(line: object) -> dict[str, object]:
    return {
        "seq": line.seq, "field": line.field, "category": line.category,  # type: ignore[attr-defined]
        "test_object": line.test_object.name, "parameter": line.parameter.name,  # type: ignore[attr-defined]
        "standard": line.standard.full_code, "standard_title": line.standard.title,  # type: ignore[attr-defined]
        "restriction": line.restriction,  # type: ignore[attr-defined]
    }


def _limit(request: HttpRequest, group: str) -> None:
    if rate_limited(request, f"api:{group}"):
        raise HttpError(429, "请求过于频繁，请稍后再试")


@router.get("/finder", response=FinderOut, summary="Find a lab that can test something",
            description="Laboratories whose valid accredited scope covers the query, best match first, with the "
                        "scope lines that matched.")
def finder(request: HttpRequest, params: Query[FinderIn]) -> dict[str, object]:
    _limit(request, "finder")
    try:
        result = find(FinderQuery(**params.model_dump()))
    except FinderError as exc:
        raise HttpError(400, str(exc)) from exc
    r = result.reading
    return {
        "reading": {"standards": r.standard_codes, "parameters": [p.name for p in r.parameters],
                    "objects": [o.name for o in r.objects], "free_text": r.free_text},
        "total": result.total, "page": result.page, "pages": result.pages,
        "hits": [{
            "institution_id": h.institution.pk, "name": h.institution.name,
            "district": h.institution.district.name, "cma_number": h.institution.cma_number,
            "cma_valid_until": h.institution.cma_valid_until, "score": h.score, "matched_lines": h.matched,
            "lines": [_line(line) for line in h.lines],
        } for h in result.hits],
    }


@router.get("/labs/{int:pk}", response=PublicInstitutionOut, summary="An institution's public record",
            description="Certificate, status and today's accredited scope (empty when the certificate is not valid).")
def public_institution(request: HttpRequest, pk: InstitutionId) -> dict[str, object]:
    _limit(request, "lab")
    institution = Institution.objects.select_related("district").filter(pk=pk).first()
    if institution is None:
        raise HttpError(404, "没有这个机构")
    today = timezone.localdate()
    valid = institution.is_valid_on(today)
    lines = (institution.scope_lines.valid_on(today).select_related("test_object", "parameter", "standard")
             .order_by("seq")) if valid else []
    return {
        "id": institution.pk, "name": institution.name, "credit_code": institution.credit_code,
        "cma_number": institution.cma_number, "cma_valid_from": institution.cma_valid_from,
        "cma_valid_until": institution.cma_valid_until, "status": institution.current_status, "valid_today": valid,
        "district": institution.district.name, "address": institution.address, "phone": institution.phone,
        "scope": [_line(line) for line in lines],
    }


@router.get("/reference/districts", response=list[ReferenceOut], summary="Districts of Chongqing",
            description="The districts and counties of Chongqing: code, name and region (kind).")
def districts(request: HttpRequest) -> list[dict[str, str]]:
    return [{"code": d.code, "name": d.name, "kind": d.region} for d in District.objects.all()]


@router.get("/reference/domains", response=list[ReferenceOut], summary="Industry domains",
            description="The testing domains of the plan: code, name and stage (kind).")
def domains(request: HttpRequest) -> list[dict[str, str]]:
    return [{"code": d.code, "name": d.name, "kind": d.stage} for d in Domain.objects.all()]


@router.get("/reference/spatial-units", response=list[ReferenceOut], summary="Spatial units",
            description="Clusters and zones of the plan's spatial layout: code, name and kind.")
def spatial_units(request: HttpRequest) -> list[dict[str, str]]:
    return [{"code": u.code, "name": u.name, "kind": u.kind} for u in SpatialUnit.objects.all()]
