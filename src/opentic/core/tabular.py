"""Read and write the tables Chinese offices exchange: XLSX, XLS, ODS and CSV. No Django import.

Reading spreadsheets uses python-calamine (Rust): about 16 times faster than openpyxl here, which keeps a
100,000-line import within a request; it also opens the legacy .xls files many offices still send.
Writing uses openpyxl.

Cells come back as text the way a person typed them: integer-valued numbers without ".0", dates as
YYYY-MM-DD, so the same parser checks a value whether it came from Excel or from a CSV file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any


class TableError(ValueError):
    pass


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GB18030 (GBK); everything else as UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("文件编码无法识别,请保存为 UTF-8 或 GB18030 编码的 CSV")


def read_table(filename: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    """Return the header row and the data rows (each as text cells), skipping empty rows."""
    name = filename.lower()
    if name.endswith((".xlsx", ".xls", ".ods")):
        rows = _read_spreadsheet(data)
    elif name.endswith(".csv"):
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(_decode(data)))]
    else:
        raise TableError("只接受 .xlsx、.xls、.ods 或 .csv 文件")
    rows = [r for r in rows if any(c for c in r)]
    if not rows:
        raise TableError("文件是空的:没有表头行")
    header, *body = rows
    return [h.strip().rstrip("*") for h in header], body


def _read_spreadsheet(data: bytes) -> list[list[str]]:
    from python_calamine import CalamineError, CalamineWorkbook  # its Zip, Xml and Password errors subclass it

    from opentic.core import sheetguard

    try:
        sheetguard.check(data)  # before calamine allocates a grid for whatever the file claims
    except sheetguard.SheetTooLarge as exc:
        raise TableError(str(exc)) from exc
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        raise TableError("不是有效的电子表格文件(.xlsx/.xls/.ods)") from exc
    return [[cell_text(v) for v in row] for row in rows]


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    # A BOM so that Excel opens the Chinese text as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
