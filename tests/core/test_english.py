"""English pages are English: rendered with /en/, the main pages hold no Chinese outside the data they show
(names of labs, samples, standards…). zh-Hans stays the default."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from opentic.ledger import entry as entries
from opentic.ledger import esign
from opentic.ledger import services as ledger
from opentic.registry.models import Institution
from tests.conftest import CODE_A, PASSWORD, World
from tests.lims.fixtures import Lab
from tests.pdfs import signed_pdf
from tests.quality.fixtures import PT, pt_round, submit_others  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u3400-\u9fff]+")  # runs of ideographs: a list of names joined by 、 is checked name by name
# Terms of art an English page keeps in Chinese, as English texts on Chinese regulation do.
TERMS = {"失信", "中文", "未检出"}  # 未检出: the words a report prints below the LOQ


class VisibleText(HTMLParser):
    """The text a reader sees, and the attributes a reader meets (title, placeholder, aria-label)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        # Placeholders are left out: they give examples of what to type, and what is typed is data (大米 铅).
        self.parts += [v for k, v in attrs if k in ("title", "aria-label", "alt") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def data_strings() -> list[str]:
    """Every text stored in the database: what a page shows of it is data, not interface."""
    from opentic.registry.sheets import SHEETS

    # The register's file format: its sheets and columns are named in Chinese, in any language.
    out = [s.title for s in SHEETS.values()] + [c.header for s in SHEETS.values() for c in s.columns]
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
        if fields:
            for row in model.objects.values_list(*fields):  # type: ignore[attr-defined]
                out += [v for v in row if v and CJK.search(v)]
    return out


def chinese_outside_data(html: str, data: list[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    found = []
    for text in parser.parts:
        for run in CJK.findall(text):
            if run in TERMS:  # 中文: the language menu names Chinese in Chinese, as menus do
                continue
            if not any(run in d for d in data):
                found.append(run)
    return found


def test_the_language_menu_names_each_language_in_itself(world: World) -> None:
    for prefix in ("", "/en"):
        page = world.client("anonymous").get(f"{prefix}/find/").content.decode()
        menu = page.split('name="language"')[1].split("</select>")[0]
        assert ">English</option>" in menu and ">中文</option>" in menu and "英语" not in menu
    assert '<html lang="zh-hans">' in world.client("anonymous").get("/find/").content.decode()


PAGES = [
    ("anonymous", "/"), ("anonymous", "/find/?q=铅"), ("anonymous", "/labs/{a}/"), ("anonymous", "/verify/"),
    ("anonymous", "/login/"),
    ("regulator", "/registry/"), ("regulator", "/registry/?status=expired"),
    ("regulator", "/registry/institutions/{b}/"),
    ("regulator", "/registry/institutions/{a}/history/"), ("regulator", "/quality/pt/"),
    ("regulator", "/quality/pt/follow-ups/"), ("regulator", "/registry/import/"),
    ("a_admin", "/registry/institutions/{a}/"), ("a_analyst", "/lims/trail/"),
    ("a_analyst", "/lims/samples/{s}/history/"), ("a_analyst", "/lims/"), ("a_analyst", "/lims/samples/{s}/"),
    ("a_analyst", "/lims/worksheets/"), ("a_admin", "/lims/setup/"), ("a_analyst", "/lims/qc/"),
    ("anonymous", "/verify/?{verify}"),
]


@pytest.mark.parametrize(("persona", "url"), PAGES)
def test_english_pages_hold_no_chinese_interface(world: World, lab: Lab, persona: str, url: str) -> None:
    sample = lab.received()
    Institution.objects.filter(pk=world.lab_b.pk).update(cma_valid_until=timezone.localdate() - dt.timedelta(days=3))
    code = entries.new_code()
    link = ledger.verification_url(CODE_A, "JJ-1", code)
    with transaction.atomic():
        ledger.register_report(world.a_signatory, world.lab_a, "JJ-1", signed_pdf(link, ["JJ-1"]), code=code,
                               esign=esign.by_password(PASSWORD))
    path = "/en" + url.format(a=world.lab_a.pk, b=world.lab_b.pk, s=sample.pk, verify=link.split("?", 1)[1])
    response = world.client(persona).get(path)
    assert response.status_code == 200, path
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert chinese_outside_data(html, data_strings()) == [], path


def test_a_refusal_in_english_is_english(world: World) -> None:
    Institution.objects.filter(pk=world.lab_b.pk).update(status="suspended",
                                                         cma_valid_until=dt.date(2026, 11, 2))
    client = world.client("regulator")
    response = client.post(f"/en/registry/institutions/{world.lab_b.pk}/status/",
                           {"status": "valid", "reason": "整改完成"}, follow=True)
    html = response.content.decode()
    assert "The CMA certificate ended on Nov. 2, 2026: register the renewed certificate" in html
    assert chinese_outside_data(html, data_strings()) == []
    zh = client.post(f"/registry/institutions/{world.lab_b.pk}/status/", {"status": "valid", "reason": "整改完成"},
                     follow=True).content.decode()
    assert "资质认定证书已于2026年11月2日届满" in zh


def test_pt_pages_in_english(pt_round: PT) -> None:  # noqa: F811
    from opentic.quality import pt

    w, r = pt_round.world, pt_round.round
    item = r.items.get(code="A")
    pt.record_homogeneity(w.regulator, item, [[0.185, 0.194], [0.187, 0.190], [0.192, 0.186]], [0.188], 0.03)
    pt.submit_result(w.a_admin, pt_round.participation(w.lab_a), item, "0.251", "0.03")
    submit_others(pt_round)
    for persona in ("regulator", "a_analyst"):
        html = w.client(persona).get(f"/en/quality/pt/rounds/{r.pk}/").content.decode()
        assert chinese_outside_data(html, data_strings()) == [], persona
    for action in (pt.close_round, pt.evaluate_round, pt.publish_round):
        action(w.regulator, r)
    page = f"/en/quality/pt/rounds/{r.pk}/"
    for persona, url in (("regulator", page), ("a_analyst", page), ("regulator", "/en/quality/pt/follow-ups/"),
                         ("a_admin", "/en/quality/pt/")):
        html = w.client(persona).get(url).content.decode()
        assert "satisfactory" in html or "follow-ups" in url or persona == "a_admin"
        assert chinese_outside_data(html, data_strings()) == [], url
