"""The demo laboratories' daily work: methods from their accredited scope, an order, samples in every state."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from opentic.core.models import User
from opentic.registry.demo import DEMO_PASSWORD
from opentic.registry.models import Instrument, ScopeLine

from . import orders, services
from .models import AnalysisService, ReferenceMaterial, Sample


@transaction.atomic
def seed(seed: int = 2023) -> int:
    """Returns the number of samples made for the demo labs (lab1, lab2)."""
    rng = random.Random(seed)
    made = 0
    today = timezone.localdate()
    for n in (1, 2):
        admin = User.objects.filter(username=f"lab{n}-admin").select_related("institution").first()
        analyst = User.objects.filter(username=f"lab{n}-analyst").first()
        reviewer = User.objects.filter(username=f"lab{n}-reviewer").first()
        if admin is None or analyst is None or reviewer is None or admin.institution is None:
            continue
        institution = admin.institution
        # Contaminants in a named food (铅, 镉, 总汞 … in 大米): results in mg/kg, limits in GB 2762.
        lines = list(ScopeLine.objects.valid_on(today).filter(
            institution=institution, category="污染物", test_object__parent__isnull=False).select_related(
            "test_object", "parameter", "standard").order_by("seq")[:60])
        if not lines:
            continue
        by_object: dict[int, list[ScopeLine]] = {}
        for line in lines:
            by_object.setdefault(line.test_object_id, []).append(line)
        _, chosen = max(by_object.items(), key=lambda kv: len(kv[1]))
        chosen = chosen[:4]
        methods = []
        for i, line in enumerate(chosen, start=1):
            methods.append(AnalysisService.objects.create(
                institution=institution, parameter=line.parameter, standard=line.standard, keyword=f"p{i}",
                unit="mg/kg", places=3, loq=Decimal("0.010")))
            services.authorize(admin, analyst, line.standard_id, today - dt.timedelta(days=400))
        instrument = Instrument.objects.filter(institution=institution).order_by("asset_number").first()
        if instrument is not None:
            Instrument.objects.filter(pk=instrument.pk).update(calibration_due=today + dt.timedelta(days=180),
                                                               status="in_service")
            instrument.refresh_from_db()
        ReferenceMaterial.objects.create(institution=institution, name="质控样", lot=f"QC-{today:%Y}-01",
                                         certified_value="0.100", unit="mg/kg", expires_on=today + dt.timedelta(365))
        client = orders.create_client(admin, institution, "重庆市市场监督管理局", kind="government")
        order = orders.create_order(admin, client, f"JD-{today:%Y}-{n:03d}", today, kind="supervision",
                                      note="2026 年食品安全监督抽检")
        test_object = chosen[0].test_object
        samples = services.register_samples(admin, order, [{
            "name": f"{test_object.name} {i:02d}", "test_object": test_object, "services": methods,
            "sampler": "王抽样", "sampling_place": "重庆市江津区某超市", "batch_number": f"2026{i:04d}",
        } for i in range(1, 13)])
        made += len(samples)
        plan = ["registered"] * 3 + ["received"] * 2 + ["testing"] * 2 + ["entered"] * 2 + ["verified"] * 2
        plan += ["rejected"]
        for sample, state in zip(samples, plan, strict=True):
            if state == "registered":
                continue
            if state == "rejected":
                services.receive_sample(admin, sample, "包装破损", accepted=False, reason="包装破损,样品泄漏")
                continue
            services.receive_sample(admin, sample, "密封完好,冷藏")
            if state == "received":
                continue
            analyses = list(Sample.objects.get(pk=sample.pk).analyses.order_by("id"))
            for analysis in analyses[: 2 if state == "testing" else None]:
                value = f"{rng.uniform(0.005, 0.15):.4f}"
                services.enter_result(analyst, analysis, value, instrument=instrument)
            if state == "verified":
                for analysis in Sample.objects.get(pk=sample.pk).analyses.all():
                    services.verify_result(reviewer, analysis, DEMO_PASSWORD)
    return made
