"""Small report PDFs carrying a verification link, for the tests of the ledger on its own.

`plain_pdf` is unsigned (what a forger or a careless client posts); `signed_pdf` carries the PAdES
signature of the platform's certificate for the institution, as every registered report must.
"""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from tests.conftest import CODE_A


def _pdf_text(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1", "replace")


def plain_pdf(link: str, lines: list[str]) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)  # A4 in points
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): font})})
    body = b"BT /F1 11 Tf 72 770 Td 14 TL " + b" ".join(b"(" + _pdf_text(line) + b") '" for line in lines) + b" ET"
    stream = ContentStream(None, writer)
    stream.set_data(body)
    page.replace_contents(stream)
    writer.add_metadata({"/Title": lines[0] if lines else "report", "/OpenTICVerify": link})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


sample_pdf = plain_pdf  # the name the signing tests use: a PDF to sign


def signed_pdf(link: str, lines: list[str], credit_code: str = CODE_A, name: str = "重庆江津检测有限公司") -> bytes:
    from opentic.reports import pki
    from opentic.reports.signing import sign_pdf

    return sign_pdf(plain_pdf(link, lines), pki.institution_credential(credit_code, name), pki.root(), "张伟",
                    "批准")
