"""Fixture and readers for the report as printed: a supervision sample of rice sampled by the lab, judged
against GB 2762-2022, lead over its limit; pdftotext and pdftoppm of the rendered PDF."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from opentic.lims import lab_setup, orders, verification
from opentic.lims import services as lims
from opentic.lims.models import Order, Sample, Specification
from opentic.registry.models import Standard
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab

SAMPLING = {"sampled_on": dt.date(2026, 11, 28), "sampler": "王强、刘洋", "sampling_place": "江津区几江街道粮油市场",
            "sampled_unit": "重庆几江粮油经营部", "manufacturer": "五常市金禾米业有限公司", "model_spec": "5 kg/袋",
            "trademark": "金禾", "production_date": dt.date(2026, 10, 15), "batch_number": "JH20261015",
            "quantity": "2 袋（500 g）"}


def supervision_sample(lab: Lab, lead: str = "0.25", *, kind: str = Order.Kind.SUPERVISION,
                       subcontracted: str = "") -> Sample:
    """A sample of a 监督抽检 order judged against GB 2762-2022 (铅 ≤ 0.2, 镉 ≤ 0.2 mg/kg), results verified."""
    world = lab.world
    Standard.objects.get_or_create(code="GB 2762", year="2022", defaults={
        "compact": "GB2762", "title": "食品安全国家标准 食品中污染物限量"})
    for service in (lab.pb, lab.cd):
        if not Specification.objects.filter(name="GB 2762-2022", parameter_id=service.parameter_id).exists():
            lab_setup.save_specification(world.a_admin, world.lab_a, "GB 2762-2022", lab.rice, service.parameter_id,
                                         "mg/kg", upper=Decimal("0.2"))
    order = orders.create_order(world.a_admin, lab.order.client, f"JD-{Order.objects.count() + 1:04d}",
                                timezone.localdate(), kind=kind, judgement_basis=["GB 2762-2022"],
                                subcontracted=subcontracted,
                                subcontractor="重庆市计量质量检测研究院" if subcontracted else "",
                                subcontract_consent=bool(subcontracted))
    sample = lims.register_samples(world.a_admin, order, [{
        "name": "五常大米", "test_object": lab.rice, "services": [lab.cd, lab.pb], "description": "袋装，白色颗粒",
        **SAMPLING}])[0]
    sample = lims.receive_sample(world.a_admin, sample, "包装完好，常温")
    for a in sample.analyses.all():
        lims.enter_result(world.a_analyst, a, lead if a.service == lab.pb else "0.0031", uncertainty="0.004",
                          coverage_factor="2")
    for a in sample.analyses.all():
        verification.verify_result(world.a_reviewer, a, PASSWORD)
    return Sample.objects.get(pk=sample.pk)


def pdf_text(pdf: bytes, tmp_path: Path, page: int | None = None, layout: bool = True) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", *(["-layout"] if layout else []), *pages, str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def page_count(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def page_images(pdf: bytes, tmp_path: Path, dpi: int = 60) -> list[Path]:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page-*.png"))
