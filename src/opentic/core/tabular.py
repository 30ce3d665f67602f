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
from decimal import Decimal
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
        rows = [[_unquote(c.strip()) for c in row] for row in csv.reader(io.StringIO(_decode(data)))]
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
        sheet = workbook.get_sheet_by_index(0)
        # Again on the grid itself, before a Python object is made per cell: a legacy .xls is not checked
        # above, and its grid (at most 65,536 × 256) is bounded here.
        if sheet.width > sheetguard.MAX_COLUMNS or sheet.height >= sheetguard.MAX_ROW:
            raise TableError(f"电子表格有 {sheet.height} 行 {sheet.width} 列,超过 {sheetguard.MAX_ROW - 1} 行或 "
                             f"{sheetguard.MAX_COLUMNS} 列,请删除多余的行列或拆分后再导入")
        rows = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        if isinstance(exc, TableError):
            raise
        raise TableError("不是有效的电子表格文件(.xlsx/.xls/.ods)") from exc
    return [[cell_text(v) for v in row] for row in rows]


# A cell beginning with one of these is a formula to Excel, LibreOffice and WPS (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER_TYPES = (int, float, Decimal)


def _typed(value: Any) -> bool:
    """Numbers and dates keep their type in an export; everything else is text (bool is an int: text too)."""
    return (isinstance(value, NUMBER_TYPES) and not isinstance(value, bool)) or isinstance(value, dt.date)


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> bytes:
    """Every cell is a string cell unless it holds a typed number or date: never a formula (issue 12, finding 3)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])

    def cell(value: Any) -> Any:
        if value is None or _typed(value):
            return value
        text = WriteOnlyCell(sheet, value=str(value))
        text.data_type = "s"  # openpyxl would make "=…" a formula
        return text

    sheet.append([cell(h) for h in headers])
    for row in rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_text(value: Any) -> str:
    """A CSV cell: numbers and dates as they are, text starting like a formula behind a quote mark."""
    if value is None:
        return ""
    if _typed(value):
        return cell_text(value)
    text = str(value)
    # A leading quote mark is doubled, so that reading back removes exactly the one added here.
    return "'" + text if text.startswith((*FORMULA_START, "'")) else text


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_text(h) for h in headers])
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
    # A BOM so that Excel opens the Chinese text as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _unquote(cell: str) -> str:
    """Undo csv_text's quote mark, so that an exported CSV imports back unchanged."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith((*FORMULA_START, "'")) else cell
