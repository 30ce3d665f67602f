"""Demo proficiency testing: a published round of the regulator's scheme (lab1, lab2 and eighteen more
institutions, with charts, a follow-up and an appeal window) and an open round waiting for results; a control
target for lab1's first method."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from opentic.core.models import Role, User
from opentic.lims import qc
from opentic.lims.models import AnalysisService, ReferenceMaterial, Sample
from opentic.registry.models import Institution

from . import pt
from .models import Round


@transaction.atomic
def seed(seed: int = 13528) -> int:
    """Returns the number of results submitted."""
    regulator = User.objects.filter(username="regulator").first()
    lab1 = User.objects.filter(username="lab1-admin").select_related("institution").first()
    lab2 = User.objects.filter(username="lab2-admin").select_related("institution").first()
    if regulator is None or lab1 is None or lab2 is None or lab1.institution is None or lab2.institution is None:
        return 0
    method = AnalysisService.objects.filter(institution=lab1.institution, keyword="p1").select_related(
        "parameter").first()
    sample = Sample.objects.filter(institution=lab1.institution).select_related("test_object").first()
    if method is None or sample is None:
        return 0
    rm = ReferenceMaterial.objects.filter(institution=lab1.institution).first()
    if rm is not None:
        qc.set_control_target(lab1, method, rm, "0.100", "0.004")
    rng = random.Random(seed)
    today = timezone.localdate()
    others = list(Institution.objects.exclude(pk__in=[lab1.institution_id, lab2.institution_id]).order_by("pk")[:18])
    actors: dict[int, User] = {lab1.institution_id: lab1, lab2.institution_id: lab2}  # type: ignore[dict-item]
    for i, inst in enumerate(others):
        user = User(username=f"pt-demo-{i + 1:02d}", roles=[Role.INSTITUTION_ADMIN], institution=inst)
        user.set_unusable_password()
        user.save()
        actors[inst.pk] = user
    name = f"{today:%Y}年川渝联合能力验证 {sample.test_object.name}中{method.parameter.name}"
    scheme = pt.create_scheme(regulator, f"CQ-PT-{today:%Y}-01", name, method.parameter, sample.test_object, "mg/kg")
    first = pt.create_round(regulator, scheme, f"{today:%Y}-1", today, [("A", "样品 A"), ("B", "样品 B")])
    pt.invite(regulator, first, [lab1.institution, lab2.institution, *others])
    pt.open_round(regulator, first)
    submitted = 0
    for p in first.participations.all():
        for item in first.items.all():
            centre = 0.152 if item.code == "A" else 0.168
            value = rng.gauss(centre, 0.012)
            if p.institution_id == lab2.institution_id and item.code == "B":
                value = centre * 1.45  # lab2's B result is far out: a follow-up for the demo
            pt.submit_result(actors[p.institution_id], p, item, f"{value:.3f}", f"{value * 0.12:.3f}", "2",
                             method="GB 5009.12-2017")
            submitted += 1
    pt.close_round(regulator, first)
    pt.evaluate_round(regulator, first)
    pt.publish_round(regulator, first)
    second = pt.create_round(regulator, scheme, f"{today:%Y}-2", today + dt.timedelta(days=14), [("A", "样品 A")])
    pt.invite(regulator, second, [lab1.institution, lab2.institution])
    pt.open_round(regulator, second)
    assert Round.objects.filter(scheme=scheme).count() == 2
    return submitted
