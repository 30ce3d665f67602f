"""PAdES signing checked by an independent validator: poppler's pdfsig."""

import shutil
import subprocess
from pathlib import Path

import pytest

from opentic.reports import pki
from opentic.reports.signing import sign_pdf
from tests.pdfs import sample_pdf


def pdfsig(path: Path) -> str:
    binary = shutil.which("pdfsig")
    if binary is None:
        pytest.fail("pdfsig is missing: `make install` installs Debian's poppler-utils")
    return subprocess.run([binary, str(path)], capture_output=True, text=True).stdout


def test_a_signed_report_validates_and_one_changed_byte_breaks_it(settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    credential = pki.institution_credential("91500116MA5U7K3T2R", "重庆江津检测有限公司")
    signed = sign_pdf(sample_pdf("http://x/verify/", ["Report JJ-1", "Pb 0.042 mg/kg"]), credential, pki.root(),
                      "张伟 授权签字人", "批准")
    (tmp_path / "r.pdf").write_bytes(signed)
    report = pdfsig(tmp_path / "r.pdf")
    assert "Signature is Valid" in report and "Total document signed" in report, report
    i = signed.index(b"Pb 0.042")
    (tmp_path / "x.pdf").write_bytes(signed[:i] + b"Pb 0.012" + signed[i + 8:])
    assert "Signature is Valid" not in pdfsig(tmp_path / "x.pdf")
    # Keys are stored encrypted, and reloaded the same.
    key_file = tmp_path / "pki" / "institution-91500116MA5U7K3T2R.key.pem"
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert pki.institution_credential("91500116MA5U7K3T2R", "x").certificate == credential.certificate


def test_the_pki_command_prints_certificates(settings: object, tmp_path: Path) -> None:
    from io import StringIO

    from django.core.management import call_command

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    out = StringIO()
    call_command("pki", "root", stdout=out)
    assert out.getvalue().startswith("-----BEGIN CERTIFICATE-----")
    assert (tmp_path / "pki" / "root.key.pem").stat().st_mode & 0o077 == 0
