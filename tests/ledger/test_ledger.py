"""Registering reports in the ledger and verifying them, online and offline."""

import datetime as dt
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from tests.conftest import CODE_A, World

from opentic.core.models import AuditEvent
from opentic.ledger import entry as entries
from opentic.ledger import sequencer, services
from opentic.ledger.keys import log_verifier
from opentic.ledger.merkle import consistency_proof, verify_consistency
from opentic.ledger.models import Checkpoint, Entry, Log, NotAccepted
from opentic.ledger.note import open_checkpoint
from opentic.ledger.samples import sample_pdf
from opentic.ledger.tiles import subtree_reader


def issue(world: World, number: str, **kwargs: object) -> tuple[bytes, services.Receipt]:
    code = str(kwargs.pop("code", None) or entries.new_code())
    pdf = sample_pdf(services.verification_url(CODE_A, number, code), [f"Report {number}", "Pb in rice 0.05 mg/kg"])
    receipt = services.register_report(world.a_signatory, world.lab_a, number, pdf, code=code, **kwargs)  # type: ignore[arg-type]
    return pdf, receipt


def altered(pdf: bytes) -> bytes:
    i = pdf.index(b"0.05")
    return pdf[:i] + b"0.02" + pdf[i + 4:]


@pytest.mark.django_db
def test_an_issued_report_is_genuine_online_and_offline(world: World) -> None:
    pdf, receipt = issue(world, "JJ-2026-0001")
    assert services.verify_pdf(pdf).status == "genuine"
    assert services.verify_report(CODE_A, "JJ-2026-0001", receipt.code).trusted
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
    forged = sample_pdf(services.verification_url(CODE_A, "JJ-2026-0002", forged_code), ["Report JJ-2026-0002"])
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
    new_pdf, new = issue(world, "JJ-2026-0003-A1", event="amended", replaces=("JJ-2026-0003", old.code))
    verdict = services.verify_pdf(old_pdf)
    assert verdict.status == "superseded" and verdict.superseded_by is not None
    assert verdict.superseded_by.index == new.index
    assert services.verify_pdf(new_pdf).status == "genuine"
    services.register_report(world.a_signatory, world.lab_a, "JJ-2026-0003-A1", new_pdf, event="withdrawn",
                             code=new.code)
    assert services.verify_pdf(new_pdf).status == "withdrawn"
    with pytest.raises(ValidationError, match="不在账本中"):
        issue(world, "JJ-2026-0004-A1", event="amended", replaces=("JJ-2026-0004", entries.new_code()))


@pytest.mark.django_db
def test_not_accepted_periods_and_late_registrations_are_shown(world: World) -> None:
    now = timezone.now()
    services.declare_not_accepted(world.regulator, world.lab_a, now - dt.timedelta(days=10), None, "出具虚假报告")
    pdf, _ = issue(world, "JJ-2026-0005", issued_at=now - dt.timedelta(days=3))
    verdict = services.verify_pdf(pdf)
    assert verdict.status == "genuine" and not verdict.trusted
    assert verdict.late and verdict.not_accepted is not None
    with pytest.raises(PermissionDenied):
        services.declare_not_accepted(world.a_admin, world.lab_a, now, None, "x")


@pytest.mark.django_db
def test_only_the_institutions_signatories_register_and_bad_input_changes_nothing(world: World) -> None:
    pdf = sample_pdf("http://x/verify/?i=1&n=2&c=3", ["x"])
    for persona in (world.a_analyst, world.b_admin, world.regulator):
        with pytest.raises(PermissionDenied):
            services.register_report(persona, world.lab_a, "JJ-1", pdf)
    with pytest.raises(ValidationError):
        services.register_report(world.a_signatory, world.lab_a, "JJ-1", b"not a pdf")
    with pytest.raises(ValidationError):
        services.register_report(world.a_signatory, world.lab_a, "", pdf)
    with pytest.raises(ValidationError):
        services.register_report(world.a_signatory, world.lab_a, "JJ-1", pdf, event="published")
    assert not Entry.objects.exists()


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
def test_every_demo_report_is_in_the_log(tmp_path: object) -> None:
    from pathlib import Path

    from opentic.ledger.demo import register_samples
    from opentic.registry import demo

    demo.generate("tiny", seed=3)
    out = Path(str(tmp_path))
    assert register_samples(per_lab=4, out=out) == 2 * (4 + 2)
    pdfs = sorted(p for p in out.glob("*.pdf") if not p.name.endswith("-altered.pdf"))
    assert len(pdfs) == 2 * 5
    statuses = {p.name: services.verify_pdf(p.read_bytes()).status for p in pdfs}
    assert sorted(statuses.values()).count("genuine") == 2 * 2 + 2  # 4 issued − amended − withdrawn, + the amendment
    assert sorted(statuses.values()).count("superseded") == 2 and sorted(statuses.values()).count("withdrawn") == 2
    for pdf in pdfs:
        assert entries.verify_offline(pdf.read_bytes(), (out / (pdf.name + ".tlog-proof")).read_text(),
                                      log_verifier()).genuine
    for altered_pdf in out.glob("*-altered.pdf"):
        assert services.verify_pdf(altered_pdf.read_bytes()).status == "altered"


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
