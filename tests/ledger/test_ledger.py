"""Registering reports in the ledger and verifying them, online and offline."""

import base64
import datetime as dt
import hashlib
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from tests.conftest import CODE_A, CODE_B, PASSWORD, World
from tests.pdfs import plain_pdf, signed_pdf

from opentic.core.models import AuditEvent
from opentic.ledger import entry as entries
from opentic.ledger import esign, sequencer, services
from opentic.ledger.keys import log_verifier
from opentic.ledger.merkle import consistency_proof, verify_consistency
from opentic.ledger.models import Checkpoint, Entry, Log, NotAccepted, Registration
from opentic.ledger.note import open_checkpoint
from opentic.ledger.tiles import subtree_reader
from opentic.reports.pki import Credential

SIGNED = esign.by_password(PASSWORD)


def issue(world: World, number: str, **kwargs: object) -> tuple[bytes, services.Receipt]:
    code = str(kwargs.pop("code", None) or entries.new_code())
    pdf = signed_pdf(services.verification_url(CODE_A, number, code), [f"Report {number}", "Pb in rice 0.05 mg/kg"])
    kwargs.setdefault("esign", SIGNED)
    receipt = services.register_report(world.a_signatory, world.lab_a, number, pdf, code=code, **kwargs)  # type: ignore[arg-type]
    return pdf, receipt


def altered(pdf: bytes) -> bytes:
    i = pdf.index(b"0.05")
    return pdf[:i] + b"0.02" + pdf[i + 4:]


@pytest.mark.django_db
def test_an_issued_report_is_genuine_online_and_offline(world: World) -> None:
    pdf, receipt = issue(world, "JJ-2026-0001")
    assert services.verify_pdf(pdf).status == "genuine"
    assert services.verify_report(CODE_A, "JJ-2026-0001", receipt.code).status == "registered"  # not "genuine"
    offline = entries.verify_offline(pdf, receipt.proof, log_verifier())
    assert offline.genuine, offline.reason
    assert AuditEvent.objects.filter(action="ledger.issued", chain=f"institution:{world.lab_a.pk}").exists()


@pytest.mark.django_db
def test_an_altered_or_forged_pdf_is_caught_online_and_offline(world: World) -> None:
    pdf, receipt = issue(world, "JJ-2026-0002")
    changed = altered(pdf)
    assert services.verify_pdf(changed).status == "altered"
    assert not entries.verify_offline(changed, receipt.proof, log_verifier()).genuine
    # A forger's PDF with a made-up code: unknown online; a proof file cannot be made for it.
    forged_code = entries.new_code()
    forged = plain_pdf(services.verification_url(CODE_A, "JJ-2026-0002", forged_code), ["Report JJ-2026-0002"])
    assert services.verify_pdf(forged).status == "unknown"
    assert not entries.verify_offline(forged, receipt.proof, log_verifier()).genuine
    # Knowing the number alone reveals nothing.
    assert services.verify_report(CODE_A, "JJ-2026-0002", "x" * 22).status == "unknown"
    # A proof file edited to point elsewhere fails its signature or its inclusion check.
    tampered = receipt.proof.replace(f"index {receipt.index}", f"index {receipt.index + 1}")
    assert not entries.verify_offline(pdf, tampered, log_verifier()).genuine


@pytest.mark.django_db
def test_amendment_supersedes_and_withdrawal_withdraws(world: World) -> None:
    old_pdf, old = issue(world, "JJ-2026-0003")
    new_pdf, new = issue(world, "JJ-2026-0003-A1", event="amended", replaces=("JJ-2026-0003", old.code),
                         reason="更正")
    verdict = services.verify_pdf(old_pdf)
    assert verdict.status == "superseded" and verdict.superseded_by is not None
    assert verdict.superseded_by.index == new.index
    assert services.verify_pdf(new_pdf).status == "genuine"
    services.register_report(world.a_signatory, world.lab_a, "JJ-2026-0003-A1", new_pdf, event="withdrawn",
                             code=new.code, esign=SIGNED, reason="样品标识错误")
    assert services.verify_pdf(new_pdf).status == "withdrawn"
    with pytest.raises(ValidationError, match="不在账本中"):
        issue(world, "JJ-2026-0004-A1", event="amended", replaces=("JJ-2026-0004", entries.new_code()),
              reason="更正")


@pytest.mark.django_db
def test_not_accepted_periods_and_late_registrations_are_shown(world: World) -> None:
    now = timezone.now()
    services.declare_not_accepted(world.regulator, world.lab_a, now - dt.timedelta(days=10), None, "出具虚假报告")
    pdf, _ = issue(world, "JJ-2026-0005", issued_at=now - dt.timedelta(days=3))
    verdict = services.verify_pdf(pdf)
    assert verdict.status == "genuine" and not verdict.trusted
    assert verdict.late and verdict.not_accepted is not None and verdict.not_accepted.reason == "出具虚假报告"
    with pytest.raises(PermissionDenied):
        services.declare_not_accepted(world.a_admin, world.lab_a, now, None, "x")


@pytest.mark.django_db
def test_registration_is_a_signatorys_signature_over_a_sealed_pdf(world: World) -> None:
    code = entries.new_code()
    link = services.verification_url(CODE_A, "JJ-1", code)
    pdf = signed_pdf(link, ["Report JJ-1"])
    # An administrator's (or anyone else's) access is not a signature; nor is a signatory without the password.
    for persona in (world.a_admin, world.a_analyst, world.b_admin, world.regulator):
        with pytest.raises(PermissionDenied):
            services.register_report(persona, world.lab_a, "JJ-1", pdf, code=code, esign=SIGNED)
    with pytest.raises(PermissionDenied, match="密码不正确"):
        services.register_report(world.a_signatory, world.lab_a, "JJ-1", pdf, code=code,
                                 esign=esign.by_password("wrong"))
    # A blank PDF whose metadata names a number and code: no electronic seal, refused.
    with pytest.raises(ValidationError, match="电子签章"):
        services.register_report(world.a_signatory, world.lab_a, "JJ-1", plain_pdf(link, ["JJ-1"]), code=code,
                                 esign=SIGNED)
    # Sealed by the platform's certificate of another institution: refused too.
    other = signed_pdf(link, ["JJ-1"], credit_code=CODE_B, name="重庆渝中食品检验所")
    with pytest.raises(ValidationError, match="另一家机构"):
        services.register_report(world.a_signatory, world.lab_a, "JJ-1", other, code=code, esign=SIGNED)
    for bad in ({"pdf": b"not a pdf"}, {"number": ""}, {"event": "published"}, {"event": "withdrawn"}):
        args = {"number": "JJ-1", "pdf": pdf, **bad}
        with pytest.raises(ValidationError):
            services.register_report(world.a_signatory, world.lab_a, args.pop("number"), args.pop("pdf"),  # type: ignore[arg-type]
                                     code=code, esign=SIGNED, **args)  # type: ignore[arg-type]
    assert not Entry.objects.exists() and not Registration.objects.exists()
    services.register_report(world.a_signatory, world.lab_a, "JJ-1", pdf, code=code, esign=SIGNED)
    record = Registration.objects.get()
    assert (record.signed_by, record.method, record.number, record.code) == (world.a_signatory, "password", "JJ-1",
                                                                             code)
    assert record.statement == hashlib.sha256(esign.statement(CODE_A, "JJ-1", code, "issued", pdf)).hexdigest()


@pytest.mark.django_db
def test_a_lookup_shows_the_registration_and_only_an_upload_can_be_genuine(world: World) -> None:
    pdf, receipt = issue(world, "JJ-2026-0010")
    looked_up = services.verify_report(CODE_A, "JJ-2026-0010", receipt.code)
    assert looked_up.status == "registered" and not looked_up.trusted and not looked_up.checked_file
    # The number and code printed on the report are enough: no credit code needed.
    by_code = services.verify_code("JJ-2026-0010", receipt.code)
    assert by_code.status == "registered" and by_code.entry is not None and by_code.entry.index == receipt.index
    assert services.verify_code("JJ-2026-0010", entries.new_code()).status == "unknown"
    uploaded = services.verify_pdf(pdf)
    assert uploaded.status == "genuine" and uploaded.trusted and uploaded.checked_file
    assert uploaded.seal is not None and uploaded.seal.valid and uploaded.seal.trust == "platform"


def _own_credential(common_name: str = "江津检测 LIMS") -> Credential:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "重庆江津检测有限公司"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=365))
                   .add_extension(x509.KeyUsage(
                       digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
                       key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False,
                       decipher_only=False), critical=True)
                   .sign(key, hashes.SHA256()))
    return Credential(key, certificate)


@pytest.mark.django_db
def test_a_labs_own_lims_signs_with_a_registered_key(world: World) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from opentic.reports.signing import sign_pdf

    own = _own_credential()
    pem = own.certificate.public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(PermissionDenied):
        esign.register_key(world.a_admin, PASSWORD, "LIMS", pem)
    with pytest.raises(PermissionDenied):
        esign.register_key(world.a_signatory, "wrong", "LIMS", pem)
    with pytest.raises(ValidationError):
        esign.register_key(world.a_signatory, PASSWORD, "LIMS", "not a certificate")
    key = esign.register_key(world.a_signatory, PASSWORD, "江津 LIMS", pem)
    code = entries.new_code()
    pdf = sign_pdf(plain_pdf(services.verification_url(CODE_A, "OWN-1", code), ["OWN-1"]), own, own, "张伟", "批准")

    def signature(content: bytes, number: str = "OWN-1") -> str:
        statement = esign.statement(CODE_A, number, code, "issued", content)
        return base64.b64encode(own.key.sign(statement, ec.ECDSA(hashes.SHA256()))).decode()

    # Bound to the content: a signature over another file, or another number, does not register this one.
    with pytest.raises(PermissionDenied, match="不符"):
        services.register_report(world.a_signatory, world.lab_a, "OWN-1", pdf, code=code,
                                 esign=esign.by_key(key.fingerprint, signature(pdf + b"\n")))
    with pytest.raises(PermissionDenied, match="不符"):
        services.register_report(world.a_signatory, world.lab_a, "OWN-1", pdf, code=code,
                                 esign=esign.by_key(key.fingerprint, signature(pdf, "OWN-2")))
    services.register_report(world.a_signatory, world.lab_a, "OWN-1", pdf, code=code,
                             esign=esign.by_key(key.fingerprint, signature(pdf)))
    verdict = services.verify_pdf(pdf)
    assert verdict.status == "genuine" and verdict.seal is not None and verdict.seal.trust == "registered"
    assert verdict.content is None  # the platform holds its registration, not its content
    # Revoked: the key signs nothing more, and the lab's certificate no longer vouches for its files.
    esign.revoke_key(world.a_signatory, key, PASSWORD)
    with pytest.raises(PermissionDenied, match="撤销"):
        services.register_report(world.a_signatory, world.lab_a, "OWN-1", pdf, code=code,
                                 esign=esign.by_key(key.fingerprint, signature(pdf)))
    assert services.verify_pdf(pdf).status == "unsigned"
    assert AuditEvent.objects.filter(action="ledger.key-revoked").exists()


@pytest.mark.django_db
def test_superseded_names_the_current_version_and_withdrawn_gives_date_and_reason(world: World) -> None:
    old_pdf, old = issue(world, "JJ-2026-0020")
    new_pdf, new = issue(world, "JJ-2026-0020-A1", event="amended", replaces=("JJ-2026-0020", old.code),
                         reason="委托方名称有误")
    superseded = services.verify_code("JJ-2026-0020", old.code)
    assert superseded.status == "superseded" and superseded.current_number == "JJ-2026-0020-A1"
    assert superseded.current_url == new.url
    services.register_report(world.a_signatory, world.lab_a, "JJ-2026-0020-A1", new_pdf, event="withdrawn",
                             code=new.code, esign=SIGNED, reason="样品标识错误")
    withdrawn = services.verify_pdf(new_pdf)
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawal_reason == "样品标识错误"
    assert withdrawn.withdrawn is not None and withdrawn.withdrawn.claimed_at is not None
    # Offline, as of the proof's checkpoint: the current proof carries the withdrawal and the amendment.
    for pdf, number, code, status in ((old_pdf, "JJ-2026-0020", old.code, "superseded"),
                                      (new_pdf, "JJ-2026-0020-A1", new.code, "withdrawn")):
        proof = services.current_proof(CODE_A, number, code)
        assert proof is not None
        offline = entries.verify_offline(pdf, proof, log_verifier())
        assert offline.status == status and not offline.genuine, offline.reason
    # The receipt from the issue, before either event, still says genuine as of its own checkpoint.
    assert entries.verify_offline(old_pdf, old.proof, log_verifier()).status == "genuine"


@pytest.mark.django_db
def test_a_retry_is_sequenced_once_and_every_checkpoint_extends_the_last(world: World) -> None:
    item = entries.Entry(CODE_A, "a" * 64, "b" * 64, "issued", "", timezone.now().replace(microsecond=0))
    first = sequencer.sequence([item, item])
    assert first[0].entry.pk == first[1].entry.pk and first[0].new
    again = sequencer.sequence([item])
    assert not again[0].new and again[0].entry.index == first[0].entry.index
    for n in range(300):
        sequencer.sequence([entries.Entry(CODE_A, f"{n:064x}", "c" * 64, "issued", "", item.time)] * (n % 3 + 1))
    log = Log.objects.get()
    assert log.size == Entry.objects.count() == 301
    checkpoints = list(Checkpoint.objects.filter(log=log).order_by("size"))
    assert len(checkpoints) == 301
    subtree = subtree_reader(sequencer.tile_reader(log.pk))
    for older, newer in itertools.pairwise(checkpoints):
        a = open_checkpoint(older.note, log_verifier(), log.origin)
        b = open_checkpoint(newer.note, log_verifier(), log.origin)
        assert verify_consistency(a.size, b.size, a.root, b.root, consistency_proof(a.size, b.size, subtree))


@pytest.mark.django_db
def test_each_year_has_its_own_log() -> None:
    item = entries.Entry(CODE_A, "d" * 64, "e" * 64, "issued", "", timezone.now().replace(microsecond=0))
    this_year = sequencer.sequence([item])[0]
    next_year = sequencer.sequence([item], now=timezone.now() + dt.timedelta(days=400))[0]
    assert this_year.entry.log_id != next_year.entry.log_id and next_year.entry.index == 0 and next_year.new
    assert sorted(Log.objects.values_list("origin", flat=True)) == [
        f"ledger.opentic.cq.example/{y}" for y in sorted(Log.objects.values_list("year", flat=True))]


@pytest.mark.django_db
def test_the_regulator_declares_and_ends_a_not_accepted_period_on_its_page(world: World) -> None:
    client = world.client("regulator")
    url = f"/registry/institutions/{world.lab_a.pk}/not-accepted/"
    assert client.post(url, {"start": "2026-01-01 00:00", "reason": ""}).status_code == 400
    assert client.post(url, {"start": "2026-01-01 00:00", "reason": "出具虚假报告"}).status_code == 302
    period = NotAccepted.objects.get(institution=world.lab_a)
    assert period.end is None and period.decided_by == "regulator"
    assert client.post(url, {"period": period.pk, "end": "2025-01-01 00:00", "reason": "整改"}).status_code == 400
    assert client.post(url, {"period": period.pk, "end": "2026-06-01 00:00", "reason": "整改完成"}).status_code == 302
    period.refresh_from_db()
    assert period.end is not None and period.end.year == 2026
    assert AuditEvent.objects.filter(action="not-accepted-ended", chain=f"institution:{world.lab_a.pk}").exists()
    assert world.client("a_admin").post(url, {"start": "2026-01-01 00:00", "reason": "x"}).status_code == 403
