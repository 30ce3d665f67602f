"""The log from outside: tiles and checkpoints over HTTP, a monitor, a witness, a split view, the
verification page and API, and the offline verifier."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from tests.conftest import CODE_A, PASSWORD, World
from tests.pdfs import plain_pdf, signed_pdf

from opentic.core.api_auth import issue_token
from opentic.ledger import entry as entries
from opentic.ledger import esign, sequencer, services
from opentic.ledger.client import Alarm, LogClient, View, check_consistent, monitor_step, witness_step
from opentic.ledger.keys import log_signer, log_verifier
from opentic.ledger.merkle import leaf_hash
from opentic.ledger.models import Log
from opentic.ledger.note import COSIGNATURE_V1, Checkpoint, Signer, format_note, sign, verify_cosignature
from opentic.ledger.tiles import Appender, tile_path


def fill(n: int, tag: str = "r") -> None:
    time = timezone.now().replace(microsecond=0)
    for start in range(0, n, 200):
        sequencer.sequence([entries.Entry(CODE_A, entries.commitment(CODE_A, f"{tag}{i}", "A" * 22), "0" * 64,
                                          "issued", "", time) for i in range(start, min(n, start + 200))])


def fetcher(client: Client, year: int):  # type: ignore[no-untyped-def]
    def fetch(path: str) -> bytes:
        response = client.get(f"/ledger/{year}/{path}")
        if response.status_code != 200:
            raise OSError(f"{path}: {response.status_code}")
        return bytes(response.content)

    return fetch


def year() -> int:
    return timezone.now().astimezone(dt.UTC).year


@pytest.mark.django_db
def test_a_monitor_rebuilds_the_log_from_its_tiles_and_entries() -> None:
    fill(700)
    client = LogClient(fetcher(Client(), year()), log_verifier(), f"ledger.opentic.cq.example/{year()}")
    view, report = monitor_step(client, View())
    assert (view.size, report.new_entries, report.by_event) == (700, 700, {"issued": 700})
    fill(300, tag="s")
    client._tiles.clear()
    view, report = monitor_step(client, view)
    assert (view.size, report.new_entries) == (1000, 300)


@pytest.mark.django_db
def test_tiles_are_served_as_the_spec_says() -> None:
    fill(300)
    c = Client()
    full = c.get(f"/ledger/{year()}/{tile_path(0, 0)}")
    assert full.status_code == 200 and len(full.content) == 256 * 32 and "immutable" in full["Cache-Control"]
    assert c.get(f"/ledger/{year()}/{tile_path(0, 1, 44)}").status_code == 200
    assert c.get(f"/ledger/{year()}/{tile_path(0, 1, 45)}").status_code == 404  # beyond the published tree
    assert c.get(f"/ledger/{year()}/tile/0/1234").status_code == 400
    bundle = c.get(f"/ledger/{year()}/{tile_path('entries', 1, 44)}").content
    assert bundle.count(b"opentic-report/v1") == 44
    checkpoint = c.get(f"/ledger/{year()}/checkpoint")
    assert checkpoint["Content-Type"].startswith("text/plain") and checkpoint.content.decode().split("\n")[1] == "300"
    assert c.get("/ledger/key").content.decode().strip() == log_verifier().vkey


@pytest.mark.django_db
def test_a_witness_cosigns_only_what_extends_what_it_saw(settings: object, world: World) -> None:
    witness = Signer.generate("witness.sc.example/w1", COSIGNATURE_V1)
    settings.OPENTIC_LEDGER_WITNESSES = [witness.verifier.vkey]  # type: ignore[attr-defined]
    fill(10)
    http = Client()
    client = LogClient(fetcher(http, year()), log_verifier())
    posted: list[int] = []

    def post(body: str) -> bytes:
        response = http.post(f"/ledger/{year()}/cosign", body, content_type="text/plain")
        posted.append(response.status_code)
        return bytes(response.content)

    seen = witness_step(client, View(), witness, post, 1_790_000_000)
    fill(5, tag="t")
    client._tiles.clear()
    seen = witness_step(client, seen, witness, post, 1_790_000_060)
    assert posted == [200, 200] and seen.size == 15
    note = http.get(f"/ledger/{year()}/checkpoint").content.decode()
    assert verify_cosignature(note, witness.verifier) == 1_790_000_060
    # A report registered before gets a fresh proof file, against the cosigned checkpoint.
    pdf = signed_pdf("http://x/verify/", ["r"])
    code = entries.new_code()
    services.register_report(world.a_signatory, world.lab_a, "W-1", pdf, code=code, esign=SIGNED)
    client._tiles.clear()
    seen = witness_step(client, seen, witness, post, 1_790_000_120)
    fresh = http.get("/api/public/verify/proof", {"i": CODE_A, "n": "W-1", "c": code})
    assert fresh.status_code == 200
    verdict = entries.verify_offline(pdf, fresh.content.decode(), log_verifier(), witnesses=(witness.verifier,),
                                     quorum=1)
    assert verdict.genuine and verdict.witnessed_by == ("witness.sc.example/w1",), verdict.reason
    assert http.get("/api/public/verify/proof", {"i": CODE_A, "n": "W-2", "c": code}).status_code == 404
    # An impostor's cosignature is refused.
    stranger = Signer.generate("witness.sc.example/w1", COSIGNATURE_V1)
    assert http.post(f"/ledger/{year()}/cosign", note + "", content_type="text/plain").status_code == 200
    with pytest.raises(Alarm):
        witness_step(client, View(seen.size + 1, seen.root), stranger, post, 1)


@pytest.mark.django_db
def test_a_split_view_raises_the_alarm() -> None:
    fill(40)
    honest = LogClient(fetcher(Client(), year()), log_verifier())
    seen, _ = monitor_step(honest, View())
    # The same key signs a different history of 50 entries: a fork shown to this monitor.
    origin = Log.objects.get().origin
    appender, store, bundles = Appender(0), {}, []
    for i in range(50):
        data = entries.Entry(CODE_A, f"{i:064x}", "1" * 64, "issued", "", timezone.now().replace(microsecond=0))
        bundles.append(data.encode())
        appender.append(leaf_hash(data.encode()))
    store.update(appender.tiles())
    body = Checkpoint(origin, 50, appender.root()).body
    forged = format_note(body, [sign(body, log_signer())])

    def fork(path: str) -> bytes:
        if path == "checkpoint":
            return forged.encode()
        parts = path.split("/")
        level, index = int(parts[1]), int(parts[2].split(".")[0])
        return store[(level, index)][: int(parts[-1]) * 32 if ".p" in path else None]

    with pytest.raises(Alarm, match="SPLIT VIEW"):
        check_consistent(LogClient(fork, log_verifier()), seen, LogClient(fork, log_verifier()).checkpoint()[0])
    with pytest.raises(Alarm, match="checkpoint does not verify"):
        LogClient(lambda p: forged.replace("\n50\n", "\n51\n").encode(), log_verifier()).checkpoint()


SIGNED = esign.by_password(PASSWORD)


@pytest.mark.django_db
def test_the_verification_page_and_api(world: World) -> None:
    code = entries.new_code()
    pdf = signed_pdf(services.verification_url(CODE_A, "JJ-9", code), ["Report JJ-9", "Pb 0.05 mg/kg"])
    services.register_report(world.a_signatory, world.lab_a, "JJ-9", pdf, code=code, esign=SIGNED)
    c = Client()
    page = c.get("/verify/", {"i": CODE_A, "n": "JJ-9", "c": code}).content.decode()
    # The QR code's link: registered, compare with the paper; never "genuine" for a file nobody uploaded.
    assert 'data-status="registered"' in page and "真实有效" not in page and 'id="compare"' in page
    assert 'id="proof-link"' in page
    # The number and code printed on the report, typed: the same, without a credit code.
    typed = c.post("/verify/", {"n": "JJ-9", "c": code}).content.decode()
    assert 'data-status="registered"' in typed and 'name="i"' not in typed.split("<form")[1].split("</form>")[0]
    upload = c.post("/verify/", {"pdf": _file(pdf.replace(b"0.05", b"0.50"))})
    assert 'data-status="altered"' in upload.content.decode()
    genuine = c.post("/verify/", {"pdf": _file(pdf)}).content.decode()
    assert 'data-status="genuine"' in genuine and "真实有效" in genuine and 'id="seal"' in genuine
    proof_link = genuine.split('id="proof-link" href="')[1].split('"')[0].replace("&amp;", "&")
    assert c.get(proof_link).status_code == 200
    assert c.post("/verify/", {}).status_code == 400
    api = c.get("/api/public/verify", {"i": CODE_A, "n": "JJ-9", "c": code}).json()
    assert api["status"] == "registered" and not api["trusted"] and api["entry"]["index"] == 0
    assert api["institution_name"] == world.lab_a.name and not api["checked_file"]
    assert c.get("/api/public/verify", {"n": "JJ-9", "c": code}).json()["status"] == "registered"
    assert c.get("/api/public/verify", {"i": CODE_A, "n": "JJ-9"}).status_code == 422
    assert c.get("/api/public/verify/proof", {"n": "JJ-9", "c": code}).status_code == 200
    assert c.post("/api/public/verify/pdf", {"pdf": _file(b"%PDF-1.7 garbage")}).status_code == 422
    uploaded = c.post("/api/public/verify/pdf", {"pdf": _file(pdf)}).json()
    assert uploaded["status"] == "genuine" and uploaded["trusted"] and uploaded["seal"]["valid"]


def _file(data: bytes):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("report.pdf", data, content_type="application/pdf")


@pytest.mark.django_db
def test_registration_through_the_api_is_a_signature(world: World) -> None:
    c = Client()
    code = entries.new_code()
    pdf = signed_pdf(services.verification_url(CODE_A, "API-1", code), ["Report API-1"])
    _, token = issue_token(world.a_signatory, "lims")
    auth = {"Authorization": f"Bearer {token}"}
    # A token alone is not a signature.
    assert c.post("/api/ledger/reports", {"number": "API-1", "code": code, "pdf": _file(pdf)},
                  headers=auth).status_code == 403
    response = c.post("/api/ledger/reports", {"number": "API-1", "code": code, "password": PASSWORD,
                                              "pdf": _file(pdf)}, headers=auth)
    assert response.status_code == 201, response.content
    receipt = response.json()
    assert entries.verify_offline(pdf, receipt["proof"], log_verifier()).genuine
    # The security finding: an administrator's token registers a blank PDF with the number and code it chose.
    _, admin = issue_token(world.a_admin, "lims")
    blank = plain_pdf(services.verification_url(CODE_A, "API-2", code), ["API-2"])
    assert c.post("/api/ledger/reports", {"number": "API-2", "password": PASSWORD, "pdf": _file(blank)},
                  headers={"Authorization": f"Bearer {admin}"}).status_code == 403
    # Even a signatory cannot register an unsealed PDF.
    assert c.post("/api/ledger/reports", {"number": "API-2", "password": PASSWORD, "pdf": _file(blank)},
                  headers=auth).status_code == 422
    _, analyst = issue_token(world.a_analyst, "lims")
    assert c.post("/api/ledger/reports", {"number": "API-2", "password": PASSWORD, "pdf": _file(pdf)},
                  headers={"Authorization": f"Bearer {analyst}"}).status_code == 403
    assert c.post("/api/ledger/reports", {"number": "API-2", "pdf": _file(pdf)}).status_code == 401
    bad = c.post("/api/ledger/reports", {"number": "", "password": PASSWORD, "pdf": _file(pdf)}, headers=auth)
    assert bad.status_code == 422
    # A withdrawal says why; the page then gives the date and the reason.
    assert c.post("/api/ledger/reports", {"number": "API-1", "code": code, "event": "withdrawn", "password": PASSWORD,
                                          "pdf": _file(pdf)}, headers=auth).status_code == 422
    withdrawal = {"number": "API-1", "code": code, "event": "withdrawn", "password": PASSWORD,
                  "reason": "检测数据录入错误"}
    assert c.post("/api/ledger/reports", {**withdrawal, "pdf": _file(pdf)}, headers=auth).status_code == 201
    page = c.post("/verify/", {"n": "API-1", "c": code}).content.decode()
    assert 'data-status="withdrawn"' in page and "检测数据录入错误" in page and 'id="no-content"' in page


@pytest.mark.django_db
def test_the_offline_verifier_command(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = entries.new_code()
    pdf = signed_pdf(services.verification_url(CODE_A, "JJ-10", code), ["Report JJ-10", "Pb 0.05 mg/kg"])
    receipt = services.register_report(world.a_signatory, world.lab_a, "JJ-10", pdf, code=code, esign=SIGNED)
    (tmp_path / "r.pdf").write_bytes(pdf)
    (tmp_path / "r.pdf.tlog-proof").write_text(receipt.proof)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            call_command("verify", *args, "--key", log_verifier().vkey)
        out, err = capsys.readouterr()
        return int(exit_.value.code or 0), out, err

    code_, out, _ = run(str(tmp_path / "r.pdf"))
    assert code_ == 0 and out.startswith("GENUINE")
    (tmp_path / "r.pdf").write_bytes(pdf.replace(b"0.05", b"0.01"))
    assert run(str(tmp_path / "r.pdf"))[0] == 1
    other = Signer.generate("ledger.opentic.cq.example").verifier.vkey
    (tmp_path / "r.pdf").write_bytes(pdf)
    with pytest.raises(SystemExit) as wrong_key:
        call_command("verify", str(tmp_path / "r.pdf"), "--key", other)
    assert wrong_key.value.code == 1
    # A missing proof file: one line, no traceback, exit 2.
    code_, out, err = run(str(tmp_path / "r.pdf"), "--proof", str(tmp_path / "missing.tlog-proof"))
    assert code_ == 2 and "cannot read the proof file" in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out
    # Withdrawn after the proof was saved: the old proof still says genuine as of its checkpoint; the
    # current proof (as the verification page offers it) says withdrawn.
    services.register_report(world.a_signatory, world.lab_a, "JJ-10", pdf, code=code, esign=SIGNED,
                             event="withdrawn", reason="样品标识错误")
    assert run(str(tmp_path / "r.pdf"))[0] == 0
    fresh = Client().get("/api/public/verify/proof", {"i": CODE_A, "n": "JJ-10", "c": code}).content.decode()
    (tmp_path / "r.pdf.tlog-proof").write_text(fresh)
    code_, out, _ = run(str(tmp_path / "r.pdf"))
    assert code_ == 4 and out.startswith("WITHDRAWN")


@pytest.mark.django_db(transaction=True)
def test_the_offline_verifier_refreshes_its_proof_from_the_platform(world: World, tmp_path: Path, live_server: object,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from django.db import transaction

    code = entries.new_code()
    pdf = signed_pdf(services.verification_url(CODE_A, "JJ-11", code), ["Report JJ-11"])
    with transaction.atomic():  # sequenced in this thread: the live server shares the test database
        old = services.register_report(world.a_signatory, world.lab_a, "JJ-11", pdf, code=code, esign=SIGNED)
    new_code = entries.new_code()
    new_pdf = signed_pdf(services.verification_url(CODE_A, "JJ-11-A1", new_code), ["Report JJ-11-A1"])
    with transaction.atomic():
        services.register_report(world.a_signatory, world.lab_a, "JJ-11-A1", new_pdf, code=new_code, esign=SIGNED,
                                 event="amended", replaces=("JJ-11", code), reason="更正")
    (tmp_path / "r.pdf").write_bytes(pdf)
    (tmp_path / "r.pdf.tlog-proof").write_text(old.proof)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            call_command("verify", str(tmp_path / "r.pdf"), "--key", log_verifier().vkey, *args)
        out, err = capsys.readouterr()
        return int(exit_.value.code or 0), out, err

    assert run()[0] == 0  # as of the proof file's checkpoint, before the amendment
    status, out, _ = run("--refresh", str(live_server))
    assert status == 3 and out.startswith("SUPERSEDED") and "fresh from the platform" in out
    status, _, err = run("--refresh", "http://127.0.0.1:9")  # the discard port: nothing answers
    assert status == 2 and "cannot refresh" in err and len(err.strip().splitlines()) == 1
