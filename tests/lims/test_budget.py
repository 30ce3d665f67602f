"""A method's uncertainty budget gives each result its expanded uncertainty U with k, which the guarded
decision rule then uses."""

import math
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from opentic.core.models import AuditEvent
from opentic.lims import budget, lab_setup, services
from opentic.lims.models import Analysis
from opentic.numerics.formula import Formula
from tests.lims.fixtures import Lab

# GB 5009.12 by ICP-MS, a typical budget (relative, %): repeatability (type A, 10 replicates), calibration
# curve, stock standard (certificate ±0.7 %, rectangular), volumetric flask (±0.4 %, triangular), recovery.
LEAD = [budget.Input("重复性", "normal", 2.1, 9), budget.Input("校准曲线", "normal", 1.6, 5),
        budget.Input("标准储备液", "rectangular", 0.7), budget.Input("定容", "triangular", 0.4),
        budget.Input("回收率", "normal", 2.5, 8)]


def test_the_relative_budget_is_the_gum_combination() -> None:
    b = budget.relative_budget(LEAD)
    parts = [0.021, 0.016, 0.007 / math.sqrt(3), 0.004 / math.sqrt(6), 0.025]
    assert b.uc == pytest.approx(math.sqrt(sum(p * p for p in parts)))
    nu = b.uc**4 / (0.021**4 / 9 + 0.016**4 / 5 + 0.025**4 / 8)
    assert b.dof == math.floor(nu) == 21 and b.k == pytest.approx(2.080, abs=5e-4)  # t95(21) = 2.080
    u, k = budget.expanded(Decimal("0.052"), b)
    assert k == Decimal("2.08") and u == Decimal("0.0040")  # 0.052 × 2.080 × 3.662 % = 0.00396, rounded up
    assert budget.two_digits(Decimal("0.012301")) == Decimal("0.013")
    with pytest.raises(ValueError, match="at least one"):
        budget.relative_budget([])


@pytest.mark.django_db
def test_results_carry_the_budgets_uncertainty(lab: Lab) -> None:
    with pytest.raises(PermissionDenied):
        lab_setup.save_uncertainty_budget(lab.world.a_analyst, lab.pb, LEAD)
    with pytest.raises(ValidationError, match="第 1 行"):
        lab_setup.save_uncertainty_budget(lab.world.a_admin, lab.pb, [budget.Input("x", "normal", 120)])
    version = lab.pb.version
    lab_setup.save_uncertainty_budget(lab.world.a_admin, lab.pb, LEAD)
    lab.pb.refresh_from_db()
    assert lab.pb.version == version + 1 and lab.pb.uncertainty_budget.count() == 5
    assert AuditEvent.objects.filter(action="uncertainty-budget").count() == 1
    a = lab.received(lab.pb).analyses.get()
    entered = services.enter_result(lab.world.a_analyst, a, "0.052")
    assert (entered.uncertainty, entered.coverage_factor) == ("0.0040", "2.08")
    given = services.enter_result(lab.world.a_analyst, entered, "0.052", uncertainty="0.006", coverage_factor="2",
                                  reason="按实验室间比对评定的不确定度")
    assert (given.uncertainty, given.coverage_factor) == ("0.006", "2")  # the analyst's own U stands
    assert Analysis.objects.get(pk=a.pk).uncertainty == "0.006"


@pytest.mark.django_db
def test_the_setup_page_saves_a_budget(lab: Lab) -> None:
    admin = lab.world.client("a_admin")
    bad = admin.post("/lims/setup/", {"form": "budget", "service": lab.pb.pk, "lines": "重复性, normal, abc"})
    assert "第 1 行" in bad.content.decode() and not lab.pb.uncertainty_budget.exists()
    # the second line as typed with a Chinese input method: full-width commas
    lines = "重复性, normal, 2.1, 9\n校准曲线\uff0c normal\uff0c 1.6\uff0c 5\n标准储备液, rectangular, 0.7"
    admin.post("/lims/setup/", {"form": "budget", "service": lab.pb.pk, "lines": lines})
    assert lab.pb.uncertainty_budget.count() == 3
    page = admin.get("/lims/setup/").content.decode()
    assert "重复性 2.1%" in page
    other = lab.world.client("b_admin").post("/lims/setup/", {"form": "budget", "service": lab.pb.pk,
                                                             "lines": "x, normal, 1"})
    assert other.status_code in (400, 404) and lab.pb.uncertainty_budget.count() == 3


def test_sensitivities_come_from_the_methods_formula() -> None:
    # pb_dry = pb · 100 / (100 − moisture): ∂/∂pb = 100/(100 − w), ∂/∂w = pb · 100/(100 − w)²
    formula = Formula("pb * 100 / (100 - moisture)")
    found = budget.calculated_uncertainty(formula, {"pb": (Decimal("0.052"), Decimal("0.004"), Decimal("2")),
                                                    "moisture": (Decimal("13.2"), Decimal("0.4"), Decimal("2"))})
    assert found is not None
    c_pb, c_w = 100 / 86.8, 0.052 * 100 / 86.8**2
    expected = 2 * math.hypot(c_pb * 0.002, c_w * 0.2)
    assert found == (budget.two_digits(Decimal(repr(expected))), Decimal(2))
    assert budget.calculated_uncertainty(formula, {"pb": (Decimal("0.052"), Decimal("0.004"), Decimal("2"))}) is None


@pytest.mark.django_db
def test_a_calculated_result_carries_the_propagated_uncertainty(lab: Lab) -> None:
    sample = lab.received(lab.pb, lab.moisture, lab.pb_dry, allow_non_accredited=True)
    by = {a.service.keyword: a for a in sample.analyses.select_related("service")}
    services.enter_result(lab.world.a_analyst, by["pb"], "0.052", uncertainty="0.004", coverage_factor="2")
    services.enter_result(lab.world.a_analyst, by["moisture"], "13.2", uncertainty="0.4", coverage_factor="2")
    dry = Analysis.objects.get(pk=by["pb_dry"].pk)
    # uc = √((100/86.8 · 0.002)² + (0.052 · 100/86.8² · 0.2)²) = 0.002308; U = 0.00462 → 0.0047 (rounded up)
    assert dry.calculated and dry.uncertainty == "0.0047" and dry.coverage_factor == "2"


@pytest.mark.django_db
@pytest.mark.parametrize(("line", "message"), [
    ("重复性, normal, nan, 9", "NaN 或无穷大"),
    ("重复性, normal, inf%, 9", "NaN 或无穷大"),
    ("重复性, normal, 1e999", "NaN 或无穷大"),
    ("重复性, normal, -2.1, 9", "不能为负"),
    ("重复性, normal, 2.1, -3", "自由度至少为 1"),
])
def test_a_budget_line_refuses_nan_infinity_and_impossible_values(lab: Lab, line: str, message: str) -> None:
    """float() reads "nan" and "inf"; a NaN relative uncertainty gave U = NaN on every result of the method."""
    page = lab.world.client("a_admin").post("/lims/setup/", {"form": "budget", "service": lab.pb.pk,
                                                             "lines": line}).content.decode()
    assert message in page and "第 1 行" in page
    assert not lab.pb.uncertainty_budget.exists()
