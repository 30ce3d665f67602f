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
