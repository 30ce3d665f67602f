"""Bounds a spreadsheet before any reader allocates for it (issue 12, finding 2). No Django import.

An XLSX or ODS file is a zip of XML. A reader sizes its grid by the cells the XML names, so a 1.4 KB file
with cells at A1 and XFD1048576 asks for 17 billion cells, and a 300 KB file can unpack into one 300 MB
cell. Before calamine sees the file, this reads the zip's directory (declared sizes) and streams the XML of
the sheets and the shared strings once, in chunks, refusing:
- more than MAX_UNCOMPRESSED bytes in all, or a member compressed more than MAX_RATIO times;
- a cell whose column lies beyond MAX_COLUMNS or whose row lies at or beyond MAX_ROW (from the cell
  references and row numbers, whatever the <dimension> element claims);
- a text run longer than MAX_CELL_BYTES (Excel itself holds at most 32,767 characters in a cell);
- ODS cells repeated beyond those bounds.
Legacy .xls files are not zips; they are bounded by the upload limit only.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

MAX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_RATIO = 200
MAX_COLUMNS = 64  # "BL": the widest sheet the platform reads has 13 columns
MAX_ROW = 300_000  # the largest import accepts 200,000 rows and a header
MAX_CELL_BYTES = 4 * 32_767  # 32,767 characters of up to 4 bytes each in UTF-8
CHUNK = 1024 * 1024


class SheetTooLarge(ValueError):
    pass


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


# References beyond the bounds, written out as patterns so that a legitimate file has no match at all (the
# fast path): a column beyond BL (64), or a row number of 300,000 or more.
_COLUMN_OK = rb"(?:[A-Z]|A[A-Z]|B[A-L])"
_ROW_BAD = rb"(?:[0-9]{7,}|[3-9][0-9]{5})"
BAD_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="(?:(?:[A-Z]{3,}|B[M-Z]|[C-Z][A-Z])[0-9]+|%s%s)"'
                      % (_COLUMN_OK, _ROW_BAD))
BAD_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="%s"' % _ROW_BAD)
CELL_REF = re.compile(rb'\sr="([A-Z]{1,4})([0-9]{1,12})"')
REPEATED = re.compile(rb'number-(rows|columns)-repeated="([0-9]{1,12})"')
ODS_CELL = re.compile(rb"<table:table-(?:cell|row)\b[^>]*>")
LONG_TEXT = re.compile(rb"[^<]{%d}" % (MAX_CELL_BYTES + 1))


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes, with an overlap so that no tag is split between two chunks unseen."""
    tail = b""
    read = 0
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            read += len(chunk)
            if read > MAX_UNCOMPRESSED:
                raise SheetTooLarge("电子表格解压后超过 512 MB,请拆分后再导入")
            yield tail + chunk
            tail = chunk[-256:]


def _refuse_cell(column: int, row: int) -> None:
    if column > MAX_COLUMNS:
        raise SheetTooLarge(f"电子表格的列数超过 {MAX_COLUMNS} 列(单元格在第 {column} 列),请删除多余的列")
    if row >= MAX_ROW:
        raise SheetTooLarge(f"电子表格的行数超过 {MAX_ROW - 1} 行(单元格在第 {row} 行),请拆分后再导入")


def _scan_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo, ods: bool) -> None:
    run = 0  # characters since the last "<", carried across chunks
    for chunk in _chunks(archive, info):
        if LONG_TEXT.search(chunk):
            raise SheetTooLarge("电子表格中有单元格超过 32767 个字符,请检查文件")
        first = chunk.find(b"<")
        if first < 0:
            run += len(chunk)
        else:
            if run + first > MAX_CELL_BYTES:
                raise SheetTooLarge("电子表格中有单元格超过 32767 个字符,请检查文件")
            run = len(chunk) - chunk.rfind(b"<") - 1
        if run > MAX_CELL_BYTES:
            raise SheetTooLarge("电子表格中有单元格超过 32767 个字符,请检查文件")
        bad = BAD_CELL.search(chunk)
        if bad:
            ref = CELL_REF.search(bad[0] + b'"')
            if ref:
                _refuse_cell(_column_number(ref[1]), int(ref[2]))
            _refuse_cell(MAX_COLUMNS + 1, MAX_ROW)
        bad = BAD_ROW.search(chunk)
        if bad:
            _refuse_cell(1, MAX_ROW)
        if ods:
            for tag in ODS_CELL.finditer(chunk):
                if b"office:value-type" not in tag[0]:
                    continue  # a repeated empty area is how LibreOffice writes a sheet's unused part
                for kind, count in REPEATED.findall(tag[0]):
                    if int(count) > (MAX_ROW if kind == b"rows" else MAX_COLUMNS):
                        raise SheetTooLarge("电子表格中有重复单元格超出表格范围,请检查文件")


def check(data: bytes) -> None:
    """Raise SheetTooLarge, saying what is too large, unless the file is safe to hand to a reader."""
    if not data.startswith(b"PK"):
        return  # not a zip: a legacy .xls (bounded by the upload limit) or not a spreadsheet at all
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # the reader will say the file is not a valid spreadsheet
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise SheetTooLarge(f"电子表格解压后有 {total // (1024 * 1024)} MB,超过 512 MB,请拆分后再导入")
    ods = any(m.filename == "content.xml" for m in members)
    for member in members:
        name = member.filename
        if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise SheetTooLarge("电子表格的压缩比异常(可能是压缩炸弹),拒绝读取")
        if name.endswith(".xml") and (name.startswith(("xl/worksheets/", "xl/sharedStrings"))
                                      or name == "content.xml"):
            try:
                _scan_xml(archive, member, ods)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
                return  # unreadable: the reader refuses it as an invalid spreadsheet
