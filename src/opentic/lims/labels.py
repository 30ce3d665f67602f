"""Printable sample labels: a QR code of the lab number and the number in clear, 50 × 30 mm, one per page.

Vector output (the QR modules are drawn as filled squares), so a thermal label printer prints it sharp at
any resolution. The text is the lab number, the order and the date, all ASCII; the sample's Chinese name
stays in the system and is not needed to identify the tube.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from pypdf import PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

MM = 72 / 25.4
WIDTH, HEIGHT = 50 * MM, 30 * MM


def _text(value: str) -> bytes:
    return value.encode("ascii", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def label_pdf(labels: Sequence[tuple[str, str, str]]) -> bytes:
    """One page per (lab number, order number, date)."""
    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica-Bold")})
    for lab_number, order, date in labels:
        page = writer.add_blank_page(WIDTH, HEIGHT)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): font})})
        qr = segno.make_qr(lab_number, error="m")
        matrix = list(qr.matrix)
        size = 24 * MM
        module = size / (len(matrix) + 8)  # with the 4-module quiet zone on each side
        x0, y0 = 2 * MM, (HEIGHT - size) / 2
        squares = []
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    x = x0 + (c + 4) * module
                    y = y0 + size - (r + 5) * module
                    squares.append(f"{x:.2f} {y:.2f} {module:.2f} {module:.2f} re".encode())
        text_x = x0 + size + 1 * MM
        body = b"0 g " + b" ".join(squares) + b" f " + (
            b"BT /F1 9 Tf %.2f %.2f Td (%s) Tj ET " % (text_x, HEIGHT - 11 * MM, _text(lab_number))
            + b"BT /F1 6 Tf %.2f %.2f Td (%s) Tj ET " % (text_x, HEIGHT - 16 * MM, _text(order))
            + b"BT /F1 6 Tf %.2f %.2f Td (%s) Tj ET" % (text_x, HEIGHT - 20 * MM, _text(date)))
        stream = ContentStream(None, writer)
        stream.set_data(body)
        page.replace_contents(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
