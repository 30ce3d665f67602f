"""Conformity with a specification, under a stated decision rule (ISO/IEC 17025 7.8.6, ILAC-G8:09/2019).

A specification limit set has a lower limit, an upper limit, or both. The decision rule is stored with
every judgement: simple acceptance (the measured value against the limit, w = 0), or guarded acceptance
with a guard band w = r·U from the result's expanded uncertainty U. A binary guarded rule passes only
inside the acceptance limits (tolerance limit moved inwards by w); a non-binary one also says when the
value is inside the limits but within w of them (conditional pass) or outside but within w (conditional
fail), as ILAC-G8 §4.2.3 describes. Pure Python, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Outcome(StrEnum):
    PASS = "pass"
    CONDITIONAL_PASS = "conditional_pass"
    CONDITIONAL_FAIL = "conditional_fail"
    FAIL = "fail"


STATEMENTS = {
    Outcome.PASS: "符合",
    Outcome.CONDITIONAL_PASS: "有条件符合",
    Outcome.CONDITIONAL_FAIL: "有条件不符合",
    Outcome.FAIL: "不符合",
}


class ConformityError(ValueError):
    pass


@dataclass(frozen=True)
class Limits:
    lower: Decimal | None = None
    upper: Decimal | None = None

    def __post_init__(self) -> None:
        if self.lower is None and self.upper is None:
            raise ConformityError("a specification needs a lower limit, an upper limit or both")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ConformityError("the lower limit is above the upper limit")


@dataclass(frozen=True)
class DecisionRule:
    guarded: bool = False
    guard_factor: Decimal = Decimal(1)  # w = r·U
    binary: bool = True

    @property
    def description(self) -> str:
        if not self.guarded:
            return "简单接受规则（ILAC-G8:09/2019 4.2.1，w = 0）"
        kind = "二元判定" if self.binary else "非二元判定"
        return f"保护带接受规则（ILAC-G8:09/2019 4.2.2，w = {self.guard_factor}U，{kind}）"


@dataclass(frozen=True)
class Judgement:
    outcome: Outcome
    rule: DecisionRule
    guard_band: Decimal

    @property
    def statement(self) -> str:
        return STATEMENTS[self.outcome]


def judge(value: Decimal, limits: Limits, rule: DecisionRule, expanded_uncertainty: Decimal | None = None) -> Judgement:
    if rule.guarded:
        if expanded_uncertainty is None or expanded_uncertainty < 0:
            raise ConformityError("a guarded decision rule needs the result's expanded uncertainty U")
        w = rule.guard_factor * expanded_uncertainty
    else:
        w = Decimal(0)
    # How far inside the tolerance interval the value lies (negative: outside), on its nearer side.
    margins = []
    if limits.upper is not None:
        margins.append(limits.upper - value)
    if limits.lower is not None:
        margins.append(value - limits.lower)
    margin = min(margins)
    if margin >= w:
        outcome = Outcome.PASS
    elif rule.binary or w == 0:
        outcome = Outcome.FAIL
    elif margin >= 0:
        outcome = Outcome.CONDITIONAL_PASS
    elif margin >= -w:
        outcome = Outcome.CONDITIONAL_FAIL
    else:
        outcome = Outcome.FAIL
    return Judgement(outcome, rule, w)
