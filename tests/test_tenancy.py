"""The tenancy matrix: every page and endpoint, every persona. Grows with every new page and endpoint.

Institution staff see only their own institution's non-public data; another lab's pages answer 404 so
that they do not even learn what exists; public pages answer everyone.
"""

import pytest

from tests.conftest import PERSONAS, World

REGULATORS = {"platform_admin", "regulator"}
LAB_A = {"a_admin", "a_analyst", "a_reviewer", "a_signatory"}

# (name, method, url template, who gets 2xx; others get the status given)
MATRIX = [
    ("home", "get", "/", set(PERSONAS), None),
    ("finder page", "get", "/find/?q=铅", set(PERSONAS), None),
    ("public lab page", "get", "/labs/{a}/", set(PERSONAS), None),
    ("register list", "get", "/registry/", REGULATORS, {"anonymous": 302, "*": 403}),
    ("lab A detail", "get", "/registry/institutions/{a}/", REGULATORS | LAB_A, {"anonymous": 302, "*": 404}),
    ("lab A history", "get", "/registry/institutions/{a}/history/", REGULATORS | LAB_A,
     {"anonymous": 302, "*": 404}),
    ("lab B detail", "get", "/registry/institutions/{b}/", REGULATORS | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("export institutions", "get", "/registry/export/institutions.xlsx", REGULATORS,
     {"anonymous": 302, "*": 403}),
    ("export staff", "get", "/registry/export/staff.csv", REGULATORS | LAB_A | {"b_admin"}, {"anonymous": 302}),
    ("import page", "get", "/registry/import/", REGULATORS | {"a_admin", "b_admin"},
     {"anonymous": 302, "*": 403}),
    ("admin index", "get", "/admin/", {"platform_admin"}, {"*": 302}),
    ("admin institutions", "get", "/admin/registry/institution/", {"platform_admin"}, {"*": 302}),
    ("api finder", "get", "/api/public/finder?q=铅", set(PERSONAS), None),
    ("api public lab", "get", "/api/public/labs/{a}", set(PERSONAS), None),
    ("api districts", "get", "/api/public/reference/districts", set(PERSONAS), None),
    ("api domains", "get", "/api/public/reference/domains", set(PERSONAS), None),
    ("api spatial units", "get", "/api/public/reference/spatial-units", set(PERSONAS), None),
    ("login page", "get", "/login/", set(PERSONAS), None),
    ("english finder page", "get", "/en/find/?q=铅", set(PERSONAS), None),
    ("api institutions", "get", "/api/registry/institutions", set(PERSONAS) - {"anonymous"}, {"anonymous": 401}),
    ("api lab A", "get", "/api/registry/institutions/{a}", REGULATORS | LAB_A, {"anonymous": 401, "*": 404}),
    ("api lab A staff", "get", "/api/registry/institutions/{a}/staff", REGULATORS | LAB_A,
     {"anonymous": 401, "*": 404}),
    ("api lab A instruments", "get", "/api/registry/institutions/{a}/instruments", REGULATORS | LAB_A,
     {"anonymous": 401, "*": 404}),
    ("api export scope", "get", "/api/registry/exports/scope?format=csv", set(PERSONAS) - {"anonymous"},
     {"anonymous": 401}),
    ("api export institutions", "get", "/api/registry/exports/institutions", REGULATORS,
     {"anonymous": 401, "*": 403}),
    ("verify page", "get", "/verify/", set(PERSONAS), None),
    ("verify page by QR link", "get", "/verify/?i=91500116MA5U7K3T2R&n=X-1&c=AAAAAAAAAAAAAAAAAAAAAA", set(PERSONAS),
     None),
    ("ledger key", "get", "/ledger/key", set(PERSONAS), None),
    ("audit anchor checkpoint (none yet)", "get", "/ledger/audit/checkpoint", set(), {"*": 404}),
    ("lab A 失信 periods", "get", "/registry/institutions/{a}/not-accepted/", REGULATORS,
     {"anonymous": 302, "*": 403}),
    ("api proof of an unknown report", "get",
     "/api/public/verify/proof?i=91500116MA5U7K3T2R&n=X-1&c=AAAAAAAAAAAAAAAAAAAAAA", set(), {"*": 404}),
    ("api verify", "get", "/api/public/verify?i=91500116MA5U7K3T2R&n=X-1&c=AAAAAAAAAAAAAAAAAAAAAA", set(PERSONAS),
     None),
    ("lims sample list", "get", "/lims/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("lims register page", "get", "/lims/register/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("lims worksheets", "get", "/lims/worksheets/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("lims setup", "get", "/lims/setup/", {"a_admin", "b_admin"}, {"anonymous": 302, "platform_admin": 404,
                                                                    "regulator": 404, "*": 403}),
    ("lims instrument files", "get", "/lims/instrument-files/", LAB_A | {"b_admin"},
     {"anonymous": 302, "*": 404}),
    ("api lims samples", "get", "/api/lims/samples", LAB_A | {"b_admin"}, {"anonymous": 401, "*": 404}),
    ("admin ledger entries", "get", "/admin/ledger/entry/", {"platform_admin"}, {"*": 302}),
    ("lims control charts", "get", "/lims/qc/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("report seal page", "get", "/reports/seal/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("proficiency testing home", "get", "/quality/pt/", set(PERSONAS) - {"anonymous"}, {"anonymous": 302}),
    ("api pt rounds", "get", "/api/quality/pt/rounds", LAB_A | {"b_admin"}, {"anonymous": 401, "*": 404}),
    # (a round's own pages are checked persona by persona in tests/quality/test_pt_views.py)
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_an_institutions_signatories_and_admin_register_its_reports(world: World, persona: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from opentic.ledger.samples import sample_pdf

    pdf = SimpleUploadedFile("r.pdf", sample_pdf("http://x/verify/", ["r"]), content_type="application/pdf")
    response = world.client(persona).post("/api/ledger/reports", {"number": f"{persona}-1", "pdf": pdf})
    expected = {"a_signatory": 201, "a_admin": 201, "b_admin": 201, "anonymous": 401}.get(persona, 403)
    assert response.status_code == expected, (persona, response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "method", "url", "allowed", "denied"), MATRIX, ids=[m[0] for m in MATRIX])
def test_matrix(world: World, persona: str, name: str, method: str, url: str, allowed: set[str],
                denied: dict[str, int] | None) -> None:
    response = getattr(world.client(persona), method)(url.format(a=world.lab_a.pk, b=world.lab_b.pk))
    if persona in allowed:
        assert response.status_code == 200, (name, persona, response.status_code)
    else:
        denied = denied or {}
        assert response.status_code == denied.get(persona, denied.get("*")), (name, persona, response.status_code)


@pytest.mark.django_db
def test_lists_and_exports_hold_only_own_data(world: World) -> None:
    client = world.client("a_admin")
    listed = client.get("/api/registry/institutions").json()["items"]
    assert [i["credit_code"] for i in listed] == [world.lab_a.credit_code]
    staff_csv = client.get("/registry/export/staff.csv").content.decode("utf-8-sig")
    assert "张伟" in staff_csv and "李娜" not in staff_csv
    api_csv = client.get("/api/registry/exports/instruments?format=csv").content.decode("utf-8-sig")
    assert "电感耦合等离子体质谱仪" in api_csv and "原子吸收分光光度计" not in api_csv
    regulator_csv = world.client("regulator").get("/registry/export/staff.csv").content.decode("utf-8-sig")
    assert "张伟" in regulator_csv and "李娜" in regulator_csv


@pytest.mark.django_db
def test_public_lab_page_hides_staff_and_unshared_instruments(world: World) -> None:
    page = world.client("anonymous").get(f"/labs/{world.lab_b.pk}/").content.decode()
    assert "李娜" not in page and "原子吸收分光光度计" not in page
    page_a = world.client("anonymous").get(f"/labs/{world.lab_a.pk}/").content.decode()
    assert "电感耦合等离子体质谱仪" in page_a  # shared: public


@pytest.mark.django_db
def test_another_labs_status_cannot_be_changed(world: World) -> None:
    response = world.client("b_admin").post(f"/registry/institutions/{world.lab_a.pk}/status/",
                                            {"status": "suspended", "reason": "x"})
    assert response.status_code == 404
    response = world.client("a_admin").post(f"/api/registry/institutions/{world.lab_a.pk}/status",
                                            {"status": "suspended", "reason": "x"}, content_type="application/json")
    assert response.status_code == 403
    world.lab_a.refresh_from_db()
    assert world.lab_a.status == "valid"


@pytest.mark.django_db
def test_the_admin_is_read_only(world: World) -> None:
    client = world.client("platform_admin")
    assert client.get(f"/admin/registry/institution/{world.lab_a.pk}/change/").status_code == 200
    response = client.post(f"/admin/registry/institution/{world.lab_a.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert client.get("/admin/registry/institution/add/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_background_job_is_seen_only_by_whoever_started_it(world: World, persona: str) -> None:
    from opentic.core import jobs
    from opentic.core.models import Job

    jobs.register("test.tenancy", lambda job, progress: None)
    job = jobs.submit("test.tenancy", user=world.a_admin, institution_id=world.lab_a.pk)
    Job.objects.filter(pk=job.pk).update(output=b"x", output_name="x.csv", output_type="text/csv")
    client = world.client(persona)
    for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/download"):
        expected = 200 if persona == "a_admin" else 302 if persona == "anonymous" else 404
        assert client.get(url).status_code == expected, (url, persona)
