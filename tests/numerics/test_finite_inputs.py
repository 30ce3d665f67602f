"""No statistic returns a number for NaN or ±inf: every public function of numerics/stats refuses them through
the one validator (numerics/stats/checks.py), and the degenerate parameters the review found (a negative
σ_pt, correlations outside [−1, 1], degrees of freedom below 1) are refused too."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from opentic.numerics.stats import charts, descriptive, montecarlo, precision, proficiency, robust, uncertainty
from opentic.numerics.stats.checks import NotFinite, StatisticsInputError
from opentic.numerics.stats.uncertainty import Contribution

NAN, INF = math.nan, math.inf
BAD = [NAN, INF, -INF]

# Each case: a call that works with good data, and the same call with one value replaced by `bad`.
CASES: dict[str, Callable[[float], Any]] = {
    "homogeneity": lambda b: proficiency.homogeneity([[10, b], [10.1, 10.2], [10, 10.1]], 0.1),
    "homogeneity σ_pt": lambda b: proficiency.homogeneity([[10, 10.1], [10.1, 10.2], [10, 10.1]], b),
    "stability": lambda b: proficiency.stability([10.0, 10.1], [b, 10.0], 0.1),
    "consensus": lambda b: proficiency.consensus([10.0, 10.2, 9.9, 10.1, b]),
    "consensus mean": lambda b: proficiency.consensus([10.0, 10.2, b], "mean"),
    "from_reference": lambda b: proficiency.from_reference(b, 0.2),
    "from_crm_comparison": lambda b: proficiency.from_crm_comparison(10.0, 0.1, [0.1, b]),
    "z": lambda b: proficiency.z_score(b, 10.0, 0.5),
    "z x_pt": lambda b: proficiency.z_score(10.0, b, 0.5),
    "z σ_pt": lambda b: proficiency.z_score(10.0, 10.0, b),
    "z′": lambda b: proficiency.z_prime_score(10.0, 10.0, 0.5, b),
    "ζ": lambda b: proficiency.zeta_score(10.0, 10.0, b, 0.1),
    "En": lambda b: proficiency.en_score(10.0, 10.0, 0.2, b),
    "D%": lambda b: proficiency.percent_difference(b, 10.0),
    "P_A": lambda b: proficiency.percent_allowed(10.0, 10.0, b),
    "classify": lambda b: proficiency.classify(b, "z"),
    "horwitz": lambda b: proficiency.horwitz(b),
    "negligible": lambda b: proficiency.uncertainty_is_negligible(b, 1.0),
    "cusum": lambda b: charts.cusum([1, 2, b, 4, 5], 5, 0.5, 4),
    "cusum target": lambda b: charts.cusum([1, 2, 3], b, 0.5, 4),
    "ewma": lambda b: charts.ewma([1.0, b], 0.3, 1.0, 1.0),
    "ewma σ": lambda b: charts.ewma([1.0, 2.0], 0.3, 1.0, b),
    "individuals": lambda b: charts.individuals([1.0, b, 2.0]),
    "westgard": lambda b: charts.westgard([[b]]),
    "x̄-R": lambda b: charts.xbar_r([[1.0, 2.0], [b, 1.5]]),
    "u chart": lambda b: charts.u_chart([1, 2], [1.0, b]),
    "median": lambda b: robust.median([1.0, b]),
    "algorithm A": lambda b: robust.algorithm_a([1.0, 1.2, 0.9, b]),
    "Q/Hampel": lambda b: robust.q_hampel([1.0, 1.2, 0.9, 1.4, b]),
    "hampel s*": lambda b: robust.hampel([1.0, 1.2, 0.9, 1.4], b),
    "algorithm S": lambda b: robust.algorithm_s([0.1, 0.2, b], 1),
    "precision": lambda b: precision.precision([[1.0, 1.1], [1.2, b]]),
    "mandel h": lambda b: precision.mandel_h([1.0, 1.2, b]),
    "grubbs": lambda b: precision.grubbs([1.0, 1.2, 1.1, b]),
    "cochran": lambda b: precision.cochran([0.1, b]),
    "mean": lambda b: descriptive.mean([1.0, b]),
    "stdev": lambda b: descriptive.stdev([1.0, b, 2.0]),
    "combine u": lambda b: uncertainty.combine([Contribution("a", b), Contribution("b", 1.0)]),
    "combine c": lambda b: uncertainty.combine([Contribution("a", 1.0, b)]),
    "combine r": lambda b: uncertainty.combine([Contribution("a", 1.0), Contribution("b", 1.0)],
                                               correlation=[[1, b], [b, 1]]),
    "propagate x": lambda b: uncertainty.propagate(lambda x: x["a"] + x["b"], {"a": b, "b": 1.0},
                                                   {"a": 0.1, "b": 0.1}),
    "propagate u": lambda b: uncertainty.propagate(lambda x: x["a"] + x["b"], {"a": 1.0, "b": 1.0},
                                                   {"a": b, "b": 0.1}),
    "propagate r": lambda b: uncertainty.propagate(lambda x: x["a"] + x["b"], {"a": 1.0, "b": 1.0},
                                                   {"a": 0.1, "b": 0.1}, {("a", "b"): b}),
    "monte carlo": lambda b: montecarlo.Distribution("normal", b, 1.0),
    "monte carlo tolerance": lambda b: montecarlo.tolerance(b, 2),
    "h indicator α": lambda b: precision.h_indicator(10, b / 10),
    "k indicator α": lambda b: precision.k_indicator(10, 2, b / 10),
    "cochran critical α": lambda b: precision.cochran_critical(10, 2, b / 10),
    "grubbs critical α": lambda b: precision.grubbs_critical(10, b / 10),
}
GOOD = 0.5  # a value every case accepts in the bad one's place


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_statistic_refuses_nan_and_infinity(name: str) -> None:
    CASES[name](GOOD)  # the call is valid with a finite value
    for bad in BAD:
        with pytest.raises(StatisticsInputError) as caught:
            CASES[name](bad)
        assert isinstance(caught.value, ValueError)  # callers that catch ValueError keep working
        assert str(caught.value)


def test_the_reviews_reproductions() -> None:
    # homogeneity with a NaN gave s_s = 0 and "sufficient"
    with pytest.raises(NotFinite, match="homogeneity"):
        proficiency.homogeneity([[10, NAN], [10.1, 10.2], [10, 10.1]], 0.1)
    # a NaN reset an active CUSUM signal
    with pytest.raises(NotFinite, match="CUSUM"):
        charts.cusum([1, 2, NAN, 4, 5], 5, 0.5, 4)
    # a NaN control was "in control"
    with pytest.raises(NotFinite):
        charts.westgard([[NAN]])


@pytest.mark.parametrize("sigma", [-0.1, 0.0])
def test_a_negative_or_zero_sigma_pt_is_refused(sigma: float) -> None:
    with pytest.raises(StatisticsInputError, match="σ_pt"):
        proficiency.z_score(10.5, 10.0, sigma)
    with pytest.raises(StatisticsInputError, match="σ_pt"):
        proficiency.homogeneity([[10, 10.1], [10.1, 10.2], [10, 10.1]], sigma)
    with pytest.raises(StatisticsInputError, match="σ_pt"):
        proficiency.stability([10.0], [10.1], sigma)
    with pytest.raises(StatisticsInputError, match="σ_pt"):
        proficiency.z_prime_score(10.5, 10.0, sigma, 0.1)


@pytest.mark.parametrize("r", [1.5, -1.01, 2.0])
def test_correlations_outside_minus_one_to_one_are_refused(r: float) -> None:
    # propagate gave u = 0 for r = −1.5 on a sum (the variance clipped at 0), combine gave 2.449 for r = 2
    with pytest.raises(StatisticsInputError, match="between −1 and 1"):
        uncertainty.propagate(lambda x: x["a"] + x["b"], {"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0}, {("a", "b"): r})
    with pytest.raises(StatisticsInputError, match="between −1 and 1"):
        uncertainty.combine([Contribution("a", 1.0), Contribution("b", 1.0)], correlation=[[1, r], [r, 1]])
    with pytest.raises(StatisticsInputError, match="between −1 and 1"):
        uncertainty.output_covariance([lambda x: x["a"]], {"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0},
                                      {("a", "b"): r})
    # the bounds themselves are fine: a sum of two fully anti-correlated equal inputs has u = 0
    assert uncertainty.propagate(lambda x: x["a"] + x["b"], {"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0},
                                 {("a", "b"): -1.0}).u == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("dof", [0.5, 0.0, -3.0, NAN])
def test_degrees_of_freedom_below_one_are_refused(dof: float) -> None:
    # they gave k = NaN and U = NaN
    with pytest.raises(StatisticsInputError, match="degrees of freedom"):
        uncertainty.combine([Contribution("a", 1.0, 1.0, dof)])
    with pytest.raises(StatisticsInputError, match="degrees of freedom"):
        montecarlo.Distribution("t", 0.0, 1.0, dof)
    # one degree of freedom is the least: k = t₀.₉₇₅(1) = 12.706 (Student's table)
    assert uncertainty.combine([Contribution("a", 1.0, 1.0, 1.0)]).k == pytest.approx(12.706, abs=5e-4)


def test_a_malformed_correlation_matrix_is_refused() -> None:
    with pytest.raises(StatisticsInputError, match="2 × 2"):
        uncertainty.combine([Contribution("a", 1.0), Contribution("b", 1.0)], correlation=[[1.0]])
