"""Real reports for the demo labs' verified samples: approved, rendered, signed, in the ledger."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from opentic.core.models import User
from opentic.lims.models import Sample
from opentic.registry.demo import DEMO_PASSWORD
from opentic.registry.models import SignatoryAuthorization, Staff

from . import services


@transaction.atomic
def issue_demo_reports() -> int:
    issued = 0
    today = timezone.localdate()
    for n in (1, 2):
        signatory = User.objects.filter(username=f"lab{n}-signatory").first()
        if signatory is None or signatory.institution_id is None:
            continue
        # The demo signatory's account is the staff member authorized to sign in 食品 (food).
        grant = SignatoryAuthorization.objects.filter(staff__institution_id=signatory.institution_id,
                                                      fields__contains="食品").select_related("staff").first()
        if grant is None:
            staff = Staff.objects.filter(institution_id=signatory.institution_id, active=True).first()
            if staff is None:
                continue
            grant = SignatoryAuthorization.objects.create(staff=staff, fields="食品",
                                                          valid_from=today - dt.timedelta(days=365))
        signatory.first_name, signatory.last_name = grant.staff.name, ""
        signatory.save(update_fields=["first_name", "last_name"])
        Staff.objects.filter(user=signatory).exclude(pk=grant.staff_id).update(user=None)
        Staff.objects.filter(pk=grant.staff_id).update(user=signatory)
        for sample in Sample.objects.filter(institution_id=signatory.institution_id, state="verified"):
            services.issue_report(signatory, sample, DEMO_PASSWORD)
            issued += 1
    return issued
