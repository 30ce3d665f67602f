"""Validating a report PDF's PAdES signature (pyHanko): intact, covering the whole file, by a certificate
of the institution that chains to the platform's root, or that the institution registered for its own
LIMS. Used by the ledger (through its hook) when a report is registered and when a file is verified.
"""

from __future__ import annotations

import io
import logging

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from opentic.ledger.hooks import SignatureCheck

from . import pki

logger = logging.getLogger(__name__)


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _organization_identifier(certificate: asn1_x509.Certificate) -> str:
    parsed = x509.load_der_x509_certificate(certificate.dump())
    values = parsed.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    return str(values[0].value) if values else ""


def check_signature(pdf: bytes, credit_code: str, registered: list[str]) -> SignatureCheck:
    """Does this PDF carry a valid signature of the institution with this credit code?

    Trusted: a certificate the platform root issued for this credit code, or one of the institution's
    registered certificates (`registered`, PEM). The last signature must cover the whole file: anything
    appended after signing (a new page, an overlay) makes the file not the one signed.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError, OSError) as exc:
        return SignatureCheck(False, f"无法读取 PDF 的签名：{exc}")
    if not signatures:
        return SignatureCheck(False, "文件没有电子签名")
    platform_root = _asn1(pki.root().certificate)
    own: list[asn1_x509.Certificate] = []
    for pem in registered:
        try:
            own.append(_asn1(x509.load_pem_x509_certificate(pem.encode())))
        except ValueError:
            continue
    signature = signatures[-1]
    try:
        status = validate_pdf_signature(
            signature, ValidationContext(trust_roots=[platform_root, *own], allow_fetching=False),
            key_usage_settings=KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}))
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
        logger.info("signature validation failed: %s", exc)
        return SignatureCheck(False, f"签名无法验证：{exc}")
    signer = status.signing_cert
    name = str(signer.subject.native.get("common_name") or signer.subject.human_friendly) if signer is not None else ""
    if not (status.intact and status.valid):
        return SignatureCheck(False, "签名与文件内容不符（签名后被改动）", name)
    if not status.trusted or signer is None:
        return SignatureCheck(False, "签名证书不是平台签发的，也不是本机构登记的证书", name)
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        return SignatureCheck(False, "签名之后文件又被追加了内容", name)
    if signer.dump() in {c.dump() for c in own}:
        trust = "registered"
    elif _organization_identifier(signer) == credit_code:
        trust = "platform"
    else:
        return SignatureCheck(False, "签名证书属于另一家机构", name)
    return SignatureCheck(True, name, name, status.signer_reported_dt, trust)
