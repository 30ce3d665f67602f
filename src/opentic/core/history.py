"""Audit events as a person reads them: what was done, to what, by whom, when (local time), old → new.

The trail stores codes (action "state", entity "lims.Sample", field "state", values "received", ISO UTC
timestamps) so that its hashes never depend on a language. This module turns one event into words in the
reader's language: actions and the trail's own keys by the tables below, models and fields by their
verbose names, choice values by their labels, dates and times by the locale's formats in Asia/Shanghai.
An action or key it does not know is shown as stored, never hidden.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from opentic.core.models import AuditEvent

PER_PAGE = 50

ACTIONS = {
    "create": gettext_lazy("created"), "update": gettext_lazy("changed"), "import": gettext_lazy("imported"),
    "status": gettext_lazy("status decided"), "state": gettext_lazy("state changed"),
    "result": gettext_lazy("result entered"), "calculate": gettext_lazy("result calculated"),
    "verify": gettext_lazy("result verified"), "retest": gettext_lazy("retest requested"),
    "release": gettext_lazy("worksheet released"), "refused": gettext_lazy("refused"),
    "qc-result": gettext_lazy("QC result entered"), "qc-rejected": gettext_lazy("QC rejected"),
    "corrective-action": gettext_lazy("corrective action recorded"), "dispose": gettext_lazy("sample disposed"),
    "authorize": gettext_lazy("authorized"), "revoke": gettext_lazy("authorization revoked"),
    "uncertainty-budget": gettext_lazy("uncertainty budget set"), "issue": gettext_lazy("report issued"),
    "withdraw": gettext_lazy("report withdrawn"), "approve-batch": gettext_lazy("reports approved in a batch"),
    "seal": gettext_lazy("seal image set"), "report-template": gettext_lazy("report template set"),
    "ledger.issued": gettext_lazy("report registered in the ledger"),
    "ledger.amended": gettext_lazy("amended report registered in the ledger"),
    "ledger.withdrawn": gettext_lazy("withdrawal registered in the ledger"),
    "not-accepted": gettext_lazy("results declared not accepted (失信)"),
    "not-accepted-ended": gettext_lazy("not-accepted period ended"),
    "pt-invite": gettext_lazy("invited to a PT round"), "pt-submit": gettext_lazy("PT result submitted"),
    "pt-resubmit": gettext_lazy("PT result resubmitted"), "pt-correct": gettext_lazy("PT result corrected"),
    "pt-homogeneity": gettext_lazy("PT homogeneity recorded"), "pt-evaluate": gettext_lazy("PT round evaluated"),
    "pt-appeal": gettext_lazy("PT appeal filed"), "pt-appeal-decided": gettext_lazy("PT appeal decided"),
    "pt-open": gettext_lazy("PT round opened"), "pt-closed": gettext_lazy("PT round closed"),
    "pt-evaluated": gettext_lazy("PT round evaluated"), "pt-published": gettext_lazy("PT round published"),
    "close": gettext_lazy("follow-up closed"), "cosign": gettext_lazy("checkpoint cosigned"),
    "append": gettext_lazy("appended"), "demo-data": gettext_lazy("demo data generated"),
    "register": gettext_lazy("sample registered"),
}

# Models whose verbose name the app does not give (Django would show the class name).
ENTITIES = {
    "quality.Submission": gettext_lazy("PT result"), "quality.Participation": gettext_lazy("PT participation"),
    "quality.Item": gettext_lazy("PT item"), "quality.FollowUp": gettext_lazy("PT follow-up"),
    "quality.Appeal": gettext_lazy("PT appeal"),
}

# The trail's own keys, which are no model field.
KEYS = {
    "file_sha256": gettext_lazy("file (SHA-256)"), "created": gettext_lazy("created"),
    "updated": gettext_lazy("changed"), "signature": gettext_lazy("electronic signature"),
    "because": gettext_lazy("because"), "retest": gettext_lazy("retest"), "rules": gettext_lazy("QC rules"),
    "warnings": gettext_lazy("warnings"), "operation": gettext_lazy("operation"), "z": gettext_lazy("z values"),
    "version": gettext_lazy("version"), "event": gettext_lazy("event"), "report": gettext_lazy("report"),
    "new": gettext_lazy("new entry"), "zones": gettext_lazy("functional zones"),
    "domains": gettext_lazy("domains"), "inputs": gettext_lazy("inputs"), "user": gettext_lazy("user"),
    "signatory": gettext_lazy("signatory authorization"), "end": gettext_lazy("end"),
    # Foreign keys declared without a verbose name, and what services record beside the fields.
    "order": gettext_lazy("order"), "client": gettext_lazy("client"), "analyses": gettext_lazy("analyses"),
    "service": gettext_lazy("method"), "round": gettext_lazy("round"), "item": gettext_lazy("item"),
    "participation": gettext_lazy("PT participation"), "institution": gettext_lazy("institution"),
    "accredited": gettext_lazy("within the accredited scope"),
    "meaning": gettext_lazy("meaning of the signature"),
}

# What an electronic signature meant (21 CFR 11.50), stored in both languages because it is part of what was
# signed and hashed; shown in the reader's language only.
MEANINGS = {
    "signed / 签名": pgettext_lazy("signature meaning", "signed"),
    "verified / 审核": pgettext_lazy("signature meaning", "verified"),
    "approved / 批准": pgettext_lazy("signature meaning", "approved"),
    "withdrawn / 撤回": pgettext_lazy("signature meaning", "withdrawn"),
}

# Keys whose value is a list of items, not an [old, new] pair, even when it has two.
PLAIN_LISTS = frozenset({"zones", "domains", "z", "rules", "warnings", "created"})

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Line:
    """One changed field: its label, and its old and new values as text (old is None for a plain value)."""

    label: str
    old: str | None
    new: str


@dataclass(frozen=True)
class Event:
    event: AuditEvent
    at: dt.datetime  # local time
    action: str
    what: str
    lines: list[Line]


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def value_text(value: Any, field: models.Field[Any, Any] | None = None) -> str:
    """A stored value in words: labels for choices, local dates and times, 是/否, — for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field is not None and field.choices and not isinstance(value, list | dict):
        labels = {str(k): v for k, v in field.flatchoices}
        if str(value) in labels:
            return str(labels[str(value)])
    if isinstance(value, str):
        if _DATETIME.match(value):
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                return value
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return formats.date_format(moment, "DATETIME_FORMAT")
        if _DATE.match(value):
            try:
                return formats.date_format(dt.date.fromisoformat(value), "DATE_FORMAT")
            except ValueError:
                return value
        return value
    if isinstance(value, list):
        if all(not isinstance(v, list | dict) for v in value):
            return pgettext("enumeration separator", ", ").join(value_text(v, field) for v in value)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):  # a nested record: its keys and values, flat
        sep, label = pgettext("list separator", "; "), pgettext("label separator", ": ")
        return sep.join(f"{KEYS.get(k, k)}{label}{value_text(v)}" for k, v in value.items())
    return str(value)


def describe(event: AuditEvent) -> Event:
    model = _model(event.entity)
    what = str(ENTITIES.get(event.entity) or (model._meta.verbose_name if model is not None else event.entity))
    if event.entity_id:
        what = f"{what} #{event.entity_id}"
    lines = []
    changes = event.changes if isinstance(event.changes, dict) else {"": event.changes}
    for key, value in changes.items():
        field = _field(model, key)
        label = str(KEYS[key]) if key in KEYS else str(field.verbose_name) if field is not None else key
        pair = isinstance(value, list) and len(value) == 2 and (
            key not in PLAIN_LISTS or all(v is None or isinstance(v, list) for v in value))
        if key == "meaning" and isinstance(value, str) and value in MEANINGS:
            lines.append(Line(label, None, str(MEANINGS[value])))
        elif pair:
            lines.append(Line(label, value_text(value[0], field), value_text(value[1], field)))
        else:
            lines.append(Line(label, None, value_text(value, field)))
    return Event(event, timezone.localtime(event.at), str(ACTIONS.get(event.action, event.action)), what, lines)


def page_of(events: models.QuerySet[AuditEvent], number: Any) -> tuple[Page[AuditEvent], list[Event]]:
    """One page of events, newest first, each described."""
    page = Paginator(events.order_by("-at", "-seq"), PER_PAGE).get_page(number)
    return page, [describe(e) for e in page.object_list]


def action_choices() -> list[tuple[str, str]]:
    return sorted(((k, str(v)) for k, v in ACTIONS.items()), key=lambda kv: kv[1])
