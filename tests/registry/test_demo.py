import pytest
from stdnum.cn import uscc

from opentic.core.models import User
from opentic.registry import demo, tally
from opentic.registry.codes import parse_cma_number
from opentic.registry.models import Institution, ScopeLine, ScopeTally, Staff


def snapshot() -> list[tuple[str, str, str, int]]:
    return [(i.credit_code, i.name, i.district_id, i.scope_lines.count()) for i in Institution.objects.order_by("pk")]


@pytest.mark.django_db
def test_demo_data_is_deterministic_valid_and_realistic() -> None:
    summary = demo.generate("tiny", seed=7)
    assert summary.institutions == 24 and summary.scope_lines > 24 * 10
    first = snapshot()
    assert all(uscc.is_valid(code) for code, *_ in first)
    assert all(parse_cma_number(i.cma_number) for i in Institution.objects.all())
    assert len({name for _, name, *_ in first}) == 24
    assert Staff.objects.count() >= 24 * 3
    assert User.objects.filter(username="lab1-admin", institution__isnull=False).exists()
    # every scope line points at a real standard from the catalogue
    assert not ScopeLine.objects.filter(standard__title="").exists()
    assert tally.check() == [] and ScopeTally.objects.count() < ScopeLine.objects.count()
    with pytest.raises(ValueError, match="not empty"):
        demo.generate("tiny", seed=7)
    User.objects.all().delete()
    Institution.objects.all().delete()
    demo.generate("tiny", seed=7)
    assert snapshot() == first


@pytest.mark.django_db
def test_demo_certificates_are_coherent_and_its_export_re_imports_unchanged() -> None:
    import datetime as dt

    from django.db.models import F
    from django.utils import timezone

    from opentic.registry.sheets import export, run_import
    from opentic.registry.validity import expire_certificates

    demo.generate("tiny", seed=11, institutions=120)
    assert not Institution.objects.filter(cma_valid_until__lt=F("cma_valid_from")).exists()
    ended = Institution.objects.filter(cma_valid_until__lt=timezone.localdate())
    assert ended.exists()  # the demo shows ended certificates (3 %), each having run its six years
    assert all(i.cma_valid_until - i.cma_valid_from == dt.timedelta(days=6 * 365) for i in ended)
    expire_certificates()
    regulator = User.objects.get(username="regulator")
    for kind in ("institutions", "scope", "staff", "instruments"):
        data, name = export(kind, Institution.objects.all(), "xlsx")
        result = run_import(regulator, kind, name, data)
        assert (result.created, result.updated, result.unchanged) == (0, 0, result.rows), kind
