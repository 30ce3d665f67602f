"""In a real browser: a sample from registration through receipt, keyboard result entry and signed verification."""

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, server: object, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{server}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")


def test_a_sample_walks_from_registration_to_verified(lab: Lab, live_server: object, page: Page) -> None:
    sign_in(page, live_server, "a-admin")
    page.goto(f"{live_server}/lims/register/")
    form = page.locator("#one")
    form.locator("select[name=order]").select_option(label=lab.order.number)
    form.locator("input[name=name]").fill("五常大米 批次 7")
    form.locator("input[name=test_object]").fill("大米")
    form.locator("select[name=services]").select_option([str(lab.pb.pk), str(lab.cd.pk)])
    form.locator("button[type=submit]").click()
    expect(page.locator("#state")).to_have_attribute("data-state", "registered")
    page.fill("#receive input[name=condition]", "密封完好,常温")
    page.click("#receive button[value=accept]")
    expect(page.locator("#state")).to_have_attribute("data-state", "received")
    sample_url = page.url

    # The analyst runs lead on a worksheet with a blank and a duplicate, typing down the grid.
    sign_in(page, live_server, "a-analyst")
    page.goto(f"{live_server}/lims/worksheets/")
    page.select_option("#choose-method select[name=service]", str(lab.pb.pk))
    page.click("#choose-method button[type=submit]")
    page.fill("#new-worksheet input[name=blanks]", "1")
    page.check("#new-worksheet input[name=duplicate]")
    page.click("#new-worksheet button[type=submit]")
    expect(page.locator("#grid tbody tr")).to_have_count(3)
    expect(page.locator("#grid tr[data-kind=blank]")).to_have_count(1)
    expect(page.locator("#grid tr[data-kind=duplicate]")).to_have_count(1)
    page.locator("#grid tr[data-kind=blank] input").fill("0.0004")
    page.locator("#grid tr[data-kind=sample] input").fill("0.0425")
    page.locator("#grid tr[data-kind=duplicate] input").fill("0.0431")
    page.click("#grid button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("3")
    worksheet_url = page.url
    # Cadmium straight on the sample's own grid: Enter saves it.
    page.goto(sample_url)
    expect(page.locator("#state")).to_have_attribute("data-state", "in_testing")
    cadmium = page.locator(".result-value").nth(0)
    cadmium.fill("0.0031")
    cadmium.press("Enter")
    expect(page.locator("#state")).to_have_attribute("data-state", "to_be_verified")

    sign_in(page, live_server, "a-reviewer")
    page.goto(sample_url)
    expect(page.locator("#results")).to_contain_text("0.042")
    page.fill("#verify input[name=password]", "wrong")
    page.click("#verify button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("密码不正确")
    page.fill("#verify input[name=password]", PASSWORD)
    page.click("#verify button[type=submit]")
    # Not before the worksheet is released: the refusal says so, in red.
    expect(page.locator(".messages li.error")).to_contain_text("尚未放行")
    page.goto(worksheet_url)
    expect(page.locator("#no-controls")).to_be_visible()
    page.click("#release")
    expect(page.locator(".messages")).to_contain_text("已放行")
    page.goto(sample_url)
    page.fill("#verify input[name=password]", PASSWORD)
    page.click("#verify button[type=submit]")
    expect(page.locator("#state")).to_have_attribute("data-state", "verified")
    expect(page.locator("#results tbody tr[data-state=verified]")).to_have_count(2)
