"""At the bench: plausible values, formula inputs, the instruments offered, refusals that keep the input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opentic.lims import services
from opentic.lims.benches import bench_instruments
from opentic.lims.method_setup import Policy, parse_inputs, save_method_rules
from opentic.lims.models import Analysis, AnalysisService, MethodAuthorization
from opentic.registry.models import Instrument
from tests.lims.fixtures import Lab


@pytest.mark.django_db
def test_a_negative_lead_content_is_refused_and_a_flagged_one_needs_a_remark(lab: Lab) -> None:
    analysis = lab.received(lab.pb).analyses.get()
    with pytest.raises(ValidationError, match=r"超出方法.*合理范围"):
        services.enter_result(lab.world.a_analyst, analysis, "-0.01", instrument=lab.icp)
    assert Analysis.objects.get(pk=analysis.pk).value == ""
    save_method_rules(lab.world.a_admin, lab.pb, Policy(plausible_min=Decimal(0), plausible_max=Decimal(5),
                                                        out_of_range="flag"), [], [])
    with pytest.raises(ValidationError, match="请在备注中说明"):
        services.enter_result(lab.world.a_analyst, Analysis.objects.get(pk=analysis.pk), "12", instrument=lab.icp)
    done = services.enter_result(lab.world.a_analyst, Analysis.objects.get(pk=analysis.pk), "12",
                                 instrument=lab.icp, reason="复测确认，样品污染严重")
    assert done.value == "12" and done.remark == "复测确认，样品污染严重"


@pytest.mark.django_db
def test_formula_inputs_are_entered_validated_and_calculated(lab: Lab) -> None:
    c = AnalysisService.objects.create(institution=lab.world.lab_a, parameter=lab.pb.parameter,
                                       standard=lab.pb.standard, keyword="c", unit="μg/L", places=2)
    pb = AnalysisService.objects.create(institution=lab.world.lab_a, parameter=lab.cd.parameter,
                                        standard=lab.pb.standard, keyword="pbcalc", unit="mg/kg", places=3,
                                        formula="c * V / m / 1000")
    save_method_rules(lab.world.a_admin, pb, Policy(), parse_inputs("m, 称样量, g\nV，定容体积，mL"), [])
    with pytest.raises(ValidationError, match="公式"):
        save_method_rules(lab.world.a_admin, pb, Policy(), parse_inputs("x, 未知, g"), [])
    sample = lab.received(c, pb, allow_non_accredited=True)
    measured, calculated = sample.analyses.order_by("id")
    services.enter_result(lab.world.a_analyst, measured, "20.0", instrument=lab.icp)
    with pytest.raises(ValidationError, match="必须大于零"):
        services.enter_inputs(lab.world.a_analyst, calculated, {"m": "-0.5", "V": "25"})
    with pytest.raises(ValidationError, match="不是数值"):
        services.enter_inputs(lab.world.a_analyst, calculated, {"m": "abc"})
    done = services.enter_inputs(lab.world.a_analyst, calculated, {"m": "0.5", "V": "25"})
    assert Decimal(done.value) == Decimal("20.0") * 25 / Decimal("0.5") / 1000  # 1.0 mg/kg
    assert done.inputs == {"m": "0.5", "V": "25"} and done.state == "entered"


@pytest.mark.django_db
def test_the_bench_offers_the_methods_instruments_with_asset_number_and_calibration(lab: Lab) -> None:
    old = Instrument.objects.create(institution=lab.world.lab_a, asset_number="YQ-99", name="旧仪器",
                                    calibration_due=timezone.localdate() - dt.timedelta(days=1), status="in_service")
    save_method_rules(lab.world.a_admin, lab.pb, Policy(), [], [lab.icp, old])
    benches = bench_instruments(AnalysisService.objects.get(pk=lab.pb.pk))
    assert [b.instrument.asset_number for b in benches] == ["YQ-00001", "YQ-99"]
    assert benches[0].usable and "YQ-00001" in benches[0].label and "校准有效至" in benches[0].label
    assert not benches[1].usable
    page = lab.world.client("a_analyst").get(f"/lims/samples/{lab.received(lab.pb).pk}/").content.decode()
    assert "YQ-99 旧仪器（已过校准有效期）" in page
    assert page.count("<option value=") < 10  # only the method's instruments, not the lab's ~180


@pytest.mark.django_db
def test_a_refused_save_looks_like_one_and_keeps_what_was_typed(lab: Lab) -> None:
    sample = lab.received(lab.pb)
    analysis = sample.analyses.get()
    client = lab.world.client("a_analyst")
    page = client.post(f"/lims/samples/{sample.pk}/analyses/{analysis.pk}/result/",
                       {"value": "-3", "uncertainty": "0.1", "version": analysis.version}, follow=True).content.decode()
    assert 'class="error" role="alert"' in page and "合理范围" in page
    assert 'value="-3"' in page and 'value="0.1"' in page


@pytest.mark.django_db
def test_self_verification_is_refused_saying_why(lab: Lab) -> None:
    sample = lab.received(lab.pb)
    analysis = sample.analyses.get()
    reviewer = lab.world.a_reviewer  # a reviewer who also tests, as in a small lab
    reviewer.roles = [*reviewer.roles, "analyst"]
    reviewer.save()
    MethodAuthorization.objects.create(user=reviewer, standard=lab.pb.standard, valid_from=timezone.localdate())
    services.enter_result(reviewer, analysis, "0.05", instrument=lab.icp)
    client = lab.world.client("a_reviewer")
    page = client.get(f"/lims/samples/{sample.pk}/").content.decode()
    assert "由您本人录入：须由另一人审核" in page
    refused = client.post(f"/lims/samples/{sample.pk}/verify/", {"password": "x"}, follow=True).content.decode()
    assert "由您本人录入" in refused and "请选择要审核的结果" not in refused
