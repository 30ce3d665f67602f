"""C2SP signed notes, tlog checkpoints and witness cosignatures, with Ed25519.

Formats: c2sp.org/signed-note (key IDs, signature lines, verifier keys), c2sp.org/tlog-checkpoint
(origin, size, base64 root, extension lines) and c2sp.org/tlog-cosignature (type 0x04: a timestamped
Ed25519 signature over "cosignature/v1\\ntime T\\n" and the checkpoint body). No Django here: the
offline verifier and a neighbouring authority's witness use this file as is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
DASH = "\u2014 "


MAX_SIGNATURES = 100  # the spec asks for at least 16; Go's x/mod/sumdb/note stops at 100 too
# A tree size, an index, a timestamp: ASCII decimal with no leading zero (str.isdigit and int() would also take
# "２０", "٣" and "²"), at most 2^63 − 1 as Go's strconv.ParseInt(s, 10, 64) reads it.
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    pass


def ascii_decimal(text: str, what: str) -> int:
    """A non-negative decimal number written as the C2SP formats write it; NoteError otherwise."""
    if not _DECIMAL.fullmatch(text) or len(text) > 19 or int(text) >= 1 << 63:
        raise NoteError(f"bad {what} {text[:40]!r}: ASCII decimal digits, no leading zero, below 2^63")
    return int(text)


def _utf8(text: str, what: str) -> bytes:
    """Notes are UTF-8 (signed-note, Format); a Python string may hold a lone surrogate, which has none."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError(f"the {what} is not valid UTF-8") from exc


def key_id(name: str, kind: int, public: bytes) -> bytes:
    return hashlib.sha256(_utf8(name, "key name") + b"\n" + bytes([kind]) + public).digest()[:4]


def _check_name(name: str) -> None:
    """Key names are non-empty and hold no Unicode space and no "+" (signed-note, Format); control characters
    cannot appear in a note at all."""
    _utf8(name, "key name")
    if not name or any(c == "+" or c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise NoteError(f"bad key name {name!r}")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"bad base64 {text[:20]!r}") from exc


@dataclass(frozen=True)
class Verifier:
    name: str
    kind: int
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.kind, self.public)

    @property
    def vkey(self) -> str:
        """The verifier key string: name+hex(key ID)+base64(type || public key)."""
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([self.kind]) + self.public).decode()}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        parts = vkey.strip().split("+", 2)  # base64 may itself hold "+"
        if len(parts) != 3:
            raise NoteError("a verifier key is name+id+key")
        name, hex_id, encoded = parts
        _check_name(name)
        raw = _b64decode(encoded)
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("only Ed25519 keys (type 0x01 or 0x04) are supported")
        verifier = cls(name, raw[0], raw[1:])
        if verifier.id.hex() != hex_id.lower():
            raise NoteError("the key ID does not match the key")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes  # the 32-byte Ed25519 private key
    kind: int = ED25519

    @classmethod
    def generate(cls, name: str, kind: int = ED25519) -> Signer:
        _check_name(name)
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

        key = Ed25519PrivateKey.generate()
        return cls(name, key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()), kind)

    @classmethod
    def parse(cls, skey: str) -> Signer:
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key is PRIVATE+KEY+name+id+key")
        raw = _b64decode(parts[4])
        if len(raw) != 33:
            raise NoteError("bad signer key")
        signer = cls(parts[2], raw[1:], raw[0])
        if signer.verifier.id.hex() != parts[3].lower():
            raise NoteError("the key ID does not match the key")
        return signer

    @property
    def skey(self) -> str:
        v = self.verifier
        return f"PRIVATE+KEY+{self.name}+{v.id.hex()}+{base64.b64encode(bytes([self.kind]) + self.seed).decode()}"

    @property
    def verifier(self) -> Verifier:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, self.kind, public)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    data: bytes

    @property
    def line(self) -> str:
        return f"{DASH}{self.name} {base64.b64encode(self.id + self.data).decode()}\n"


def sign(text: str, signer: Signer) -> Signature:
    _check_text(text)
    return Signature(signer.name, signer.verifier.id, signer.sign(_utf8(text, "note text")))


def _check_text(text: str) -> None:
    _utf8(text, "note text")
    if not text.endswith("\n") or "\n\n" in text[-2:] or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text must end in one newline and hold no control characters")


def format_note(text: str, signatures: list[Signature]) -> str:
    return text + "\n" + "".join(s.line for s in signatures)


def parse_note(note: str) -> tuple[str, list[Signature]]:
    if len(note) > 1 << 20:
        raise NoteError("note too large")
    _utf8(note, "note")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("a note holds no control characters but newlines")
    head, sep, tail = note.rpartition("\n\n")
    if not sep or not tail.endswith("\n"):
        raise NoteError("a note is text, a blank line, and signature lines")
    text = head + "\n"
    _check_text(text)
    signatures = []
    lines = tail[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    for line in lines:
        if not line.startswith(DASH):
            raise NoteError(f"not a signature line: {line[:40]!r}")
        # "— <key name> <base64>": the name holds no space, so the first space ends it
        name, _, encoded = line[len(DASH):].partition(" ")
        _check_name(name)
        if not encoded:
            raise NoteError("a signature line is an em dash, a key name and a signature")
        raw = _b64decode(encoded)
        if len(raw) < 5:
            raise NoteError("signature too short")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return text, signatures


def verify_note(note: str, verifier: Verifier) -> str:
    """The note's text when `verifier` signed it; NoteError otherwise."""
    text, signatures = parse_note(note)
    for s in signatures:
        if s.name == verifier.name and s.id == verifier.id:
            if verifier.kind == ED25519 and verifier.verify(_utf8(text, "note text"), s.data):
                return text
            raise NoteError(f"the signature of {verifier.name} does not verify")
    raise NoteError(f"not signed by {verifier.name}")


# ---------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        _check_text(text)
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash")
        origin, size, root, *extensions = lines[:-1]
        if not origin:
            raise NoteError("the checkpoint's origin is empty")
        tree_size = ascii_decimal(size, "tree size")
        raw = _b64decode(root)
        if len(raw) != 32:
            raise NoteError("the root hash is not 32 bytes")
        if any(not line for line in extensions):
            raise NoteError("a checkpoint's extension lines are not empty")
        return cls(origin, tree_size, raw, tuple(extensions))


def open_checkpoint(note: str, verifier: Verifier, origin: str | None = None) -> Checkpoint:
    checkpoint = Checkpoint.parse(verify_note(note, verifier))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint of {checkpoint.origin}, expected {origin}")
    return checkpoint


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return _utf8(f"cosignature/v1\ntime {timestamp}\n{body}", "note text")


def cosign(body: str, signer: Signer, timestamp: int) -> Signature:
    if signer.kind != COSIGNATURE_V1:
        raise NoteError("a witness signs with a cosignature (type 0x04) key")
    stamped = struct.pack(">Q", timestamp)
    return Signature(signer.name, signer.verifier.id, stamped + signer.sign(_cosigned_message(body, timestamp)))


def verify_cosignature(note: str, witness: Verifier) -> int:
    """The witness's timestamp when it cosigned this note's checkpoint; NoteError otherwise."""
    text, signatures = parse_note(note)
    for s in signatures:
        if s.name == witness.name and s.id == witness.id:
            if len(s.data) != 72:
                raise NoteError("a cosignature is a timestamp and a 64-byte signature")
            (timestamp,) = struct.unpack(">Q", s.data[:8])
            if timestamp >= 1 << 63 or not witness.verify(_cosigned_message(text, timestamp), s.data[8:]):
                raise NoteError(f"the cosignature of {witness.name} does not verify")
            return int(timestamp)
    raise NoteError(f"not cosigned by {witness.name}")
