"""Small sample report PDFs carrying a verification link, for the demo and the tests.

Real reports are rendered and signed by the reports app; these only need to be PDFs with the link in
their metadata and a visible line of text, so that the ledger can be tried and tested on its own.
"""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject


def _pdf_text(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1", "replace")


def sample_pdf(link: str, lines: list[str]) -> bytes:
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
