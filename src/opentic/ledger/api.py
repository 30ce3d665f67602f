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
from opentic.core.ratelimit import rate_limited

from . import esign, services
from .views import MAX_UPLOAD

public_router = Router(tags=["public"])
router = Router(tags=["ledger"], auth=AUTH)


class VerifyIn(Schema):
    i: str | None = Field(None, min_length=18, max_length=18,
                          description="credit code of the institution (in the QR code's link; not needed otherwise)")
    n: str = Field(..., min_length=1, max_length=60, description="report number")
    c: str = Field(..., min_length=22, max_length=22, description="verification code printed on the report")


class EntryOut(Schema):
    log: str
    index: int
    event: str
    claimed_at: dt.datetime
    sequenced_at: dt.datetime


class VerifiedResultLineOut(Schema):
    parameter: str
    result: str
    unit: str
    limit: str
    conformity: str
    method: str


class VerifiedContentOut(Schema):
    """What the platform holds of a report it issued, to compare with the paper."""

    number: str
    lab_name: str
    sample_name: str
    issued: str
    conclusion: str
    results: list[VerifiedResultLineOut]


class VerifiedSealOut(Schema):
    valid: bool
    reason: str
    signer: str
    trust: str


class VerdictOut(Schema):
    status: Literal["genuine", "registered", "altered", "unsigned", "unknown", "superseded", "withdrawn"]
    trusted: bool
    checked_file: bool = Field(description="an uploaded file was compared; a lookup only says what is registered")
    message: str
    institution: str | None
    institution_name: str | None
    entry: EntryOut | None
    superseded_by: EntryOut | None
    current_number: str | None
    current_url: str | None
    withdrawn: EntryOut | None
    withdrawal_reason: str | None
    not_accepted_since: dt.datetime | None
    not_accepted_reason: str | None
    late: bool
    institution_status_at_issue: str | None = Field(
        None, description="when the institution was not valid at issue (e.g. expired: its CMA certificate had "
                          "ended); null when it was valid")
    content: VerifiedContentOut | None
    seal: VerifiedSealOut | None


class RegisterIn(Schema):
    """An electronic signature of one of the institution's authorized signatories: `password` (the token's
    user re-enters it), or `key` + `signature` (a machine client's key, registered by that signatory,
    signing the statement in docs/ledger-entry.md; then `code` is required)."""

    number: str = Field(..., min_length=1, max_length=60, description="report number")
    event: Literal["issued", "amended", "withdrawn"] = Field("issued", description="what happens to the report")
    code: str | None = Field(None, min_length=22, max_length=22,
                             description="verification code (generated when absent)")
    replaces_number: str | None = Field(None, max_length=60, description="number of the report this one replaces")
    replaces_code: str | None = Field(None, min_length=22, max_length=22,
                                      description="verification code of the report this one replaces")
    reason: str = Field("", max_length=500, description="required for an amendment or a withdrawal")
    password: str | None = Field(None, max_length=200, description="the signatory's password, re-entered")
    key: str | None = Field(None, min_length=64, max_length=64, description="the signing key's SHA-256 fingerprint")
    signature: str | None = Field(None, max_length=1000, description="base64 signature over the statement")


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
    content = v.content
    return {
        "status": v.status, "trusted": v.trusted, "checked_file": v.checked_file, "message": str(v.message),
        "institution": v.entry.institution if v.entry else None,
        "institution_name": getattr(v.entry, "institution_name", None), "entry": _entry(v.entry),
        "superseded_by": _entry(v.superseded_by), "current_number": v.current_number or None,
        "current_url": v.current_url or None, "withdrawn": _entry(v.withdrawn),
        "withdrawal_reason": v.withdrawal_reason or None,
        "not_accepted_since": v.not_accepted.start if v.not_accepted else None,
        "not_accepted_reason": v.not_accepted.reason if v.not_accepted else None, "late": v.late,
        "institution_status_at_issue": v.lapsed or None,
        "content": content,
        "seal": {"valid": v.seal.valid, "reason": v.seal.reason, "signer": v.seal.signer, "trust": v.seal.trust}
        if v.seal else None,
    }


def _limit(request: HttpRequest) -> None:
    if rate_limited(request, "api:verify"):
        raise HttpError(429, "请求过于频繁，请稍后再试")


@public_router.get("/verify", response=VerdictOut, summary="Verify a report by its QR code")
def verify(request: HttpRequest, params: Query[VerifyIn]) -> dict[str, object]:
    """What the ledger says of the report behind a QR code (institution, number, verification code)."""
    _limit(request)
    if params.i:
        return _verdict(services.verify_report(params.i, params.n, params.c))
    return _verdict(services.verify_code(params.n, params.c))


@public_router.get("/verify/proof", summary="A report's proof file")
def proof(request: HttpRequest, params: Query[VerifyIn]) -> HttpResponse:
    """The report's proof file (c2sp.org/tlog-proof) against the latest checkpoint, with its cosignatures."""
    _limit(request)
    credit_code = params.i or services.credit_code_of(params.n, params.c)
    text = services.current_proof(credit_code, params.n, params.c) if credit_code else None
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
    """Register a signed report PDF (issue, amendment or withdrawal) as an authorized signatory's electronic
    signature; answers once it is under a checkpoint. Reports the platform's LIMS issued are amended and
    withdrawn in the LIMS, not here."""
    user = request.user
    if user.institution is None:
        raise HttpError(403, "只有检验检测机构可以登记报告")
    replaces = (data.replaces_number, data.replaces_code) if data.replaces_number and data.replaces_code else None
    signed = esign.by_key(data.key, data.signature or "") if data.key else esign.by_password(data.password or "")
    receipt = services.register_report(
        user, user.institution, data.number, pdf.read(), esign=signed, event=data.event,
        code=data.code, replaces=replaces, reason=data.reason)
    return Status(201, {"number": receipt.number, "code": receipt.code, "log": receipt.origin, "index": receipt.index,
                        "url": receipt.url, "proof": receipt.proof})
