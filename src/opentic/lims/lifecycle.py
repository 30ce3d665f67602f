"""The life of a sample and of an analysis: which state may follow which, and why not when it may not.

Pure Python: services ask `check(...)` before they change a state, and refuse with its message.
"""

from __future__ import annotations

from enum import StrEnum


class SampleState(StrEnum):
    REGISTERED = "registered"
    RECEIVED = "received"
    IN_TESTING = "in_testing"
    TO_BE_VERIFIED = "to_be_verified"
    VERIFIED = "verified"
    REPORTED = "reported"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    INVALIDATED = "invalidated"


SAMPLE_LABELS = {
    SampleState.REGISTERED: "已登记", SampleState.RECEIVED: "已接收", SampleState.IN_TESTING: "检测中",
    SampleState.TO_BE_VERIFIED: "待审核", SampleState.VERIFIED: "已审核", SampleState.REPORTED: "已出报告",
    SampleState.REJECTED: "拒收", SampleState.CANCELLED: "已取消", SampleState.INVALIDATED: "已作废",
}

SAMPLE_TRANSITIONS: dict[SampleState, set[SampleState]] = {
    SampleState.REGISTERED: {SampleState.RECEIVED, SampleState.REJECTED, SampleState.CANCELLED},
    SampleState.RECEIVED: {SampleState.IN_TESTING, SampleState.CANCELLED},
    SampleState.IN_TESTING: {SampleState.TO_BE_VERIFIED, SampleState.INVALIDATED},
    # A verifier who sends results back for retest returns the sample to testing.
    SampleState.TO_BE_VERIFIED: {SampleState.VERIFIED, SampleState.IN_TESTING, SampleState.INVALIDATED},
    SampleState.VERIFIED: {SampleState.REPORTED, SampleState.IN_TESTING, SampleState.INVALIDATED},
    SampleState.REPORTED: {SampleState.INVALIDATED},
    SampleState.REJECTED: set(),
    SampleState.CANCELLED: set(),
    SampleState.INVALIDATED: set(),
}

# States in which nobody may enter or change a result of the sample.
NO_RESULTS = {SampleState.REGISTERED, SampleState.REJECTED, SampleState.CANCELLED, SampleState.INVALIDATED,
              SampleState.VERIFIED, SampleState.REPORTED}
NEEDS_REASON = {SampleState.REJECTED, SampleState.CANCELLED, SampleState.INVALIDATED}


class TransitionError(ValueError):
    pass


def check(current: str, new: str, reason: str = "") -> None:
    """Refuse an illegal transition with a message a lab worker understands."""
    try:
        old_state, new_state = SampleState(current), SampleState(new)
    except ValueError as exc:
        raise TransitionError(f"未知的样品状态:{exc}") from exc
    if new_state not in SAMPLE_TRANSITIONS[old_state]:
        allowed = "、".join(SAMPLE_LABELS[s] for s in sorted(SAMPLE_TRANSITIONS[old_state])) or "无"
        raise TransitionError(
            f"样品“{SAMPLE_LABELS[old_state]}”后不能变为“{SAMPLE_LABELS[new_state]}”(可以变为:{allowed})")
    if new_state in NEEDS_REASON and not reason.strip():
        raise TransitionError(f"样品变为“{SAMPLE_LABELS[new_state]}”必须说明理由")


def results_allowed(state: str) -> bool:
    return SampleState(state) not in NO_RESULTS
