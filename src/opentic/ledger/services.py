"""Registering report events in the ledger, and telling anyone what a report's ledger record says."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opentic.core import audit
from opentic.core.models import User
from opentic.core.permissions import can_register_reports, require, require_regulator
from opentic.registry.models import Institution

from . import entry as entries
from . import sequencer
from .keys import witnesses
from .models import Checkpoint, Cosignature, Entry, Log, NotAccepted
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


def register_report(actor: User, institution: Institution, number: str, pdf: bytes, *, event: str = "issued",
                    code: str | None = None, replaces: tuple[str, str] | None = None,
                    issued_at: dt.datetime | None = None) -> Receipt:
    """Register a report's issue, amendment (naming the number and code it replaces) or withdrawal.

    Returns when the entry is under a signed checkpoint, with the proof file that shows it.
    """
    require(can_register_reports(actor, institution.pk), "只有本机构的授权签字人或管理员可以登记报告")
    number = (number or "").strip()
    if not number or len(number) > 60:
        raise ValidationError({"number": "报告编号为 1 到 60 个字符"})
    if not pdf.startswith(b"%PDF-"):
        raise ValidationError({"pdf": "不是 PDF 文件"})
    code = code or entries.new_code()
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
    result = sequencer.register(item)
    path = sequencer.proof_for(result, result.checkpoint)
    proof = entries.ProofFile(number, code, item, result.index, path, result.checkpoint.note)
    with transaction.atomic():
        audit.record(actor=actor, action=f"ledger.{event}", entity="ledger.Entry",
                     entity_id=f"{result.log.origin}#{result.index}", institution_id=institution.pk,
                     changes={"report": item.report, "event": event, "new": result.new})
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
    status: str  # genuine | altered | unknown | superseded | withdrawn
    message: Any
    entry: Entry | None = None
    superseded_by: Entry | None = None
    withdrawn: Entry | None = None
    not_accepted: NotAccepted | None = None
    late: bool = False

    @property
    def trusted(self) -> bool:
        return self.status == "genuine" and self.not_accepted is None


MESSAGES = {
    "genuine": _("Genuine: the report matches its registration in the ledger and has not been altered."),
    "altered": _("Altered: this file differs from the report registered in the ledger."),
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
        f"AND (n.{q('end')} IS NULL OR n.{q('end')} > e.claimed_at)) AS distrusted "
        f"FROM {Entry._meta.db_table} e JOIN {Log._meta.db_table} l ON l.id = e.log_id "
        f"LEFT JOIN {Institution._meta.db_table} r ON r.credit_code = e.institution "
        f"WHERE e.report = %s OR e.replaces = %s"
    )
    found = list(Entry.objects.raw(sql, [report, report]))
    for e in found:
        e.log = Log(pk=e.log_id, origin=e.log_origin, year=e.log_year)  # type: ignore[attr-defined]
    return found


def verify_report(credit_code: str, number: str, code: str, pdf: bytes | None = None) -> Verdict:
    """What the ledger says of a report known by its number and verification code (and, optionally, its PDF).

    Without the code nothing can be looked up: a report number alone reveals nothing.
    """
    try:
        report = entries.commitment(credit_code, number.strip(), code.strip())
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
    verdict = Verdict("genuine", MESSAGES["genuine"], entry=issued, late=late, not_accepted=not_accepted)
    if pdf is not None and entries.pdf_hash(pdf, code.strip()) != issued.pdf:
        return replace(verdict, status="altered", message=MESSAGES["altered"])
    withdrawn = next((e for e in own if e.event == "withdrawn"), None)
    if withdrawn:
        return replace(verdict, status="withdrawn", message=MESSAGES["withdrawn"], withdrawn=withdrawn)
    successor = next((e for e in named if e.replaces == report), None)
    if successor:
        return replace(verdict, status="superseded", message=MESSAGES["superseded"], superseded_by=successor)
    return verdict


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
    return entries.ProofFile(number.strip(), code.strip(), entries.Entry.decode(bytes(entry.data)), entry.index,
                             path, cosigned_note(checkpoint)).encode()


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
        raise ValidationError("PDF 中没有 OpenTIC 验证信息:请扫描报告上的二维码,或输入报告编号和验证码")
    return parse_verification_url(str(link))


def verify_pdf(pdf: bytes) -> Verdict:
    credit_code, number, code = read_pdf_link(pdf)
    return verify_report(credit_code, number, code, pdf)
