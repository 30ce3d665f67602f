"""What a PT round shows: the results table, the item evaluations, the z-score bar charts and the Youden plot,
for the provider's page, the participant's page and both PDF reports (one template, the same numbers)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from opentic.numerics import plots

from .models import Appeal, ItemResult, Participation, Round, Submission


def _rows(r: Round, items: list[Any]) -> list[dict[str, Any]]:
    subs = Submission.objects.filter(participation__round=r).select_related("score", "item")
    by_participant: dict[int, dict[int, Submission]] = defaultdict(dict)
    for s in subs:
        by_participant[s.participation_id][s.item_id] = s
    rows = []
    for p in r.participations.select_related("institution").order_by("code"):
        cells = [by_participant[p.pk].get(i.pk) for i in items]
        rows.append({"participation": p, "cells": cells})
    return rows


def _score(s: Submission | None) -> float | None:
    score = getattr(s, "score", None) if s is not None else None
    return score.value if score is not None else None


def charts(r: Round, items: list[Any], rows: list[dict[str, Any]], highlight: int | None) -> dict[str, Any]:
    """plots escapes every text it draws, so its SVG is safe to inline."""
    bars = []
    for index, item in enumerate(items):
        points = [plots.Point(row["participation"].code, z, highlight=row["participation"].pk == highlight)
                  for row in rows if (z := _score(row["cells"][index])) is not None]
        if points:
            title = f"{item.code}: {r.get_score_kind_display()}"
            symbol = "En" if r.score_kind == Round.ScoreKind.EN else r.get_score_kind_display()
            bars.append({"item": item, "svg": mark_safe(plots.z_bars(points, title, symbol))})
    youden = None
    if len(items) == 2:
        pairs = [(row["participation"].code, a, b, row["participation"].pk == highlight) for row in rows
                 if (a := _score(row["cells"][0])) is not None and (b := _score(row["cells"][1])) is not None]
        if pairs:
            youden = mark_safe(plots.youden(pairs, "Youden", items[0].code, items[1].code))
    return {"bars": bars, "youden": youden}


def criteria(kind: str) -> str:
    """How a score of this kind is judged (ISO 13528:2022 9.4–9.7; numerics.stats.proficiency.classify)."""
    if kind == "En":
        return _("|En| ≤ 1 satisfactory; |En| > 1 unsatisfactory")
    symbol = dict(Round.ScoreKind.choices).get(kind, kind)
    return _("|%(s)s| ≤ 2 satisfactory; 2 < |%(s)s| < 3 questionable; |%(s)s| ≥ 3 unsatisfactory") % {"s": symbol}


def round_context(r: Round, manager: bool, mine: Participation | None, user: Any) -> dict[str, Any]:
    items = list(r.items.all())
    results = {res.item_id: res for res in ItemResult.objects.filter(item__round=r)}
    for item in items:
        item.evaluation = results.get(item.pk)  # type: ignore[attr-defined]
    visible = manager or r.state == Round.State.PUBLISHED
    rows = _rows(r, items) if visible else []
    own: list[tuple[Any, Submission | None]] = []
    if mine is not None:
        subs = {s.item_id: s for s in Submission.objects.filter(participation=mine).select_related("score")}
        own = [(item, subs.get(item.pk)) for item in items]
    candidates: list[Any] = []
    if mine is not None and r.state == Round.State.OPEN:
        from opentic.lims.models import Analysis

        candidates = list(Analysis.objects.filter(
            sample__institution_id=mine.institution_id, state=Analysis.State.VERIFIED,
            service__parameter_id=r.scheme.parameter_id).select_related("sample").order_by("-verified_at")[:50])
    return {
        "round": r, "manager": manager, "mine": mine, "items": items, "rows": rows, "own": own,
        "candidates": candidates, "published": r.state == Round.State.PUBLISHED,
        "appeals": (Appeal.objects.filter(participation__round=r) if manager else
                    Appeal.objects.filter(participation=mine)).select_related("participation"),
        "today": timezone.localdate(), "criteria": criteria(r.score_kind),
        **(charts(r, items, rows, mine.pk if mine else None) if visible else {"bars": [], "youden": None}),
    }


def round_pdf(r: Round, participant: Participation | None) -> bytes:
    """The round report (participant None) or one participant's report: its own results and scores first,
    then the round's evaluation and charts with its bar marked. Codes only: no institution is named."""
    from weasyprint import HTML  # imported here: loading Pango costs a fraction of a second

    items = list(r.items.all())
    results = {res.item_id: res for res in ItemResult.objects.filter(item__round=r)}
    for item in items:
        item.evaluation = results.get(item.pk)  # type: ignore[attr-defined]
    rows = _rows(r, items)
    own = None
    if participant is not None:
        own = next((row for row in rows if row["participation"].pk == participant.pk), None)
    with translation.override("zh-hans"):  # the report is a Chinese document, whatever the reader's language
        html = render_to_string("quality/report.html", {
            "round": r, "items": items, "rows": rows, "participant": participant, "own": own,
            "generated": timezone.localtime(), "criteria": criteria(r.score_kind),
            **charts(r, items, rows, participant.pk if participant else None)})
    return bytes(HTML(string=html).write_pdf())
