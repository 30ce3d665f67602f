"""The demo laboratories' daily work: methods from their accredited scope, an order, samples in every state."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opentic.core.models import User
from opentic.registry.demo import DEMO_PASSWORD
from opentic.registry.models import Instrument, Parameter, ScopeLine, Standard

from . import lab_setup, orders, qc, services, verification
from .models import Analysis, AnalysisService, ReferenceMaterial, Sample
from .worksheets import QC, create_worksheet, enter_worksheet_results

# GB 2762-2022 maximum levels in cereals (mg/kg); other contaminants get a nominal 0.5 for the demo.
LIMITS = {"铅": Decimal("0.2"), "镉": Decimal("0.2"), "总汞": Decimal("0.02"), "无机砷": Decimal("0.2"),
          "铬": Decimal("1.0"), "总砷": Decimal("0.5")}


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
        test_object = chosen[0].test_object
        # Instruments that measure trace elements (AAS, AFS, ICP-MS) where the lab has them.
        elemental = Instrument.objects.filter(institution=institution).filter(
            Q(name__contains="原子") | Q(name__contains="质谱") | Q(name__contains="等离子体"))
        instruments = list((elemental if elemental.exists() else Instrument.objects.filter(institution=institution))
                           .order_by("asset_number")[:3])
        Instrument.objects.filter(pk__in=[i.pk for i in instruments]).update(
            calibration_due=today + dt.timedelta(days=180), status="in_service")
        for bench in instruments:
            bench.refresh_from_db()
        instrument = instruments[0] if instruments else None
        methods = []
        limited: set[int] = set()
        for i, line in enumerate(chosen, start=1):
            method = AnalysisService.objects.create(
                institution=institution, parameter=line.parameter, standard=line.standard, keyword=f"p{i}",
                unit="mg/kg", places=3, loq=Decimal("0.010"),
                # The first method carries a QC policy: a blank and a control with each batch of ≤ 20 samples.
                qc_batch_size=20 if i == 1 else None, qc_blanks=1 if i == 1 else 0, qc_controls=1 if i == 1 else 0)
            method.instruments.set(instruments)
            methods.append(method)
            lab_setup.authorize(admin, analyst, line.standard_id, today - dt.timedelta(days=400))
            if line.parameter_id not in limited:  # two methods of one parameter share its limit
                limited.add(line.parameter_id)
                lab_setup.save_specification(admin, institution, "GB 2762-2022", test_object, line.parameter_id,
                                            "mg/kg", upper=LIMITS.get(line.parameter.name, Decimal("0.5")))
        # A calculated method: moisture by direct drying (GB 5009.3-2016, first method) from the weighings the
        # analyst types: the dish m0, dish and sample m1, after drying m2.
        water = Standard.objects.get_or_create(code="GB 5009.3", year="2016", defaults={
            "compact": "GB5009.3", "title": "食品安全国家标准 食品中水分的测定"})[0]
        moisture = AnalysisService.objects.create(
            institution=institution, parameter=Parameter.objects.get_or_create(name="水分")[0], standard=water,
            keyword="moisture", unit="g/100g", places=1, formula="(m1 - m2) / (m1 - m0) * 100",
            plausible_max=Decimal(100), inputs=[{"keyword": "m0", "label": "称量瓶质量", "unit": "g"},
                                                {"keyword": "m1", "label": "称量瓶和试样质量", "unit": "g"},
                                                {"keyword": "m2", "label": "干燥后称量瓶和试样质量", "unit": "g"}])
        moisture.instruments.set(instruments)
        lab_setup.authorize(admin, analyst, water.pk, today - dt.timedelta(days=400))
        control = ReferenceMaterial.objects.create(
            institution=institution, name="大米粉质控样", lot=f"QC-{today:%Y}-01", certified_value="0.100",
            unit="mg/kg", expires_on=today + dt.timedelta(365))
        qc.set_control_target(admin, methods[0], control, "0.100", "0.005", today - dt.timedelta(days=90))
        client = orders.create_client(admin, institution, "重庆市市场监督管理局", kind="government")
        order = orders.create_order(admin, client, f"JD-{today:%Y}-{n:03d}", today, kind="supervision",
                                    due_on=today + dt.timedelta(days=15), judgement_basis=["GB 2762-2022"],
                                    methods_agreed="按 GB 5009 系列标准方法", note="2026 年食品安全监督抽检")
        samples = services.register_samples(admin, order, [{
            "name": f"{test_object.name} {i:02d}", "test_object": test_object, "services": methods,
            "sampled_on": today - dt.timedelta(days=1), "sampler": "王抽样、李抽样",
            "sampling_place": "重庆市江津区几江街道某超市", "sampled_unit": "重庆某超市有限公司",
            "manufacturer": "重庆某粮油有限公司", "model_spec": "5 kg/袋", "trademark": "山城",
            "batch_number": f"2026{i:04d}", "production_date": today - dt.timedelta(days=40 + i),
            "quantity": "2 袋",
        } for i in range(1, 13)])
        made += len(samples)
        plan = ["registered"] * 3 + ["received"] * 2 + ["testing"] * 2 + ["entered"] * 2 + ["verified"] * 2
        plan += ["rejected"]
        to_test = []
        for sample, state in zip(samples, plan, strict=True):
            if state == "registered":
                continue
            if state == "rejected":
                services.receive_sample(admin, sample, "包装破损", accepted=False, reason="包装破损，样品泄漏")
                continue
            services.receive_sample(admin, sample, "密封完好，冷藏")
            if state != "received":
                to_test.append((sample, state))
        if instrument is None or not to_test:
            continue
        # The QC-bound method runs on one worksheet with its blank and control, released before verification.
        first = [Sample.objects.get(pk=s.pk).analyses.get(service=methods[0]) for s, _ in to_test]
        sheet = create_worksheet(analyst, methods[0], instrument, first, [QC("blank"), QC("control", control)])
        values = {p.pk: ("0.002" if p.kind == "blank" else "0.101") for p in sheet.positions.exclude(kind="sample")}
        enter_worksheet_results(analyst, sheet, values)
        for sample, state in to_test:
            analyses = list(Analysis.objects.filter(sample_id=sample.pk).select_related("service__parameter")
                            .order_by("id"))
            for analysis in analyses[: 2 if state == "testing" else None]:
                # Most results well inside the GB 2762 limit; the last verified sample's first one above it.
                limit = LIMITS.get(analysis.service.parameter.name, Decimal("0.5"))
                over = state == "verified" and sample == to_test[-1][0] and analysis == analyses[0]
                value = f"{limit * Decimal(rng.uniform(1.2, 1.8) if over else rng.uniform(0.05, 0.7)):.4f}"
                services.enter_result(analyst, analysis, value, instrument=instrument)
        qc.release_worksheet(reviewer, sheet)  # every sample's first analysis has its value by now
        for sample, state in to_test:
            if state == "verified":
                for analysis in Sample.objects.get(pk=sample.pk).analyses.all():
                    verification.verify_result(reviewer, analysis, DEMO_PASSWORD)
    return made
