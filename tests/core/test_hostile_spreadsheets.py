"""Issue 12, finding 2: hostile spreadsheets are refused fast, with a message, on every upload path."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from opentic.core.tabular import TableError, read_table, write_xlsx

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                 'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                 '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
                 '.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
                 'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                 'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
              '2006/main"><sheetData>')
SHEET_TAIL = "</sheetData></worksheet>"


def xlsx(sheet_body: str = "", big_cell_mb: int = 0) -> bytes:
    """A minimal XLSX built by hand (as an attacker would), optionally with one inline cell of N MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((SHEET_HEAD + sheet_body).encode())
            if big_cell_mb:
                sheet.write(b'<row r="2"><c r="A2" t="inlineStr"><is><t>')
                block = b"A" * (1024 * 1024)
                for _ in range(big_cell_mb):
                    sheet.write(block)
                sheet.write(b"</t></is></c></row>")
            sheet.write(SHEET_TAIL.encode())
    return out.getvalue()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


GRID_BOMB = f'<row r="1">{inline("A1", "x")}</row><row r="1048576">{inline("XFD1048576", "y")}</row>'


def test_the_hand_built_file_is_read_when_it_is_sound() -> None:
    header, body = read_table("ok.xlsx", xlsx(f'<row r="1">{inline("A1", "名称")}</row>'
                                              f'<row r="2">{inline("A2", "大米")}</row>'))
    assert header == ["名称"] and body == [["大米"]]


def test_a_1_4_kb_file_naming_a1_and_xfd1048576_is_refused_fast() -> None:
    data = xlsx(GRID_BOMB)
    assert len(data) < 1600
    started = time.perf_counter()
    with pytest.raises(TableError, match="列数超过"):
        read_table("bomb.xlsx", data)
    assert time.perf_counter() - started < 1


def test_a_deep_sheet_is_refused() -> None:
    with pytest.raises(TableError, match="行数超过"):
        read_table("deep.xlsx", xlsx(f'<row r="1">{inline("A1", "x")}</row>'
                                     f'<row r="900000">{inline("B900000", "y")}</row>'))


def test_a_file_holding_one_300_mb_cell_is_refused_fast() -> None:
    data = xlsx(f'<row r="1">{inline("A1", "x")}</row>', big_cell_mb=300)
    assert len(data) < 1_000_000  # small on disk
    started = time.perf_counter()
    with pytest.raises(TableError) as caught:
        read_table("cell.xlsx", data)
    assert time.perf_counter() - started < 2
    assert "压缩" in str(caught.value) or "32767" in str(caught.value)


def test_a_long_cell_without_a_suspicious_ratio_is_refused_by_its_length() -> None:
    import random

    text = "".join(random.Random(1).choice("甲乙丙丁戊己庚辛壬癸子丑寅卯") for _ in range(50_000))
    with pytest.raises(TableError, match="32767"):
        read_table("long.xlsx", xlsx(f'<row r="1">{inline("A1", text)}</row>'))


def test_a_normal_export_of_13_columns_passes() -> None:
    rows = [[f"v{r}-{c}" for c in range(13)] for r in range(2000)]
    header, body = read_table("fine.xlsx", write_xlsx([f"h{c}" for c in range(13)], rows))
    assert len(body) == 2000 and len(header) == 13


@pytest.mark.django_db
def test_every_upload_path_refuses_the_grid_bomb(lab: object) -> None:
    """Register import (web and API call run_import), sample sheets and instrument files."""
    from opentic.lims import results_import
    from opentic.lims.models import InstrumentMapping
    from opentic.lims.sheets import import_samples
    from opentic.registry.importing import ImportRejected
    from opentic.registry.sheets import run_import

    world = lab.world  # type: ignore[attr-defined]
    bomb = xlsx(GRID_BOMB)
    with pytest.raises(ImportRejected) as caught:
        run_import(world.regulator, "institutions", "bomb.xlsx", bomb)
    assert "列数超过" in str(caught.value.errors[0])
    with pytest.raises(ImportRejected) as caught:
        import_samples(world.a_admin, lab.order, "bomb.xlsx", bomb)  # type: ignore[attr-defined]
    assert "列数超过" in str(caught.value.errors[0])
    readings, errors = results_import.read_file(InstrumentMapping(sample_column="样品编号", columns={}),
                                                "bomb.xlsx", bomb)
    assert readings == [] and "列数超过" in str(errors[0])


def ods(cells: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                   '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
                   'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                   'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
        z.writestr("content.xml", '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
                   '"urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:'
                   'xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
                   '<office:spreadsheet><table:table table:name="S"><table:table-row>' + cells +
                   '</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>')
    return out.getvalue()


def test_an_ods_cell_repeated_across_the_sheet_is_refused() -> None:
    bomb = ('<table:table-cell table:number-columns-repeated="16384" office:value-type="string">'
            "<text:p>x</text:p></table:table-cell>")
    with pytest.raises(TableError, match="重复单元格"):
        read_table("bomb.ods", ods(bomb))
    # LibreOffice's own way of writing the unused part of a row stays readable.
    header, _ = read_table("ok.ods", ods('<table:table-cell office:value-type="string"><text:p>名称</text:p>'
                                         '</table:table-cell><table:table-cell table:number-columns-repeated="1023"/>'))
    assert header[0] == "名称"


def test_the_grid_is_bounded_again_before_cells_become_python_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second bound, for what the XML scan does not see (legacy .xls): lowered here to show it acts."""
    from opentic.core import sheetguard

    monkeypatch.setattr(sheetguard, "MAX_COLUMNS", 3)
    with pytest.raises(TableError, match="5 列"):
        read_table("wide.xlsx", write_xlsx(["a", "b", "c", "d", "e"], [[1, 2, 3, 4, 5]]))
