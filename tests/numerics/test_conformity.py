"""Decision rules per ILAC-G8:09/2019, on GB 2762 lead in rice (≤ 0.2 mg/kg)."""

from decimal import Decimal

import pytest

from opentic.numerics.conformity import ConformityError, DecisionRule, Limits, Outcome, judge

D = Decimal
LEAD_IN_RICE = Limits(upper=D("0.2"))
SIMPLE = DecisionRule()
GUARDED = DecisionRule(guarded=True)
NON_BINARY = DecisionRule(guarded=True, binary=False)


@pytest.mark.parametrize(("value", "simple", "guarded", "non_binary"), [
    ("0.12", Outcome.PASS, Outcome.PASS, Outcome.PASS),  # below TL − U = 0.17
    ("0.17", Outcome.PASS, Outcome.PASS, Outcome.PASS),  # at the acceptance limit
    ("0.19", Outcome.PASS, Outcome.FAIL, Outcome.CONDITIONAL_PASS),  # inside, within U of the limit
    ("0.20", Outcome.PASS, Outcome.FAIL, Outcome.CONDITIONAL_PASS),  # at the limit: conforms, by simple acceptance
    ("0.22", Outcome.FAIL, Outcome.FAIL, Outcome.CONDITIONAL_FAIL),  # outside, within U
    ("0.25", Outcome.FAIL, Outcome.FAIL, Outcome.FAIL),  # beyond TL + U
])
def test_the_decision_rules_zone_by_zone(value: str, simple: Outcome, guarded: Outcome, non_binary: Outcome) -> None:
    u = D("0.03")
    assert judge(D(value), LEAD_IN_RICE, SIMPLE).outcome == simple
    assert judge(D(value), LEAD_IN_RICE, GUARDED, u).outcome == guarded
    assert judge(D(value), LEAD_IN_RICE, NON_BINARY, u).outcome == non_binary


def test_ranges_lower_limits_and_the_stated_rule() -> None:
    ph = Limits(lower=D("6.5"), upper=D("8.5"))  # GB 5749 drinking water pH
    assert judge(D("6.4"), ph, SIMPLE).statement == "不符合"
    assert judge(D("8.5"), ph, SIMPLE).statement == "符合"
    assert judge(D("6.6"), ph, GUARDED, D("0.2")).outcome == Outcome.FAIL
    judgement = judge(D("7.0"), ph, GUARDED, D("0.2"))
    assert judgement.outcome == Outcome.PASS and judgement.guard_band == D("0.2")
    assert "保护带" in judgement.rule.description and "简单" in SIMPLE.description
    protein = Limits(lower=D("10.0"))
    assert judge(D("9.99"), protein, SIMPLE).outcome == Outcome.FAIL


def test_a_guarded_rule_without_uncertainty_or_an_empty_specification_is_refused() -> None:
    with pytest.raises(ConformityError, match="expanded uncertainty"):
        judge(D("0.1"), LEAD_IN_RICE, GUARDED)
    with pytest.raises(ConformityError):
        Limits()
    with pytest.raises(ConformityError):
        Limits(lower=D(2), upper=D(1))
