"""PAdES signatures of report PDFs with the institution's credential (pyHanko)."""

from __future__ import annotations

import io

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .pki import Credential


def _certificate(credential: Credential) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(credential.certificate.public_bytes(serialization.Encoding.DER))


def sign_pdf(pdf: bytes, credential: Credential, root: Credential, signer_name: str, reason: str) -> bytes:
    """Sign as PAdES B-B: the whole document as rendered, the chain to the platform root embedded."""
    key = asn1_keys.PrivateKeyInfo.load(credential.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    signer = signers.SimpleSigner(signing_cert=_certificate(credential), signing_key=key,
                                  cert_registry=SimpleCertificateStore.from_certs([_certificate(root)]))
    metadata = signers.PdfSignatureMetadata(field_name="OpenTIC", md_algorithm="sha256", name=signer_name,
                                            reason=reason, subfilter=fields.SigSeedSubFilter.PADES)
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), metadata, signer=signer)
    return bytes(out.getvalue())
