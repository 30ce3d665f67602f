"""Registering report events in the ledger, and telling anyone what a report's ledger record says."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opentic.core import audit
from opentic.core.models import User
from opentic.core.permissions import can_register_reports, require, require_regulator
from opentic.registry.models import Institution, InstitutionStatus
from opentic.registry.validity import status_then, status_then_sql

from . import entry as entries
from . import sequencer
from .esign import ESignature, certificates_of
from .esign import check as check_esign
from .esign import statement as esign_statement
from .hooks import SignatureCheck, check_signature, issued_by_lims, report_content
from .keys import witnesses
from .models import Checkpoint, Cosignature, Entry, Log, NotAccepted, Registration
from .note import NoteError, format_note, parse_note, verify_cosignature

# A registration claiming an issue time this much older than its sequencing is shown as late: a report
# should be registered when it is issued, not backdated.
LATE_AFTER = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Receipt:
    number: str
    code: str
    index: int
    origin: str
    proof: str  # the proof file (c2sp.org/tlog-proof), for offline checks
    url: str  # the verification link for the QR code


def verification_url(credit_code: str, number: str, code: str) -> str:
    return f"{settings.OPENTIC_PUBLIC_URL}/verify/?" + urlencode({"i": credit_code, "n": number, "c": code})


def parse_verification_url(url: str) -> tuple[str, str, str]:
    query = parse_qs(urlparse(url).query)
    try:
        return query["i"][0], query["n"][0], query["c"][0]
    except (KeyError, IndexError) as exc:
        raise ValidationError("不是 OpenTIC 报告验证链接") from exc


def register_report(actor: User, institution: Institution, number: str, pdf: bytes, *, esign: ESignature,
                    event: str = "issued", code: str | None = None, replaces: tuple[str, str] | None = None,
                    issued_at: dt.datetime | None = None, reason: str = "") -> Receipt:
    """Register a report's issue, amendment (naming the number and code it replaces) or withdrawal.

    Each is the electronic signature of one of the institution's authorized signatories (`esign`), bound
    to the content; the PDF must carry a valid PAdES signature of the institution (the platform's
    certificate for it, or one it registered). A report the platform's LIMS issued is amended or withdrawn
    only through the LIMS (the reports service), so that the ledger and the LIMS never disagree.
    Returns when the entry is under a signed checkpoint, with the proof file that shows it.
    """
    require(can_register_reports(actor, institution.pk), "只有本机构的授权签字人可以登记报告")
    number = (number or "").strip()
    reason = (reason or "").strip()
    if not number or len(number) > 60:
        raise ValidationError({"number": "报告编号为 1 到 60 个字符"})
    if not pdf.startswith(b"%PDF-"):
        raise ValidationError({"pdf": "不是 PDF 文件"})
    if event not in entries.EVENTS:
        raise ValidationError({"event": "登记事项为 issued、amended 或 withdrawn"})
    if event != "issued" and not reason:
        raise ValidationError({"reason": "更正或撤回报告必须说明原因"})
    if len(reason) > 500:
        raise ValidationError({"reason": "原因不超过 500 个字符"})
    if esign.method == "key" and not code:
        raise ValidationError({"code": "用密钥签名时，验证码由签名方给出并包含在签名内容中"})
    if esign.method != "approval" and (
            issued_by_lims(institution.credit_code, number) or (
            replaces and issued_by_lims(institution.credit_code, replaces[0]))):
        raise ValidationError("这份报告由平台 LIMS 出具：签发、更正和撤回都在 LIMS 中办理")
    code = code or entries.new_code()
    signed = esign_statement(institution.credit_code, number, code, event, pdf,
                             replaces[0] if replaces else "", reason)
    key = check_esign(actor, institution.pk, esign, signed)
    seal = check_signature(pdf, institution.credit_code, certificates_of(institution.credit_code))
    if not seal.valid:
        raise ValidationError({"pdf": f"报告 PDF 没有本机构有效的电子签章：{seal.reason}"})
    issued_at = (issued_at or timezone.now()).astimezone(dt.UTC).replace(microsecond=0)
    try:
        item = entries.Entry(
            institution=institution.credit_code, report=entries.commitment(institution.credit_code, number, code),
            pdf=entries.pdf_hash(pdf, code), event=event,
            replaces=entries.commitment(institution.credit_code, *replaces) if replaces else "", time=issued_at)
    except entries.EntryError as exc:
        raise ValidationError(str(exc)) from exc
    if replaces and not Entry.objects.filter(report=item.replaces).exists():
        raise ValidationError({"replaces": "被替代的报告不在账本中"})
    if event == "withdrawn" and not Entry.objects.filter(report=item.report, pdf=item.pdf).exclude(
            event="withdrawn").exists():
        raise ValidationError({"pdf": "要撤回的报告不在账本中"})
    result = sequencer.register(item)
    path = sequencer.proof_for(result, result.checkpoint)
    proof = entries.ProofFile(number, code, item, result.index, path, result.checkpoint.note)
    digest = hashlib.sha256(signed).hexdigest()
    with transaction.atomic():
        if result.new:
            Registration.objects.create(
                log_id=result.entry.log_id, index=result.entry.index, institution=institution.credit_code,
                number=number, code=code, event=event, reason=reason, signed_by=actor, method=esign.method, key=key,
                statement=digest)
        audit.record(actor=actor, action=f"ledger.{event}", entity="ledger.Entry",
                     entity_id=f"{result.log.origin}#{result.index}", institution_id=institution.pk,
                     changes={"report": item.report, "event": event, "new": result.new, "esign": esign.method,
                              "statement_sha256": digest, "key": key.fingerprint if key else None,
                              "meaning": "signed / 签名"}, reason=reason)
    return Receipt(number, code, result.index, result.log.origin, proof.encode(),
                   verification_url(institution.credit_code, number, code))


@transaction.atomic
def declare_not_accepted(actor: User, institution: Institution, start: dt.datetime, end: dt.datetime | None,
                         reason: str) -> NotAccepted:
    """The regulator stops accepting an institution's results (失信) for a period."""
    require_regulator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "必须填写理由"})
    if end is not None and end <= start:
        raise ValidationError({"end": "结束时间应晚于开始时间"})
    period = NotAccepted.objects.create(institution=institution, start=start, end=end, reason=reason,
                                        decided_by=actor.get_username())
    audit.record(actor=actor, action="not-accepted", entity=period, institution_id=institution.pk,
                 changes={"start": start, "end": end}, reason=reason)
    return period


@transaction.atomic
def end_not_accepted(actor: User, period: NotAccepted, end: dt.datetime, reason: str) -> NotAccepted:
    """The regulator accepts the institution's results again from `end` on."""
    require_regulator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "必须填写理由"})
    period = NotAccepted.objects.select_for_update().get(pk=period.pk)
    if period.end is not None:
        raise ValidationError({"end": "这一期间已经结束"})
    if end <= period.start:
        raise ValidationError({"end": "结束时间应晚于开始时间"})
    period.end = end
    period.save(update_fields=["end"])
    audit.record(actor=actor, action="not-accepted-ended", entity=period, institution_id=period.institution_id,
                 changes={"end": [None, end]}, reason=reason)
    return period


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Verdict:
    # genuine (an uploaded file: registered, unaltered, validly sealed, current) | registered (a lookup by
    # QR code or number and code: in force, compare the paper) | altered | unsigned | unknown | superseded
    # | withdrawn
    status: str
    message: Any
    entry: Entry | None = None
    superseded_by: Entry | None = None
    withdrawn: Entry | None = None
    not_accepted: NotAccepted | None = None
    late: bool = False
    # The institution's status when the report was issued, when it was not valid then (an ended
    # certificate: expired; registry.validity.status_then); empty when it was valid.
    lapsed: str = ""
    lapsed_label: Any = ""
    certificate_until: dt.date | None = None
    checked_file: bool = False  # an uploaded file was compared with the registration
    content: dict[str, Any] | None = None  # what the platform holds of the report (its JSON twin)
    seal: SignatureCheck | None = None  # the uploaded file's PAdES signature, as validated
    withdrawal_reason: str = ""
    current_number: str = ""  # the version in force, for a superseded report
    current_url: str = ""
    number: str = ""  # the report's number and code, as looked up (for its proof file's link)
    code: str = ""

    @property
    def trusted(self) -> bool:
        return self.status == "genuine" and self.not_accepted is None and not self.lapsed

    @property
    def current_query(self) -> str:
        """The current version's link on this site, whatever public address the reports print."""
        return "?" + urlparse(self.current_url).query if self.current_url else ""


MESSAGES = {
    "genuine": _("Genuine: this file is the report registered in the ledger, unaltered, and carries a valid "
                 "electronic seal of the institution."),
    "registered": _("Registered and in force. Compare the paper in your hand with what the platform holds, "
                    "below, line by line; only an uploaded PDF can be checked for alterations."),
    "altered": _("Altered: this file differs from the report registered in the ledger."),
    "unsigned": _("Not genuine: this file matches a registration but carries no valid electronic seal of the "
                  "institution."),
    "unknown": _("Unknown: the ledger holds no such report. It may be forged."),
    "superseded": _("Superseded: an amended report replaces this one."),
    "withdrawn": _("Withdrawn: the institution has withdrawn this report."),
}


def _entries_naming(report: str) -> list[Entry]:
    """Every entry naming this report, as itself or as the report it replaces, each with its log, its
    institution's name and a flag saying whether the regulator distrusted it at the claimed issue time.

    One hand-written statement: this is the public endpoint's whole database work, and building it through
    the ORM cost more than running it (docs/decisions/0009).
    """
    q = connection.ops.quote_name
    sql = (
        f"SELECT e.id, e.log_id, e.{q('index')}, e.institution, e.report, e.pdf, e.event, e.replaces, e.claimed_at, "
        f"e.sequenced_at, l.origin AS log_origin, l.year AS log_year, r.name AS institution_name, "
        f"EXISTS (SELECT 1 FROM {NotAccepted._meta.db_table} n JOIN {Institution._meta.db_table} i "
        f"ON i.id = n.institution_id WHERE i.credit_code = e.institution AND n.start <= e.claimed_at "
        f"AND (n.{q('end')} IS NULL OR n.{q('end')} > e.claimed_at)) AS distrusted, "
        f"r.status AS institution_status, r.cma_valid_until AS cma_valid_until, "
        f"{status_then_sql('r.id', 'e.claimed_at')} AS status_decided "
        f"FROM {Entry._meta.db_table} e JOIN {Log._meta.db_table} l ON l.id = e.log_id "
        f"LEFT JOIN {Institution._meta.db_table} r ON r.credit_code = e.institution "
        f"WHERE e.report = %s OR e.replaces = %s"
    )
    found = list(Entry.objects.raw(sql, [report, report]))
    for e in found:
        e.log = Log(pk=e.log_id, origin=e.log_origin, year=e.log_year)  # type: ignore[attr-defined]
    return found


def _lapse(entry: Entry) -> dict[str, Any]:
    """Whether the institution held a valid certificate when it issued the report (registry.validity), from
    the columns `_entries_naming` read with the entry."""
    current = getattr(entry, "institution_status", None)
    if current is None:  # an institution no longer in the register
        return {}
    until = entry.cma_valid_until  # type: ignore[attr-defined]
    until = dt.date.fromisoformat(until) if isinstance(until, str) else until  # SQLite gives text
    status = status_then(entry.status_decided, current, until, entry.claimed_at)  # type: ignore[attr-defined]
    if status == InstitutionStatus.VALID:
        return {}
    return {"lapsed": status, "lapsed_label": InstitutionStatus(status).label, "certificate_until": until}
def _registration(entry: Entry | None) -> Registration | None:
    return None if entry is None else Registration.objects.filter(log_id=entry.log_id, index=entry.index).first()


def verify_report(credit_code: str, number: str, code: str, pdf: bytes | None = None) -> Verdict:
    """What the ledger says of a report known by its number and verification code (and, optionally, its PDF).

    Without the code nothing can be looked up: a report number alone reveals nothing. With it, the reader
    sees what the platform holds of the report, to compare with the paper; only an uploaded file is
    compared byte for byte and its electronic seal validated.
    """
    number, code = number.strip(), code.strip()
    try:
        report = entries.commitment(credit_code, number, code)
    except entries.EntryError:
        return Verdict("unknown", MESSAGES["unknown"])
    named = sorted(_entries_naming(report), key=lambda e: (e.sequenced_at, e.index))
    own = [e for e in named if e.report == report]
    issued = next((e for e in own if e.event != "withdrawn"), None)
    if issued is None:
        return Verdict("unknown", MESSAGES["unknown"])
    late = issued.sequenced_at - issued.claimed_at > LATE_AFTER
    not_accepted = None
    if issued.distrusted:  # type: ignore[attr-defined]
        not_accepted = NotAccepted.objects.filter(
            institution__credit_code=credit_code, start__lte=issued.claimed_at).exclude(
            end__lte=issued.claimed_at).first()
    content = report_content(credit_code, number, code)
    verdict = Verdict("registered", MESSAGES["registered"], entry=issued, late=late, not_accepted=not_accepted,
                      content=content, checked_file=pdf is not None, number=number, code=code,
                      **_lapse(issued))
    if pdf is not None:
        if entries.pdf_hash(pdf, code) != issued.pdf:
            return replace(verdict, status="altered", message=MESSAGES["altered"])
        seal = check_signature(pdf, credit_code, certificates_of(credit_code))
        verdict = replace(verdict, status="genuine", message=MESSAGES["genuine"], seal=seal)
        if not seal.valid:
            return replace(verdict, status="unsigned", message=MESSAGES["unsigned"])
    withdrawn = next((e for e in own if e.event == "withdrawn"), None)
    if withdrawn:
        record = _registration(withdrawn)
        reason = record.reason if record else str((content or {}).get("withdrawal_reason", ""))
        return replace(verdict, status="withdrawn", message=MESSAGES["withdrawn"], withdrawn=withdrawn,
                       withdrawal_reason=reason)
    successor = next((e for e in named if e.replaces == report), None)
    if successor:
        record = _registration(successor)
        current = (record.number, record.code) if record else tuple((content or {}).get("replaced_by") or ("", ""))
        url = verification_url(credit_code, current[0], current[1]) if current[0] and current[1] else ""
        return replace(verdict, status="superseded", message=MESSAGES["superseded"], superseded_by=successor,
                       current_number=current[0], current_url=url)
    return verdict


def credit_code_of(number: str, code: str) -> str | None:
    """The institution of the report with this number and code, when the platform registered it."""
    return Registration.objects.filter(number=(number or "").strip(), code=(code or "").strip()).values_list(
        "institution", flat=True).first()


def verify_code(number: str, code: str, pdf: bytes | None = None) -> Verdict:
    """The report number and verification code printed on the report, without the institution's credit code."""
    record = Registration.objects.filter(number=(number or "").strip(), code=(code or "").strip()).first()
    if record is None:
        return Verdict("unknown", MESSAGES["unknown"])
    return verify_report(record.institution, record.number, record.code, pdf)


def cosigned_note(checkpoint: Checkpoint) -> str:
    """The checkpoint as signed by the log, with every witness cosignature it has gathered since."""
    text, signatures = parse_note(checkpoint.note)
    cosigned = [parse_note(text + "\n" + c.line)[1][0] for c in checkpoint.cosignatures.order_by("witness")]
    return format_note(text, signatures + cosigned)


@transaction.atomic
def record_cosignatures(log: Log, note: str) -> list[str]:
    """Keep the cosignatures that configured witnesses put on one of this log's checkpoints; returns their names."""
    try:
        text, signatures = parse_note(note)
    except NoteError as exc:
        raise ValidationError(str(exc)) from exc
    checkpoint = Checkpoint.objects.filter(log=log, note__startswith=text).first()
    if checkpoint is None or not checkpoint.note.startswith(text + "\n"):
        raise ValidationError("not a checkpoint of this log")
    kept = []
    for witness in witnesses():
        try:
            timestamp = verify_cosignature(note, witness)
        except NoteError:
            continue
        kept.append(witness.name)
        if checkpoint.cosignatures.filter(witness=witness.name).exists():
            continue  # cosigned before
        line = next(s.line for s in signatures if s.name == witness.name and s.id == witness.id)
        Cosignature.objects.create(checkpoint=checkpoint, witness=witness.name, line=line, timestamp=timestamp)
        audit.record(actor=None, action="cosign", entity="ledger.Checkpoint",
                     entity_id=f"{log.origin}@{checkpoint.size}",
                     changes={"witness": witness.name, "timestamp": timestamp})
    if not kept:
        raise ValidationError("no cosignature from a configured witness verifies")
    return kept


def current_proof(credit_code: str, number: str, code: str) -> str | None:
    """The report's proof file against its log's latest checkpoint, with the witnesses' cosignatures that
    checkpoint has gathered since; None when the ledger holds no such report."""
    try:
        report = entries.commitment(credit_code, number.strip(), code.strip())
    except entries.EntryError:
        return None
    entry = Entry.objects.filter(report=report).exclude(event="withdrawn").select_related("log").order_by(
        "sequenced_at", "index").first()
    if entry is None:
        return None
    checkpoint = entry.log.checkpoints.order_by("-size").prefetch_related("cosignatures").first()
    if checkpoint is None:
        return None
    path = sequencer.proof_for(entry, checkpoint)
    # Its withdrawal and the amendment replacing it, when the same log holds them under this checkpoint,
    # so that an offline check tells a withdrawn or superseded report from a current one.
    later = Entry.objects.filter(Q(report=report, event="withdrawn") | Q(replaces=report), log=entry.log,
                                 index__lt=checkpoint.size).order_by("index")
    events = tuple(entries.ProvenEvent(entries.Entry.decode(bytes(e.data)), e.index,
                                       sequencer.proof_for(e, checkpoint)) for e in later)
    return entries.ProofFile(number.strip(), code.strip(), entries.Entry.decode(bytes(entry.data)), entry.index,
                             path, cosigned_note(checkpoint), events).encode()


def read_pdf_link(pdf: bytes) -> tuple[str, str, str]:
    """The verification link a report PDF carries in its metadata (/OpenTICVerify)."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        info: dict[str, object] = dict(PdfReader(io.BytesIO(pdf)).metadata or {})
    except (PdfReadError, ValueError, OSError) as exc:
        raise ValidationError("无法读取 PDF 文件") from exc
    # Key names compared without case: WeasyPrint writes custom metadata names in lower case.
    link = {str(k).lower(): v for k, v in info.items()}.get("/openticverify")
    if not link:
        raise ValidationError("PDF 中没有 OpenTIC 验证信息：请扫描报告上的二维码，或输入报告编号和验证码")
    return parse_verification_url(str(link))


def verify_pdf(pdf: bytes) -> Verdict:
    credit_code, number, code = read_pdf_link(pdf)
    return verify_report(credit_code, number, code, pdf)
