"""RFC 3161 timestamps on report signatures, against a timestamp authority served over real HTTP."""

import datetime as dt
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import NonexistentAttributeError, find_unique_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from opentic.reports import pki
from opentic.reports.signing import TimestampUnavailable, sign_pdf
from tests.lims.fixtures import Lab
from tests.pdfs import sample_pdf
from tests.reports.test_signing import pdfsig


def _tsa() -> DummyTimeStamper:
    """A timestamp authority's key and certificate (extended key usage: timeStamping, critical, RFC 3161 2.3)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OpenTIC test TSA")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256()))
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))


def timestamp_token(signed: bytes) -> cms.SignedData | None:
    """The signature's RFC 3161 token (the unsigned attribute signature-time-stamp-token), if any."""
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    try:
        return find_unique_cms_attribute(signature.signer_info["unsigned_attrs"],
                                         "signature_time_stamp_token")["content"]
    except NonexistentAttributeError:
        return None


@pytest.fixture
def tsa_url() -> Iterator[str]:
    stamper = _tsa()
    served: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert self.headers["Content-Type"] == "application/timestamp-query"
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            served.append(len(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    assert served, "the timestamp authority was never asked"


def test_a_configured_tsa_timestamps_the_signature(settings: object, tmp_path: Path, tsa_url: str) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    settings.OPENTIC_TSA_URL = tsa_url  # type: ignore[attr-defined]
    credential = pki.institution_credential("91500116MA5U7K3T2R", "重庆江津检测有限公司")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signed = sign_pdf(sample_pdf("http://x/verify/", ["Report JJ-2", "Cd 0.011 mg/kg"]), credential, pki.root(),
                      "张伟 授权签字人", "批准")
    token = timestamp_token(signed)
    assert token is not None, "no signature timestamp token"
    info = token["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert before - dt.timedelta(seconds=1) <= info["gen_time"].native <= dt.datetime.now(dt.UTC)
    (tmp_path / "t.pdf").write_bytes(signed)
    assert "Signature is Valid" in pdfsig(tmp_path / "t.pdf")


def test_an_unreachable_tsa_refuses_to_sign(settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    settings.OPENTIC_TSA_URL = "http://127.0.0.1:9/tsa"  # type: ignore[attr-defined]  # the discard port: closed
    credential = pki.institution_credential("91500116MA5U7K3T2R", "重庆江津检测有限公司")
    with pytest.raises(TimestampUnavailable, match="时间戳服务"):
        sign_pdf(sample_pdf("http://x/verify/", ["Report JJ-3"]), credential, pki.root(), "张伟", "批准")


def test_without_a_tsa_the_signature_has_no_timestamp(settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    settings.OPENTIC_TSA_URL = ""  # type: ignore[attr-defined]
    credential = pki.institution_credential("91500116MA5U7K3T2R", "重庆江津检测有限公司")
    signed = sign_pdf(sample_pdf("http://x/verify/", ["Report JJ-4"]), credential, pki.root(), "张伟", "批准")
    assert timestamp_token(signed) is None


@pytest.mark.django_db
def test_issuing_with_a_tsa_and_without_one_reachable(lab: Lab, settings: object, tmp_path: Path,
                                                     tsa_url: str) -> None:
    from django.core.exceptions import ValidationError

    from opentic.lims.models import Sample
    from opentic.reports import services
    from opentic.reports.models import Report
    from tests.conftest import PASSWORD
    from tests.reports.test_reports import make_signatory, verified_sample

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    sample = verified_sample(lab)
    settings.OPENTIC_TSA_URL = "http://127.0.0.1:9/tsa"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="时间戳服务"):
        services.issue_report(lab.world.a_signatory, sample, PASSWORD)
    assert not Report.objects.exists() and Sample.objects.get(pk=sample.pk).state == "verified"
    settings.OPENTIC_TSA_URL = tsa_url  # type: ignore[attr-defined]
    report = services.issue_report(lab.world.a_signatory, sample, PASSWORD)
    assert timestamp_token(bytes(report.pdf)) is not None
