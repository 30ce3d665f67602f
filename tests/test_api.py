import pytest
from django.test import Client

from opentic.core.api_auth import issue_token
from opentic.core.tabular import write_csv
from opentic.registry.models import Institution
from opentic.registry.sheets import SHEETS
from tests.conftest import World


@pytest.mark.django_db
def test_openapi_schema_lists_the_endpoints(world: World) -> None:
    schema = Client().get("/api/openapi.json").json()
    assert schema["info"]["title"] == "OpenTIC API"
    for path in ("/api/public/finder", "/api/registry/institutions", "/api/registry/imports/{kind}"):
        assert path in schema["paths"]
    assert Client().get("/api/docs").status_code == 200


@pytest.mark.django_db
def test_token_auth_and_revocation(world: World) -> None:
    record, token = issue_token(world.regulator, "ci")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/registry/institutions").json()["count"] == 2
    assert Client(HTTP_AUTHORIZATION="Bearer wrong").get("/api/registry/institutions").status_code == 401
    record.revoked_at = record.created_at
    record.save()
    assert client.get("/api/registry/institutions").status_code == 401


@pytest.mark.django_db
def test_finder_api(world: World) -> None:
    body = Client().get("/api/public/finder", {"q": "大米 铅 GB 5009.12", "unit": "C3"}).json()
    assert body["reading"] == {"standards": ["GB 5009.12"], "parameters": ["铅"], "objects": ["大米"],
                               "free_text": ""}
    assert [h["name"] for h in body["hits"]] == [world.lab_a.name]
    assert body["hits"][0]["lines"][0]["standard"] == "GB 5009.12-2017"


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "x"}, {"district": "abc"}, {"q": "铅" * 101},
                                    {"page": "99999999999999999999"}])
def test_malformed_finder_requests_get_4xx(world: World, params: dict[str, str]) -> None:
    response = Client().get("/api/public/finder", params)
    assert response.status_code in (400, 422), response.content


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "data"), [
    ("/api/registry/institutions/{a}/status", {"status": "gone", "reason": "x"}),
    ("/api/registry/institutions/{a}/status", {"status": "suspended", "reason": ""}),
    ("/api/registry/institutions/{a}/status", "not json"),
    ("/api/registry/institutions/999999/status", {"status": "suspended", "reason": "x"}),
])
def test_malformed_writes_never_500_and_change_nothing(world: World, url: str, data: object) -> None:
    client = world.client("regulator")
    response = client.post(url.format(a=world.lab_a.pk), data, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content
    assert Institution.objects.get(pk=world.lab_a.pk).status == "valid"


@pytest.mark.django_db
def test_status_transition_error_is_422_with_reason(world: World) -> None:
    client = world.client("regulator")
    url = f"/api/registry/institutions/{world.lab_a.pk}/status"
    first = client.post(url, {"status": "revoked", "reason": "虚假报告"}, content_type="application/json")
    assert first.status_code == 200
    response = client.post(url, {"status": "valid", "reason": "申诉"}, content_type="application/json")
    assert response.status_code == 422 and "不能从" in str(response.json())


@pytest.mark.django_db
def test_import_api_returns_row_errors(world: World) -> None:
    headers = [c.header for c in SHEETS["instruments"].columns]
    bad = write_csv(headers, [[world.lab_a.credit_code, "YQ-9", "天平", "", "", "", "2027-13-01", "", "", "", ""]])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = world.client("a_admin").post("/api/registry/imports/instruments",
                                            {"file": SimpleUploadedFile("i.csv", bad)})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"row": 2, "column": "校准有效期至",
                                          "message": "“2027-13-01”不是有效日期,应写作 2024-05-31"}]
    good = bad.replace(b"2027-13-01", b"2027-12-01")
    response = world.client("a_admin").post("/api/registry/imports/instruments",
                                            {"file": SimpleUploadedFile("i.csv", good)})
    assert response.status_code == 200 and response.json()["created"] == 1
    response = world.client("a_admin").post("/api/registry/imports/bogus", {"file": SimpleUploadedFile("i.csv", good)})
    assert response.status_code == 422


@pytest.mark.django_db
@pytest.mark.ratelimit
def test_public_endpoints_are_rate_limited(world: World, settings: object) -> None:
    settings.OPENTIC_PUBLIC_RATE = "3/m"  # type: ignore[attr-defined]
    client = Client()
    codes = [client.get("/api/public/finder", {"q": "铅"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert client.get("/find/", {"q": "铅"}).status_code == 200  # its own bucket
