import csv

import pytest

from opentic.registry.models import District, Domain, FunctionalZone, SpatialUnit
from opentic.registry.reference import REFERENCE_DIR


def rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.django_db
def test_reference_tables_are_loaded_whole() -> None:
    assert District.objects.count() == len(rows("districts.csv")) == 38
    assert FunctionalZone.objects.count() == len(rows("functional_zones.csv")) == 4
    assert SpatialUnit.objects.count() == len(rows("spatial_layout.csv")) == 21
    assert Domain.objects.count() == len(rows("domains.csv")) - 1 == 22  # less the TOTAL row


@pytest.mark.django_db
def test_layout_counts_and_members() -> None:
    kinds = {k: SpatialUnit.objects.filter(kind=k).count() for k in ("zone", "cluster", "base")}
    assert kinds == {"zone": 2, "cluster": 5, "base": 14}
    c3 = SpatialUnit.objects.get(code="C3")
    assert c3.name == "渝西地区检验检测服务群"
    assert {d.code for d in c3.districts.all()} == {"500116", "500118", "500153", "500110", "500111", "500120",
                                                    "500151"}
    assert [z.code for z in SpatialUnit.objects.get(code="C1").zones.all()] == ["LJXQ"]


@pytest.mark.django_db
def test_names_are_simplified_without_pinyin() -> None:
    assert District.objects.get(code="500101").name == "万州区"
    assert District.objects.get(code="500101").region == "渝东北三峡库区城镇群"
    assert Domain.objects.get(code="M1").name == "汽车(摩托车)检验检测"
    assert "(" not in SpatialUnit.objects.get(code="Z2").name
