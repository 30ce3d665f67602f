"""PAdES signatures of report PDFs with the institution's credential (pyHanko), timestamped by an RFC 3161
authority when one is configured (OPENTIC_TSA_URL)."""

from __future__ import annotations

import io

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .pki import Credential


def _certificate(credential: Credential) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(credential.certificate.public_bytes(serialization.Encoding.DER))


class TimestampUnavailable(RuntimeError):
    """The configured timestamp authority did not answer with a valid token."""


def timestamper() -> HTTPTimeStamper | None:
    url = settings.OPENTIC_TSA_URL
    return HTTPTimeStamper(url, timeout=10) if url else None


def sign_pdf(pdf: bytes, credential: Credential, root: Credential, signer_name: str, reason: str) -> bytes:
    """Sign as PAdES B-B (B-T with a timestamp authority): the whole document as rendered, the chain to the
    platform root embedded."""
    key = asn1_keys.PrivateKeyInfo.load(credential.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    signer = signers.SimpleSigner(signing_cert=_certificate(credential), signing_key=key,
                                  cert_registry=SimpleCertificateStore.from_certs([_certificate(root)]))
    metadata = signers.PdfSignatureMetadata(field_name="OpenTIC", md_algorithm="sha256", name=signer_name,
                                            reason=reason, subfilter=fields.SigSeedSubFilter.PADES)
    try:
        out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), metadata, signer=signer,
                               timestamper=timestamper())
    except (TimestampRequestError, OSError) as exc:
        raise TimestampUnavailable(f"时间戳服务 {settings.OPENTIC_TSA_URL} 不可用:{exc}") from exc
    return bytes(out.getvalue())
