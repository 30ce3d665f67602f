"""The platform's small certificate authority: a root, and one signing certificate per institution.

Keys are stored encrypted (PKCS#8 with a passphrase derived from OPENTIC_PKI_PASSPHRASE, or from the
secret key when none is set) under DATA_DIR/pki; certificates in PEM beside them. `opentic pki` shows
and issues them. The certificates are for PAdES signatures of reports (key usage: digital signature,
non-repudiation).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

ROOT_NAME = "OpenTIC Platform Root CA"


@dataclass(frozen=True)
class Credential:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def _directory() -> Path:
    path = Path(settings.DATA_DIR) / "pki"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _passphrase() -> bytes:
    secret = getattr(settings, "OPENTIC_PKI_PASSPHRASE", "") or settings.SECRET_KEY
    return hashlib.sha256(b"opentic-pki/v1\n" + secret.encode()).hexdigest().encode()


@contextmanager
def _created_once() -> Iterator[None]:
    """One process at a time creates a credential: a batch's render processes start together, and two roots
    made side by side would leave reports signed under a root that was then overwritten."""
    with (_directory() / ".create.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Whole or not at all: a reader never sees half a file."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    temporary.chmod(mode)
    os.replace(temporary, path)


def _save(name: str, credential: Credential) -> None:
    directory = _directory()
    key = credential.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(_passphrase()))
    _write(directory / f"{name}.key.pem", key, 0o600)
    _write(directory / f"{name}.crt.pem", credential.certificate.public_bytes(serialization.Encoding.PEM))


def _load(name: str) -> Credential | None:
    directory = _directory()
    key_path, cert_path = directory / f"{name}.key.pem", directory / f"{name}.crt.pem"
    if not key_path.exists() or not cert_path.exists():
        return None
    key = serialization.load_pem_private_key(key_path.read_bytes(), _passphrase())
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return Credential(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))


def _name(common: str, organization: str = "OpenTIC") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def root() -> Credential:
    existing = _load("root")
    if existing is not None:
        return existing
    with _created_once():
        return _load("root") or _new_root()


def _new_root() -> Credential:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(_name(ROOT_NAME)).issuer_name(_name(ROOT_NAME))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    credential = Credential(key, certificate)
    _save("root", credential)
    return credential


def _fit(text: str, limit: int) -> str:
    while len(text.encode()) > limit:
        text = text[:-1]
    return text


def institution_credential(credit_code: str, name: str) -> Credential:
    """The institution's signing credential, issued by the platform root on first use."""
    label = f"institution-{credit_code}"
    existing = _load(label)
    if existing is not None and existing.certificate.not_valid_after_utc > dt.datetime.now(dt.UTC):
        return existing
    ca = root()
    with _created_once():
        existing = _load(label)  # another process may have made it while this one waited
        if existing is not None and existing.certificate.not_valid_after_utc > dt.datetime.now(dt.UTC):
            return existing
        return _new_institution_credential(ca, label, credit_code, name)


def _new_institution_credential(ca: Credential, label: str, credit_code: str, name: str) -> Credential:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    # O and CN are capped at 64 (cryptography counts UTF-8 bytes: 21 Chinese characters); the credit code
    # identifies the institution in full.
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(name, 64)),
                         x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, credit_code),
                         x509.NameAttribute(NameOID.COMMON_NAME, _fit(name, 64 - len(" 专用章".encode())) + " 专用章")])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    credential = Credential(key, certificate)
    _save(label, credential)
    return credential
