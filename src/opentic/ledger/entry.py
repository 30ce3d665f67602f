"""What the log holds about a report, and the proof file that lets anyone check a PDF offline.

An entry is canonical text (docs/ledger-entry.md): a version line, then one `key value` line per field
in a fixed order. It holds no report content and no personal data: the report number is only present
as a commitment salted with the report's verification code, and the PDF as a hash salted with the same
code, so knowing a report number alone reveals nothing. The code travels in the report's QR code and in
its proof file. Pure Python, no Django.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from .merkle import leaf_hash, verify_inclusion
from .note import Checkpoint, NoteError, Verifier, open_checkpoint, verify_cosignature

VERSION = "opentic-report/v1"
EVENTS = ("issued", "amended", "withdrawn")
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
EXTRA_HEADER = "opentic-report-proof/v1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{22}$")
_CREDIT = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


class EntryError(ValueError):
    pass


def new_code() -> str:
    """A per-report verification code: 128 random bits, URL-safe, 22 characters."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def _check_code(code: str) -> None:
    if not _CODE.match(code):
        raise EntryError("a verification code is 22 URL-safe characters")


def commitment(credit_code: str, number: str, code: str) -> str:
    _check_code(code)
    return hashlib.sha256(f"opentic-report-number/v1\n{credit_code}\n{number}\n{code}".encode()).hexdigest()


def pdf_hash(pdf: bytes, code: str) -> str:
    _check_code(code)
    return hashlib.sha256(f"opentic-report-pdf/v1\n{code}\n".encode() + pdf).hexdigest()


@dataclass(frozen=True)
class Entry:
    institution: str  # unified social credit code
    report: str  # commitment to the report number
    pdf: str  # salted hash of the signed PDF
    event: str
    replaces: str  # commitment of the report this one replaces, or ""
    time: dt.datetime  # the claimed issue time, UTC, whole seconds

    def __post_init__(self) -> None:
        if not _CREDIT.match(self.institution):
            raise EntryError("institution: not a credit code")
        for name in ("report", "pdf") + (("replaces",) if self.replaces else ()):
            if not _HEX64.match(getattr(self, name)):
                raise EntryError(f"{name}: not a SHA-256 in lower-case hex")
        if self.event not in EVENTS:
            raise EntryError(f"event: one of {', '.join(EVENTS)}")
        if (self.event == "amended") != bool(self.replaces):
            raise EntryError("an amendment, and only an amendment, names the report it replaces")
        if self.time.tzinfo is None or self.time.utcoffset() != dt.timedelta(0) or self.time.microsecond:
            raise EntryError("time: UTC, whole seconds")

    def encode(self) -> bytes:
        return (
            f"{VERSION}\ninstitution {self.institution}\nreport {self.report}\npdf {self.pdf}\n"
            f"event {self.event}\nreplaces {self.replaces or '-'}\ntime {self.time:%Y-%m-%dT%H:%M:%SZ}\n"
        ).encode()

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.encode())

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        try:
            lines = data.decode("ascii").split("\n")
        except UnicodeDecodeError as exc:
            raise EntryError("an entry is ASCII text") from exc
        keys = ["institution", "report", "pdf", "event", "replaces", "time"]
        if len(lines) != 8 or lines[0] != VERSION or lines[-1] != "":
            raise EntryError(f"not an {VERSION} entry")
        values = {}
        for key, line in zip(keys, lines[1:-1], strict=True):
            name, _, value = line.partition(" ")
            if name != key or not value:
                raise EntryError(f"expected the {key} line")
            values[key] = value
        try:
            time = dt.datetime.strptime(values["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError as exc:
            raise EntryError("time: not YYYY-MM-DDTHH:MM:SSZ") from exc
        entry = cls(values["institution"], values["report"], values["pdf"], values["event"],
                    "" if values["replaces"] == "-" else values["replaces"], time)
        if entry.encode() != data:
            raise EntryError("not in canonical form")
        return entry


# ---------------------------------------------------------------- proof files (c2sp.org/tlog-proof)


@dataclass(frozen=True)
class ProvenEvent:
    """A later entry naming the report (its withdrawal, or the amendment replacing it), with its own
    inclusion proof against the same checkpoint."""

    entry: Entry
    index: int
    path: list[bytes]

    def encode(self) -> str:
        hashes = ",".join(base64.b64encode(h).decode() for h in self.path) or "-"
        return f"event {base64.b64encode(self.entry.encode()).decode()} {self.index} {hashes}"

    @classmethod
    def decode(cls, line: str) -> ProvenEvent:
        parts = line.split(" ")
        if len(parts) != 4 or parts[0] != "event" or not parts[2].isascii() or not parts[2].isdigit():
            raise EntryError("an event line is: event ENTRY INDEX HASHES")
        try:
            path = [] if parts[3] == "-" else [base64.b64decode(h, validate=True) for h in parts[3].split(",")]
            return cls(Entry.decode(base64.b64decode(parts[1], validate=True)), int(parts[2]), path)
        except binascii.Error as exc:
            raise EntryError("an event line is not base64") from exc


@dataclass(frozen=True)
class ProofFile:
    number: str  # the report number
    code: str  # its verification code
    entry: Entry
    index: int
    path: list[bytes]
    checkpoint: str  # the signed checkpoint note, verbatim
    events: tuple[ProvenEvent, ...] = ()  # later entries naming the report, up to the checkpoint

    def encode(self) -> str:
        extra = (f"{EXTRA_HEADER}\nnumber {self.number}\ncode {self.code}\n"
                 f"entry {base64.b64encode(self.entry.encode()).decode()}\n"
                 + "".join(e.encode() + "\n" for e in self.events))
        lines = [PROOF_HEADER, f"extra {base64.b64encode(extra.encode()).decode()}", f"index {self.index}",
                 *(base64.b64encode(h).decode() for h in self.path)]
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def decode(cls, text: str) -> ProofFile:
        head, sep, checkpoint = text.partition("\n\n")
        lines = head.split("\n")
        try:
            if not sep or lines[0] != PROOF_HEADER or not lines[1].startswith("extra "):
                raise EntryError("not an OpenTIC proof file")
            if not lines[2].startswith("index ") or not re.fullmatch(r"0|[1-9][0-9]{0,18}", lines[2][6:]):
                raise EntryError("the index line is missing or not an ASCII decimal number")
            extra = base64.b64decode(lines[1][6:], validate=True).decode().split("\n")
            path = [base64.b64decode(line, validate=True) for line in lines[3:]]
        except (IndexError, binascii.Error, UnicodeDecodeError) as exc:
            raise EntryError("not an OpenTIC proof file") from exc
        if len(extra) < 5 or extra[0] != EXTRA_HEADER or extra[-1] != "" or not all(
                line.startswith(key + " ") for key, line in zip(["number", "code", "entry"], extra[1:4], strict=True)):
            raise EntryError("the proof's extra data is not OpenTIC's")
        try:
            entry = Entry.decode(base64.b64decode(extra[3][6:], validate=True))
        except binascii.Error as exc:
            raise EntryError("the proof's entry is not base64") from exc
        events = tuple(ProvenEvent.decode(line) for line in extra[4:-1])
        return cls(extra[1][7:], extra[2][5:], entry, int(lines[2][6:]), path, checkpoint, events)


@dataclass(frozen=True)
class OfflineVerdict:
    genuine: bool  # registered, unaltered, and neither withdrawn nor superseded as of the checkpoint
    reason: str
    entry: Entry | None = None
    checkpoint: Checkpoint | None = None
    witnessed_by: tuple[str, ...] = ()
    status: str = "invalid"  # genuine | superseded | withdrawn | altered | invalid
    event: Entry | None = None  # the withdrawal or the amendment, when there is one


def verify_offline(pdf: bytes, proof_text: str, log_key: Verifier, origin_prefix: str = "",
                   witnesses: tuple[Verifier, ...] = (), quorum: int = 0) -> OfflineVerdict:
    """Is this PDF the one the proof's entry commits to, is that entry in the log the key signs, and had
    it been withdrawn or superseded by the proof's checkpoint (as far as the proof's events show)?

    Needs nothing but the PDF, its proof file and the pinned keys; no network.
    """
    try:
        proof = ProofFile.decode(proof_text)
        checkpoint = open_checkpoint(proof.checkpoint, log_key)
    except (EntryError, NoteError) as exc:
        return OfflineVerdict(False, f"the proof file is not valid: {exc}")
    if origin_prefix and not checkpoint.origin.startswith(origin_prefix):
        return OfflineVerdict(False, f"the checkpoint is of another log ({checkpoint.origin})")
    entry = proof.entry
    if pdf_hash(pdf, proof.code) != entry.pdf:
        return OfflineVerdict(False, "the PDF is not the one registered: it was altered or forged", entry,
                              status="altered")
    if commitment(entry.institution, proof.number, proof.code) != entry.report:
        return OfflineVerdict(False, "the report number does not match the registered entry", entry)
    if not verify_inclusion(proof.index, checkpoint.size, entry.leaf_hash, proof.path, checkpoint.root):
        return OfflineVerdict(False, "the entry is not in the log at the checkpoint", entry)
    witnessed = []
    for witness in witnesses:
        try:
            verify_cosignature(proof.checkpoint, witness)
            witnessed.append(witness.name)
        except NoteError:
            continue
    if len(witnessed) < quorum:
        return OfflineVerdict(False, f"cosigned by {len(witnessed)} witnesses, {quorum} required", entry)
    found = OfflineVerdict(True, "genuine and unaltered, registered in the log, and neither withdrawn nor "
                                 "superseded as of the checkpoint", entry, checkpoint, tuple(witnessed), "genuine")
    for event in proof.events:
        if not verify_inclusion(event.index, checkpoint.size, event.entry.leaf_hash, event.path, checkpoint.root):
            return OfflineVerdict(False, "an event in the proof file is not in the log at the checkpoint", entry)
        if event.entry.report == entry.report and event.entry.event == "withdrawn":
            found = OfflineVerdict(False, "withdrawn by the institution", entry, checkpoint, tuple(witnessed),
                                   "withdrawn", event.entry)
            break  # a withdrawal outranks an amendment
        if event.entry.replaces == entry.report:
            found = OfflineVerdict(False, "superseded by an amended report", entry, checkpoint, tuple(witnessed),
                                   "superseded", event.entry)
    return found
