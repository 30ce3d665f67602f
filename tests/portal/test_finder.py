import datetime as dt

import pytest
from django.utils import timezone

from opentic.portal import finder
from opentic.portal.finder import FinderError, FinderQuery, find, read_query
from opentic.registry import demo, tally
from opentic.registry.models import Institution, ScopeLine
from tests.conftest import World, expire


def names(query: FinderQuery) -> list[str]:
    return [h.institution.name for h in find(query).hits]


@pytest.mark.django_db
def test_lead_in_rice_in_yuxi_per_gb_5009_12(world: World) -> None:
    result = find(FinderQuery(q="大米 铅 GB 5009.12", unit="C3"))
    assert [h.institution for h in result.hits] == [world.lab_a]
    [line] = result.hits[0].lines
    assert (line.test_object.name, line.parameter.name, line.standard.full_code) == ("大米", "铅", "GB 5009.12-2017")


@pytest.mark.django_db
def test_a_broader_object_matches_and_the_exact_standard_ranks_first(world: World) -> None:
    # Lab B holds 铅 in 食品 (broader than 大米) by another method; lab A the asked-for standard.
    assert names(FinderQuery(q="大米中铅的测定 GB 5009.12-2017")) == [world.lab_a.name, world.lab_b.name]
    hits = find(FinderQuery(q="铅 GB 5009.268")).hits
    assert [h.institution for h in hits] == [world.lab_b, world.lab_a]
    assert hits[0].score > hits[1].score
    assert names(FinderQuery(q="GB 5009.268")) == [world.lab_b.name]  # a standard alone is a filter


@pytest.mark.django_db
def test_standard_code_with_or_without_year_or_spaces(world: World) -> None:
    for q in ("GB 5009.12", "GB5009.12-2017", "gb 5009.12—2017"):
        assert names(FinderQuery(q=q)) == [world.lab_a.name], q
    assert names(FinderQuery(q="GB 5009.12-2023")) == [world.lab_a.name]  # another year of the same code
    assert read_query("GB 5009.12-2023").standards_exact == []


@pytest.mark.django_db
def test_traditional_characters_and_filters(world: World) -> None:
    assert set(names(FinderQuery(q="鉛"))) == {world.lab_a.name, world.lab_b.name}
    assert names(FinderQuery(q="铅", district="500103")) == [world.lab_b.name]
    assert names(FinderQuery(q="铅", region="主城新区")) == [world.lab_a.name]
    assert names(FinderQuery(q="铅", domain="M13")) == [world.lab_b.name]


@pytest.mark.django_db
def test_only_valid_institutions_and_lines(world: World) -> None:
    expire(world.lab_b)
    assert names(FinderQuery(q="铅")) == [world.lab_a.name]
    ScopeLine.objects.filter(institution=world.lab_a, parameter__name="铅").update(
        valid_until=timezone.localdate() - dt.timedelta(days=1))
    tally.rebuild([world.lab_a.pk])
    assert names(FinderQuery(q="铅")) == []
    assert names(FinderQuery(q="镉")) == [world.lab_a.name]
    Institution.objects.filter(pk=world.lab_a.pk).update(cma_valid_until=timezone.localdate() - dt.timedelta(days=1))
    assert names(FinderQuery(q="镉")) == []


@pytest.mark.django_db
def test_free_text_and_nothing_found(world: World) -> None:
    assert names(FinderQuery(q="多元素")) == [world.lab_b.name]  # standard title
    result = find(FinderQuery(q="火星土壤"))
    assert result.total == 0 and result.hits == []


@pytest.mark.django_db
def test_bad_paging_and_long_queries_are_refused(world: World) -> None:
    with pytest.raises(FinderError):
        find(FinderQuery(q="铅", page=0))
    with pytest.raises(FinderError):
        find(FinderQuery(q="铅" * 101))


@pytest.mark.django_db
def test_empty_query_lists_valid_institutions_by_filter(world: World) -> None:
    result = find(FinderQuery(unit="C3"))
    assert result.total == 1 and result.hits[0].institution == world.lab_a


QUERIES = ["铅", "镉", "大米", "食品", "GB 5009.12", "GB 5009.12-2017", "铅 GB 5009.12-2017", "铅 镉",
           "HJ 700", "多元素", "混凝土", "抗压强度", "生活饮用水", "总大肠菌群 GB/T 5750.12-2023", "土壤 总汞"]


@pytest.mark.django_db
@pytest.mark.parametrize("filters", [{}, {"region": "主城新区"}, {"unit": "C3"}, {"domain": "M8"}])
def test_the_tally_ranks_exactly_as_the_lines_do(filters: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # The tally is a shortcut, never a different answer: every query, both ways, same hits in the same order.
    demo.generate("tiny", seed=11, institutions=60)
    answers = {q: [(h.institution.pk, h.score, h.matched) for page in (1, 2)
                   for h in find(FinderQuery(q=q, page=page, **filters)).hits] for q in QUERIES}
    assert sum(map(len, answers.values())) > 100
    monkeypatch.setattr(finder, "_tally_plan", lambda reading, day: None)
    for q in QUERIES:
        assert [(h.institution.pk, h.score, h.matched) for page in (1, 2)
                for h in find(FinderQuery(q=q, page=page, **filters)).hits] == answers[q], q
