"""The tenancy matrix: every page and endpoint, every persona. Grows with every new page and endpoint.

Institution staff see only their own institution's non-public data; another lab's pages answer 404 so
that they do not even learn what exists; public pages answer everyone.
"""

from pathlib import Path

import pytest

from tests.conftest import PASSWORD, PERSONAS, World
from tests.lims.fixtures import Lab

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
    ("verify page by number and code", "get", "/verify/?n=X-1&c=AAAAAAAAAAAAAAAAAAAAAA", set(PERSONAS), None),
    ("api verify by number and code", "get", "/api/public/verify?n=X-1&c=AAAAAAAAAAAAAAAAAAAAAA", set(PERSONAS),
     None),
    ("signing keys page", "get", "/ledger/keys/", {"a_admin", "a_signatory", "b_admin"},
     {"anonymous": 302, "*": 403}),
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
    ("my signature page", "get", "/reports/signature/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("my signature upload (no file: refused on the page)", "post", "/reports/signature/", LAB_A | {"b_admin"},
     {"anonymous": 302, "*": 404}),
    ("proficiency testing home", "get", "/quality/pt/", set(PERSONAS) - {"anonymous"}, {"anonymous": 302}),
    ("api pt rounds", "get", "/api/quality/pt/rounds", LAB_A | {"b_admin"}, {"anonymous": 401, "*": 404}),
    ("lims worklist", "get", "/lims/work/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("lims orders", "get", "/lims/orders/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("lims new order", "get", "/lims/orders/new/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("landing after sign-in", "get", "/start/", set(), {"*": 302}),
    # (an order's and a method's own pages are checked persona by persona in tests/lims/test_worklists.py;
    #  a sample's cancel/invalidate POST in tests/lims/test_bench.py)
    # (a round's own pages are checked persona by persona in tests/quality/test_pt_views.py)
    ("lims audit trail", "get", "/lims/trail/", LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("lims audit trail, filtered", "get", "/lims/trail/?action=state&person=a-analyst&since=2026-01-01",
     LAB_A | {"b_admin"}, {"anonymous": 302, "*": 404}),
    ("pt follow-ups", "get", "/quality/pt/follow-ups/", REGULATORS, {"anonymous": 302, "*": 403}),
    ("pt follow-ups, closed", "get", "/quality/pt/follow-ups/?state=closed", REGULATORS,
     {"anonymous": 302, "*": 403}),
    ("own API tokens", "get", "/account/tokens/", set(PERSONAS) - {"anonymous"}, {"anonymous": 302}),
    ("issue an API token (nothing posted: refused)", "post", "/account/tokens/", set(), {"anonymous": 302, "*": 422}),
    ("password change", "get", "/account/password/", set(PERSONAS) - {"anonymous"}, {"anonymous": 302}),
    ("password changed", "get", "/account/password/done/", set(PERSONAS) - {"anonymous"}, {"anonymous": 302}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_an_institutions_signatories_register_its_reports(world: World, persona: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import PASSWORD
    from tests.pdfs import signed_pdf

    pdf = SimpleUploadedFile("r.pdf", signed_pdf("http://x/verify/", ["r"]), content_type="application/pdf")
    response = world.client(persona).post("/api/ledger/reports", {"number": f"{persona}-1", "pdf": pdf,
                                                                  "password": PASSWORD})
    # Registering is a signatory's electronic signature: an administrator's access is not one.
    expected = {"a_signatory": 201, "anonymous": 401}.get(persona, 403)
    assert response.status_code == expected, (persona, response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_a_signatory_registers_a_signing_key_and_only_its_lab_revokes_it(world: World, persona: str) -> None:
    from cryptography.hazmat.primitives import serialization

    from opentic.ledger import esign
    from opentic.ledger.models import SigningKey
    from tests.conftest import PASSWORD
    from tests.ledger.test_ledger import _own_credential

    pem = _own_credential().certificate.public_bytes(serialization.Encoding.PEM).decode()
    key = esign.register_key(world.a_signatory, PASSWORD, "lab A LIMS", pem)
    client = world.client(persona)
    other = _own_credential("another").certificate.public_bytes(serialization.Encoding.PEM).decode()
    client.post("/ledger/keys/", {"name": "x", "certificate": other, "password": PASSWORD})
    assert SigningKey.objects.filter(name="x").exists() == (persona == "a_signatory"), persona
    revoked = client.post("/ledger/keys/", {"key": key.pk, "password": PASSWORD})
    key.refresh_from_db()
    assert (key.revoked_at is not None) == (persona in ("a_signatory", "a_admin")), (persona, revoked.status_code)
    if persona == "b_admin":
        assert revoked.status_code == 404


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
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_its_owner_revokes_a_token(world: World, persona: str) -> None:
    from opentic.core.models import ApiToken
    from opentic.core.tokens import issue_token

    token, _ = issue_token(world.a_admin, "lims", actor=world.a_admin)
    response = world.client(persona).post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == {"a_admin": 302, "anonymous": 302}.get(persona, 404), persona
    revoked = ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert revoked == (persona == "a_admin")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_lab_and_its_regulator_link_a_staff_account(world: World, persona: str) -> None:
    from opentic.registry.models import Staff

    staff = Staff.objects.get(institution=world.lab_a, name="张伟")
    url = f"/registry/institutions/{world.lab_a.pk}/staff/{staff.pk}/account/"
    response = world.client(persona).post(url, {"user": world.a_signatory.pk})
    staff.refresh_from_db()
    linked = persona in ("a_admin", "regulator", "platform_admin")
    # lab A's staff without the admin role are refused (a message); another lab does not learn it exists
    assert response.status_code == (404 if persona == "b_admin" else 302), persona
    assert (staff.user_id == world.a_signatory.pk) == linked, persona
    if linked:
        page = world.client(persona).get(f"/registry/institutions/{world.lab_a.pk}/").content.decode()
        assert f'<option value="{world.a_signatory.pk}" selected>' in page


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
def test_a_reports_preview_and_withdrawal_answer_only_its_lab(lab: Lab, settings: object, tmp_path: Path) -> None:
    """Lab A's sample and report, asked for by every persona with every method: another lab, the regulator's
    staff and the platform get 404 (not even the existence), lab A's other roles 403, the signatory 200."""
    from opentic.reports import services
    from opentic.reports.models import Report
    from tests.reports.test_reports import make_signatory, verified_sample

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    report = services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    waiting = verified_sample(lab)
    outsiders = {"anonymous": 302, "platform_admin": 404, "regulator": 404, "b_admin": 404}
    cases = [
        ("get", f"/reports/samples/{waiting.pk}/preview/", {}, {"a_signatory": 200, "*": 403}),
        ("get", f"/reports/samples/{waiting.pk}/preview.pdf", {}, {"a_signatory": 200, "*": 403}),
        ("post", f"/reports/samples/{waiting.pk}/preview/", {}, {"*": 405}),
        ("post", f"/reports/samples/{waiting.pk}/preview.pdf", {}, {"*": 405}),
        ("post", f"/reports/{report.pk}/withdraw/", {"password": "wrong", "reason": "x"}, {"*": 302}),
        ("get", f"/reports/{report.pk}/withdraw/", {}, {"*": 405}),
        ("post", f"/reports/samples/{waiting.pk}/approve/", {"password": "wrong"}, {"*": 302}),
    ]
    for method, url, data, inside in cases:
        for persona in PERSONAS:
            response = getattr(lab.world.client(persona), method)(url, data)
            if persona in outsiders and not (inside.get("*") == 405 and persona != "anonymous"):
                expected = outsiders[persona]
            else:
                expected = inside.get(persona, inside["*"])
            assert response.status_code == expected, (method, url, persona, response.status_code)
    assert Report.objects.get(pk=report.pk).state == "issued" and Report.objects.count() == 1


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
