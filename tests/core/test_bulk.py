"""Bulk helpers: instances loaded without Model.__init__ behave as the ORM's own."""

import pytest
from django.db import transaction

from opentic.core import audit
from opentic.core.bulk import load_rows
from opentic.core.models import AuditEvent
from tests.conftest import World


@pytest.mark.django_db
def test_loaded_rows_are_the_orms_instances_field_for_field(world: World) -> None:
    with transaction.atomic():
        for n in range(3):
            audit.record(actor=world.a_admin, action="bulk", entity="x.Y", entity_id=str(n),
                         institution_id=world.lab_a.pk, changes={"n": n, "名称": "大米"})
    orm = list(AuditEvent.objects.filter(action="bulk").order_by("seq"))
    fast = load_rows(AuditEvent.objects.filter(action="bulk").order_by("seq"))
    names = [f.attname for f in AuditEvent._meta.concrete_fields]
    assert [[getattr(e, n) for n in names] for e in fast] == [[getattr(e, n) for n in names] for e in orm]
    assert fast == orm and all(not e._state.adding and e._state.db == "default" for e in fast)
    assert fast[0].actor == world.a_admin and fast[0].get_deferred_fields() == set()
    fast[0].reason = "changed through a loaded row"
    fast[0].save(update_fields=["reason"])
    assert AuditEvent.objects.get(pk=fast[0].pk).reason == "changed through a loaded row"
