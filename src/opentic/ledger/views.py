"""The log over HTTP (c2sp.org/tlog-tiles: checkpoint, tiles, entry bundles), witness cosignatures, and
the public verification page."""

from __future__ import annotations

import struct

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from opentic.core.feedback import attempt, posted_id
from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.models import Role, User
from opentic.core.permissions import require, require_regulator
from opentic.core.ratelimit import rate_limited, too_many
from opentic.registry.models import Institution

from . import esign, services
from .forms import EndNotAcceptedForm, NotAcceptedForm, RevokeKeyForm, SigningKeyForm, VerifyForm
from .keys import log_verifier
from .merkle import HASH_SIZE
from .models import AuditAnchor, Checkpoint, Entry, Log, NotAccepted, SigningKey, Tile
from .tiles import WIDTH, parse_tile_path

IMMUTABLE = "public, max-age=31536000, immutable"
MAX_UPLOAD = 20 * 1024 * 1024


def _text(body: str, cache: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = cache
    return response


@require_GET
def key(request: HttpRequest) -> HttpResponse:
    """The log's verifier key, to pin in offline verifiers, witnesses and monitors."""
    return _text(log_verifier().vkey + "\n", "public, max-age=3600")


@require_GET
def checkpoint(request: HttpRequest, year: int) -> HttpResponse:
    log = get_object_or_404(Log, year=year)
    latest = Checkpoint.objects.filter(log=log, size=log.size).first()
    if latest is None:
        raise Http404
    return _text(services.cosigned_note(latest), "no-cache, max-age=2")


@require_GET
def audit_checkpoint(request: HttpRequest) -> HttpResponse:
    """The audit anchor log's newest signed checkpoint (docs/decisions/0016): a monitor that keeps each one
    it fetched sees a rolled-back anchor log, as a witness does for the report ledger."""
    note = AuditAnchor.objects.order_by("-size").values_list("note", flat=True).first()
    if note is None:
        raise Http404
    return _text(note, "no-cache, max-age=2")


@require_GET
def tile(request: HttpRequest, year: int, path: str) -> HttpResponse:
    try:
        level, index, width = parse_tile_path("tile/" + path)
    except ValueError:
        return HttpResponseBadRequest("not a tile path")
    log = get_object_or_404(Log, year=year)
    # Only tiles of published trees: the partial width must not pass the current tree.
    first = index * WIDTH
    if level == "entries":
        if first + width > log.size:
            raise Http404
        rows = Entry.objects.filter(log=log, index__gte=first, index__lt=first + width).order_by("index")
        datas = [bytes(e.data) for e in rows.only("data")]
        body = b"".join(struct.pack(">H", len(d)) + d for d in datas)
    else:
        assert isinstance(level, int)
        if (first + width) << (8 * level) > log.size:
            raise Http404
        row = Tile.objects.filter(log=log, level=level, index=index).first()
        if row is None or len(row.data) < width * HASH_SIZE:
            raise Http404
        body = bytes(row.data)[:width * HASH_SIZE]
    response = HttpResponse(body, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE
    return response


@csrf_exempt
@require_POST
def cosign(request: HttpRequest, year: int) -> HttpResponse:
    """A witness posts its cosigned checkpoint; kept when a configured witness's cosignature verifies."""
    log = get_object_or_404(Log, year=year)
    try:
        kept = services.record_cosignatures(log, request.body.decode("utf-8", "replace"))
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    return _text("\n".join(kept) + "\n", "no-store")


def verify(request: HttpRequest) -> HttpResponse:
    """Anyone: scan the QR code (its link lands here) or upload the PDF."""
    if rate_limited(request, "verify"):
        return too_many(request)
    verdict, error = None, ""
    submitted = request.method == "POST" or bool(request.GET)
    form = VerifyForm((request.POST if request.method == "POST" else request.GET) if submitted else None,
                      request.FILES or None)
    if submitted and form.is_valid():
        pdf, data = form.cleaned_data.get("pdf"), form.cleaned_data
        try:
            content = None
            if pdf is not None:
                if pdf.size > MAX_UPLOAD:
                    raise ValidationError("PDF 超过 20 MB")
                content = pdf.read()
            if content is not None and not (data["n"] and data["c"]):
                verdict = services.verify_pdf(content)
            elif data["i"]:
                verdict = services.verify_report(data["i"], data["n"], data["c"], content)
            else:
                verdict = services.verify_code(data["n"], data["c"], content)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    elif submitted:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return render(request, "ledger/verify.html", {"form": form, "verdict": verdict, "error": error},
                  status=400 if error else 200)


@login_required
def not_accepted(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The regulator's page for an institution's 失信 periods: declare one, or end the open one."""
    require_regulator(request.user)
    institution = get_object_or_404(Institution, pk=pk)
    form, end_form = NotAcceptedForm(), EndNotAcceptedForm()
    if request.method == "POST":
        try:
            if "period" in request.POST:
                end_form = EndNotAcceptedForm(request.POST)
                if end_form.is_valid():
                    period = get_object_or_404(NotAccepted, pk=posted_id(request.POST, "period"),
                                               institution=institution)
                    services.end_not_accepted(request.user, period, end_form.cleaned_data["end"],
                                              end_form.cleaned_data["reason"])
                    messages.success(request, _("The institution's results are accepted again."))
                    return redirect("ledger:not_accepted", pk=pk)
            else:
                form = NotAcceptedForm(request.POST)
                if form.is_valid():
                    services.declare_not_accepted(request.user, institution, form.cleaned_data["start"],
                                                  form.cleaned_data["end"], form.cleaned_data["reason"])
                    messages.success(request, _("Recorded: reports issued in this period show it when verified."))
                    return redirect("ledger:not_accepted", pk=pk)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    return render(request, "ledger/not_accepted.html", {
        "institution": institution, "form": form, "end_form": end_form,
        "periods": NotAccepted.objects.filter(institution=institution).order_by("-start"),
    }, status=400 if request.method == "POST" else 200)


@login_required
def signing_keys(request: HttpRequest) -> HttpResponse:
    """A signatory's keys for machine clients: register a certificate, revoke a key (each with the password)."""
    user = request.user
    assert isinstance(user, User)  # login_required
    require(user.institution_id is not None and (user.has_role(Role.SIGNATORY) or user.has_role(
        Role.INSTITUTION_ADMIN)), "只有本机构的授权签字人或管理员可以查看签名密钥")
    lab = int(user.institution_id or 0)
    form, revoke = SigningKeyForm(), RevokeKeyForm()
    if request.method == "POST":
        if "key" in request.POST:
            revoke = RevokeKeyForm(request.POST)
            if revoke.is_valid():
                key = get_object_or_404(SigningKey, pk=revoke.cleaned_data["key"], institution_id=lab)
                if attempt(request, _("The key is revoked: it signs nothing more."),
                           lambda: esign.revoke_key(user, key, revoke.cleaned_data["password"])):
                    return redirect("ledger:keys")
        else:
            form = SigningKeyForm(request.POST)
            if form.is_valid() and attempt(
                    request, _("Registered: registrations this key signs are your electronic signature."),
                    lambda: esign.register_key(user, form.cleaned_data["password"], form.cleaned_data["name"],
                                               form.cleaned_data["certificate"])):
                return redirect("ledger:keys")
    keys = SigningKey.objects.filter(institution_id=lab).select_related("user").order_by("-registered_at")
    return render(request, "ledger/keys.html", {"form": form, "revoke": revoke, "keys": keys},
                  status=400 if request.method == "POST" else 200)
