"""The statistics core against published worked examples; each test names its source."""

import math

import pytest

from opentic.numerics.stats.charts import cusum, ewma, individuals, westgard
from opentic.numerics.stats.descriptive import autocorrelation, mean, stdev
from opentic.numerics.stats.uncertainty import Contribution, combine

# NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.2.4 (EWMA control charts), worked example.
EWMA_DATA = [52.0, 47.0, 53.0, 49.3, 50.1, 47.0, 51.0, 50.1, 51.2, 50.5,
             49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]
EWMA_PRINTED = [50.60, 49.52, 50.56, 50.18, 50.16, 49.21, 49.75, 49.85, 50.26, 50.33,
                50.11, 49.36, 49.52, 50.05, 49.38, 49.92, 50.73, 51.23, 51.94, 51.99]
# NIST e-Handbook 6.3.2.3 (CUSUM), the tabular CUSUM example: target 325, k = 0.3175, h = 4.1959.
CUSUM_DATA = [324.925, 324.675, 324.725, 324.350, 325.350, 325.225, 324.125, 324.525, 325.225, 324.600,
              324.625, 325.150, 328.325, 327.250, 327.825, 328.500, 326.675, 327.775, 326.875, 328.350]


def test_nist_ewma_example_6_3_2_4() -> None:
    series, limits = ewma(EWMA_DATA, lam=0.3, target=50, sigma=2.0539)
    assert [round(z, 2) for z in series] == EWMA_PRINTED
    # "UCL = 50 + 3(0.4201)(2.0539) = 52.5884; LCL = 47.4115" (the page truncates the factor to 0.4201)
    assert limits[0].upper == pytest.approx(52.5884, abs=5e-4)
    assert limits[0].lower == pytest.approx(47.4115, abs=5e-4)
    assert all(lim.lower <= z <= lim.upper for z, lim in zip(series, limits, strict=True))  # "in control"


def test_nist_individuals_chart_example_6_3_2_2() -> None:
    # NIST e-Handbook 6.3.2.2: the last ten flow-rate batches; x̄ = 50.81, MR̄ = 1.8778, UCL 55.8041, LCL 45.8159.
    limits, mr_bar = individuals(EWMA_DATA[10:])
    assert limits.center == pytest.approx(50.81, abs=5e-3)
    assert mr_bar == pytest.approx(1.8778, abs=5e-5)
    assert limits.upper == pytest.approx(55.8041, abs=5e-4) and limits.lower == pytest.approx(45.8159, abs=5e-4)


def test_nist_tabular_cusum_example_6_3_2_3() -> None:
    points = cusum(CUSUM_DATA, target=325, k=0.3175, h=4.1959)
    # The printed table, first rows (to two places): S_lo 0.00, 0.01, 0.00, 0.33.
    assert [round(p.low, 2) for p in points[:4]] == [0.00, 0.01, 0.00, 0.33]
    # "The process is out of control at observation 14": the first signal.
    assert next(i for i, p in enumerate(points, start=1) if p.signal) == 14


def test_nist_strd_numacc_accuracy() -> None:
    # NIST StRD univariate summary statistics, NumAcc1 and NumAcc4 (constructed for numerical accuracy):
    # certified mean 10000002 / 10000000.2, standard deviation 1 / 0.1, lag-1 autocorrelation −0.5 / −0.999.
    numacc1 = [10000001.0, 10000003.0, 10000002.0]
    assert mean(numacc1) == 10000002 and stdev(numacc1) == pytest.approx(1.0, rel=1e-12)
    assert autocorrelation(numacc1) == pytest.approx(-0.5, rel=1e-12)
    numacc4 = [10000000.2] + [10000000.1, 10000000.3] * 500
    assert mean(numacc4) == pytest.approx(10000000.2, abs=1e-8)
    assert stdev(numacc4) == pytest.approx(0.1, rel=1e-6)  # a one-pass sum of squares gets ~0 or NaN here
    assert autocorrelation(numacc4) == pytest.approx(-0.999, rel=1e-6)


def test_gum_annex_h1_end_gauge() -> None:
    # JCGM 100:2008 (GUM) H.1, Table H.1: contributions |cᵢ|u(xᵢ) in nm with their degrees of freedom;
    # uc(l) = 32 nm, νeff = 16, t95(16) = 2.12, U95 = 67 nm (H.1.6).
    budget = combine([
        Contribution("ls, calibration of the standard", 25, 1, 18),
        Contribution("d, measured difference", 9.7, 1, 25.6),
        Contribution("δα, difference in expansion coefficients", 2.9, 1, 50),
        Contribution("δθ, difference in temperatures", 16.6, 1, 2),
    ])
    assert round(budget.uc) == 32 and budget.dof == 16
    assert round(budget.k, 2) == 2.12 and round(budget.expanded) == 67


def test_westgard_rules_declare_their_scope() -> None:
    rules = {(v.rule, v.scope) for v in westgard([[0.5, -0.3], [2.4, 0.1]])}
    assert rules == {("1-2s", "warning")}
    assert ("1-3s", "within run") in {(v.rule, v.scope) for v in westgard([[3.2, 0.0]])}
    assert ("R-4s", "within run, across materials") in {(v.rule, v.scope) for v in westgard([[2.1, -2.2]])}
    assert ("2-2s", "within run, across materials") in {(v.rule, v.scope) for v in westgard([[2.1, 2.3]])}
    assert ("2-2s", "across runs, within material") in {(v.rule, v.scope) for v in westgard([[2.2], [2.5]])}
    four = westgard([[1.2], [1.5], [1.1], [1.3]])
    assert [(v.rule, v.index) for v in four if v.reject] == [("4-1s", 3)]
    ten = westgard([[0.3]] * 9 + [[0.2]])
    assert [(v.rule, v.index) for v in ten] == [("10-x", 9)]
    assert not westgard([[0.3], [-0.2]] * 5)
    assert all(v.reject == (v.scope != "warning") for v in westgard([[2.5, -2.6, 3.3]]))
    assert math.isfinite(combine([Contribution("a", 1.0)]).k)
