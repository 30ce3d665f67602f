"""Every API operation is documented (summary, description, each parameter and body field), in both languages,
and the docs page loads nothing from outside the platform."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.test_openapi import IDS, OPERATIONS

CJK = re.compile(r"[\u4e00-\u9fff]")


def _document(url: str) -> dict[str, Any]:
    return dict(Client().get(url).json())


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return dict(components[schema["$ref"].rsplit("/", 1)[1]])
    return schema


def _operation(doc: dict[str, Any], method: str, url: str) -> dict[str, Any]:
    return dict(doc["paths"][re.sub(r"{[^}:]+:", "{", url)][method])


@pytest.mark.parametrize(("method", "url", "op"), OPERATIONS, ids=IDS)
def test_every_operation_has_a_summary_a_description_and_documented_inputs(method: str, url: str, op: Any) -> None:
    assert op.summary != op.view_func.__name__.title().replace("_", " "), "summary is ninja's default"
    documented = _operation(_document("/en/api/openapi.json"), method, url)
    assert documented.get("description"), "no description"
    for parameter in documented["parameters"]:
        assert parameter.get("description"), f"parameter {parameter['name']} has no description"
    components = _document("/en/api/openapi.json")["components"]["schemas"]
    for content in documented.get("requestBody", {}).get("content", {}).values():
        for name, field in _resolve(content["schema"], components).get("properties", {}).items():
            assert field.get("description"), f"body field {name} has no description"


@pytest.mark.parametrize(("method", "url", "op"), OPERATIONS, ids=IDS)
def test_the_chinese_document_translates_every_operation(method: str, url: str, op: Any) -> None:
    chinese = _operation(_document("/api/openapi.json"), method, url)
    english = _operation(_document("/en/api/openapi.json"), method, url)
    assert CJK.search(chinese["summary"]) and CJK.search(chinese["description"]), chinese["summary"]
    assert not CJK.search(english["summary"]) and not CJK.search(english["description"])
    for zh, en in zip(chinese["parameters"], english["parameters"], strict=True):
        assert CJK.search(zh["description"]) and zh["name"] == en["name"], zh


@pytest.mark.parametrize(("url", "title", "other"), [("/api/docs", "OpenTIC 接口文档", "/en/api/docs"),
                                                     ("/en/api/docs", "OpenTIC API documentation", "/api/docs")])
def test_the_docs_page_is_served_from_the_platform_in_its_language(url: str, title: str, other: str) -> None:
    page = Client().get(url).content.decode()
    assert f"<title>{title}</title>" in page and f'href="{other}"' in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert all(not a.startswith(("http:", "https:", "//")) for a in assets), assets
    scripts = [a for a in assets if a.endswith((".js", ".css"))]
    # The Swagger UI bundle, its start-up script, its style sheet and ours (no inline style under the CSP).
    assert len(scripts) == 4
    for asset in scripts:
        assert finders.find(asset.removeprefix("/static/")), asset  # served by the platform's static files
    schema_url = "/en/api/openapi.json" if url.startswith("/en/") else "/api/openapi.json"
    assert f'"url": "{schema_url}"' in page
