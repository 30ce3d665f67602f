"""What the platform shows a reader who holds a report's number and verification code: the report's own
content, from its JSON twin, so that the paper in hand can be compared line by line."""

from __future__ import annotations

from typing import Any

from .models import Report


def _conclusion(twin: dict[str, Any]) -> str:
    if twin.get("conclusion"):
        return str(twin["conclusion"])
    judged = [line for line in twin.get("results", []) if line.get("conformity")]
    if not judged:
        return "仅报告检测结果，不作符合性判定。"
    failed = [line["parameter"] for line in judged if "不符合" in line["conformity"]]
    if failed:
        return f"所检项目中 {'、'.join(failed)} 不符合判定要求。"
    return "所检项目符合判定要求。"


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
        "conclusion": _conclusion(twin), "basis": twin.get("basis") or "、".join(twin.get("decision_rules", [])),
        "results": [{k: line.get(k, "") for k in ("parameter", "result", "unit", "limit", "conformity", "method")}
                    for line in twin.get("results", [])],
        "signatory": twin.get("signatory", ""), "state": report.state, "replaces": twin.get("replaces", ""),
        "withdrawal_reason": report.withdrawal_reason,
        "replaced_by": (successor.number, successor.code) if successor is not None else None,
    }


def issued_by_lims(credit_code: str, number: str) -> bool:
    return Report.objects.filter(institution__credit_code=credit_code, number=number).exists()
