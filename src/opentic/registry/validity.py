"""Certificate validity drives an institution's status (资质认定办法, SAMR Order 163 art. 13).

A CMA certificate is valid for six years; its holder must apply for renewal at least three months before it
ends. Two things follow from the date alone, and are derived here so that no page shows a stale status:

- a certificate whose last day has passed makes its institution 过期 (expired), whatever the stored status
  says, until `expire_certificates` (run daily: `opentic expire-certificates`) records the change in the
  institution's status history;
- a certificate ending within three months is flagged: the regulator sees it in the register, the lab on its
  own pages.

Suspended and revoked stay what the regulator decided: expiry only turns a valid or suspended institution
into an expired one, as the status transitions allow.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from opentic.core import audit
from opentic.registry.dates import zh_date
from opentic.registry.models import Institution, InstitutionStatus, InstitutionStatusChange

RENEWAL_MONTHS = 3  # Order 163 art. 13: apply for renewal at least three months before expiry
EXPIRES_FROM = (InstitutionStatus.VALID, InstitutionStatus.SUSPENDED)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day (30 November + 3 months = 28/29 February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def renewal_horizon(day: dt.date) -> dt.date:
    """The last expiry date that is flagged on `day`: within three months."""
    return add_months(day, RENEWAL_MONTHS)


def effective_status(institution: Institution, day: dt.date | None = None) -> str:
    day = day or timezone.localdate()
    if institution.status in EXPIRES_FROM and institution.cma_valid_until < day:
        return InstitutionStatus.EXPIRED
    return institution.status


def expiring_soon(institution: Institution, day: dt.date | None = None) -> bool:
    """Valid today, and the certificate ends within three months: time to renew."""
    day = day or timezone.localdate()
    return (effective_status(institution, day) == InstitutionStatus.VALID
            and institution.cma_valid_until <= renewal_horizon(day))


def status_expression(day: dt.date) -> Case:
    """The effective status as a database expression, for filters and annotations."""
    return Case(
        When(Q(status__in=EXPIRES_FROM, cma_valid_until__lt=day), then=Value(InstitutionStatus.EXPIRED.value)),
        default=F("status"), output_field=models.CharField(),
    )


def with_status(queryset: models.QuerySet[Institution], day: dt.date | None = None
                ) -> models.QuerySet[Institution]:
    return queryset.annotate(effective_status=status_expression(day or timezone.localdate()))


def filter_status(queryset: models.QuerySet[Institution], status: str, day: dt.date | None = None
                  ) -> models.QuerySet[Institution]:
    """Institutions whose status today is `status`, expired certificates counted as 过期."""
    day = day or timezone.localdate()
    if status == InstitutionStatus.EXPIRED:
        return queryset.filter(Q(status=InstitutionStatus.EXPIRED)
                               | Q(status__in=EXPIRES_FROM, cma_valid_until__lt=day))
    if status in EXPIRES_FROM:
        return queryset.filter(status=status, cma_valid_until__gte=day)
    return queryset.filter(status=status)


def filter_expiring(queryset: models.QuerySet[Institution], day: dt.date | None = None
                    ) -> models.QuerySet[Institution]:
    day = day or timezone.localdate()
    return queryset.filter(status=InstitutionStatus.VALID, cma_valid_until__gte=day,
                           cma_valid_until__lte=renewal_horizon(day))


def status_then(status_decided: str | None, status_now: str, valid_until: dt.date, at: dt.datetime) -> str:
    """The status at a moment from the last decision before it (None: none recorded, the current status
    holds): 过期 once the certificate had ended. A renewed certificate keeps its expired spell in the history
    (the daily job recorded it)."""
    status = status_decided or status_now
    if status in EXPIRES_FROM and valid_until < timezone.localtime(at).date():
        return InstitutionStatus.EXPIRED
    return status


def status_at(institution: Institution, at: dt.datetime) -> str:
    """The institution's status at a moment (a report's issue)."""
    last = institution.status_changes.filter(at__lte=at).order_by("at", "pk").last()
    return status_then(last.new_status if last else None, institution.status, institution.cma_valid_until, at)


def status_then_sql(institution: str, at: str) -> str:
    """The last decision before `at` for the institution `institution` (SQL expressions), as a scalar
    subquery: lets the verification read it in its one statement (docs/decisions/0009)."""
    table = InstitutionStatusChange._meta.db_table
    return (f"(SELECT s.new_status FROM {table} s WHERE s.institution_id = {institution} AND s.at <= {at} "
            f"ORDER BY s.at DESC, s.id DESC LIMIT 1)")


EXPIRY_REASON = "资质认定证书有效期至{day}届满，未登记换发的新证书"


def expire_certificates(day: dt.date | None = None) -> list[Institution]:
    """Record 过期 for every valid or suspended institution whose certificate ended before `day`.

    Idempotent: an institution already expired is not touched, so running it twice (or daily) records each
    expiry once. Each institution changes in its own transaction, with its status history and audit event.
    """
    day = day or timezone.localdate()
    due = list(Institution.objects.filter(status__in=EXPIRES_FROM, cma_valid_until__lt=day).values_list(
        "pk", flat=True))
    changed = []
    for pk in due:
        with transaction.atomic():
            institution = Institution.objects.select_for_update().get(pk=pk)
            if institution.status not in EXPIRES_FROM or institution.cma_valid_until >= day:
                continue  # changed meanwhile
            old = institution.status
            reason = EXPIRY_REASON.format(day=zh_date(institution.cma_valid_until))
            institution.status = InstitutionStatus.EXPIRED
            institution.save(update_fields=["status", "updated_at"])
            InstitutionStatusChange.objects.create(institution=institution, old_status=old,
                                                   new_status=InstitutionStatus.EXPIRED, reason=reason)
            audit.record(actor=None, action="status", entity=institution,
                         changes={"status": [old, InstitutionStatus.EXPIRED.value]}, reason=reason)
            changed.append(institution)
    return changed
