"""Issue 11: the site's own 403/404/500 pages, in the user's language, never Django's debug pages."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from tests.conftest import World


@pytest.mark.django_db
def test_an_unknown_id_is_the_sites_own_404(world: World) -> None:
    response = world.client("a_analyst").get("/lims/samples/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "没有这个页面" in page and "返回首页" in page
    assert "URLconf" not in page and "urlpatterns" not in page.lower()


@pytest.mark.django_db
def test_an_unknown_address_is_the_sites_own_404_in_either_language(world: World) -> None:
    response = world.client("anonymous").get("/no-such-page/")
    assert response.status_code == 404
    assert "没有这个页面" in response.content.decode()
    english = world.client("anonymous").get("/en/no-such-page/")
    assert english.status_code == 404 and "There is no such page" in english.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "reason"), [("/registry/", "只有监管部门可以查看机构名录"),
                                               ("/lims/setup/", "只有机构管理员可以维护实验室设置")])
def test_forbidden_is_the_sites_own_403_saying_why(world: World, path: str, reason: str) -> None:
    response = world.client("a_analyst").get(path)
    assert response.status_code == 403
    page = response.content.decode()
    assert "您无权打开此页面" in page and reason in page
    assert "403 Forbidden" not in page
    english = world.client("a_analyst").get("/en" + path)
    assert english.status_code == 403 and "You may not open this page" in english.content.decode()


@pytest.mark.django_db
def test_the_500_page_is_the_sites_own() -> None:
    request = RequestFactory().get("/")
    with translation.override("zh-hans"):
        response = server_error(request)
    assert response.status_code == 500
    page = response.content.decode()
    assert "服务器出了问题" in page and "OpenTIC" in page


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "shown"), [("a_analyst", False), ("a_admin", True)])
def test_the_sample_list_offers_lab_setup_only_to_who_may_open_it(world: World, persona: str, shown: bool) -> None:
    page = world.client(persona).get("/lims/").content.decode()
    assert ('href="/lims/setup/"' in page) is shown


@pytest.mark.django_db
def test_a_csrf_failure_is_the_sites_own_page(world: World) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "无法接受此表单" in response.content.decode()
