"""Ledger endpoints: verification for everyone, registration for an institution's signatories."""


import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Form, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.params import FileEx, P
from ninja.responses import Status
from pydantic import Field

from opentic.core.api_auth import AUTH
from opentic.core.http import AuthenticatedHttpRequest
from opentic.portal.views import rate_limited

from . import services
from .views import MAX_UPLOAD

public_router = Router(tags=["public"])
router = Router(tags=["ledger"], auth=AUTH)


class VerifyIn(Schema):
    i: str = Field(..., min_length=18, max_length=18, description="credit code of the institution")
    n: str = Field(..., min_length=1, max_length=60, description="report number")
    c: str = Field(..., min_length=22, max_length=22, description="verification code")


class EntryOut(Schema):
    log: str
    index: int
    event: str
    claimed_at: dt.datetime
    sequenced_at: dt.datetime


class VerdictOut(Schema):
    status: Literal["genuine", "altered", "unknown", "superseded", "withdrawn"]
    trusted: bool
    message: str
    institution: str | None
    institution_name: str | None
    entry: EntryOut | None
    superseded_by: EntryOut | None
    withdrawn: EntryOut | None
    not_accepted_since: dt.datetime | None
    not_accepted_reason: str | None
    late: bool


class RegisterIn(Schema):
    number: str = Field(..., min_length=1, max_length=60, description="report number")
    event: Literal["issued", "amended", "withdrawn"] = Field("issued", description="what happens to the report")
    code: str | None = Field(None, min_length=22, max_length=22,
                             description="verification code (generated when absent)")
    replaces_number: str | None = Field(None, max_length=60, description="number of the report this one replaces")
    replaces_code: str | None = Field(None, min_length=22, max_length=22,
                                      description="verification code of the report this one replaces")


class ReceiptOut(Schema):
    number: str
    code: str
    log: str
    index: int
    url: str
    proof: str


def _entry(entry: object) -> dict[str, object] | None:
    if entry is None:
        return None
    return {"log": entry.log.origin, "index": entry.index, "event": entry.event,  # type: ignore[attr-defined]
            "claimed_at": entry.claimed_at, "sequenced_at": entry.sequenced_at}  # type: ignore[attr-defined]


def _verdict(v: services.Verdict) -> dict[str, object]:
    return {
        "status": v.status, "trusted": v.trusted, "message": str(v.message),
        "institution": v.entry.institution if v.entry else None,
        "institution_name": getattr(v.entry, "institution_name", None), "entry": _entry(v.entry),
        "superseded_by": _entry(v.superseded_by), "withdrawn": _entry(v.withdrawn),
        "not_accepted_since": v.not_accepted.start if v.not_accepted else None,
        "not_accepted_reason": v.not_accepted.reason if v.not_accepted else None, "late": v.late,
    }


def _limit(request: HttpRequest) -> None:
    if rate_limited(request, "api:verify"):
        raise HttpError(429, "请求过于频繁,请稍后再试")


@public_router.get("/verify", response=VerdictOut, summary="Verify a report by its QR code")
def verify(request: HttpRequest, params: Query[VerifyIn]) -> dict[str, object]:
    """What the ledger says of the report behind a QR code (institution, number, verification code)."""
    _limit(request)
    return _verdict(services.verify_report(params.i, params.n, params.c))


@public_router.get("/verify/proof", summary="A report's proof file")
def proof(request: HttpRequest, params: Query[VerifyIn]) -> HttpResponse:
    """The report's proof file (c2sp.org/tlog-proof) against the latest checkpoint, with its cosignatures."""
    _limit(request)
    text = services.current_proof(params.i, params.n, params.c)
    if text is None:
        raise HttpError(404, "账本中没有这份报告")
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="report.pdf.tlog-proof"'
    return response


@public_router.post("/verify/pdf", response=VerdictOut, summary="Verify a report PDF")
def verify_pdf(request: HttpRequest,
               pdf: FileEx[UploadedFile, P(description="the report PDF (at most 20 MB)")]) -> dict[str, object]:
    """Upload a report PDF: genuine and unaltered, altered, unknown, superseded or withdrawn."""
    _limit(request)
    if (pdf.size or 0) > MAX_UPLOAD:
        raise HttpError(413, "PDF 超过 20 MB")
    try:
        return _verdict(services.verify_pdf(pdf.read()))
    except ValidationError as exc:
        raise HttpError(422, " ".join(exc.messages)) from exc


@router.post("/reports", response={201: ReceiptOut}, summary="Register a report in the ledger")
def register(request: AuthenticatedHttpRequest, data: Form[RegisterIn],
             pdf: FileEx[UploadedFile, P(description="the signed report PDF")]) -> Status[object]:
    """Register a signed report PDF (issue, amendment or withdrawal); answers once it is under a checkpoint."""
    user = request.user
    if user.institution is None:
        raise HttpError(403, "只有检验检测机构可以登记报告")
    replaces = (data.replaces_number, data.replaces_code) if data.replaces_number and data.replaces_code else None
    receipt = services.register_report(
        user, user.institution, data.number, pdf.read(), event=data.event,
        code=data.code, replaces=replaces)
    return Status(201, {"number": receipt.number, "code": receipt.code, "log": receipt.origin, "index": receipt.index,
                        "url": receipt.url, "proof": receipt.proof})
