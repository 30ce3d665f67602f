"""In a real browser: a PT round from scheme to appeal, and a Westgard violation holding a worksheet."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from opentic.lims import qc
from opentic.lims.models import ReferenceMaterial, Worksheet
from opentic.quality.models import Appeal, FollowUp, Round, Scheme
from tests.browser.test_lims_browser import sign_in
from tests.lims.fixtures import Lab
from tests.quality.fixtures import OTHER_RESULTS, other_labs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_pt_round_end_to_end(lab: Lab, live_server: object, page: Page) -> None:
    world = lab.world
    others = other_labs(len(OTHER_RESULTS))
    # The regulator sets up the scheme and a round of two items, and invites by credit code.
    sign_in(page, live_server, "regulator")
    page.goto(f"{live_server}/quality/pt/")
    form = page.locator("#new-scheme")
    form.locator("input[name=code]").fill("CQ-PT-2026-07")
    form.locator("input[name=name]").fill("川渝联合能力验证 大米中铅")
    form.locator("select[name=parameter]").select_option(label="铅")
    form.locator("select[name=test_object]").select_option(label="大米")
    form.locator("input[name=unit]").fill("mg/kg")
    form.locator("button[type=submit]").click()
    scheme = page.locator(".scheme[data-code='CQ-PT-2026-07']")
    expect(scheme).to_be_visible()
    new_round = scheme.locator("form.new-round")
    new_round.locator("input[name=number]").fill("2026-1")
    new_round.locator("input[name=deadline]").fill((timezone.localdate() + dt.timedelta(days=7)).isoformat())
    new_round.locator("input[name=items]").fill("A 大米粉A; B 大米粉B")
    new_round.locator("button[type=submit]").click()
    codes = "\n".join([world.lab_a.credit_code] + [inst.credit_code for inst, _ in others])
    page.fill("#invite-form textarea[name=credit_codes]", codes)
    page.click("#invite-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("11")
    page.click("#open")
    r = Round.objects.get(scheme=Scheme.objects.get(code="CQ-PT-2026-07"))
    assert r.state == "open"

    # The other participants answer through the service; lab A's analyst types both items in the browser.
    from opentic.quality import pt

    for (inst, admin), value in zip(others, OTHER_RESULTS, strict=True):
        p = r.participations.get(institution=inst)
        for item in r.items.all():
            pt.submit_result(admin, p, item, value if item.code == "A" else str(round(float(value) * 1.1, 4)))
    sign_in(page, live_server, "a-analyst")
    page.goto(f"{live_server}/quality/pt/rounds/{r.pk}/")
    for code, value in (("A", "0.251"), ("B", "0.420")):
        page.select_option("#submit-form select[name=item]", label=code)
        page.fill("#submit-form input[name=value]", value)
        page.fill("#submit-form input[name=expanded_uncertainty]", "0.03")
        page.click("#submit-form button[type=submit]")
        expect(page.locator(f"#submit tr[data-item={code}]")).to_contain_text(value)

    # The regulator closes, evaluates and publishes; the charts appear.
    sign_in(page, live_server, "regulator")
    page.goto(f"{live_server}/quality/pt/rounds/{r.pk}/")
    page.click("#close")
    page.click("#evaluate")
    expect(page.locator("#evaluation svg")).to_have_count(3)  # a bar chart per item and the Youden plot
    page.click("#publish")
    expect(page.locator("h1")).to_contain_text("已发布")

    # Lab A sees its scores, downloads its report and appeals the unsatisfactory one.
    sign_in(page, live_server, "a-admin")
    page.goto(f"{live_server}/quality/pt/rounds/{r.pk}/")
    expect(page.locator("#submit tr[data-item=A] .perf")).to_have_text("满意")
    expect(page.locator("#submit tr[data-item=B] .perf")).to_have_text("不满意")
    with page.expect_download() as download:
        page.evaluate("""() => { const a = document.querySelector('#my-report'); a.setAttribute('download', '');
                                  a.click(); }""")
    assert download.value.path().read_bytes().startswith(b"%PDF")
    page.fill("#appeal-form textarea[name=reason]", "样品 B 录入时多输一位,原始记录为 0.272 mg/kg,附原始记录")
    page.click("#appeal-form button[type=submit]")
    expect(page.locator("#appeals")).to_contain_text("原始记录")
    assert Appeal.objects.get().state == "open"
    page.goto(f"{live_server}/quality/pt/")
    expect(page.locator("#follow-ups")).to_contain_text("B")
    assert FollowUp.objects.get(institution=world.lab_a).item_code == "B"


def test_a_westgard_violation_blocks_the_worksheet(lab: Lab, live_server: object, page: Page) -> None:
    rm = ReferenceMaterial.objects.create(institution=lab.world.lab_a, name="大米粉质控样", lot="QC-7",
                                          certified_value="0.071", unit="mg/kg",
                                          expires_on=timezone.localdate() + dt.timedelta(days=90))
    qc.set_control_target(lab.world.a_admin, lab.pb, rm, "0.071", "0.002")
    lab.received(lab.pb)
    sign_in(page, live_server, "a-analyst")
    page.goto(f"{live_server}/lims/worksheets/")
    page.select_option("#choose-method select[name=service]", str(lab.pb.pk))
    page.click("#choose-method button[type=submit]")
    page.select_option("#new-worksheet select[name=reference_material]", str(rm.pk))
    page.click("#new-worksheet button[type=submit]")
    for kind, value in (("blank", "0.0003"), ("sample", "0.052"), ("duplicate", "0.053")):
        rows = page.locator(f"#grid tr[data-kind={kind}] input")
        for i in range(rows.count()):
            rows.nth(i).fill(value)
    page.locator("#grid tr[data-kind=control] input").fill("0.079")  # z = +4: 1-3s
    page.click("#grid button[type=submit]")
    expect(page.locator("#qc")).to_contain_text("1-3s")

    sign_in(page, live_server, "a-reviewer")
    sheet = Worksheet.objects.get()
    page.goto(f"{live_server}/lims/worksheets/{sheet.pk}/")
    page.click("#release")
    expect(page.locator(".messages")).to_contain_text("1-3s")
    expect(page.locator("#rejection")).to_be_visible()
    assert Worksheet.objects.get().state == "open"
    page.fill("#rejection textarea[name=corrective_action]", "ICP-MS 锥口积盐,清洗后重新校准,复测质控样在控")
    page.click("#rejection button[type=submit]")
    page.click("#release")
    expect(page.locator("#qc")).to_contain_text("a-reviewer")
    assert Worksheet.objects.get().state == "released"
