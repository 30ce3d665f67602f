"""The report in force among a sample's reports, for the sample page's amend and withdraw forms."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from opentic.reports.models import Report

register = template.Library()


@register.filter
def in_force(reports: Iterable[Report]) -> Report | None:
    """Issued and not replaced: the only report an amendment may replace."""
    return next((r for r in reports if r.status == "issued"), None)
