import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from opentic.registry import services
from opentic.registry.models import Institution, InstitutionStatusChange
from tests.conftest import World


@pytest.mark.django_db
def test_status_change_records_history_and_audit(world: World) -> None:
    services.change_institution_status(world.regulator, world.lab_a, "suspended", "能力验证不满意")
    world.lab_a.refresh_from_db()
    assert world.lab_a.status == "suspended"
    change = InstitutionStatusChange.objects.get(institution=world.lab_a)
    assert (change.old_status, change.new_status, change.actor) == ("valid", "suspended", world.regulator)


@pytest.mark.django_db
def test_status_change_needs_a_reason_and_a_legal_transition(world: World) -> None:
    with pytest.raises(ValidationError, match="理由"):
        services.change_institution_status(world.regulator, world.lab_a, "suspended", "  ")
    services.change_institution_status(world.regulator, world.lab_a, "revoked", "出具虚假报告")
    with pytest.raises(ValidationError, match="不能从"):
        services.change_institution_status(world.regulator, world.lab_a, "valid", "申诉")
    assert Institution.objects.get(pk=world.lab_a.pk).status == "revoked"


@pytest.mark.django_db
def test_only_the_regulator_changes_status(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.change_institution_status(world.a_admin, world.lab_a, "suspended", "自己暂停")
    assert Institution.objects.get(pk=world.lab_a.pk).status == "valid"


@pytest.mark.django_db
def test_spatial_units_derive_from_district(world: World) -> None:
    assert "C3" in {u.code for u in world.lab_a.spatial_units()}
    assert set(Institution.objects.in_spatial_unit("C3")) == {world.lab_a}


@pytest.mark.django_db
def test_a_standard_is_replaced_only_by_the_regulator_naming_its_successor(world: World) -> None:
    from opentic.core.models import AuditEvent
    from opentic.registry.models import Standard

    old = Standard.objects.get(code="GB 5009.12", year="2017")
    new = Standard.objects.create(code="GB 5009.12", year="2023", compact="GB5009.12", title="新版")
    with pytest.raises(PermissionDenied):
        services.set_standard_status(world.a_admin, old, "replaced", "新版发布", new)
    with pytest.raises(ValidationError, match="替代标准"):
        services.set_standard_status(world.regulator, old, "replaced", "新版发布")
    services.set_standard_status(world.regulator, old, "replaced", "新版发布", new)
    old.refresh_from_db()
    assert (old.status, old.replaced_by) == ("replaced", new)
    event = AuditEvent.objects.get(entity="registry.Standard", entity_id=str(old.pk))
    assert event.changes["status"] == ["current", "replaced"] and event.reason == "新版发布"
