"""Departments and doctors: validation at the field, duplicates, pinyin, fee in fen, staff links, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from desktop_his.services.admin.organisation import DepartmentForm, DoctorForm
from desktop_his.services.container import Services
from desktop_his.services.enums import DepartmentKind, Role
from desktop_his.services.errors import Conflict, PermissionDenied, ValidationError
from desktop_his.services.models import AuditRecord, Department, Doctor
from tests.helpers import add_staff, admin


def count(services: Services, model) -> int:  # noqa: ANN001
    with services.db.reader() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_create_department_fills_pinyin_and_is_audited(services: Services) -> None:
    row = services.organisation.create_department(
        admin(services), DepartmentForm("ek", "儿科", location="门诊楼1楼", max_age=16))
    assert (row.code, row.name, row.pinyin, row.kind, row.max_age) == ("EK", "儿科", "ek", "clinical", 16)
    assert [d.name for d in services.organisation.list_departments()] == ["儿科"]
    with services.db.reader() as s:
        assert s.execute(select(AuditRecord.action)).scalars().all() == ["department.created"]


@pytest.mark.parametrize("form, field, message", [
    (DepartmentForm("NK", "  "), "name", "请输入科室名称"),
    (DepartmentForm("", "内科"), "code", "请输入科室编码"),
    (DepartmentForm("N K", "内科"), "code", "只能由字母"),
    (DepartmentForm("NK", "内科", kind="nonsense"), "kind", "科室类别"),
    (DepartmentForm("NK", "内科", min_age=18, max_age=16), "max_age", "最小年龄不能大于最大年龄"),
    (DepartmentForm("NK", "内科", max_age=200), "max_age", "0–150"),
    (DepartmentForm("NK", "内科", sex_restriction="X"), "sex_restriction", "性别"),
])
def test_bad_department_refused_at_the_field(sqlite_services: Services, form: DepartmentForm, field: str,
                                             message: str) -> None:
    services = sqlite_services  # input validation does not depend on the database
    with pytest.raises(ValidationError, match=message) as err:
        services.organisation.create_department(admin(services), form)
    assert err.value.field == field
    assert count(services, Department) == 0


def test_duplicate_department_name_and_code(services: Services) -> None:
    root = admin(services)
    services.organisation.create_department(root, DepartmentForm("NK", "内科"))
    with pytest.raises(Conflict, match="科室“内科”已存在") as by_name:
        services.organisation.create_department(root, DepartmentForm("NK2", "内科"))
    with pytest.raises(Conflict, match="编码“NK”已被使用") as by_code:
        services.organisation.create_department(root, DepartmentForm("nk", "内科二"))
    assert (by_name.value.field, by_code.value.field) == ("name", "code")
    assert count(services, Department) == 1


def test_update_department_keeps_its_own_name(services: Services) -> None:
    root = admin(services)
    row = services.organisation.create_department(root, DepartmentForm("FK", "妇科"))
    updated = services.organisation.update_department(
        root, row.id, DepartmentForm("FK", "妇科", sex_restriction="F", location="3楼"))
    assert updated.sex_restriction == "F" and updated.location == "3楼"


def test_doctor_with_fee_in_fen_and_linked_login(services: Services) -> None:
    root = admin(services)
    dept = services.organisation.create_department(root, DepartmentForm("NK", "内科"))
    login = add_staff(services, "doc1", Role.DOCTOR, full_name="王建国")
    assert services.organisation.linkable_staff() == [(login.staff_id, "王建国（doc1）")]
    row = services.organisation.create_doctor(root, DoctorForm(dept.id, "王建国", "主任医师", "1诊室", "50",
                                                               staff_id=login.staff_id))
    assert (row.registration_fee_fen, row.pinyin, row.staff_username) == (5000, "wjg", "doc1")
    assert services.organisation.linkable_staff() == []
    assert services.auth.login("doc1", "secret123", workstation="WS").actor.doctor_id == row.id
    with pytest.raises(Conflict, match="已关联医生") as err:
        services.organisation.create_doctor(root, DoctorForm(dept.id, "李四", fee_yuan="8",
                                                             staff_id=login.staff_id))
    assert err.value.field == "staff_id"


@pytest.mark.parametrize("changes, field, message", [
    ({"name": ""}, "name", "请输入姓名"),
    ({"fee_yuan": "1.234"}, "fee", "两位小数"),
    ({"fee_yuan": "-1"}, "fee", "负数"),
    ({"department_id": None}, "department_id", "请选择科室"),
])
def test_bad_doctor_refused_at_the_field(sqlite_services: Services, changes: dict, field: str, message: str) -> None:
    services = sqlite_services  # input validation does not depend on the database
    root = admin(services)
    dept = services.organisation.create_department(root, DepartmentForm("NK", "内科"))
    form = DoctorForm(dept.id, "王建国", fee_yuan="15")
    for key, value in changes.items():
        setattr(form, key, value)
    with pytest.raises(ValidationError, match=message) as err:
        services.organisation.create_doctor(root, form)
    assert err.value.field == field
    assert count(services, Doctor) == 0


def test_doctor_needs_a_clinical_department_and_a_doctor_login(services: Services) -> None:
    root = admin(services)
    pharmacy = services.organisation.create_department(root, DepartmentForm("XYF", "西药房",
                                                                            kind=DepartmentKind.PHARMACY))
    with pytest.raises(ValidationError, match="不是门诊科室"):
        services.organisation.create_doctor(root, DoctorForm(pharmacy.id, "王建国", fee_yuan="8"))
    clinic = services.organisation.create_department(root, DepartmentForm("NK", "内科"))
    cashier = add_staff(services, "cash", Role.CASHIER)
    with pytest.raises(ValidationError, match="没有门诊医生角色"):
        services.organisation.create_doctor(root, DoctorForm(clinic.id, "王建国", fee_yuan="8",
                                                             staff_id=cashier.staff_id))


def test_only_admins_change_the_organisation(services: Services) -> None:
    cashier = add_staff(services, "cash", Role.CASHIER)
    with pytest.raises(PermissionDenied, match="科室管理"):
        services.organisation.create_department(cashier, DepartmentForm("NK", "内科"))
    with pytest.raises(PermissionDenied, match="医生管理"):
        services.organisation.create_doctor(cashier, DoctorForm(1, "王建国"))
    assert count(services, Department) == 0
