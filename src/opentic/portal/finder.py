"""The public lab finder: which valid institutions are accredited to test X, ranked sensibly.

A query is read against the shared catalogues, not by scanning scope text: standard codes are picked
out of it (with or without the year), then every parameter and object name it contains. An object
also matches its broader objects, because a lab accredited for 铅 in 食品 can test 铅 in 大米.
Only institutions and scope lines valid today are found.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db.models import Case, Count, F, IntegerField, Max, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import Length, RowNumber, StrIndex
from django.utils import timezone

from opentic.core.hanzi import to_simplified
from opentic.registry.codes import CodeError, compact_code, parse_standard_code
from opentic.registry.models import Institution, Parameter, ScopeLine, ScopeTally, Standard, TestObject

PAGE_SIZE = 20
LINES_PER_HIT = 8
MAX_QUERY_LENGTH = 100

_STANDARD_IN_TEXT = re.compile(
    r"[A-Za-z]{1,6}\s*(?:/\s*[TZtz])?\s*[A-Za-z]{0,2}\d+(?:\.\d+)*(?:\s*[-—–－]\s*(?:\d{4}|\d{2}))?"
)

# Scores of a matched scope line; an institution ranks by its best line, then by how many lines match.
SCORE_STANDARD_EXACT = 8  # code and year as asked
SCORE_STANDARD_CODE = 4  # code asked without a year, or another year of it
SCORE_OBJECT_EXACT = 2  # the object asked for, not a broader one
SCORE_PARAMETER = 1


Named = TypeVar("Named", Parameter, TestObject)


class FinderError(ValueError):
    pass


@dataclass(frozen=True)
class FinderQuery:
    q: str = ""
    district: str = ""
    region: str = ""
    unit: str = ""  # a cluster, national zone or base of the plan's layout
    domain: str = ""
    page: int = 1


@dataclass
class Reading:
    """How the query text was understood; shown to the user so a surprising result explains itself."""

    standards_exact: list[Standard] = field(default_factory=list)
    standards_any_year: list[Standard] = field(default_factory=list)
    standard_codes: list[str] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    objects: list[TestObject] = field(default_factory=list)
    object_ids_with_broader: set[int] = field(default_factory=set)
    free_text: str = ""
    free_keys: dict[str, list[int]] = field(default_factory=dict)  # by tally dimension

    @property
    def empty(self) -> bool:
        return not (self.standard_codes or self.parameters or self.objects or self.free_text)


@dataclass
class Hit:
    institution: Institution
    score: int
    matched: int
    lines: list[ScopeLine] = field(default_factory=list)


@dataclass
class Result:
    query: FinderQuery
    reading: Reading
    hits: list[Hit]
    total: int
    page: int
    pages: int


def _contained_names(model: type[Named], text: str) -> list[Named]:
    """Catalogue rows whose name occurs in the text, longest first; drop names inside a longer match."""
    rows = list(
        model.objects.annotate(pos=StrIndex(Value(text), "name"), n=Length("name"))
        .filter(pos__gt=0).order_by("-n")
    )
    kept: list[str] = []
    result: list[Named] = []
    for row in rows:
        if any(row.name in longer for longer in kept):
            continue
        kept.append(row.name)
        result.append(row)
    return result


def _with_broader(objects: list[TestObject]) -> set[int]:
    parents = dict(TestObject.objects.values_list("id", "parent_id"))
    ids: set[int] = set()
    for obj in objects:
        node: int | None = obj.pk
        while node is not None and node not in ids:
            ids.add(node)
            node = parents.get(node)
    return ids


def read_query(q: str) -> Reading:
    text = to_simplified(q or "").strip()[:MAX_QUERY_LENGTH]
    reading = Reading()
    if not text:
        return reading
    remaining = text
    for match in _STANDARD_IN_TEXT.finditer(text):
        try:
            code = parse_standard_code(match.group())
        except CodeError:
            continue
        same_code = list(Standard.objects.filter(compact=code.compact))
        if not same_code:
            continue
        reading.standard_codes.append(code.full)
        reading.standards_exact += [s for s in same_code if code.year and s.year == code.year]
        reading.standards_any_year += same_code
        remaining = remaining.replace(match.group(), " ")
    remaining = remaining.strip()
    if remaining:
        reading.parameters = _contained_names(Parameter, remaining)
        reading.objects = _contained_names(TestObject, remaining)
        if not (reading.parameters or reading.objects or reading.standard_codes):
            reading.free_text = remaining
            reading.free_keys = _free_text_keys(remaining)
    reading.object_ids_with_broader = _with_broader(reading.objects)
    return reading


def _free_text_keys(text: str) -> dict[str, list[int]]:
    """Free text resolved against the small catalogues, so scope lines are reached through their indexes."""
    standards = Standard.objects.filter(Q(title__contains=text) | Q(compact__startswith=compact_code(text)))
    parameters = Parameter.objects.filter(name__contains=text)
    objects = TestObject.objects.filter(name__contains=text)
    return {
        ScopeTally.Dimension.PARAMETER: list(parameters.values_list("pk", flat=True)),
        ScopeTally.Dimension.OBJECT: list(objects.values_list("pk", flat=True)),
        ScopeTally.Dimension.STANDARD: list(standards.values_list("pk", flat=True)),
    }


def _line_filter(reading: Reading) -> Q:
    if reading.free_text:
        keys = reading.free_keys
        return (Q(parameter__in=keys[ScopeTally.Dimension.PARAMETER])
                | Q(test_object__in=keys[ScopeTally.Dimension.OBJECT])
                | Q(standard__in=keys[ScopeTally.Dimension.STANDARD]))
    # Asked for a standard and for what to test: a lab with the standard, or one that tests the same
    # thing by another method (ranked below), both answer the question.
    what = Q()
    if reading.parameters:
        what &= Q(parameter__in=[p.pk for p in reading.parameters])
    if reading.objects:
        what &= Q(test_object__in=reading.object_ids_with_broader)
    if not reading.standard_codes:
        return what
    by_standard = Q(standard__in=[s.pk for s in reading.standards_any_year])
    if reading.parameters:
        return (by_standard & what) | what
    return by_standard & what


def _score(reading: Reading) -> Case:
    exact = [s.pk for s in reading.standards_exact]
    any_year = [s.pk for s in reading.standards_any_year]
    objects = [o.pk for o in reading.objects]
    whens = []
    if exact:
        whens.append(When(standard__in=exact, then=Value(SCORE_STANDARD_EXACT)))
    if any_year:
        whens.append(When(standard__in=any_year, then=Value(SCORE_STANDARD_CODE)))
    standard_part = Case(*whens, default=Value(0), output_field=IntegerField())
    object_part = Case(
        *([When(test_object__in=objects, then=Value(SCORE_OBJECT_EXACT))] if objects else []),
        default=Value(0), output_field=IntegerField(),
    )
    return standard_part + object_part + Value(SCORE_PARAMETER if reading.parameters else 0)  # type: ignore[return-value]


def institutions_for(query: FinderQuery, day: dt.date) -> QuerySet[Institution]:
    institutions = Institution.objects.valid_on(day)
    if query.district:
        institutions = institutions.filter(district_id=query.district)
    if query.region:
        institutions = institutions.filter(district__region=query.region)
    if query.domain:
        institutions = institutions.filter(domains__code=query.domain)
    if query.unit:
        institutions = institutions.filter(
            Q(district__spatial_units__code=query.unit) | Q(zones__spatial_units__code=query.unit)
        )
    return institutions


@dataclass
class _TallyPlan:
    dimension: str
    keys: list[int]
    score: Any


def _tally_plan(reading: Reading, day: dt.date) -> _TallyPlan | None:
    """The query as counts over one dimension of the tally, or None when it needs the lines themselves.

    A query on one dimension (parameters, or objects, or standards) is answered from the tally; one that
    combines an object with anything else is a conjunction the tally cannot answer, and is narrow anyway.
    """
    if reading.free_text:
        used = [(dim, keys) for dim, keys in reading.free_keys.items() if keys]
        return _TallyPlan(*used[0], Value(0)) if len(used) == 1 else None
    if reading.objects:
        if reading.parameters or reading.standard_codes:
            return None
        exact = [o.pk for o in reading.objects]
        return _TallyPlan(ScopeTally.Dimension.OBJECT, sorted(reading.object_ids_with_broader),
                          Case(When(key__in=exact, then=Value(SCORE_OBJECT_EXACT)), default=Value(0)))
    if reading.parameters:
        parameter_ids = [p.pk for p in reading.parameters]
        score: Any = Value(SCORE_PARAMETER)
        if reading.standard_codes:
            # Which of these labs also hold the asked standard for these parameters: a narrow set of lines.
            def holding(standards: list[Standard]) -> QuerySet[Any]:
                return ScopeLine.objects.valid_on(day).filter(
                    parameter__in=parameter_ids, standard__in=[s.pk for s in standards]).values("institution")

            whens = [When(institution__in=holding(reading.standards_exact),
                          then=Value(SCORE_PARAMETER + SCORE_STANDARD_EXACT))] if reading.standards_exact else []
            whens.append(When(institution__in=holding(reading.standards_any_year),
                              then=Value(SCORE_PARAMETER + SCORE_STANDARD_CODE)))
            score = Case(*whens, default=Value(SCORE_PARAMETER))
        return _TallyPlan(ScopeTally.Dimension.PARAMETER, parameter_ids, score)
    exact_ids = [s.pk for s in reading.standards_exact]
    return _TallyPlan(ScopeTally.Dimension.STANDARD, [s.pk for s in reading.standards_any_year],
                      Case(When(key__in=exact_ids, then=Value(SCORE_STANDARD_EXACT)),
                           default=Value(SCORE_STANDARD_CODE)))


def _ranked_groups(reading: Reading, day: dt.date, institutions: QuerySet[Institution],
                   lines: QuerySet[ScopeLine]) -> QuerySet[Any]:
    """(institution, best, matched, total) in rank order: the database ranks, counts and pages at once."""
    plan = _tally_plan(reading, day)
    groups: QuerySet[Any]
    if plan is None:
        groups = lines.order_by().values("institution").annotate(best=Max(_score(reading)), matched=Count("*"))
    else:
        groups = (
            ScopeTally.objects.valid_on(day)
            .filter(dimension=plan.dimension, key__in=plan.keys, institution__in=institutions.values("pk"))
            .order_by().values("institution")
            .annotate(best=Max(plan.score, output_field=IntegerField()), matched=Sum("lines"))
        )
    return (groups.annotate(total=Window(Count("*")))
            .order_by("-best", "-matched", "institution")
            .values_list("institution", "best", "matched", "total"))


def find(query: FinderQuery, day: dt.date | None = None) -> Result:
    if query.page < 1 or query.page > 1000:
        raise FinderError("页码应在 1 到 1000 之间")
    if len(query.q) > MAX_QUERY_LENGTH:
        raise FinderError(f"检索词不能超过{MAX_QUERY_LENGTH}个字")
    day = day or timezone.localdate()
    reading = read_query(query.q)
    institutions = institutions_for(query, day)
    offset = (query.page - 1) * PAGE_SIZE

    if reading.empty and query.q.strip():
        return Result(query, reading, [], 0, query.page, 0)  # asked for something the catalogue lacks
    if reading.empty:
        ids = list(institutions.values_list("pk", flat=True).distinct().order_by("name")[offset:offset + PAGE_SIZE])
        total = institutions.values("pk").distinct().count()
        by_id = Institution.objects.select_related("district").in_bulk(ids)
        hits = [Hit(by_id[i], 0, 0) for i in ids]
        return Result(query, reading, hits, total, query.page, -(-total // PAGE_SIZE))

    lines = ScopeLine.objects.valid_on(day).filter(_line_filter(reading), institution__in=institutions.values("pk"))
    ranked = _ranked_groups(reading, day, institutions, lines)
    page_rows = list(ranked[offset:offset + PAGE_SIZE])
    total = page_rows[0][3] if page_rows else (ranked.count() if offset else 0)
    by_id = Institution.objects.select_related("district").in_bulk([g[0] for g in page_rows])
    hits = [Hit(by_id[pk], best, matched) for pk, best, matched, _ in page_rows]
    if hits:
        # The database keeps the best LINES_PER_HIT lines of each institution on the page.
        shown = (
            lines.filter(institution__in=[h.institution.pk for h in hits])
            .annotate(score=_score(reading))
            .annotate(rank=Window(RowNumber(), partition_by=[F("institution")], order_by=[F("score").desc(), "seq"]))
            .filter(rank__lte=LINES_PER_HIT)
            .select_related("test_object", "parameter", "standard")
            .order_by("institution", "rank")
        )
        per_institution: dict[int, list[ScopeLine]] = {}
        for line in shown:
            per_institution.setdefault(line.institution_id, []).append(line)
        for hit in hits:
            hit.lines = per_institution.get(hit.institution.pk, [])
    return Result(query, reading, hits, total, query.page, -(-total // PAGE_SIZE))
