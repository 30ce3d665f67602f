"""The judgement of a sample: which limits its results are held against, and the 检验结论 a lab writes.

The order names its judgement basis (one or more product standards, each a specification set of the
lab's setup, e.g. "GB 2762-2022") and the decision rule agreed with the client (ISO/IEC 17025 7.1.3).
Each analysis is judged against the first standard of the basis that sets a limit for its parameter and
the sample's object (or a broader object); the conclusion names the basis, the rule and the items that
fail. An order without a basis reports results only, with no statement of conformity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from opentic.numerics.conformity import Outcome
from opentic.registry.models import TestObject

from .models import Analysis, Sample, Specification

SEPARATOR = "；"  # the basis as stored on the sample: "GB 2762-2022；GB 2763-2021"
# The single-item judgement as the pages say it (the report prints numerics.conformity.STATEMENTS).
CONFORMITY_LABELS: dict[str, Any] = {Outcome.PASS: _("conforms"), Outcome.FAIL: _("does not conform"),
                     Outcome.CONDITIONAL_PASS: _("conditionally conforms"),
                     Outcome.CONDITIONAL_FAIL: _("conditionally does not conform")}


def basis_names(sample: Sample) -> list[str]:
    text = sample.specification.replace(";", SEPARATOR)
    return [name.strip() for name in text.split(SEPARATOR) if name.strip()]


def object_chain(test_object: TestObject) -> list[int]:
    """The object and its broader objects, most specific first (大米 → 谷物 → 食品)."""
    chain: list[int] = []
    node: TestObject | None = test_object
    while node is not None and len(chain) < 20:
        chain.append(node.pk)
        node = node.parent
    return chain


def find_specification(sample: Sample, parameter_id: int) -> Specification | None:
    """The limit for a parameter: the first standard of the basis that has one, for the most specific object."""
    names = basis_names(sample)
    if not names:
        return None
    chain = object_chain(sample.test_object)
    specs = {(s.name, s.test_object_id): s for s in Specification.objects.filter(
        institution_id=sample.institution_id, name__in=names, parameter_id=parameter_id,
        test_object__in=chain).select_related("parameter")}
    for name in names:
        for node in chain:
            if (name, node) in specs:
                return specs[(name, node)]
    return None


@dataclass(frozen=True)
class Conclusion:
    verdict: str  # "conform" | "nonconform" | "conditional" | "results_only" | "incomplete"
    text: str  # the 检验结论 as printed
    basis: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # parameter names that do not conform
    unjudged: list[str] = field(default_factory=list)  # parameters the basis sets no limit for

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "text": self.text, "basis": self.basis, "failed": self.failed,
                "unjudged": self.unjudged}


def _names(items: Sequence[str]) -> str:
    return "、".join(dict.fromkeys(items))


def conclude(basis: Sequence[str], lines: Sequence[tuple[str, str]]) -> Conclusion:
    """The conclusion from the basis and each reported line's (parameter name, conformity outcome or "")."""
    if not basis:
        return Conclusion("results_only", "本报告仅提供检测结果，不作符合性判定。")
    standards = _names(basis)
    failed = [p for p, c in lines if c == Outcome.FAIL]
    conditional = [p for p, c in lines if c in (Outcome.CONDITIONAL_PASS, Outcome.CONDITIONAL_FAIL)]
    unjudged = [p for p, c in lines if not c]
    tail = f"{_names(unjudged)}：{standards} 未规定限量，仅报告检测结果。" if unjudged else ""
    if len(unjudged) == len(lines):
        return Conclusion("results_only", f"所检项目 {standards} 未规定限量，本报告仅提供检测结果。",
                          list(basis), [], unjudged)
    if failed:
        text = f"经检验，所检项目不符合 {standards} 要求。不合格项目：{_names(failed)}。{tail}"
        return Conclusion("nonconform", text, list(basis), failed, unjudged)
    if conditional:
        return Conclusion("conditional", f"经检验，{_names(conditional)}的测量结果与限量之差小于扩展不确定度，"
                          f"按约定的判定规则作有条件判定；其余所检项目符合 {standards} 要求。{tail}",
                          list(basis), [], unjudged)
    scope = "所检项目" if not unjudged else "已判定的项目"
    return Conclusion("conform", f"经检验，{scope}符合 {standards} 要求。{tail}", list(basis), [], unjudged)


def sample_conclusion(sample: Sample, analyses: Sequence[Analysis] | None = None) -> Conclusion:
    """The conclusion of a sample's reported (not retracted) analyses, in registration order."""
    if analyses is None:
        analyses = list(sample.analyses.exclude(state=Analysis.State.RETRACTED)
                        .select_related("service__parameter").order_by("id"))
    return conclude(basis_names(sample), [(a.service.parameter.name, a.conformity) for a in analyses])
