"""What the platform shows a reader who holds a report's number and verification code: the report's own
content, from its JSON twin, so that the paper in hand can be compared line by line."""

from __future__ import annotations

from typing import Any

from .models import Report


def _conformity(line: dict[str, Any]) -> str:
    """The line's judgement in words. Twins since the report rewrite keep the outcome's code in `conformity`
    and its words in `conformity_label`; earlier twins kept the words in `conformity`."""
    if "conformity_label" in line:
        return str(line.get("conformity_label") or "")
    return str(line.get("conformity") or "")


def _conclusion(twin: dict[str, Any]) -> str:
    """The 检验结论 as printed: the text of the twin's conclusion (a dict since the report rewrite, a string
    before), or, for a twin that has none, one said from the lines' judgements."""
    conclusion = twin.get("conclusion")
    if isinstance(conclusion, dict):
        conclusion = conclusion.get("text")
    if conclusion:
        return str(conclusion)
    judged = [line for line in twin.get("results", []) if _conformity(line)]
    if not judged:
        return "仅报告检测结果，不作符合性判定。"
    failed = [line["parameter"] for line in judged if "不符合" in _conformity(line)]
    if failed:
        return f"所检项目中 {'、'.join(failed)} 不符合判定要求。"
    return "所检项目符合判定要求。"


def _basis(twin: dict[str, Any]) -> str:
    basis = twin.get("basis")
    if isinstance(basis, list):  # [{"name": "GB 2762-2022", "title": …}] since the report rewrite
        return "、".join(str(b.get("name", "")) if isinstance(b, dict) else str(b) for b in basis)
    return str(basis or "、".join(twin.get("decision_rules", [])))


def content(credit_code: str, number: str, code: str) -> dict[str, Any] | None:
    report = (Report.objects.filter(institution__credit_code=credit_code, number=number, code=code)
              .select_related("replaced_by").first())
    if report is None:
        return None
    twin = report.twin
    successor = getattr(report, "replaced_by", None)
    return {
        "number": report.number, "lab_name": twin.get("lab_name", ""), "sample_name": twin.get("sample_name", ""),
        "lab_number": twin.get("lab_number", ""), "client": twin.get("client", ""), "issued": twin.get("issued", ""),
        "conclusion": _conclusion(twin), "basis": _basis(twin),
        "results": [{**{k: line.get(k, "") for k in ("parameter", "result", "unit", "limit", "method")},
                     "conformity": _conformity(line)} for line in twin.get("results", [])],
        "signatory": twin.get("signatory", ""), "state": report.state, "replaces": twin.get("replaces", ""),
        "withdrawal_reason": report.withdrawal_reason,
        "replaced_by": (successor.number, successor.code) if successor is not None else None,
    }


def issued_by_lims(credit_code: str, number: str) -> bool:
    return Report.objects.filter(institution__credit_code=credit_code, number=number).exists()
