"""Registering, amending or withdrawing a report is an electronic signature of an authorized signatory.

A person signs by re-entering the password; a machine client (a lab's own LIMS) signs the registration
statement with a key whose certificate the signatory registered (`register_key`). Either way the
signature is bound to the content: the statement names the institution, number, code, event, the SHA-256
of the PDF, the report replaced and the reason, and its hash is kept with the registration.
The reports service, which checked the signatory's password when the report was approved (one password
for a batch), passes its approval instead: that path exists only in-process, never over the API.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import Role, User

from .models import SigningKey

STATEMENT = "opentic-ledger-registration/v1"


@dataclass(frozen=True)
class ESignature:
    method: str  # password | key | approval
    password: str = ""
    key: str = ""  # the signing key's fingerprint
    signature: str = ""  # base64 of the key's signature over the statement
    approval: str = ""  # the reports service's approval hash


def by_password(password: str) -> ESignature:
    return ESignature("password", password=password or "")


def by_key(fingerprint: str, signature: str) -> ESignature:
    return ESignature("key", key=(fingerprint or "").strip().lower(), signature=(signature or "").strip())


def approved(approval: str) -> ESignature:
    """For the reports service only: it checked the signatory's password when approving the report."""
    return ESignature("approval", approval=approval)


def statement(credit_code: str, number: str, code: str, event: str, pdf: bytes, replaces: str = "",
              reason: str = "") -> bytes:
    """The exact bytes a machine client signs (docs/ledger-entry.md)."""
    one_line = " ".join((reason or "").split()) or "-"
    return (f"{STATEMENT}\ninstitution {credit_code}\nnumber {number}\ncode {code}\nevent {event}\n"
            f"pdf {hashlib.sha256(pdf).hexdigest()}\nreplaces {replaces or '-'}\nreason {one_line}\n").encode()


def _verify(certificate: x509.Certificate, signature: bytes, data: bytes) -> None:
    key = certificate.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise InvalidSignature("unsupported key type")


def check(actor: User, institution_id: int, esign: ESignature, signed: bytes) -> SigningKey | None:
    """Refuse unless `esign` is the actor's signature over `signed`; returns the key used, if any."""
    if esign.method == "password":
        if not esign.password or not actor.check_password(esign.password):
            raise PermissionDenied("电子签名失败：密码不正确")
        return None
    if esign.method == "approval":
        if not esign.approval:
            raise PermissionDenied("电子签名失败：没有批准记录")
        return None
    if esign.method != "key":
        raise PermissionDenied("电子签名失败：需要签字人密码或已登记的签名密钥")
    key = SigningKey.objects.filter(fingerprint=esign.key, institution_id=institution_id, user=actor,
                                    revoked_at__isnull=True).first()
    if key is None:
        raise PermissionDenied("电子签名失败：签名密钥未登记、已撤销或不属于此签字人")
    try:
        _verify(x509.load_pem_x509_certificate(key.certificate.encode()),
                base64.b64decode(esign.signature, validate=True), signed)
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise PermissionDenied("电子签名失败：签名与登记内容不符") from exc
    return key


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


@transaction.atomic
def register_key(actor: User, password: str, name: str, certificate_pem: str) -> SigningKey:
    """An authorized signatory registers the certificate of the key a machine client signs with."""
    if not (actor.is_authenticated and actor.institution_id is not None and actor.has_role(Role.SIGNATORY)):
        raise PermissionDenied("只有授权签字人可以登记签名密钥")
    if not actor.check_password(password or ""):
        raise PermissionDenied("电子签名失败：密码不正确")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "名称为 1 到 100 个字符"})
    try:
        certificate = x509.load_pem_x509_certificate((certificate_pem or "").encode())
    except ValueError as exc:
        raise ValidationError({"certificate": "不是 PEM 格式的 X.509 证书"}) from exc
    if not isinstance(certificate.public_key(), (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey,
                                                 rsa.RSAPublicKey)):
        raise ValidationError({"certificate": "证书的公钥类型不受支持（支持 ECDSA、Ed25519、RSA)"})
    if certificate.not_valid_after_utc <= timezone.now():
        raise ValidationError({"certificate": "证书已过期"})
    print_ = fingerprint(certificate)
    if SigningKey.objects.filter(fingerprint=print_).exists():
        raise ValidationError({"certificate": "这张证书已经登记"})
    key = SigningKey.objects.create(institution_id=actor.institution_id, user=actor, name=name,
                                    certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                                    fingerprint=print_)
    audit.record(actor=actor, action="ledger.key-registered", entity=key, institution_id=actor.institution_id,
                 changes={"fingerprint": print_, "name": name, "subject": certificate.subject.rfc4514_string()})
    return key


@transaction.atomic
def revoke_key(actor: User, key: SigningKey, password: str) -> SigningKey:
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if not (actor.is_authenticated and actor.institution_id == key.institution_id and (
            actor.pk == key.user_id or actor.has_role(Role.INSTITUTION_ADMIN))):
        raise PermissionDenied("只有密钥的签字人或本机构管理员可以撤销")
    if not actor.check_password(password or ""):
        raise PermissionDenied("电子签名失败：密码不正确")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="ledger.key-revoked", entity=key, institution_id=key.institution_id,
                     changes={"fingerprint": key.fingerprint})
    return key


def certificates_of(credit_code: str) -> list[str]:
    """The PEM certificates an institution registered: trust anchors for its own signed PDFs."""
    return list(SigningKey.objects.filter(institution__credit_code=credit_code, revoked_at__isnull=True)
                .values_list("certificate", flat=True))
