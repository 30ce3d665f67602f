"""The instruments offered at a bench: those linked to the method (or, for a method with none linked, the
lab's instruments in service), each with its asset number and calibration state. The gate in
gates.gate_instrument still refuses one past its calibration date at the moment of use."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from opentic.registry.models import Instrument, InstrumentStatus

from .models import AnalysisService


@dataclass(frozen=True)
class Bench:
    instrument: Instrument
    usable: bool
    state: str  # "校准有效至 2027年3月1日", in the page's language

    @property
    def pk(self) -> int:
        return self.instrument.pk

    @property
    def label(self) -> str:
        return f"{self.instrument.asset_number} {self.instrument.name}（{self.state}）"


def bench_instruments(service: AnalysisService) -> list[Bench]:
    today = timezone.localdate()
    linked = list(service.instruments.all().order_by("asset_number"))
    rows = linked or list(Instrument.objects.filter(
        institution_id=service.institution_id, status=InstrumentStatus.IN_SERVICE,
        calibration_due__gte=today).order_by("asset_number"))
    out = []
    for i in rows:
        if i.status != InstrumentStatus.IN_SERVICE:
            out.append(Bench(i, False, _("out of service")))
        elif i.calibration_due is None or i.calibration_due < today:
            out.append(Bench(i, False, _("calibration expired")))
        else:
            due = formats.date_format(i.calibration_due, "DATE_FORMAT")
            out.append(Bench(i, True, _("calibrated until %(date)s") % {"date": due}))
    return out
