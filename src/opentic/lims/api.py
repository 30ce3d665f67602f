"""LIMS endpoints for a laboratory's own systems: samples, results, instrument files. Token or session."""


import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.params import FileEx, P, PathEx, QueryEx
from ninja.responses import Status
from pydantic import Field

from opentic.core.api_auth import AUTH
from opentic.core.api_schemas import MAX_ID, ErrorOut, Paged, id_param
from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.permissions import lab_of
from opentic.registry.importing import ImportRejected
from opentic.registry.models import Instrument

from . import services
from .models import Analysis, InstrumentMapping, Sample
from .results_import import import_results

router = Router(tags=["lims"], auth=AUTH)


class AnalysisOut(Schema):
    id: int
    keyword: str
    parameter: str
    standard: str
    accredited: bool
    state: str
    value: str
    unit: str
    uncertainty: str
    conformity: str
    judged_against: str
    version: int


class SampleOut(Schema):
    id: int
    lab_number: str
    name: str
    object: str
    state: str
    version: int
    received_at: dt.datetime | None


class SampleDetailOut(SampleOut):
    analyses: list[AnalysisOut]


class SampleFilter(Schema):
    state: str | None = Field(None, max_length=16, description="sample state (e.g. received, in_testing)")
    q: str | None = Field(None, max_length=60, description="start of the lab number, or part of the name")


class AnalysisResultIn(Schema):
    value: str = Field(..., min_length=1, max_length=40, description="the result, as a decimal number")
    uncertainty: str = Field("", max_length=40, description="expanded uncertainty U, same unit as the value")
    coverage_factor: str = Field("", max_length=10, description="coverage factor k of U")
    instrument_id: int | None = Field(None, ge=1, le=MAX_ID, description="id of the instrument used")
    reason: str = Field("", max_length=300, description="why a result already entered changes")
    version: int = Field(..., ge=1, le=2**31 - 1, description="the analysis version you read (optimistic locking)")



class InstrumentImportErrorOut(ErrorOut):
    """The file's refusal with every line at fault (none when the request itself was malformed)."""

    errors: list[dict[str, object]] = []


class InstrumentImportOut(Schema):
    results: int
    calculated: int
    samples: int


def _institution_id(request: HttpRequest) -> int:
    return lab_of(request.user)


def _sample(s: Sample) -> dict[str, object]:
    return {"id": s.pk, "lab_number": s.lab_number, "name": s.name, "object": s.test_object.name, "state": s.state,
            "version": s.version, "received_at": s.received_at}


def _analysis(a: Analysis) -> dict[str, object]:
    return {"id": a.pk, "keyword": a.service.keyword, "parameter": a.service.parameter.name,
            "standard": a.service.standard.full_code, "accredited": a.accredited, "state": a.state, "value": a.value,
            "unit": a.unit, "uncertainty": a.uncertainty, "conformity": a.conformity,
            "judged_against": a.judged_against, "version": a.version}


@router.get("/samples", response=list[SampleOut], summary="Your laboratory's samples",
            description="Your laboratory's samples, newest first, filtered by state or number/name. Paged.")
@paginate(Paged)
def samples(request: AuthenticatedHttpRequest, filters: Query[SampleFilter]) -> list[dict[str, object]]:
    queryset = Sample.objects.filter(institution_id=_institution_id(request)).select_related("test_object")
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.q:
        queryset = queryset.filter(Q(lab_number__startswith=filters.q) | Q(name__contains=filters.q))
    return [_sample(s) for s in queryset.order_by("-id")[:5000]]


@router.get("/samples/{int:pk}", response=SampleDetailOut, summary="A sample with its analyses",
            description="One of your laboratory's samples with every analysis, its result, conformity and version.")
def sample(request: AuthenticatedHttpRequest, pk: PathEx[int, id_param("the sample's id")]) -> dict[str, object]:
    s = get_object_or_404(Sample.objects.select_related("test_object"), pk=pk, institution_id=_institution_id(request))
    analyses = s.analyses.select_related("service__parameter", "service__standard").order_by("id")
    return {**_sample(s), "analyses": [_analysis(a) for a in analyses]}


@router.post("/analyses/{int:pk}/result", response={200: AnalysisOut, 409: ErrorOut, 422: ErrorOut},
             summary="Enter a result",
             description="Enter or correct an analysis's result (a correction needs its reason). 409 when the "
                         "analysis changed since the version you read; 422 with the reason when refused.")
def result(request: AuthenticatedHttpRequest, data: AnalysisResultIn,
           pk: PathEx[int, id_param("the analysis's id")]) -> Status[object]:
    analysis = get_object_or_404(Analysis, pk=pk, sample__institution_id=_institution_id(request))
    instrument = None
    if data.instrument_id is not None:
        instrument = get_object_or_404(Instrument, pk=data.instrument_id, institution_id=_institution_id(request))
    try:
        saved = services.enter_result(request.user, analysis, data.value, instrument=instrument,
                                      uncertainty=data.uncertainty, coverage_factor=data.coverage_factor,
                                      reason=data.reason, expected_version=data.version)
    except services.Conflict as exc:
        return Status(409, {"detail": exc.messages})
    except ValidationError as exc:  # PermissionDenied passes through: the API answers it with 403
        return Status(422, {"detail": exc.message_dict if hasattr(exc, "error_dict") else exc.messages})
    saved = Analysis.objects.select_related("service__parameter", "service__standard").get(pk=saved.pk)
    return Status(200, _analysis(saved))


@router.post("/instrument-files/{int:mapping_id}", response={200: InstrumentImportOut, 422: InstrumentImportErrorOut},
             summary="Import an instrument's results file",
             description="Results from an instrument's export, read through one of your saved mappings; every "
                         "result or none, each faulty line named in the 422.")
def instrument_file(request: AuthenticatedHttpRequest,
                    mapping_id: PathEx[int, id_param("the saved mapping's id")],
                    file: FileEx[UploadedFile, P(description="the instrument's export (XLSX or CSV)")],
                    reason: QueryEx[str, P(description="why, when results already entered change",
                                           max_length=300)] = "") -> Status[object]:
    mapping = get_object_or_404(InstrumentMapping.objects.select_related("instrument"), pk=mapping_id,
                                institution_id=_institution_id(request))
    try:
        summary = import_results(request.user, mapping, file.name or "upload", file.read(), reason)
    except ImportRejected as exc:
        return Status(422, {"detail": str(exc), "errors": [e.__dict__ for e in exc.errors]})
    return Status(200, summary.__dict__)


