"""Each PT score carries its verdict (满意 / 有问题 / 不满意; En: 满意 / 不满意) on the round page, the
participant's page and both PDFs; the regulator has a follow-up list; x̄ prints in the PDFs."""

import subprocess
from pathlib import Path

import pytest

from opentic.numerics import plots
from opentic.quality import pt, reporting
from opentic.quality.models import FollowUp, Round, Score
from tests.quality.fixtures import PT, pt_round, submit_others  # noqa: F401 — the fixture
from tests.quality.test_pt_views import pdf_text

pytestmark = pytest.mark.django_db


def published(fixture: PT) -> Round:
    w, r = fixture.world, fixture.round
    items = {i.code: i for i in r.items.all()}
    mine = fixture.participation(w.lab_a)
    pt.submit_result(w.a_admin, mine, items["A"], "0.251", "0.03")
    pt.submit_result(w.a_admin, mine, items["B"], "0.276", "0.03")
    submit_others(fixture)
    for action in (pt.close_round, pt.evaluate_round, pt.publish_round):
        action(w.regulator, r)
    return Round.objects.get(pk=r.pk)


def test_the_criteria_follow_iso_13528_for_each_kind() -> None:
    assert reporting.criteria("z") == "|z| ≤ 2 为满意；2 < |z| < 3 为有问题；|z| ≥ 3 为不满意"
    assert reporting.criteria("zeta").startswith("|ζ| ≤ 2 为满意")
    assert reporting.criteria("En") == "|En| ≤ 1 为满意；|En| > 1 为不满意"


def test_every_score_shows_its_verdict_on_the_pages_and_in_the_pdfs(pt_round: PT) -> None:  # noqa: F811
    r = published(pt_round)
    w = pt_round.world
    verdicts = {s.get_performance_display() for s in Score.objects.filter(submission__participation__round=r)}
    assert {"满意", "不满意"} <= {str(v) for v in verdicts}  # the 0.040 outlier is unsatisfactory
    bad = Score.objects.filter(submission__participation__round=r, performance="unsatisfactory").count()
    regulator_page = w.client("regulator").get(f"/quality/pt/rounds/{r.pk}/").content.decode()
    results = regulator_page.split('id="results"')[1].split("</table>")[0]
    assert results.count('perf unsatisfactory">不满意') == bad
    scores = Score.objects.filter(submission__participation__round=r).count()
    assert scores == 2 * 11  # lab B took part and sent nothing
    assert results.count("perf satisfactory") + results.count("perf questionable") + bad == scores
    assert 'id="criteria">|z| ≤ 2 为满意' in regulator_page
    participant = w.client("a_analyst").get(f"/quality/pt/rounds/{r.pk}/").content.decode()
    own = participant.split('id="submit"')[1].split("</table>")[0]
    assert own.count("满意") == 2 and "|z| ≤ 2 为满意" in participant
    whole = pdf_text(w.client("regulator").get(f"/quality/pt/rounds/{r.pk}/report.pdf").content)
    assert whole.count("不满意") >= bad + 1 and "|z|≤2为满意" in whole and "评价" in whole
    mine = pdf_text(w.client("a_analyst").get(f"/quality/pt/rounds/{r.pk}/my-report.pdf").content)
    assert "满意" in mine.split("本机构结果")[1].split("指定值")[0]


def test_the_pdf_is_chinese_even_for_an_english_reader(pt_round: PT) -> None:  # noqa: F811
    r = published(pt_round)
    client = pt_round.world.client("regulator")
    client.cookies["django_language"] = "en"
    text = pdf_text(client.get(f"/en/quality/pt/rounds/{r.pk}/report.pdf").content)
    assert "不满意" in text and "unsatisfactory" not in text


def test_the_regulator_lists_open_follow_ups_per_institution(pt_round: PT) -> None:  # noqa: F811
    r = published(pt_round)
    w = pt_round.world
    opened = FollowUp.objects.filter(participation__round=r)
    assert opened.exists()
    institution = opened.first().institution  # type: ignore[union-attr]
    page = w.client("regulator").get("/quality/pt/follow-ups/").content.decode()
    assert institution.name in page and "未关闭" in page and f'data-institution="{institution.pk}"' in page
    follow_up = opened.first()
    assert follow_up is not None
    admin = next(user for inst, user in pt_round.others if inst.pk == institution.pk)
    pt.close_follow_up(admin, follow_up, "原因：消解不完全；纠正：更换消解程序并复测")
    still_open = opened.filter(institution=institution, state="open").exists()
    assert (institution.name in w.client("regulator").get("/quality/pt/follow-ups/").content.decode()) == still_open
    closed = w.client("regulator").get("/quality/pt/follow-ups/", {"state": "closed"}).content.decode()
    assert "更换消解程序" in closed and 'data-state="closed"' in closed
    assert w.client("regulator").get("/quality/pt/follow-ups/", {"state": "bogus"}).status_code == 400
    assert w.client("a_admin").get("/quality/pt/follow-ups/").status_code == 403


def test_x_bar_is_drawn_without_a_combining_macron(pt_round: PT, tmp_path: Path) -> None:  # noqa: F811
    chart = plots.levey_jennings([plots.Point("1", 0.5), plots.Point("2", -1.2)], "Pb")
    assert "\u0304" not in chart and 'class="overline"' in chart
    bars = plots.z_bars([plots.Point("001", 0.5)], "z")
    assert "\u0304" not in bars and ">0</text>" in bars and ">−2</text>" in bars
    r = published(pt_round)
    data = pt_round.world.client("regulator").get(f"/quality/pt/rounds/{r.pk}/report.pdf").content
    text = pdf_text(data)
    assert "\u25cc" not in text and "\u0304" not in text  # no dotted circle, no orphan macron
    pdf = tmp_path / "round.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "page")],
                   check=True)
    assert list(tmp_path.glob("page*.png"))


def test_score_bars_are_coloured_by_their_verdict() -> None:
    points = [plots.Point("a", 1.5), plots.Point("b", 2.5), plots.Point("c", 3.0)]
    z = plots.z_bars(points, "z")
    assert z.count('fill="#2c6fbb"') == 1 and z.count('fill="#d9a400"') == 1 and z.count('fill="#c0392b"') == 1
    en = plots.z_bars(points, "En", "En")
    assert en.count('fill="#c0392b"') == 3 and 'fill="#d9a400"' not in en and "En = 1.50" in en
