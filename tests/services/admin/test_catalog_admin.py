"""The price list: create, validation at the field, duplicate code, price change audited, permissions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop_his.services.admin.catalog_admin import CatalogForm
from desktop_his.services.admin.organisation import DepartmentForm
from desktop_his.services.container import Services
from desktop_his.services.enums import DepartmentKind, Role
from desktop_his.services.errors import Conflict, PermissionDenied, ValidationError
from desktop_his.services.models import AuditRecord
from tests.helpers import add_staff, admin


def test_create_and_reprice(services: Services) -> None:
    root = admin(services)
    lab = services.organisation.create_department(root, DepartmentForm("JYK", "检验科", kind=DepartmentKind.LAB,
                                                                       location="2楼C区"))
    row = services.catalog.create_item(root, CatalogForm("jy001", "血常规", "lab", "25", exec_department_id=lab.id))
    assert (row.code, row.price_fen, row.pinyin, row.exec_department_name, row.exec_location) == (
        "JY001", 2500, "xcg", "检验科", "2楼C区")
    services.catalog.update_item(root, row.id, CatalogForm("JY001", "血常规", "lab", "28.50",
                                                           exec_department_id=lab.id))
    assert services.catalog.list_items(kind="lab")[0].price_fen == 2850
    with services.db.reader() as s:
        rec = s.execute(select(AuditRecord).where(AuditRecord.action == "catalog.updated")).scalar_one()
    assert rec.detail["old_price_fen"] == 2500 and rec.detail["price_fen"] == 2850


@pytest.mark.parametrize("form, field, message", [
    (CatalogForm("YP1", "", "drug", "1"), "name", "请输入项目名称"),
    (CatalogForm("YP1", "阿莫西林", "drug", "0"), "price", "单价必须大于零"),
    (CatalogForm("YP1", "阿莫西林", "drug", "12.345"), "price", "两位小数"),
    (CatalogForm("YP1", "阿莫西林", "pill", "1"), "kind", "项目类别"),
    (CatalogForm("YP1", "阿莫西林", "drug", "1", unit=""), "unit", "请输入单位"),
    (CatalogForm("YP1", "阿莫西林", "drug", "1", exec_department_id=99), "exec_department_id", "执行科室不存在"),
])
def test_bad_item_refused_at_the_field(sqlite_services: Services, form: CatalogForm, field: str, message: str) -> None:
    services = sqlite_services  # input validation does not depend on the database
    with pytest.raises(ValidationError, match=message) as err:
        services.catalog.create_item(admin(services), form)
    assert err.value.field == field
    assert services.catalog.list_items() == []


def test_duplicate_code(services: Services) -> None:
    root = admin(services)
    services.catalog.create_item(root, CatalogForm("YP001", "阿莫西林胶囊", "drug", "12.80", spec="0.25g*24粒"))
    with pytest.raises(Conflict, match="已被使用") as err:
        services.catalog.create_item(root, CatalogForm("yp001", "别的", "drug", "1"))
    assert err.value.field == "code"


def test_only_admins_price(services: Services) -> None:
    doctor = add_staff(services, "doc", Role.DOCTOR)
    with pytest.raises(PermissionDenied, match="价目表管理"):
        services.catalog.create_item(doctor, CatalogForm("X1", "自定价", "other", "1"))
