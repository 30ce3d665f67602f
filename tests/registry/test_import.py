"""Imports are all or nothing, say exactly what is wrong, and change nothing the second time."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from opentic.core.models import AuditEvent
from opentic.core.tabular import write_csv, write_xlsx
from opentic.portal.finder import FinderQuery, find
from opentic.registry import tally
from opentic.registry.models import ImportBatch, Institution, Instrument, ScopeLine, Staff, Standard
from opentic.registry.sheets import SHEETS, export, run_import
from tests.conftest import CODE_A, CODE_B, World

NEW_CODE = "91500000MA60AG7Q9T"  # a valid code not in the world


def headers(kind: str) -> list[str]:
    return [c.header for c in SHEETS[kind].columns]


def institution_row(code: str = NEW_CODE, cma: str = "232212070003", **over: str) -> list[str]:
    row = {"统一社会信用代码": code, "机构名称": "重庆永川新检测有限公司", "CMA证书编号": cma,
           "证书有效期起": "2023-05-01", "证书有效期止": "2029-04-30", "所有制": "民营", "第三方": "是",
           "所在区县": "永川区", "功能区": "", "业务领域": "M8；M7",
           "所属集群、集聚区和基地": "", "地址": "重庆市永川区", "电话": "023-49000000",
           "状态": ""} | over
    return [row[h] for h in headers("institutions")]


def scope_rows(code: str = CODE_A, n: int = 3) -> list[list[object]]:
    return [[code, 10 + i, "食品", "污染物", "大米", "铅", "GB 5009.12-2017", "", "", "", "2024-01-01", ""]
            for i in range(n)]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_institutions_import_then_again_changes_nothing(world: World, fmt: str) -> None:
    data = (write_xlsx if fmt == "xlsx" else write_csv)(headers("institutions"), [institution_row()])
    first = run_import(world.regulator, "institutions", f"a.{fmt}", data)
    assert (first.created, first.updated, first.unchanged) == (1, 0, 0)
    created = Institution.objects.get(credit_code=NEW_CODE)
    assert created.district_id == "500118" and {d.code for d in created.domains.all()} == {"M7", "M8"}
    assert "C3" in {u.code for u in created.spatial_units()}
    events = AuditEvent.objects.count()
    second = run_import(world.regulator, "institutions", f"a.{fmt}", data)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    assert AuditEvent.objects.count() == events
    assert ImportBatch.objects.count() == 2


@pytest.mark.django_db
def test_a_file_with_bad_rows_imports_nothing_and_lists_every_error(world: World) -> None:
    rows = [
        institution_row(),
        institution_row(code="91500000MA60AG7Q9A", cma="232212070004"),  # bad check digit
        institution_row(code="91500116MA5U7K3T2R", cma="2322120700"),  # CMA number too short
        institution_row(code="91500000MA6110QK0K", cma="232212070005", 所在区县="成都市"),
        institution_row(code="91500000MA6110QK0K", cma="232212070006", 证书有效期止="2029-02-30"),
        institution_row(cma="232212070003"),  # duplicate of row 2
    ]
    data = write_xlsx(headers("institutions"), rows)
    before = Institution.objects.count()
    with pytest.raises(Exception) as caught:
        run_import(world.regulator, "institutions", "bad.xlsx", data)
    errors = {(e.row, e.column) for e in caught.value.errors}  # type: ignore[attr-defined]
    assert (3, "统一社会信用代码") in errors
    assert (4, "CMA证书编号") in errors
    assert (6, "证书有效期止") in errors
    messages = [str(e) for e in caught.value.errors]  # type: ignore[attr-defined]
    assert any("第3行「统一社会信用代码」:统一社会信用代码校验位错误" in m for m in messages)
    assert any("2029-02-30" in m for m in messages)
    assert Institution.objects.count() == before
    assert ImportBatch.objects.count() == 0


@pytest.mark.django_db
def test_cross_row_checks_run_only_when_cells_parse_and_still_reject(world: World) -> None:
    rows = [institution_row(), institution_row(所在区县="成都市"), institution_row(cma="202212060002")]
    with pytest.raises(Exception) as caught:
        run_import(world.regulator, "institutions", "x.csv", write_csv(headers("institutions"), rows))
    text = " ".join(str(e) for e in caught.value.errors)  # type: ignore[attr-defined]
    assert "与第2行重复" in text and "成都市" in text and CODE_B in text
    assert not Institution.objects.filter(credit_code=NEW_CODE).exists()


@pytest.mark.django_db
def test_missing_and_unknown_columns_are_named(world: World) -> None:
    data = write_csv(["统一社会信用代码", "机构名字"], [[NEW_CODE, "x"]])
    with pytest.raises(Exception) as caught:
        run_import(world.regulator, "institutions", "x.csv", data)
    text = " ".join(str(e) for e in caught.value.errors)  # type: ignore[attr-defined]
    assert "「机构名字」:未知的列" in text and "「CMA证书编号」:缺少必填列" in text


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "data"), [("x.pdf", b"%PDF"), ("x.xlsx", b"not a zip"), ("x.csv", b""),
                                            ("x.csv", "统一社会信用代码\n".encode())])
def test_unreadable_files_are_rejected(world: World, name: str, data: bytes) -> None:
    with pytest.raises(Exception) as caught:
        run_import(world.regulator, "institutions", name, data)
    assert caught.value.errors  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_status_cannot_change_through_import(world: World) -> None:
    data, _ = export("institutions", Institution.objects.filter(pk=world.lab_a.pk), "csv")
    altered = data.decode("utf-8-sig").replace(",有效", ",暂停").encode()
    with pytest.raises(Exception) as caught:
        run_import(world.regulator, "institutions", "x.csv", altered)
    assert "状态变更" in str(caught.value.errors[0])  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_scope_import_creates_catalogue_and_is_idempotent(world: World) -> None:
    rows = [*scope_rows(), [CODE_A, 20, "食品", "污染物", "糙米", "铅", "GB 5009.12-2023", "新版标准", "", "",
                            "2024-01-01", "2030-01-01"]]
    data = write_xlsx(headers("scope"), rows)
    result = run_import(world.regulator, "scope", "s.xlsx", data)
    assert (result.created, result.unchanged) == (4, 0)
    assert Standard.objects.filter(code="GB 5009.12", year="2023", title="新版标准").exists()
    assert run_import(world.regulator, "scope", "s.xlsx", data).unchanged == 4
    rows[0][8] = "只用第一法"
    changed = run_import(world.regulator, "scope", "s.xlsx", write_xlsx(headers("scope"), rows))
    assert (changed.updated, changed.unchanged) == (1, 3)
    assert ScopeLine.objects.get(institution=world.lab_a, seq=10).restriction == "只用第一法"
    assert tally.check() == []
    event = AuditEvent.objects.filter(action="import", entity="registry.ScopeLine").last()
    assert event is not None and event.changes["updated"]["10"] == {"restriction": ["", "只用第一法"]}
    first = AuditEvent.objects.filter(action="import", entity="registry.ScopeLine").first()
    assert first is not None and first.changes["created"] == [10, 11, 12, 20]


@pytest.mark.django_db
def test_scope_import_keeps_the_finder_tally_exact(world: World) -> None:
    # 糙米 is new to lab A; then its line expires: the finder follows both through the tally.
    row = [CODE_A, 30, "食品", "污染物", "糙米", "镉", "GB 5009.15-2014", "", "", "", "2024-01-01", ""]
    run_import(world.regulator, "scope", "s.csv", write_csv(headers("scope"), [row]))
    assert [h.institution for h in find(FinderQuery(q="糙米")).hits] == [world.lab_a]
    assert find(FinderQuery(q="镉")).hits[0].matched == 2
    row[-1] = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    run_import(world.regulator, "scope", "s.csv", write_csv(headers("scope"), [row]))
    assert find(FinderQuery(q="糙米")).hits == []
    assert find(FinderQuery(q="镉")).hits[0].matched == 1
    assert tally.check() == []


@pytest.mark.django_db
def test_scope_import_rejects_unknown_institution_and_bad_standard(world: World) -> None:
    rows = [[NEW_CODE, 1, "食品", "污染物", "大米", "铅", "GB 5009.12-2017", "", "", "", "2024-01-01", ""],
            [CODE_A, 1, "食品", "污染物", "大米", "铅", "5009.12", "", "", "", "2024-01-01", ""],
            [CODE_A, 2, "食品", "污染物", "大米", "铅", "GB 5009.12-2017", "", "", "", "2024-01-01", "2023-01-01"]]
    with pytest.raises(Exception) as caught:
        run_import(world.regulator, "scope", "s.csv", write_csv(headers("scope"), rows))
    text = [str(e) for e in caught.value.errors]  # type: ignore[attr-defined]
    assert any("第2行" in t and "未在名录中登记" in t for t in text)
    assert any("第3行「标准编号」" in t for t in text)
    assert any("第4行「失效日期」:早于生效日期" in t for t in text)
    assert ScopeLine.objects.count() == 3


@pytest.mark.django_db
def test_only_the_regulator_imports_scope(world: World) -> None:
    with pytest.raises(PermissionDenied):
        run_import(world.a_admin, "scope", "s.csv", write_csv(headers("scope"), scope_rows()))
    assert ScopeLine.objects.count() == 3


@pytest.mark.django_db
def test_export_import_round_trip_changes_nothing(world: World) -> None:
    run_import(world.regulator, "scope", "s.xlsx", write_xlsx(headers("scope"), scope_rows()))
    for kind in ("institutions", "scope", "instruments", "staff"):
        data, name = export(kind, Institution.objects.all(), "xlsx")
        result = run_import(world.regulator, kind, name, data)
        assert result.created == result.updated == 0, kind
        assert result.unchanged == result.rows > 0


@pytest.mark.django_db
def test_institution_admin_imports_own_staff_but_not_another_labs(world: World) -> None:
    own = [[CODE_A, "E0100", "王芳", "11010519491231002X", "工程师", "检测员", "是", "食品", "2025-01-01", ""]]
    result = run_import(world.a_admin, "staff", "st.csv", write_csv(headers("staff"), own))
    assert result.created == 1
    staff = Staff.objects.get(employee_no="E0100")
    assert staff.id_masked == "1101**********002X" and "11010519491231002X" not in staff.person_key
    assert staff.signatory_authorizations.get().fields == "食品"
    other = [[CODE_B, "E0100", "王芳", "110105194912310040", "", "", "是", "", "", ""]]
    with pytest.raises(Exception) as caught:
        run_import(world.a_admin, "staff", "st.csv", write_csv(headers("staff"), other))
    assert "无权导入其他机构的数据" in str(caught.value.errors[0])  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_a_person_works_at_one_institution_at_a_time(world: World) -> None:
    row = [CODE_A, "E0100", "王芳", "11010519491231002X", "", "", "是", "", "", ""]
    run_import(world.regulator, "staff", "st.csv", write_csv(headers("staff"), [row]))
    elsewhere = [CODE_B, "E0200", "王芳", "11010519491231002X", "", "", "是", "", "", ""]
    with pytest.raises(Exception) as caught:
        run_import(world.regulator, "staff", "st.csv", write_csv(headers("staff"), [elsewhere]))
    assert "另一机构在职" in str(caught.value.errors[0])  # type: ignore[attr-defined]
    row[6] = "否"  # leaves lab A …
    run_import(world.regulator, "staff", "st.csv", write_csv(headers("staff"), [row]))
    run_import(world.regulator, "staff", "st.csv", write_csv(headers("staff"), [elsewhere]))  # … joins lab B
    assert Staff.objects.get(institution=world.lab_b, employee_no="E0200").active


@pytest.mark.django_db
def test_instruments_import_validates_numbers_and_flags(world: World) -> None:
    rows = [[CODE_A, "YQ-00002", "气相色谱仪", "Agilent 8860", "SN1", "—", "2027-01-01", "否", "310000", "否", "在用"],
            [CODE_A, "YQ-00003", "天平", "", "", "", "", "也许", "-5", "否", "坏了"]]
    with pytest.raises(Exception) as caught:
        run_import(world.a_admin, "instruments", "i.csv", write_csv(headers("instruments"), rows))
    cols = {(e.row, e.column) for e in caught.value.errors}  # type: ignore[attr-defined]
    assert cols == {(3, "大型仪器"), (3, "原值(元)"), (3, "状态")}
    assert Instrument.objects.count() == 2
    run_import(world.a_admin, "instruments", "i.csv", write_csv(headers("instruments"), rows[:1]))
    assert Instrument.objects.get(asset_number="YQ-00002").value_yuan == 310000


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_institutions_export_writes_names_and_re_imports_unchanged(world: World, fmt: str) -> None:
    from opentic.core.tabular import read_table

    world.lab_a.zones.set(["GXQ"])  # 江津 lies partly in 重庆高新区(西部科学城)
    world.lab_a.domains.set(["M8", "M6"])  # M6's name holds the enumeration comma: 计量检定、校准、测试
    data, name = export("institutions", Institution.objects.all(), fmt)
    header, body = read_table(name, data)
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    a = rows[CODE_A]
    assert a["功能区"] == "重庆高新区(西部科学城)"
    assert set(a["业务领域"].split("；")) == {"食品安全检验检测", "计量检定、校准、测试"}
    units = set(a["所属集群、集聚区和基地"].split("；"))
    assert {"渝西地区检验检测服务群", "国家检验检测高技术服务业集聚区"} <= units
    for column in header:  # no column is empty when some institution has data for it
        has_data = any(r[column] for r in rows.values())
        assert has_data or column not in ("功能区", "业务领域", "所属集群、集聚区和基地"), column
    assert not any(c.isascii() and c.isupper() for c in a["业务领域"])  # names, not codes like M8
    result = run_import(world.regulator, "institutions", name, data)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert {d.code for d in Institution.objects.get(pk=world.lab_a.pk).domains.all()} == {"M8", "M6"}
    again, _ = export("institutions", Institution.objects.all(), fmt)
    # the same cells (an XLSX also stamps its creation time, to the second, into its properties)
    assert read_table(name, again) == read_table(name, data)
    if fmt == "csv":
        assert again == data


@pytest.mark.django_db
def test_codes_and_enumerated_lists_still_import(world: World) -> None:
    data = write_csv(headers("institutions"), [institution_row(业务领域="M8、M7", 功能区="GXQ")])
    run_import(world.regulator, "institutions", "a.csv", data)
    created = Institution.objects.get(credit_code=NEW_CODE)
    assert {d.code for d in created.domains.all()} == {"M7", "M8"} and [z.code for z in created.zones.all()] == ["GXQ"]
    with pytest.raises(Exception) as caught:
        run_import(world.regulator, "institutions", "a.csv", write_csv(
            headers("institutions"), [institution_row(业务领域="M8、火星检测")]))
    assert "“火星检测”不存在" in str(caught.value.errors[0])  # type: ignore[attr-defined]
