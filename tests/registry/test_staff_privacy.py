"""Issue 12, finding 9: a staff import tells a lab nothing about other labs; Chongqing ID numbers are valid."""

from __future__ import annotations

import pytest

from opentic.core.models import AuditEvent
from opentic.core.tabular import write_csv
from opentic.registry.codes import CodeError, resident_id_key
from opentic.registry.importing import ImportRejected
from opentic.registry.models import Staff
from opentic.registry.sheets import SHEETS, run_import
from tests.conftest import CODE_A, CODE_B, World


def mod11_2(first17: str) -> str:
    """GB 11643-1999 / ISO 7064 MOD 11-2, written out from the standard as the oracle (not python-stdnum)."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return "10X98765432"[total % 11]


def rid(first17: str) -> str:
    return first17 + mod11_2(first17)


def test_the_oracle_matches_the_standards_example() -> None:
    assert rid("11010519491231002") == "11010519491231002X"  # GB 11643-1999 annex example


@pytest.mark.parametrize("number", [
    rid("50011619850312123"),  # 江津区 (code from 2006), born 1985
    rid("50010319900101001"),  # 渝中区 (code from 1997), born 1990
    rid("51020219650505001"),  # 四川省重庆市市中区 before 1997 (code from 1983), born 1965
    rid("50022219800101001"),  # 綦江县, born 1980
])
def test_chongqing_numbers_of_people_born_before_1997_are_valid(number: str) -> None:
    assert resident_id_key(number) == number


@pytest.mark.parametrize(("number", "message"), [
    (rid("51020220050505001"), "地址码"),  # a code retired in 1997 cannot belong to someone born in 2005
    (rid("99999919850312123"), "地址码"),
    (rid("50011619850312123")[:-1] + "0", "校验位"),
    (rid("50011619851332123"), "出生日期"),
])
def test_invalid_numbers_say_why(number: str, message: str) -> None:
    with pytest.raises(CodeError, match=message):
        resident_id_key(number)


@pytest.mark.django_db
def test_a_lab_is_not_told_that_a_person_works_elsewhere(world: World) -> None:
    headers = [c.header for c in SHEETS["staff"].columns]
    number = rid("50011619850312123")
    run_import(world.regulator, "staff", "st.csv",
               write_csv(headers, [[CODE_B, "E0300", "赵敏", number, "", "", "是", "", "", ""]]))
    with pytest.raises(ImportRejected) as caught:
        run_import(world.a_admin, "staff", "st.csv",
                   write_csv(headers, [[CODE_A, "E0300", "赵敏", number, "", "", "是", "", "", ""]]))
    messages = " ".join(str(e) for e in caught.value.errors)
    assert "无法接受" in messages and "监管部门" in messages
    assert "另一机构" not in messages and "在职" not in messages
    assert not Staff.objects.filter(institution=world.lab_a, employee_no="E0300").exists()
    # … and the regulator, who resolves it, finds the conflict in the platform's trail (no ID number in it).
    conflict = AuditEvent.objects.get(action="staff-conflict")
    assert conflict.changes["importing_institution"] == world.lab_a.pk
    assert conflict.changes["active_at"] == world.lab_b.pk
    assert number not in str(conflict.changes)
    with pytest.raises(ImportRejected) as by_regulator:  # the regulator, who resolves it, is told why
        run_import(world.regulator, "staff", "st.csv",
                   write_csv(headers, [[CODE_A, "E0300", "赵敏", number, "", "", "是", "", "", ""]]))
    assert "另一机构在职" in str(by_regulator.value.errors[0])
