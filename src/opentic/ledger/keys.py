"""The log's signing key and the witnesses it accepts cosignatures from."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from django.conf import settings

from .note import Signer, Verifier


@cache
def log_signer() -> Signer:
    if settings.OPENTIC_LEDGER_KEY:
        return Signer.parse(settings.OPENTIC_LEDGER_KEY)
    path = Path(settings.DATA_DIR) / "ledger.key"
    if path.exists():
        return Signer.parse(path.read_text())
    signer = Signer.generate(settings.OPENTIC_LEDGER_ORIGIN)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole to a private temporary file, then linked into place: two processes starting at once
    # cannot both install a key, and neither can read a half-written one.
    temporary = path.with_name(f".ledger.key.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signer.skey + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        return Signer.parse(path.read_text())
    finally:
        temporary.unlink()
    return signer


def log_verifier() -> Verifier:
    return log_signer().verifier


def witnesses() -> list[Verifier]:
    return [Verifier.parse(k) for k in settings.OPENTIC_LEDGER_WITNESSES]
