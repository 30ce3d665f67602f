"""End to end in a real browser: Playwright driving Debian's Chromium against a live server."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from opentic.core.tabular import write_xlsx
from opentic.registry.sheets import SHEETS
from tests.conftest import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_finds_the_labs_in_yuxi_that_test_lead_in_rice(world: World, live_server: object,
                                                                 page: Page) -> None:
    page.goto(f"{live_server}/find/")
    expect(page.locator("h1")).to_contain_text("找到能检测的实验室")
    page.fill("input[name=q]", "大米 铅 GB 5009.12")
    page.select_option("select[name=unit]", label="渝西地区检验检测服务群")
    page.click("button[type=submit]")
    expect(page.locator("#hit-count")).to_contain_text("1")
    hit = page.locator(".hit").first
    expect(hit).to_contain_text("重庆江津检测有限公司")
    expect(hit).to_contain_text("GB 5009.12-2017")
    expect(page.locator(".hit")).to_have_count(1)
    assert "unit=C3" in page.url  # htmx pushed the query into the address bar: the search can be shared
    page.click("text=重庆江津检测有限公司")
    expect(page.locator("h1")).to_contain_text("重庆江津检测有限公司")


def test_a_regulator_uploads_a_bad_file_and_sees_every_error(world: World, live_server: object, page: Page,
                                                             tmp_path: Path) -> None:
    page.goto(f"{live_server}/login/")
    page.fill("input[name=username]", "regulator")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/registry/import/")
    headers = [c.header for c in SHEETS["scope"].columns]
    code = world.lab_a.credit_code
    rows = [[code, 5, "食品", "污染物", "大米", "铅", "GB 5009.12-2017", "", "", "", "2024-01-01", ""],
            [code, 6, "食品", "污染物", "大米", "铅", "GB", "", "", "", "2024-13-01", ""]]
    path = tmp_path / "scope.xlsx"
    path.write_bytes(write_xlsx(headers, rows))
    page.select_option("select[name=kind]", "scope")
    page.set_input_files("input[name=file]", str(path))
    page.click("main form button[type=submit]")
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("第3行「标准编号」")
    expect(errors).to_contain_text("第3行「生效日期」")
    expect(errors).to_contain_text("未导入任何数据")
    assert world.lab_a.scope_lines.count() == 2
