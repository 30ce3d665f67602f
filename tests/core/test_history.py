"""History pages read as a person reads them: Chinese action and field names, local time, old → new, paged;
the institution's history holds the register's events only; the lab's trail has its own filtered page."""

import datetime as dt
import re

import pytest
from django.db import transaction
from django.utils import timezone, translation

from opentic.core import audit, history
from opentic.core.models import AuditEvent
from opentic.registry import services as registry
from opentic.registry.models import Institution
from tests.conftest import World
from tests.lims.fixtures import Lab

pytestmark = pytest.mark.django_db


def raw(page: str) -> re.Match[str] | None:
    """Anything of the stored form in the events table: dicts, model labels, ISO timestamps, action codes."""
    return RAW.search(page.split('id="events"')[1].split("</table>")[0])
RAW = re.compile(r"\{'|\{\"|\"\w+\": \[|lims\.Sample|registry\.Institution|\d{4}-\d\d-\d\dT\d\d:|>register<")


def test_an_event_is_described_in_words(world: World) -> None:
    with transaction.atomic():
        event = audit.record(actor=world.regulator, action="status", entity=world.lab_a,
                             changes={"status": ["valid", "suspended"], "cma_valid_until": [None, "2027-03-01"]},
                             reason="监督检查发现问题")
    AuditEvent.objects.filter(pk=event.pk).update(at=dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC))
    event.refresh_from_db()
    with translation.override("zh-hans"):
        described = history.describe(event)
        assert described.action == "状态变更"
        assert described.what == f"机构 #{world.lab_a.pk}"
        status, until = described.lines
        assert (status.label, status.old, status.new) == ("状态", "有效", "暂停")
        assert (until.label, until.old, until.new) == ("证书有效期止", "—", "2027年3月1日")
        assert described.at.hour == 1 and described.at.day == 2  # 17:30 UTC is 01:30 the next day in Chongqing
        assert history.value_text("2026-12-01T17:30:00+00:00") == "2026年12月2日 01:30"
    with translation.override("en"):
        assert history.describe(event).action == "status decided"
        assert history.value_text("2026-12-01") == "Dec. 1, 2026"


def test_the_institution_history_shows_the_register_and_pages(world: World, lab: Lab) -> None:
    lab.received()  # LIMS events in lab A's chain: not the register's
    registry.change_institution_status(world.regulator, world.lab_a, "suspended", "监督抽查不合格")
    with transaction.atomic():
        for n in range(60):
            audit.record(actor=world.regulator, action="update", entity=world.lab_a,
                         changes={"phone": [f"023-{n:08d}", f"023-{n + 1:08d}"]})
    client = world.client("regulator")
    page = client.get(f"/registry/institutions/{world.lab_a.pk}/history/").content.decode()
    assert "样品" not in page.split('id="events"')[1] and "lims" not in page
    assert "电话" in page and "023-00000059 → 023-00000060" in page  # newest first
    assert not raw(page)
    assert page.count("<tr data-seq=") == history.PER_PAGE
    second = client.get(f"/registry/institutions/{world.lab_a.pk}/history/?page=2").content.decode()
    assert second.count("<tr data-seq=") == 60 + 1 - history.PER_PAGE  # 60 updates and the status change
    assert "第 2 页 共 2 页" in second and "状态变更" in second and "有效 → 暂停" in second
    assert not raw(second)


def test_the_sample_history_and_the_lab_trail(world: World, lab: Lab) -> None:
    sample = lab.received()
    other = lab.register()
    client = world.client("a_analyst")
    own = client.get(f"/lims/samples/{sample.pk}/history/").content.decode()
    assert "状态流转" in own and " → " in own and not raw(own)
    today = timezone.localdate().isoformat()
    trail = client.get("/lims/trail/", {"sample": sample.lab_number, "since": today, "until": today})
    assert trail.status_code == 200
    text = trail.content.decode()
    assert f"样品 #{sample.pk}" in text and f"样品 #{other.pk}" not in text
    assert "登记样品" in text and "委托单</span>：WT-2026-0001" in text and not raw(text)
    first = min(sample.analyses.values_list("pk", flat=True))  # ids differ between databases
    # a nested record, in words (its keys in the trail's canonical order)
    assert f"检测项目</span>：{first}：" in text and "方法：" in text and "在资质认定范围内：是" in text
    by_action = client.get("/lims/trail/", {"action": "state"}).content.decode()
    assert f"样品 #{sample.pk}" in by_action and "创建" not in by_action.split('id="events"')[1]
    assert f"样品 #{sample.pk}" not in client.get("/lims/trail/", {"person": "nobody"}).content.decode()
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert "<tr data-seq=" not in client.get("/lims/trail/", {"until": yesterday}).content.decode()
    # Another lab sees none of it, and a bad filter is refused, not a 500.
    assert f"样品 #{sample.pk}" not in world.client("b_admin").get("/lims/trail/").content.decode()
    assert "没有编号为" in world.client("b_admin").get("/lims/trail/", {"sample": sample.lab_number}).content.decode()
    bad = client.get("/lims/trail/", {"since": "2026-13-01", "action": "nonsense"})
    assert bad.status_code == 400


def test_register_events_only_from_the_register(world: World, lab: Lab) -> None:
    lab.received()
    Institution.objects.filter(pk=world.lab_a.pk).update(cma_valid_until=timezone.localdate() - dt.timedelta(days=1))
    from opentic.registry.validity import expire_certificates

    expire_certificates()
    page = world.client("a_admin").get(f"/registry/institutions/{world.lab_a.pk}/history/").content.decode()
    assert "资质认定证书有效期至" in page and "平台" in page
