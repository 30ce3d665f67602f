"""The public lab page and the finder mark an institution whose results the regulator does not accept (失信)."""

import datetime as dt

import pytest
from django.utils import timezone

from opentic.ledger import services as ledger
from tests.conftest import World


@pytest.mark.django_db
def test_a_distrusted_lab_is_marked_on_its_page_and_in_the_finder(world: World) -> None:
    client = world.client("anonymous")
    page = client.get(f"/labs/{world.lab_a.pk}/").content.decode()
    assert "证书有效<" in page and 'id="distrusted"' not in page
    found = client.get("/find/", {"q": "铅"}).content.decode()
    assert "失信" not in found
    period = ledger.declare_not_accepted(world.regulator, world.lab_a, timezone.now() - dt.timedelta(days=1), None,
                                         "出具虚假检验检测报告")
    page = client.get(f"/labs/{world.lab_a.pk}/").content.decode()
    assert 'id="distrusted"' in page and "证书有效<" not in page and "出具虚假检验检测报告" in page
    found = client.get("/find/", {"q": "铅"}).content.decode()
    hits = found.split('class="card hit"')[1:]
    marked = [h for h in hits if "失信" in h]
    assert len(marked) == 1 and world.lab_a.name in marked[0]
    assert any(world.lab_b.name in h and "失信" not in h for h in hits)
    # Ended: accepted again, no mark.
    ledger.end_not_accepted(world.regulator, period, timezone.now() - dt.timedelta(minutes=1), "整改完成")
    assert 'id="distrusted"' not in client.get(f"/labs/{world.lab_a.pk}/").content.decode()
