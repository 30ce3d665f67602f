"""In Chromium with every request outside the platform refused: /api/docs lists every operation, in Chinese
and in English (the Swagger UI is the copy django-ninja ships, served from the platform's static files)."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Route, expect

from tests.test_openapi import OPERATIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("path", "summary", "title"), [
    ("/api/docs", "录入结果", "OpenTIC 接口文档"),
    ("/en/api/docs", "Enter a result", "OpenTIC API documentation"),
])
def test_the_docs_list_every_operation_with_no_network(live_server: object, page: Page, path: str, summary: str,
                                                       title: str) -> None:
    own = urlparse(str(live_server)).netloc
    outside: list[str] = []

    def only_the_platform(route: Route) -> None:
        if urlparse(route.request.url).netloc == own:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_platform)
    page.goto(f"{live_server}{path}")
    expect(page).to_have_title(title)
    expect(page.locator(".opblock")).to_have_count(len(OPERATIONS))
    expect(page.locator(".opblock-summary-description", has_text=summary)).to_have_count(1)
    assert outside == []
