"""The LIMS API: a lab's own systems read samples and post results; never another lab's."""

import pytest

from opentic.core.api_auth import issue_token
from tests.conftest import PERSONAS
from tests.lims.fixtures import Lab


@pytest.mark.django_db
def test_results_through_the_api_with_optimistic_locking(lab: Lab) -> None:
    sample = lab.received(lab.pb)
    _, token = issue_token(lab.world.a_analyst, "lims")
    headers = {"Authorization": f"Bearer {token}"}
    c = lab.world.client(None)
    detail = c.get(f"/api/lims/samples/{sample.pk}", headers=headers).json()
    pb = detail["analyses"][0]
    assert detail["state"] == "received" and pb["keyword"] == "pb" and pb["accredited"]
    url = f"/api/lims/analyses/{pb['id']}/result"
    ok = c.post(url, {"value": "0.0425", "uncertainty": "0.004", "version": pb["version"]},
                content_type="application/json", headers=headers)
    assert ok.status_code == 200 and ok.json()["value"] == "0.0425" and ok.json()["version"] == pb["version"] + 1
    stale = c.post(url, {"value": "0.05", "reason": "x", "version": pb["version"]},
                   content_type="application/json", headers=headers)
    assert stale.status_code == 409 and "已被他人修改" in str(stale.json())
    bad = c.post(url, {"value": "abc", "version": pb["version"] + 1}, content_type="application/json",
                 headers=headers)
    assert bad.status_code == 422
    assert c.post(url, {"version": 1}, content_type="application/json", headers=headers).status_code == 422
    assert c.post(url, "not json", content_type="application/json", headers=headers).status_code in (400, 422)
    listed = c.get("/api/lims/samples?state=to_be_verified", headers=headers).json()
    assert [s["lab_number"] for s in listed["items"]] == [sample.lab_number]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_labs_own_people_reach_its_samples(lab: Lab, persona: str) -> None:
    sample = lab.received(lab.pb)
    response = lab.world.client(persona).get(f"/api/lims/samples/{sample.pk}")
    expected = 200 if persona.startswith("a_") else (401 if persona == "anonymous" else 404)
    assert response.status_code == expected
    analysis = sample.analyses.get()
    post = lab.world.client(persona).post(f"/api/lims/analyses/{analysis.pk}/result", {"value": "1", "version": 1},
                                          content_type="application/json")
    allowed = {"a_analyst": 200, "a_admin": 403, "a_reviewer": 403, "a_signatory": 403}
    # a_admin holds the admin role but no method authorization: refused by the gate, not by tenancy.
    assert post.status_code == (allowed.get(persona) or (401 if persona == "anonymous" else 404)), persona


@pytest.mark.django_db
def test_an_instrument_file_through_the_api(lab: Lab) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.lims.test_results_import import mapping, the_file

    [lab.received() for _ in range(3)]
    m = mapping(lab)
    c = lab.world.client("a_analyst")
    ok = c.post(f"/api/lims/instrument-files/{m.pk}", {"file": SimpleUploadedFile("batch.csv", the_file())})
    assert ok.status_code == 200 and ok.json()["results"] == 6
    bad = c.post(f"/api/lims/instrument-files/{m.pk}",
                 {"file": SimpleUploadedFile("b.csv", the_file().replace(b"0.0425", b"x"))})
    assert bad.status_code == 422 and bad.json()["errors"][0]["row"] == 5  # the file's line 5
    assert lab.world.client("b_admin").post(f"/api/lims/instrument-files/{m.pk}",
                                            {"file": SimpleUploadedFile("b.csv", b"")}).status_code == 404
