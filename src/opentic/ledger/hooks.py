"""What the ledger needs from the reports app, which sits on a higher floor: registered at start-up
(reports.apps), so that the ledger never imports reports.

- `content(credit_code, number, code)`: what the platform holds of a report it issued (its JSON twin,
  state, withdrawal reason, current version), shown to whoever holds the number and code;
- `signature(pdf, credit_code, certificates)`: the PAdES validation of a report PDF against the platform's
  trust roots or the institution's registered certificates (pyHanko, in reports);
- `issued_by_lims(credit_code, number)`: whether the platform's LIMS issued this report, so that the
  ledger refuses to amend or withdraw it behind the LIMS's back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool  # intact, covering the whole file, by a trusted certificate of this institution
    reason: str  # why not, or who signed
    signer: str = ""
    signed_at: Any = None  # datetime of the signature (claimed, or timestamped)
    trust: str = ""  # "platform" | "registered": which trust anchor the certificate chains to


@dataclass
class _Hooks:
    content: Callable[[str, str, str], dict[str, Any] | None] | None = None
    signature: Callable[[bytes, str, list[str]], SignatureCheck] | None = None
    issued_by_lims: Callable[[str, str], bool] | None = None


HOOKS = _Hooks()


def register(*, content: Callable[[str, str, str], dict[str, Any] | None],
             signature: Callable[[bytes, str, list[str]], SignatureCheck],
             issued_by_lims: Callable[[str, str], bool]) -> None:
    HOOKS.content, HOOKS.signature, HOOKS.issued_by_lims = content, signature, issued_by_lims


def report_content(credit_code: str, number: str, code: str) -> dict[str, Any] | None:
    return HOOKS.content(credit_code, number, code) if HOOKS.content else None


def check_signature(pdf: bytes, credit_code: str, certificates: list[str]) -> SignatureCheck:
    if HOOKS.signature is None:  # no validator installed: nothing can be vouched for
        return SignatureCheck(False, "no signature validator is installed")
    return HOOKS.signature(pdf, credit_code, certificates)


def issued_by_lims(credit_code: str, number: str) -> bool:
    return bool(HOOKS.issued_by_lims and HOOKS.issued_by_lims(credit_code, number))
