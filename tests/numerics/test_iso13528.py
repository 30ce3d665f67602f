"""ISO 13528:2022 against its own worked examples (Annex E and Table B.1). A computed value passes when it is
within half a unit of the last digit the standard prints."""

import pytest

from opentic.numerics.stats import proficiency as pt
from opentic.numerics.stats import robust
from tests.numerics import iso13528_annex_e as annex


def printed(expected: float, computed: float, decimals: int) -> None:
    assert abs(computed - expected) <= 0.5 * 10**-decimals + 1e-12, f"{computed} does not print as {expected}"


@pytest.mark.parametrize("case", [annex.E1_IGNORED, annex.E1_DELETED], ids=["ignored", "deleted"])
def test_e1_algorithm_a_with_its_stopping_rule(case: tuple[list[float], float, float]) -> None:
    data, x_star, s_star = case
    est = robust.algorithm_a(data)
    printed(x_star, est.location, 2)
    printed(s_star, est.scale, 2)


def test_e1_stopping_rule_matters() -> None:
    # Iterating to full convergence gives s* = 7.237: the printed 7.23 is the third-figure stopping rule's.
    assert round(robust.algorithm_a(annex.E1_IGNORED[0], tol=1e-12).scale, 2) == 7.24
    assert round(robust.algorithm_a(annex.E1_IGNORED[0]).scale, 2) == 7.23


def test_e2_homogeneity_and_stability_arsenic_in_chocolate() -> None:
    plain = pt.homogeneity(annex.E2_HOMOGENEITY)
    printed(0.18715, plain.mean, 5)
    printed(0.00398, plain.s_x, 5)
    printed(0.00556, plain.s_w, 5)
    printed(0.00060, plain.s_s, 5)
    sigma = 0.15 * plain.mean  # σ_pt from the fitness-for-purpose 15 %
    printed(0.02807, sigma, 5)
    check = pt.homogeneity(annex.E2_HOMOGENEITY, sigma_pt=sigma)
    printed(0.00842, check.criterion, 5)
    assert check.sufficient and check.sufficient_expanded
    first = [v for pair in annex.E2_HOMOGENEITY for v in pair]
    later = [v for pair in annex.E2_STABILITY for v in pair]
    st = pt.stability(first, later, sigma)
    printed(0.19375, st.mean_2, 5)
    printed(0.00660, st.difference, 5)
    assert st.stable


def test_e3_atrazine_every_estimator() -> None:
    p = len(annex.E3)
    printed(0.2620, robust.median(annex.E3), 4)
    printed(0.0402, robust.niqr(annex.E3), 4)
    printed(0.0386, robust.made(annex.E3), 4)
    expected = {  # Table E.5: x_pt, s*, u(x_pt)
        pt.Consensus.MEDIAN: (0.2620, 0.0402, 0.0086),
        pt.Consensus.ALGORITHM_A: (0.2570, 0.0395, 0.0085),
        pt.Consensus.Q_HAMPEL: (0.2600, 0.0426, 0.0091),
        pt.Consensus.MEAN: (0.2512, 0.0672, 0.0115),
    }
    for method, (x_pt, scale, u) in expected.items():
        value = pt.consensus(annex.E3, method)
        assert value.n == p
        printed(x_pt, value.x_pt, 4)
        printed(scale, value.scale, 4)
        printed(u, value.u, 4)


@pytest.mark.parametrize("row", annex.E4, ids=[r[0] for r in annex.E4])
def test_e4_mercury_every_score(row: tuple) -> None:  # type: ignore[type-arg]
    _code, x, big_u, k, d_pct, pa, z, z_prime, zeta, en = row
    u_x_pt = annex.E4_U_XPT / 2
    printed(d_pct, pt.percent_difference(x, annex.E4_XPT), 1)
    printed(pa, pt.percent_allowed(x, annex.E4_XPT, 3 * annex.E4_SIGMA), 1)
    printed(z, pt.z_score(x, annex.E4_XPT, annex.E4_SIGMA), 2)
    printed(z_prime, pt.z_prime_score(x, annex.E4_XPT, annex.E4_SIGMA, u_x_pt), 2)
    printed(zeta, pt.zeta_score(x, annex.E4_XPT, big_u / k, u_x_pt), 2)
    printed(en, pt.en_score(x, annex.E4_XPT, big_u, annex.E4_U_XPT), 2)


def test_e4_uncertainty_of_the_assigned_value_is_not_negligible() -> None:
    # 9.2.1: u(x_pt) = 0.0041 > 0.3 × 0.0066, so the example also gives z′.
    assert not pt.uncertainty_is_negligible(annex.E4_U_XPT / 2, annex.E4_SIGMA)


def test_e5_assigned_value_from_a_crm_comparison() -> None:
    value = pt.from_crm_comparison(annex.E5_X_CRM, annex.E5_U_CRM, annex.E5_D)
    printed(23.35, value.x_pt, 2)
    printed(0.35, value.u, 2)
    printed(0.24, value.scale, 2)


def test_e9_horwitz_and_e10_precision() -> None:
    printed(0.186, pt.horwitz(1.195e-6) * 1e6, 3)
    printed(0.356, pt.horwitz(2.565e-6) * 1e6, 3)
    printed(20.9, pt.from_precision(23.2, 14.3, 2), 1)


def test_e13_algorithm_s_and_table_c2() -> None:
    printed(0.34, robust.algorithm_s(annex.E13_SD, nu=3).location, 2)
    printed(1.57, robust.algorithm_a(annex.E13_AVERAGES).location, 2)
    # Table C.2, ν = 1 and 2: η 1.645 and 1.517, ξ 1.097 and 1.054
    for nu, (eta, xi) in {1: (1.645, 1.097), 2: (1.517, 1.054)}.items():
        got = robust.algorithm_s_factors(nu)
        printed(eta, got[0], 3)
        printed(xi, got[1], 3)


@pytest.mark.parametrize("g", sorted(annex.TABLE_B1))
def test_table_b1_expanded_criterion_factors(g: int) -> None:
    f1, f2 = pt.expanded_criterion_factors(g)
    printed(annex.TABLE_B1[g][0], f1, 2)
    printed(annex.TABLE_B1[g][1], f2, 2)


def test_classes_and_refusals() -> None:
    assert pt.classify(2.0, "z") is pt.Performance.SATISFACTORY
    assert pt.classify(-2.5, "z'") is pt.Performance.QUESTIONABLE
    assert pt.classify(3.0, "zeta") is pt.Performance.UNSATISFACTORY
    assert pt.classify(1.01, "En") is pt.Performance.UNSATISFACTORY
    with pytest.raises(ValueError, match="half the values"):
        robust.algorithm_a([1.0, 1.0, 1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        robust.algorithm_a([1.0, float("nan"), 2.0])
    with pytest.raises(ValueError, match="at least 3"):
        robust.q_hampel([1.0, 2.0])
