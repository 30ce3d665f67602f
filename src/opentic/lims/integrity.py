"""A result edited in the database behind the services' back no longer matches its audit trail: find it."""

from __future__ import annotations

from opentic.core.models import AuditEvent

from .models import Analysis


def results_match_trail() -> list[str]:
    """Every result's value and state against the last value and state its audit events recorded."""
    recorded: dict[str, dict[str, object]] = {}
    events = AuditEvent.objects.filter(entity="lims.Analysis").order_by("chain", "seq").values_list(
        "entity_id", "changes")
    for entity_id, changes in events.iterator(5000):
        last = recorded.setdefault(entity_id, {})
        for field in ("value", "state"):
            change = changes.get(field) if isinstance(changes, dict) else None
            if isinstance(change, list) and len(change) == 2:
                last[field] = change[1]
    problems = []
    for pk, value, state, sample in Analysis.objects.exclude(value="", state="pending").values_list(
            "pk", "value", "state", "sample__lab_number").iterator(5000):
        last = recorded.get(str(pk), {})
        if last.get("value", "") != value:
            problems.append(f"sample {sample}, analysis {pk}: value {value!r}, the trail says {last.get('value')!r}")
        elif "state" in last and last["state"] != state:
            problems.append(f"sample {sample}, analysis {pk}: state {state!r}, the trail says {last['state']!r}")
    return problems
