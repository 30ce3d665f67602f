"""Signing authority follows the person (the account linked to a staff record), never a display name."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from opentic.core.models import AuditEvent, Role
from opentic.registry import services as registry
from opentic.registry.models import SignatoryAuthorization, Staff
from opentic.reports import services
from tests.conftest import PASSWORD, make_user
from tests.lims.fixtures import Lab
from tests.reports.test_reports import verified_sample


@pytest.mark.django_db
def test_two_staff_with_one_name_do_not_share_signing_authority(lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    world = lab.world
    authorized = Staff.objects.get(institution=world.lab_a, name="张伟")
    SignatoryAuthorization.objects.create(staff=authorized, fields="食品", valid_from=dt.date(2024, 1, 1))
    namesake = Staff.objects.create(institution=world.lab_a, name="张伟", employee_no="E0002", person_key="k-a-2",
                                    id_masked="5001**********4321")
    other = make_user("a-signatory-2", [Role.SIGNATORY], world.lab_a, first_name="张伟")
    registry.link_account(world.a_admin, namesake, other)
    world.a_signatory.first_name = "王芳"  # the display name does not matter either way
    world.a_signatory.save()
    registry.link_account(world.a_admin, authorized, world.a_signatory)
    sample = verified_sample(lab)
    # The namesake's account carries the authorized person's name, but not their authority.
    with pytest.raises(PermissionDenied, match="不是本机构登记的授权签字人"):
        services.issue_report(other, sample, PASSWORD)
    report = services.issue_report(world.a_signatory, sample, PASSWORD)
    assert report.twin["signatory"] == "张伟" and report.twin["signatory_fields"] == "食品"
    assert AuditEvent.objects.filter(action="link-account", entity_id=str(namesake.pk)).exists()


@pytest.mark.django_db
def test_an_account_is_linked_only_by_its_lab_and_to_one_person(lab: Lab) -> None:
    world = lab.world
    staff = Staff.objects.get(institution=world.lab_a, name="张伟")
    with pytest.raises(PermissionDenied):
        registry.link_account(world.b_admin, staff, world.a_signatory)
    with pytest.raises(PermissionDenied):
        registry.link_account(world.a_analyst, staff, world.a_signatory)
    with pytest.raises(ValidationError, match="本机构"):
        registry.link_account(world.a_admin, staff, world.b_admin)
    registry.link_account(world.a_admin, staff, world.a_signatory)
    second = Staff.objects.create(institution=world.lab_a, name="李四", employee_no="E0009", person_key="k-a-9",
                                  id_masked="5001**********0009")
    with pytest.raises(ValidationError, match="已关联"):
        registry.link_account(world.a_admin, second, world.a_signatory)

